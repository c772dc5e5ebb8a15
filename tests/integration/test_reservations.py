"""Catalog reserves with a conditional update: under concurrency, never more than the slot holds."""
from __future__ import annotations

import threading
from datetime import timedelta

from linli.consumer import apply_once
from linli.unit import Units
from linli.events import make_envelope
from linli.ids import utcnow
from services.catalog import bootstrap, handlers, store


def _seed(db, capacity: int) -> str:
    bootstrap.build()  # indexes and reference data, as every catalog process does at start
    db.providers.insert_one({"_id": "prv_1", "owner_id": "acc_1", "status": "verified", "community_ids": ["c"]})
    db.listings.insert_one({"_id": "lst_1", "provider_id": "prv_1", "status": "published", "timezone": "Asia/Shanghai",
                            "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": capacity}]})
    return (utcnow() + timedelta(days=2)).date().isoformat()


def _placed(order_id: str, day: str, quantity: int = 1) -> dict:
    return make_envelope("orders.order.placed", {
        "order_id": order_id, "resident_id": "r", "listing_id": "lst_1", "listing_version": 1, "provider_id": "prv_1",
        "quantity": quantity, "slot_date": day, "slot": "lunch", "amount_fen": 1500}, "orders")


def test_concurrent_orders_never_take_more_than_the_capacity(mongo_env):
    db = store.database()
    day = _seed(db, capacity=10)
    events = [_placed(f"ord_{i}", day) for i in range(30)]
    chunks = [events[i::4] for i in range(4)]
    threads = [threading.Thread(target=lambda c=c: [apply_once(Units(db, "catalog"), "catalog", e, handlers.on_order_placed) for e in c])
               for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    confirmed = db.outbox.count_documents({"type": "catalog.reservation.confirmed"})
    rejected = list(db.outbox.find({"type": "catalog.reservation.rejected"}))
    assert (confirmed, len(rejected)) == (10, 20)
    assert {r["envelope"]["data"]["code"] for r in rejected} == {"sold_out"}
    assert "fully booked" in rejected[0]["envelope"]["data"]["reason"]
    assert db.slot_stock.find_one()["remaining"] == 0


def test_the_same_order_twice_reserves_once_and_cancelling_gives_the_portion_back(mongo_env):
    db = store.database()
    day = _seed(db, capacity=3)
    placed = _placed("ord_1", day, quantity=2)
    apply_once(Units(db, "catalog"), "catalog", placed, handlers.on_order_placed)
    apply_once(Units(db, "catalog"), "catalog", {**placed, "id": "another-delivery-id"}, handlers.on_order_placed)
    assert db.slot_stock.find_one()["remaining"] == 1
    too_many = _placed("ord_2", day, quantity=2)
    apply_once(Units(db, "catalog"), "catalog", too_many, handlers.on_order_placed)
    reason = db.reservations.find_one({"_id": "ord_2"})["reason"]
    assert "only 1 left" in reason
    cancelled = make_envelope("orders.order.cancelled", {"order_id": "ord_1", "reason": "changed my mind",
                                                         "by_role": "resident", "reservation_held": True}, "orders")
    apply_once(Units(db, "catalog"), "catalog", cancelled, handlers.on_order_cancelled)
    apply_once(Units(db, "catalog"), "catalog", {**cancelled, "id": "again"}, handlers.on_order_cancelled)
    assert db.slot_stock.find_one()["remaining"] == 3
    assert db.outbox.count_documents({"type": "catalog.reservation.released"}) == 1


def test_a_cancellation_overtaking_its_order_leaves_no_portion_held(mongo_env):
    db = store.database()
    day = _seed(db, capacity=3)
    cancelled = make_envelope("orders.order.cancelled", {"order_id": "ord_9", "reason": "changed my mind",
                                                         "by_role": "resident", "reservation_held": False}, "orders")
    apply_once(Units(db, "catalog"), "catalog", cancelled, handlers.on_order_cancelled)
    apply_once(Units(db, "catalog"), "catalog", _placed("ord_9", day), handlers.on_order_placed)
    assert db.slot_stock.count_documents({}) == 0 or db.slot_stock.find_one()["remaining"] == 3
    assert db.outbox.count_documents({"type": "catalog.reservation.confirmed"}) == 0
