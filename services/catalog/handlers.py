"""Catalog's event handlers: capacity is reserved when an order is placed and released when it is cancelled;
what a provider's scorecard needs (when orders were paid, answered, completed) is noted as orders report it."""
from __future__ import annotations

from datetime import date, datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli.unit import Unit
from linli.ids import utcnow

from . import schedule, store


def _emit(db, session, event_type: str, data: dict, order_id: str) -> None:
    store.emit(db, session, event_type, data, f"reservation:{order_id}")


def on_order_placed(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    data = event["data"]
    order_id = data["order_id"]
    if db.reservations.find_one({"_id": order_id}, session=session):
        return  # one reservation per order, whatever arrives twice
    day = date.fromisoformat(data["slot_date"])
    listing = db.listings.find_one({"_id": data["listing_id"]}, session=session)
    provider = db.providers.find_one({"_id": listing["provider_id"]}, session=session) if listing else None
    refusal = schedule.reservation_refusal(listing, provider, data["slot"], day, data["quantity"], utcnow())
    record = {"_id": order_id, "listing_id": data["listing_id"], "date": day.isoformat(), "slot": data["slot"],
              "quantity": data["quantity"], "created_at": utcnow()}
    if refusal is None:
        capacity = schedule.listing_slot_day(listing, data["slot"], day).capacity
        taken, remaining = store.take_portions(db, session, listing["_id"], day, data["slot"],
                                               capacity, data["quantity"])
        if not taken:
            refusal = schedule.sold_out(data["slot"], day, remaining, data["quantity"])
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


def on_order_cancelled(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    order_id = event["data"]["order_id"]
    if event["data"]["by_role"] == "provider":  # a decline is an answer too
        store.note_order(db, session, order_id, set_={"answer": "declined"}, earliest={"answered_at": _at(event)})
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


def _at(event: dict) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def on_order_paid(u: Unit, event: dict) -> None:
    """The provider's answer deadline runs from payment."""
    db, session = u.db, u.session
    data = event["data"]
    listing = db.listings.find_one({"_id": data["listing_id"]}, {"category": 1}, session=session) or {}
    store.note_order(db, session, data["order_id"], set_={"provider_id": data["provider_id"],
                                                          "category": listing.get("category")},
                     earliest={"paid_at": _at(event)})


def on_order_accepted(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    data = event["data"]
    store.note_order(db, session, data["order_id"], set_={"provider_id": data["provider_id"], "answer": "accepted"},
                     earliest={"answered_at": _at(event)})


def on_order_completed(u: Unit, event: dict) -> None:
    """Opens the order for review by the people who took part in it."""
    db, session = u.db, u.session
    data = event["data"]
    store.note_order(db, session, data["order_id"], set_={
        "provider_id": data["provider_id"], "resident_id": data["resident_id"], "listing_id": data["listing_id"],
        "volunteer_id": data["volunteer_id"]}, earliest={"completed_at": _at(event)})


HANDLERS = {
    "orders.order.placed": on_order_placed,
    "orders.order.cancelled": on_order_cancelled,
    "orders.order.paid": on_order_paid,
    "orders.order.accepted": on_order_accepted,
    "orders.order.completed": on_order_completed,
}
