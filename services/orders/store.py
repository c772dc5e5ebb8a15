"""Every database call of orders (database `<namespace>_orders`), each named for its question or
its change. Writes take the Unit of the transaction they belong to; reads outside one take the
database."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod
from linli import outbox
from linli.auth import Principal
from linli.clock import local_today
from linli.contracts.common import Event
from linli.unit import Unit

from .rules import deadlines, holds, moves

SERVICE = "orders"
DEFAULT_TIMEZONE = "Asia/Shanghai"  # a listing that names none


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    db.orders.create_index([("resident_id", ASCENDING), ("created_at", DESCENDING)])
    db.orders.create_index([("provider.owner_id", ASCENDING), ("created_at", DESCENDING)])
    db.orders.create_index([("status", ASCENDING)])
    db.orders.create_index([("ordered_by.id", ASCENDING), ("status", ASCENDING)])
    db.payments.create_index("order_id")
    db.orders.create_index("deadline.due_at")
    db.refunds.create_index([("status", ASCENDING), ("created_at", ASCENDING)])
    db.ledger.create_index([("party", ASCENDING), ("month", ASCENDING)])
    db.payment_nonces.create_index("seen_at", expireAfterSeconds=3600)


def emit(u: Unit, order_id: str, event: Event) -> None:
    """An event of this order (made by a builder of linli.contracts.orders), in the unit's outbox."""
    u.emit(event, aggregate=f"order:{order_id}")


# -- orders: who sees which --------------------------------------------------------------------

def visible_to(who: Principal) -> dict | None:
    """The orders a person may see, as a filter (None: none at all)."""
    if who.role == "resident":  # their own, those they placed, and those of elders they have an approved link to
        mine = [{"resident_id": who.id}, {"ordered_by.id": who.id}]
        return {"$or": mine + ([{"resident_id": {"$in": [r.id for r in who.family]}}] if who.family else [])}
    if who.role == "provider":
        return {"provider.owner_id": who.id}
    if who.is_staff:
        return who.scope_filter("address.community_id")
    return None


def visible_order(u: Unit, query: dict, order_id: str) -> dict | None:
    """The order if it matches `query` (visible_to); read in the unit's transaction when it has one."""
    return u.db.orders.find_one({"_id": order_id, **query}, session=u.session)


def orders_page(db: Database, query: dict, page: int, per_page: int,
                soonest_due: bool = False) -> tuple[list[dict], int]:
    """One page of the orders matching `query`, newest first (or the soonest deadline first), and how many match
    in all."""
    total = db.orders.count_documents(query)
    order = [("deadline.due_at", 1), ("_id", 1)] if soonest_due else [("created_at", -1), ("_id", 1)]
    docs = list(db.orders.find(query).sort(order).skip((page - 1) * per_page).limit(per_page))
    return docs, total


def order(u: Unit, order_id: str) -> dict | None:
    return u.db.orders.find_one({"_id": order_id}, session=u.session)


def order_now(db: Database, order_id: str) -> dict | None:
    """The order as committed (after a change made field by field)."""
    return db.orders.find_one({"_id": order_id})


# -- fair holds ---------------------------------------------------------------------------------

def hold_account(u: Unit, account_id: str) -> None:
    """Touches the account's hold record in the unit's transaction, so that two orders of one account
    placed at once are decided one after the other (the second retries and counts the first)."""
    u.db.hold_locks.update_one({"_id": account_id}, {"$inc": {"placed": 1}, "$set": {"at": u.now}},
                               upsert=True, session=u.session)


def unpaid_held(u: Unit, account_id: str, role: str, listing_id: str, slot_date: str, slot: str) -> holds.Held:
    """The unpaid orders an account holds: for itself in this slot, and in all (for itself or placed for others)."""
    unpaid = {"status": {"$in": list(holds.UNPAID)}}
    overall = u.db.orders.count_documents(
        {**unpaid, "$or": [{"resident_id": account_id}, {"ordered_by.id": account_id}]}, session=u.session)
    in_slot = u.db.orders.count_documents({**unpaid, "resident_id": account_id, "listing.id": listing_id,
                                           "slot.date": slot_date, "slot.name": slot}, session=u.session)
    return holds.Held(account_id, role, in_slot, overall)


# -- orders: changes ---------------------------------------------------------------------------

def add_order(u: Unit, doc: dict) -> None:
    u.db.orders.insert_one(doc, session=u.session)


