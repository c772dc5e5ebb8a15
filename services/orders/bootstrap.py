"""Builds orders once for the web app, the worker and the tests: the database (indexes made), the
units of work with their clock, the payment provider, the notify URL, the reads from other
services, and the settings the rest needs. Nothing deeper reads the global settings or the clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pymongo.database import Database

from linli.config import Settings, settings
from linli.ids import utcnow
from linli.unit import Clock, Units
from linli.web import ensure_idempotency_index

from . import store
from .adapters.payments import PaymentProvider, StubProvider
from .adapters.upstream import Upstream
from .paystub import paystub
from .paystub import store as paystub_store

# a payment still pending this long is asked about (WeChat Pay advises querying when notifications stop)
RECONCILE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Orders:
    db: Database
    units: Units
    provider: PaymentProvider
    notify_url: str
    mchid: str
    upstream: Upstream
    reconcile_after: timedelta
    amqp_url: str


def build(clock: Clock = utcnow, cfg: Settings | None = None) -> Orders:
    cfg = cfg or settings()
    db = store.database()
    store.prepare(db)
    ensure_idempotency_index(db)  # the routes' Idempotency-Key records
    paystub_store.prepare(paystub_store.database())
    paystub.configure(paystub.Setup(clock=clock, public_url=cfg.public_url, auto_pay=cfg.payment_auto,
                                    time_scale=cfg.time_scale))
    return Orders(db=db, units=Units(db, store.SERVICE, clock), provider=StubProvider(cfg.payment_mchid),
                  notify_url=f"{cfg.public_url}/api/v1/payments/notify", mchid=cfg.payment_mchid,
                  upstream=Upstream(cfg.service_urls["catalog"], cfg.service_urls["gateway"], cfg.upstream_timeout),
                  reconcile_after=RECONCILE_AFTER * cfg.time_scale, amqp_url=cfg.amqp_url)
