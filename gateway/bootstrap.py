"""Builds what the gateway's web app, its operator commands and the tests need: the database (with its
indexes), the units of work with a clock, and the settings."""
from __future__ import annotations

from dataclasses import dataclass

from pymongo.database import Database

from linli import db as dbmod
from linli.config import Settings, settings
from linli.ids import utcnow
from linli.unit import Clock, Units
from linli.web import ensure_idempotency_index

from .store import accounts as store

SERVICE = "gateway"


@dataclass(frozen=True)
class Gateway:
    db: Database
    units: Units
    settings: Settings


def database() -> Database:
    return dbmod.database(SERVICE)


def build(clock: Clock = utcnow, prepare: bool = True) -> Gateway:
    db = database()
    if prepare:
        store.prepare(db)
        ensure_idempotency_index(db)
    return Gateway(db, Units(db, SERVICE, clock), settings())
