"""Catalog's event handlers: capacity is reserved when an order is placed and released when it is cancelled."""
from __future__ import annotations

from datetime import date

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import outbox
from linli.ids import utcnow

from . import domain, store


def _emit(db, session, event_type: str, data: dict, order_id: str) -> None:
    outbox.add(db, session, source="catalog", event_type=event_type, data=data, aggregate=f"reservation:{order_id}")


def on_order_placed(db: Database, session: ClientSession, event: dict) -> None:
    data = event["data"]
    order_id = data["order_id"]
    if db.reservations.find_one({"_id": order_id}, session=session):
        return  # one reservation per order, whatever arrives twice
    day = date.fromisoformat(data["slot_date"])
    listing = db.listings.find_one({"_id": data["listing_id"]}, session=session)
    provider = db.providers.find_one({"_id": listing["provider_id"]}, session=session) if listing else None
    refusal = domain.reservation_refusal(listing, provider, data["slot"], day, data["quantity"], utcnow())
    record = {"_id": order_id, "listing_id": data["listing_id"], "date": day.isoformat(), "slot": data["slot"],
              "quantity": data["quantity"], "created_at": utcnow()}
    if refusal is None:
        slot = next(s for s in listing["slots"] if s["name"] == data["slot"])
        taken, remaining = store.take_portions(db, session, listing["_id"], day, data["slot"],
                                               slot["capacity"], data["quantity"])
        if not taken:
            refusal = domain.sold_out(data["slot"], day, remaining, data["quantity"])
    if refusal is not None:
        db.reservations.insert_one({**record, "status": "rejected", "code": refusal.code, "reason": refusal.reason},
                                   session=session)
        _emit(db, session, "catalog.reservation.rejected",
              {"order_id": order_id, "code": refusal.code, "reason": refusal.reason}, order_id)
        return
    db.reservations.insert_one({**record, "status": "confirmed"}, session=session)
    _emit(db, session, "catalog.reservation.confirmed",
          {"order_id": order_id, "listing_id": listing["_id"], "slot_date": day.isoformat(), "slot": data["slot"],
           "quantity": data["quantity"], "remaining": remaining}, order_id)


def on_order_cancelled(db: Database, session: ClientSession, event: dict) -> None:
    order_id = event["data"]["order_id"]
    released = db.reservations.update_one(
        {"_id": order_id, "status": "confirmed"},
        {"$set": {"status": "released", "released_at": utcnow()}}, session=session,
    ).modified_count
    if not released:
        # never held, already released, or rejected: nothing to give back. If the order's
        # placement has not arrived yet (a retry reordered them), leave a mark so it never holds a portion.
        db.reservations.update_one({"_id": order_id}, {"$setOnInsert": {"status": "cancelled_before_reserved",
                                                                        "created_at": utcnow()}},
                                   upsert=True, session=session)
        return
    res = db.reservations.find_one({"_id": order_id}, session=session)
    store.give_back_portions(db, session, res["listing_id"], date.fromisoformat(res["date"]), res["slot"],
                             res["quantity"])
    _emit(db, session, "catalog.reservation.released", {"order_id": order_id, "quantity": res["quantity"]}, order_id)


HANDLERS = {
    "orders.order.placed": on_order_placed,
    "orders.order.cancelled": on_order_cancelled,
}
