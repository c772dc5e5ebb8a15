"""The outbox: events are written in the same transaction as the state change that causes them.

Nothing is published from a request; the relay (linli.relay) publishes committed entries.
"""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from .events import make_envelope
from .ids import monotonic_seq, utcnow

COLLECTION = "outbox"


# Sent events are kept a week for tracing, then the database's TTL monitor removes them. The inbox
# (in the same database) keeps a handled event's id for 30 days: far longer than any redelivery
# (retries take seconds, a lease minutes), and a dead letter was never handled, so a replay is new.
SENT_KEPT_SECONDS = 7 * 24 * 3600
INBOX_KEPT_SECONDS = 30 * 24 * 3600


def ensure_indexes(db: Database) -> None:
    """The outbox's indexes, and the inbox's expiry (every service that publishes also consumes)."""
    db[COLLECTION].create_index([("status", ASCENDING), ("seq", ASCENDING)])
    db[COLLECTION].create_index([("aggregate", ASCENDING), ("seq", ASCENDING)])
    db[COLLECTION].create_index("sent_at", expireAfterSeconds=SENT_KEPT_SECONDS)
    db.inbox.create_index("handled_at", expireAfterSeconds=INBOX_KEPT_SECONDS)


def add(
    db: Database,
    session: ClientSession,
    *,
    source: str,
    event_type: str,
    data: dict[str, Any],
    aggregate: str,
) -> dict[str, Any]:
    """Adds an event to the outbox inside `session`'s transaction; returns its envelope."""
    envelope = make_envelope(event_type, data, source)
    db[COLLECTION].insert_one(
        {
            "_id": envelope["id"],
            "type": event_type,
            "aggregate": aggregate,
            "seq": monotonic_seq(),
            "envelope": envelope,
            "status": "pending",
            "created_at": utcnow(),
            "attempts": 0,
            "lease_owner": None,
            "lease_until": None,
            "not_before": None,
        },
        session=session,
    )
    return envelope
