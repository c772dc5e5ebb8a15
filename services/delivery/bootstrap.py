"""Builds what delivery's processes run on: the database (indexes made), units of work with a clock,
and the settings read once from the environment. app.py, worker.py and the tests start here;
nothing deeper reads global settings or the wall clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pymongo.database import Database

from linli.config import settings as global_settings
from linli.ids import utcnow
from linli.unit import Clock, Units
from linli.web import ensure_idempotency_index

from . import handlers, store
from .handlers import dispatch

SERVICE = store.SERVICE
DISPATCH_EVERY_SECONDS = 2.0


@dataclass(frozen=True)
class Settings:
    offer_timeout: timedelta  # how long a volunteer has to answer an offer (LINLI_OFFER_TIMEOUT_SECONDS)


def settings() -> Settings:
    return Settings(offer_timeout=timedelta(seconds=global_settings().offer_timeout_seconds))


def database() -> Database:
    return store.database()


def prepare(db: Database) -> None:
    store.prepare(db)
    ensure_idempotency_index(db)


def units(clock: Clock = utcnow, db: Database | None = None) -> Units:
    return Units(db if db is not None else database(), SERVICE, clock)


def consumer_handlers(cfg: Settings | None = None) -> dict:
    return handlers.table((cfg or settings()).offer_timeout)


def dispatch_round(the_units: Units, cfg: Settings | None = None) -> list:
    return dispatch.dispatch_round(the_units, (cfg or settings()).offer_timeout)
