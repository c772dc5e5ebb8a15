"""The order saga, orchestrated by orders, top to bottom:

    place ─► catalog reserves ─► pay (free orders skip it) ─► provider accepts ─► ready
          ─► delivery picks up ─► delivered ─► completed

with each compensation beside its step: a rejected reservation cancels the order (no
payment possible); a cancellation before payment releases the held portion (catalog
listens to orders.order.cancelled). Refunds, declines and deadlines come with the orders
issue. Every step is a conditional update of the order plus its event, in one transaction;
an event that arrives twice, or after the order has moved past it, changes nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import logs
from linli.auth import Principal
from linli.db import in_transaction
from linli.errors import ApiError, invalid
from linli.ids import iso, new_id, utcnow

from . import domain, store

log = logging.getLogger("orders.saga")


class OutOfOrder(Exception):
    """An event arrived before the one it follows; the consumer retries it later."""


# -- 1. place ----------------------------------------------------------------------------

def place(db: Database, who: Principal, body: dict, listing: dict, now: datetime) -> dict:
    if listing.get("status") != "published":
        raise ApiError(409, "listing_unavailable", "This offer is not available for ordering.")
    address = body["address"]
    if address["community_id"] not in listing["community_ids"]:
        raise invalid("address.community_id", "this provider does not serve your community")
    if body["quantity"] > listing.get("max_quantity", 5):
        raise invalid("quantity", f"at most {listing.get('max_quantity', 5)} per order")
    window = listing.get("slot_window")
    if window is None:
        raise invalid("slot", f"this offer has no slot named {body['slot']!r}")
    if datetime.fromisoformat(window["end"]) <= now:
        raise invalid("slot_date", "this slot is already over; choose a later date")
    order_id = new_id("ord")
    provider = listing["provider"]
    order = {
        "_id": order_id,
        "resident_id": who.id,
        "resident_name": who.name,
        "listing": {k: listing[k] for k in ("id", "version", "title", "price_fen", "unit", "fulfilment",
                                            "category", "timezone")},
        "provider": {**provider, "owner_id": listing["provider_owner_id"]},
        "quantity": body["quantity"],
        "slot": {"date": body["slot_date"].isoformat(), "name": body["slot"],
                 "start": datetime.fromisoformat(window["start"]), "end": datetime.fromisoformat(window["end"])},
        "address": address,
        "notes": body.get("notes", ""),
        "amount": domain.amount(listing["price_fen"], body["quantity"]),
        "status": "placed",
        "timeline": [domain.timeline_entry(None, "placed", who.role, who.id, now, "order placed")],
        "codes": domain.new_codes(),
        "payment_attempts": 0,
        "courier": None,
        "created_at": now,
        "updated_at": now,
    }

    def work(session: ClientSession) -> None:
        db.orders.insert_one(order, session=session)
        store.emit(db, session, order_id, "orders.order.placed", {
            "order_id": order_id, "resident_id": who.id, "listing_id": listing["id"],
            "listing_version": listing["version"], "provider_id": provider["id"], "quantity": body["quantity"],
            "slot_date": order["slot"]["date"], "slot": body["slot"], "amount_fen": order["amount"]["payable_fen"],
        })

    in_transaction(db, work)
    return order


def _advance(db: Database, session: ClientSession, order_id: str, action: str, reason: str,
             extra: dict | None = None) -> dict | None:
    """Moves an order on an event: None when the order is already past this step."""
    order = db.orders.find_one({"_id": order_id}, session=session)
    if order is None:
        raise OutOfOrder(f"order {order_id} not found")
    if order["status"] not in domain.sources_of(action):
        target = domain.next_state(domain.sources_of(action)[0], action, domain.SYSTEM,
                                   order["listing"]["fulfilment"])
        if order["status"] in domain.TERMINAL or domain.STATES.index(order["status"]) >= domain.STATES.index(target):
            logs.log(log, logging.INFO, "event for a step already passed", order_id=order_id, action=action,
                     status=order["status"])
            return None
        raise OutOfOrder(f"order {order_id} is {order['status']}; cannot {action} yet")
    return store.apply_move(db, session, order, action, domain.SYSTEM, None, reason, utcnow(), extra)


def _paid_event(order: dict) -> dict:
    provider, address = order["provider"], order["address"]
    return {
        "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": provider["id"],
        "listing_id": order["listing"]["id"], "fulfilment": order["listing"]["fulfilment"],
        "amount_fen": order["amount"]["payable_fen"],
        "slot_start": iso(order["slot"]["start"]), "slot_end": iso(order["slot"]["end"]),
        "pickup": {"name": provider["name"], "address": provider["address"], "location": provider["location"]},
        "dropoff": {k: address[k] for k in ("community_id", "building", "room", "phone", "contact_name", "location")},
        "items": [{"title": order["listing"]["title"], "quantity": order["quantity"]}],
        "pickup_code": order["codes"]["pickup_code"], "handover_code": order["codes"]["handover_code"],
    }


# -- 2. catalog reserves (or not) ------------------------------------------------------------

def on_reservation_confirmed(db: Database, session: ClientSession, event: dict) -> None:
    order = _advance(db, session, event["data"]["order_id"], "reservation_confirmed", "a place is reserved")
    if order is not None and order["amount"]["payable_fen"] == 0:
        order = store.apply_move(db, session, order, "free_order", domain.SYSTEM, None,
                                 "free order: nothing to pay", utcnow())
        store.emit(db, session, order["_id"], "orders.order.paid", _paid_event(order))


def on_reservation_rejected(db: Database, session: ClientSession, event: dict) -> None:
    data = event["data"]
    order = _advance(db, session, data["order_id"], "reservation_rejected", data["reason"],
                     {"cancel_reason": data["reason"]})
    if order is not None:
        store.emit(db, session, order["_id"], "orders.order.cancelled", {
            "order_id": order["_id"], "reason": data["reason"], "by_role": domain.SYSTEM, "reservation_held": False})


# -- 3. pay --------------------------------------------------------------------------------

def on_payment_succeeded(db: Database, payment: dict) -> str:
    """The payment provider says the money arrived; returns the order's state afterwards."""
    def work(session: ClientSession) -> str:
        done = db.payments.update_one({"_id": payment["_id"], "status": "pending"},
                                      {"$set": {"status": "succeeded", "succeeded_at": utcnow()}},
                                      session=session).modified_count
        order = db.orders.find_one({"_id": payment["order_id"]}, session=session)
        if not done or order["status"] != "awaiting_payment":
            if done and order["status"] == "cancelled":
                # paid after cancelling: the money must go back (the refund flow comes with the orders issue)
                db.payments.update_one({"_id": payment["_id"]}, {"$set": {"refund_needed": True}}, session=session)
            return order["status"]
        order = store.apply_move(db, session, order, "payment_succeeded", domain.SYSTEM, None,
                                 f"paid {payment['amount_fen'] / 100:.2f} yuan", utcnow(),
                                 {"payment": {"id": payment["_id"], "status": "succeeded"}})
        store.emit(db, session, order["_id"], "orders.order.paid", _paid_event(order))
        return order["status"]

    return in_transaction(db, work)


