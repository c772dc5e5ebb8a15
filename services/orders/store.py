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
    db.orders.create_index("deadline.due_at")
    db.refunds.create_index([("status", ASCENDING), ("created_at", ASCENDING)])
    db.ledger.create_index([("party", ASCENDING), ("month", ASCENDING)])
    db.payment_nonces.create_index("seen_at", expireAfterSeconds=3600)


def apply_move(db: Database, session: ClientSession, order: dict, action: str, role: str, actor: str | None,
               reason: str, now: datetime, extra: dict | None = None, expect: dict | None = None) -> dict:
    """Moves the order by one transition with a conditional update (on its state, and on `expect`
    when given); returns the order as it now is."""
    target = domain.next_state(order["status"], action, role, order["listing"]["fulfilment"])
    entry = domain.timeline_entry(order["status"], target, role, actor, now, reason)
    deadline = domain.deadline_after(target, {**order, **(extra or {})}, now)
    extra = {**(extra or {}), "deadline": deadline}
    result = db.orders.update_one(
        {"_id": order["_id"], "status": order["status"], **(expect or {})},
        {"$set": {"status": target, "updated_at": now, **extra}, "$push": {"timeline": entry}},
        session=session,
    )
    if result.modified_count != 1:
        current = db.orders.find_one({"_id": order["_id"]}, {"status": 1}, session=session)
        raise domain.IllegalTransition(action, current["status"] if current else "missing")
    return {**order, **extra, "status": target, "timeline": order.get("timeline", []) + [entry]}


def note(db: Database, session: ClientSession, order: dict, role: str, actor: str | None, reason: str,
         now: datetime, extra: dict | None = None, expect: dict | None = None) -> bool:
    """A timeline entry that is not a transition (a refund, an escalation): from and to are the same state.
    With `expect`, only while the order still matches it; False when it no longer did."""
    return db.orders.update_one({"_id": order["_id"], **(expect or {})},
                                {"$push": {"timeline": domain.timeline_entry(order["status"], order["status"], role,
                                                                             actor, now, reason)},
                                 "$set": {"updated_at": now, **(extra or {})}}, session=session).modified_count == 1


def add_ledger(db: Database, session: ClientSession, order: dict, entries: list[tuple[str, int]], kind: str,
               now: datetime, ref: str) -> None:
    """Funder-ledger lines; `ref` (a payment or refund id) makes each line unique, so a retry writes nothing twice."""
    from linli.clock import local_today

    month = local_today(now, order["listing"].get("timezone") or "Asia/Shanghai").strftime("%Y-%m")
    for party, fen in entries:
        # a failed insert would abort the whole transaction, so look first
        if db.ledger.find_one({"_id": f"{ref}:{party}"}, {"_id": 1}, session=session) is None:
            db.ledger.insert_one({"_id": f"{ref}:{party}", "order_id": order["_id"], "party": party,
                                  "amount_fen": fen, "kind": kind, "month": month, "at": now,
                                  "listing_title": order["listing"]["title"]}, session=session)


def emit(db: Database, session: ClientSession, order_id: str, event_type: str, data: dict) -> None:
    outbox.add(db, session, source="orders", event_type=event_type, data=data, aggregate=f"order:{order_id}")


def remember_nonce(db: Database, nonce: str, now: datetime) -> bool:
    """False when this nonce was seen before: a replayed notification."""
    try:
        db.payment_nonces.insert_one({"_id": nonce, "seen_at": now})
        return True
    except DuplicateKeyError:
        return False
