"""Builds catalog for the web app, the worker and the tests: its database (indexes and reference data
prepared), its clock, its units of work and its settings. Nothing deeper reads the environment."""
from __future__ import annotations

from dataclasses import dataclass

from pymongo.database import Database

from linli import outbox
from linli.config import DEFAULT_TIMEZONE, settings
from linli.ids import utcnow
from linli.unit import Clock, Units
from linli.web import ensure_idempotency_index

from . import store


@dataclass(frozen=True)
class Catalog:
    db: Database
    units: Units
    amqp_url: str
    default_timezone: str


def database() -> Database:
    return store.database()


def build(clock: Clock = utcnow, prepare: bool = True) -> Catalog:
    """Catalog on the configured database; `clock` is the one every unit of work reads (tests fix it)."""
    db = database()
    if prepare:
        outbox.ensure_indexes(db)
        ensure_idempotency_index(db)
        store.prepare(db, DEFAULT_TIMEZONE)
    return Catalog(db=db, units=Units(db, store.SERVICE, clock), amqp_url=settings().amqp_url,
                   default_timezone=DEFAULT_TIMEZONE)
