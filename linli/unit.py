"""The unit of work: one piece of work done in one transaction, with its database, its session,
its instant (`now`) and a way to emit events into the outbox of the same transaction.

    units = Units(db, source="orders", clock=utcnow)       # built once, by the service's bootstrap
    order = units.run(lambda u: commands.accept(u, who, order_id))

Commands and handlers take a `Unit` and pass it to the store; nothing below reads the wall
clock or starts a transaction of its own. The consumer runner hands each handler a unit whose
transaction also records the inbox entry. Tests build `Units` with a fixed clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, TypeVar

from pymongo.client_session import ClientSession
from pymongo.database import Database

from . import idempotency, outbox
from .contracts.common import Event
from .db import in_transaction
from .ids import utcnow

T = TypeVar("T")
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Unit:
    db: Database
    session: ClientSession | None
    now: datetime
    source: str

    def emit(self, event: Event, aggregate: str) -> dict[str, Any]:
        """Adds an event made by its contract's builder (`u.emit(contract.task_offered(...), "task:1")`) to the
        outbox in this unit's transaction; its data is checked against the contract again on the way in."""
        if self.session is None:
            raise RuntimeError("events are emitted only inside a transaction (Units.run)")
        if not isinstance(event, Event):
            raise TypeError(f"emit takes an event made by a builder of linli.contracts, not {event!r}")
        return outbox.add(self.db, self.session, source=self.source, event_type=event.type, data=event.data,
                          aggregate=aggregate)


class Units:
    """Makes units of work for one service: its database, its clock and the name its events carry."""

    def __init__(self, db: Database, source: str, clock: Clock = utcnow):
        self.db = db
        self.source = source
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    def run(self, work: Callable[[Unit], T]) -> T:
        """Runs `work(unit)` in one transaction (retried on transient errors, so it must be idempotent)."""
        now = self.clock()

        def in_session(session: ClientSession) -> T:
            result = work(Unit(self.db, session, now, self.source))
            idempotency.mark_committed(self.db, session, now)  # a keyed request's change: its mark (linli.idempotency)
            return result

        return in_transaction(self.db, in_session)

    def read(self) -> Unit:
        """A unit for reads outside a transaction (it cannot emit)."""
        return Unit(self.db, None, self.clock(), self.source)

    def within(self, session: ClientSession) -> Unit:
        """A unit in a transaction someone else started (the consumer's, with its inbox record)."""
        return Unit(self.db, session, self.clock(), self.source)