def apply_move(u: Unit, order: dict, action: str, role: str, actor: str | None, reason: str,
               extra: dict | None = None, expect: dict | None = None) -> dict:
    """Moves the order by one transition with a conditional update (on its state, and on `expect`
    when given); returns the order as it now is."""
    target = moves.next_state(order["status"], action, role, order["listing"]["fulfilment"])
    entry = moves.timeline_entry(order["status"], target, role, actor, u.now, reason)
    deadline = deadlines.deadline_after(target, {**order, **(extra or {})}, u.now)
    extra = {**(extra or {}), "deadline": deadline}
    result = u.db.orders.update_one(
        {"_id": order["_id"], "status": order["status"], **(expect or {})},
        {"$set": {"status": target, "updated_at": u.now, **extra}, "$push": {"timeline": entry}},
        session=u.session,
    )
    if result.modified_count != 1:
        current = u.db.orders.find_one({"_id": order["_id"]}, {"status": 1}, session=u.session)
        raise moves.refusal(action, current["status"] if current else "missing")
    return {**order, **extra, "status": target, "timeline": order.get("timeline", []) + [entry]}


def note(u: Unit, order: dict, role: str, actor: str | None, reason: str, extra: dict | None = None,
         expect: dict | None = None) -> bool:
    """A timeline entry that is not a transition (a refund, an escalation): from and to are the same state.
    With `expect`, only while the order still matches it; False when it no longer did."""
    entry = moves.timeline_entry(order["status"], order["status"], role, actor, u.now, reason)
    return u.db.orders.update_one({"_id": order["_id"], **(expect or {})},
                                  {"$push": {"timeline": entry}, "$set": {"updated_at": u.now, **(extra or {})}},
                                  session=u.session).modified_count == 1


def record_escalation(u: Unit, order_id: str, kind: str) -> None:
    u.db.orders.update_one({"_id": order_id}, {"$push": {"escalations": {"kind": kind, "at": u.now}}},
                           session=u.session)


def set_courier(u: Unit, order_id: str, courier: dict) -> None:
    u.db.orders.update_one({"_id": order_id}, {"$set": {"courier": courier}}, session=u.session)


def start_payment_attempt(u: Unit, order_id: str, payment: dict, attempt: int) -> None:
    """Records a new payment and makes it the order's current one (once, however often retried)."""
    if u.db.payments.find_one({"_id": payment["_id"]}, session=u.session) is None:
        u.db.payments.insert_one(payment, session=u.session)
        u.db.orders.update_one({"_id": order_id}, {"$set": {
            "payment_attempts": attempt, "payment": {"id": payment["_id"], "status": "pending"}}},
            session=u.session)


# -- deadlines -------------------------------------------------------------------------------

def due_deadlines(db: Database, now: datetime, limit: int = 200) -> list[dict]:
    """Orders whose deadline is due, leaving out those waiting to retry a firing that failed."""
    due = db.orders.find({"deadline.due_at": {"$lte": now}}, {"_id": 1, "payment": 1, "deadline": 1}).limit(limit)
    # filtered here rather than with $or, so the query stays the one the due_at index answers
    return [d for d in due if (d["deadline"].get("retry_at") or now) <= now]


def deadline_failed(db: Database, order_id: str, deadline: dict, error: str, now: datetime) -> int:
    """Counts a failed firing on the deadline itself and sets when to try again; returns the count."""
    failures = (deadline.get("failures") or 0) + 1
    db.orders.update_one({"_id": order_id, "deadline.kind": deadline["kind"], "deadline.due_at": deadline["due_at"]},
                         {"$set": {"deadline.failures": failures, "deadline.last_error": error[:500],
                                   "deadline.retry_at": now + deadlines.retry_after(failures)}})
    return failures


# -- payments --------------------------------------------------------------------------------

def pending_payment(db: Database, order_id: str) -> dict | None:
    return db.payments.find_one({"order_id": order_id, "status": "pending"})


def payment(db: Database, payment_id: str) -> dict | None:
    return db.payments.find_one({"_id": payment_id})


def set_provider_ref(db: Database, payment_id: str, provider_ref: str) -> None:
    db.payments.update_one({"_id": payment_id}, {"$set": {"provider_ref": provider_ref}})


def mark_payment_failed(u: Unit, payment_id: str) -> bool:
    """False when the payment was no longer pending."""
    return u.db.payments.update_one({"_id": payment_id, "status": "pending"},
                                    {"$set": {"status": "failed", "failed_at": u.now}},
                                    session=u.session).modified_count == 1


