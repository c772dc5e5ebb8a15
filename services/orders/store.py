"""Orders' MongoDB access (database `<namespace>_orders`)."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod
from linli import outbox
from linli.web import ensure_idempotency_index

from . import domain

SERVICE = "orders"


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    ensure_idempotency_index(db)
    db.orders.create_index([("resident_id", ASCENDING), ("created_at", DESCENDING)])
    db.orders.create_index([("provider.owner_id", ASCENDING), ("created_at", DESCENDING)])
    db.orders.create_index([("status", ASCENDING)])
    db.payments.create_index("order_id")
    db.payment_nonces.create_index("seen_at", expireAfterSeconds=3600)


def apply_move(db: Database, session: ClientSession, order: dict, action: str, role: str, actor: str | None,
               reason: str, now: datetime, extra: dict | None = None) -> dict:
    """Moves the order by one transition with a conditional update; returns the order as it now is."""
    target = domain.next_state(order["status"], action, role, order["listing"]["fulfilment"])
    entry = domain.timeline_entry(order["status"], target, role, actor, now, reason)
    result = db.orders.update_one(
        {"_id": order["_id"], "status": order["status"]},
        {"$set": {"status": target, "updated_at": now, **(extra or {})}, "$push": {"timeline": entry}},
        session=session,
    )
    if result.modified_count != 1:
        current = db.orders.find_one({"_id": order["_id"]}, {"status": 1}, session=session)
        raise domain.IllegalTransition(action, current["status"] if current else "missing")
    return {**order, **(extra or {}), "status": target, "timeline": order.get("timeline", []) + [entry]}


def emit(db: Database, session: ClientSession, order_id: str, event_type: str, data: dict) -> None:
    outbox.add(db, session, source="orders", event_type=event_type, data=data, aggregate=f"order:{order_id}")


def remember_nonce(db: Database, nonce: str, now: datetime) -> bool:
    """False when this nonce was seen before: a replayed notification."""
    try:
        db.payment_nonces.insert_one({"_id": nonce, "seen_at": now})
        return True
    except DuplicateKeyError:
        return False
