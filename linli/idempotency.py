"""The Idempotency-Key of the request being served, and the mark its change leaves in its own transaction.

`linli.web.idempotent` records each keyed request in the service's `idempotency` collection (pending, then done
with its answer). The answer is written after the command's transaction, so a database that dies as the command
commits would leave the record pending and a retry would do the change twice. So the first unit of work that
commits while serving a keyed request (`linli.unit.Units.run`) also marks the record `committed`, in the same
transaction: the change and the mark are kept or lost together, and a retry finding the mark without an answer
is told the change was made instead of making it again.
"""
from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database

# (database name, record id) of the keyed request this thread or task is serving; None outside one
SERVING: ContextVar[tuple[str, str] | None] = ContextVar("linli_idempotency_serving", default=None)


def mark_committed(db: Database, session: ClientSession, now: datetime) -> None:
    """In the unit's transaction: the keyed request being served has changed something in this database."""
    serving = SERVING.get()
    if serving and serving[0] == db.name:
        db.idempotency.update_one({"_id": serving[1], "state": "pending"},
                                  {"$set": {"state": "committed", "committed_at": now}}, session=session)
