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


def ensure_indexes(db: Database) -> None:
    db[COLLECTION].create_index([("status", ASCENDING), ("seq", ASCENDING)])
    db[COLLECTION].create_index([("aggregate", ASCENDING), ("seq", ASCENDING)])


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
