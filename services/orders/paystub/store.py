"""The stub provider's database calls (database `<namespace>_paystub`, its own: orders never reads it)."""
from __future__ import annotations

from datetime import datetime

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod


def database() -> Database:
    return dbmod.database("paystub")


def prepare(db: Database) -> None:
    db.payments.create_index("out_trade_no", unique=True)
    db.refunds.create_index("out_refund_no", unique=True)
    db.notifications.create_index([("delivered", 1), ("next_at", 1)])
    db.cashier_tickets.create_index("expires_at", expireAfterSeconds=0)
    db.cashier_sessions.create_index("expires_at", expireAfterSeconds=0)


def add_payment(doc: dict) -> bool:
    """False when a payment with this out_trade_no exists already."""
    try:
        database().payments.insert_one(doc)
        return True
    except DuplicateKeyError:
        return False


def add_payer(ref: str, account_id: str) -> None:
    """The merchant says this account may pay (like WeChat Pay's payer openid)."""
    database().payments.update_one({"_id": ref}, {"$addToSet": {"payers": account_id}})


def add_ticket(ticket_hash: str, ref: str, account_id: str, expires_at: datetime) -> None:
    database().cashier_tickets.insert_one({"_id": ticket_hash, "ref": ref, "account_id": account_id,
                                           "expires_at": expires_at})


def spend_ticket(ticket_hash: str, ref: str, now: datetime) -> dict | None:
    """The ticket, spent (deleted) in one step: a second use finds nothing. None when unknown or expired."""
    ticket = database().cashier_tickets.find_one_and_delete({"_id": ticket_hash, "ref": ref})
    return ticket if ticket is not None and ticket["expires_at"] > now else None


def add_session(session_hash: str, ref: str, account_id: str, expires_at: datetime) -> None:
    database().cashier_sessions.insert_one({"_id": session_hash, "ref": ref, "account_id": account_id,
                                            "expires_at": expires_at})


def session(session_hash: str, ref: str, now: datetime) -> dict | None:
    found = database().cashier_sessions.find_one({"_id": session_hash, "ref": ref})
    return found if found is not None and found["expires_at"] > now else None


def payment_by_trade_no(out_trade_no: str) -> dict | None:
    return database().payments.find_one({"out_trade_no": out_trade_no})


def payment(ref: str) -> dict | None:
    return database().payments.find_one({"_id": ref})


def close_unpaid(out_trade_no: str, now: datetime) -> None:
    database().payments.update_one({"out_trade_no": out_trade_no, "state": "NOTPAY"},
                                   {"$set": {"state": "CLOSED", "closed_at": now}})


def settle_unpaid(ref: str, state: str, now: datetime) -> bool:
    """False when the payment was not waiting to be paid."""
    return database().payments.update_one({"_id": ref, "state": "NOTPAY"},
                                          {"$set": {"state": state, "settled_at": now}}).modified_count == 1


def mark_refunded(ref: str) -> None:
    database().payments.update_one({"_id": ref}, {"$set": {"state": "REFUND"}})


def refunded_before(out_trade_no: str, other_than: str) -> int:
    """What other refunds of this payment took back."""
    return sum(r["refund_fen"] for r in database().refunds.find({"out_trade_no": out_trade_no,
                                                                 "out_refund_no": {"$ne": other_than}}))


def add_refund(doc: dict) -> dict | None:
    """None when the refund was created before; its earlier record otherwise is returned instead."""
    try:
        database().refunds.insert_one(doc)
        return None
    except DuplicateKeyError:
        return database().refunds.find_one({"out_refund_no": doc["out_refund_no"]})


def refund_succeeded(refund_id: str, now: datetime) -> None:
    database().refunds.update_one({"_id": refund_id}, {"$set": {"state": "SUCCESS", "success_time": now}})


def add_notification(doc: dict) -> None:
    database().notifications.insert_one(doc)


def due_notifications(now: datetime, limit: int) -> list[dict]:
    return list(database().notifications.find({"delivered": False, "next_at": {"$lte": now}}).limit(limit))


def undelivered_notifications() -> list[dict]:
    return list(database().notifications.find({"delivered": False}))


def update_notification(note_id: str, changes: dict) -> None:
    database().notifications.update_one({"_id": note_id}, {"$set": changes})