# -- 4. the provider answers, then cooks ---------------------------------------------------

def accept(db: Database, who: Principal, order: dict) -> dict:
    return _provider_move(db, who, order, "accept", "orders.order.accepted", "accepted by the provider")


def ready(db: Database, who: Principal, order: dict) -> dict:
    return _provider_move(db, who, order, "ready", "orders.order.ready", "marked ready by the provider")


def _provider_move(db: Database, who: Principal, order: dict, action: str, event_type: str, reason: str) -> dict:
    def work(session: ClientSession) -> dict:
        moved = store.apply_move(db, session, order, action, who.role, who.id, reason, utcnow())
        store.emit(db, session, order["_id"], event_type, {"order_id": order["_id"], "provider_id": order["provider"]["id"]})
        return moved

    return in_transaction(db, work)


# -- 5. delivery -----------------------------------------------------------------------------

def on_task_assigned(db: Database, session: ClientSession, event: dict) -> None:
    data = event["data"]
    db.orders.update_one({"_id": data["order_id"]},
                         {"$set": {"courier": {"volunteer_id": data["volunteer_id"], "task_id": data["task_id"],
                                               "assigned_at": utcnow()}}}, session=session)


def on_task_picked_up(db: Database, session: ClientSession, event: dict) -> None:
    _advance(db, session, event["data"]["order_id"], "picked_up", "picked up by a volunteer")


def on_task_delivered(db: Database, session: ClientSession, event: dict) -> None:
    data = event["data"]
    order = _advance(db, session, data["order_id"], "delivered", "handed over to the resident")
    if order is not None:
        store.emit(db, session, order["_id"], "orders.order.completed", {
            "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": order["provider"]["id"],
            "listing_id": order["listing"]["id"], "volunteer_id": data["volunteer_id"]})


def on_task_failed(db: Database, session: ClientSession, event: dict) -> None:
    data = event["data"]
    db.orders.update_one({"_id": data["order_id"]},
                         {"$set": {"delivery_problem": {"reason": data["reason"], "at": utcnow()}}}, session=session)


# -- compensations a person asks for ----------------------------------------------------------

def cancel(db: Database, who: Principal, order: dict, reason: str) -> dict:
    def work(session: ClientSession) -> dict:
        held = order["status"] == "awaiting_payment"
        moved = store.apply_move(db, session, order, "cancel", who.role, who.id, reason, utcnow(),
                                 {"cancel_reason": reason})
        store.emit(db, session, order["_id"], "orders.order.cancelled", {
            "order_id": order["_id"], "reason": reason, "by_role": who.role, "reservation_held": held})
        return moved

    return in_transaction(db, work)


def complete_on_site(db: Database, who: Principal, order: dict) -> dict:
    def work(session: ClientSession) -> dict:
        moved = store.apply_move(db, session, order, "complete", who.role, who.id, "confirmed by the resident",
                                 utcnow())
        store.emit(db, session, order["_id"], "orders.order.completed", {
            "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": order["provider"]["id"],
            "listing_id": order["listing"]["id"], "volunteer_id": None})
        return moved

    return in_transaction(db, work)