def mark_payment_succeeded(u: Unit, payment_id: str) -> bool:
    """False when the success was heard before."""
    return u.db.payments.update_one({"_id": payment_id, "status": {"$in": ["pending", "failed"]}},
                                    {"$set": {"status": "succeeded", "succeeded_at": u.now}},
                                    session=u.session).modified_count == 1


def succeeded_payment(u: Unit, order_id: str) -> dict | None:
    return u.db.payments.find_one({"order_id": order_id, "status": "succeeded"}, session=u.session)


def stale_pending_payments(db: Database, older_than: datetime, limit: int = 100) -> list[dict]:
    return list(db.payments.find({"status": "pending", "created_at": {"$lte": older_than}}).limit(limit))


def remember_nonce(db: Database, nonce: str, now: datetime) -> bool:
    """False when this nonce was seen before: a replayed notification."""
    try:
        db.payment_nonces.insert_one({"_id": nonce, "seen_at": now})
        return True
    except DuplicateKeyError:
        return False


# -- refunds ---------------------------------------------------------------------------------

def refunds_asked(u: Unit, order_id: str) -> int:
    """What has been asked back so far (refused refunds do not count)."""
    return sum(r["amount_fen"] for r in u.db.refunds.find({"order_id": order_id, "status": {"$ne": "refused"}},
                                                          session=u.session))


def refund_count(u: Unit, order_id: str) -> int:
    return u.db.refunds.count_documents({"order_id": order_id}, session=u.session)


def add_refund(u: Unit, refund: dict) -> None:
    u.db.refunds.insert_one(refund, session=u.session)


def requested_refunds(db: Database, limit: int = 50) -> list[dict]:
    return list(db.refunds.find({"status": "requested"}).sort("created_at", 1).limit(limit))


def refund_refused(db: Database, refund_id: str, error: str) -> None:
    db.refunds.update_one({"_id": refund_id, "status": "requested"}, {"$set": {"status": "refused", "error": error}})


def refund_submitted(db: Database, refund_id: str, now: datetime) -> None:
    db.refunds.update_one({"_id": refund_id, "status": "requested"},
                          {"$set": {"status": "submitted", "submitted_at": now}})


def refund(u: Unit, refund_id: str) -> dict | None:
    return u.db.refunds.find_one({"_id": refund_id}, session=u.session)


def mark_refund_succeeded(u: Unit, refund_id: str) -> bool:
    """False when the success was heard before."""
    return u.db.refunds.update_one({"_id": refund_id, "status": {"$in": ["requested", "submitted"]}},
                                   {"$set": {"status": "succeeded", "succeeded_at": u.now}},
                                   session=u.session).modified_count == 1


# -- the funder ledger -----------------------------------------------------------------------

def add_ledger(u: Unit, order: dict, entries: list[tuple[str, int]], kind: str, ref: str) -> None:
    """Funder-ledger lines; `ref` (a payment or refund id) makes each line unique, so a retry writes nothing
    twice. Each line carries the order's community, so staff read only the lines of their communities."""
    month = local_today(u.now, order["listing"].get("timezone") or DEFAULT_TIMEZONE).strftime("%Y-%m")
    for party, fen in entries:
        # a failed insert would abort the whole transaction, so look first
        if u.db.ledger.find_one({"_id": f"{ref}:{party}"}, {"_id": 1}, session=u.session) is None:
            u.db.ledger.insert_one({"_id": f"{ref}:{party}", "order_id": order["_id"], "party": party,
                                    "amount_fen": fen, "kind": kind, "month": month, "at": u.now,
                                    "community_id": order["address"]["community_id"],
                                    "listing_title": order["listing"]["title"]}, session=u.session)


def provider_ledger_lines(db: Database, visible: dict, month: str) -> list[dict]:
    """Every party's lines of a month for the orders matching `visible` (a provider's own), oldest first."""
    order_ids = db.orders.distinct("_id", visible)
    return list(db.ledger.find({"order_id": {"$in": order_ids}, "month": month}).sort([("at", 1), ("_id", 1)]))


def ledger_lines(db: Database, party: str, month: str, scope: dict) -> list[dict]:
    """A party's lines of a month, oldest first, within `scope` (a staff member's communities)."""
    return list(db.ledger.find({"party": party, "month": month, **scope}).sort([("at", 1), ("_id", 1)]))
