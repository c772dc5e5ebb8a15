"""Builds orders once for the web app, the worker and the tests: the database (indexes made), the
units of work with their clock, the payment provider, the notify URL, the reads from other
services, and the settings the rest needs. Nothing deeper reads the global settings or the clock."""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import timedelta

from pymongo.database import Database

from linli import logs
from linli.config import Settings, settings
from linli.ids import utcnow
from linli.unit import Clock, Units
from linli.web import ensure_idempotency_index

from . import store
from .adapters.payments import PaymentProvider, StubProvider
from .adapters.upstream import Upstream
from .paystub import paystub
from .paystub import store as paystub_store
from .rules.holds import HoldLimits

log = logging.getLogger("orders.bootstrap")

# the payment providers orders can talk to, by the name LINLI_PAYMENT_PROVIDER gives (a real one,
# WeChat Pay or Alipay, is added here beside the stub)
PROVIDERS = {"stub": StubProvider}
# the exit code of a process that refuses its configuration (sysexits.h EX_CONFIG)
EX_CONFIG = 78


class RefusedToStart(SystemExit):
    """The configuration must not run: the process exits with EX_CONFIG after one clear log line."""

    def __init__(self, message: str):
        super().__init__(EX_CONFIG)
        self.message = message

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
    holds: HoldLimits = HoldLimits()


def payment_provider(cfg: Settings) -> PaymentProvider:
    """The provider LINLI_PAYMENT_PROVIDER names, read once at start. A production configuration
    (LINLI_ENV=production) refuses the stub, which pays whatever its cashier is told, unless
    LINLI_DEMO=1 says that this deployment is a demo where no money moves."""
    name = cfg.payment_provider
    if name not in PROVIDERS:
        _refuse(f"orders will not start: LINLI_PAYMENT_PROVIDER={name!r} is not a payment provider orders "
                f"knows (known: {', '.join(sorted(PROVIDERS))})", provider=name)
    if name == "stub" and cfg.environment == "production" and not cfg.demo:
        _refuse("orders will not start: the stub payment provider takes no money and may not run in production "
                "(LINLI_ENV=production); configure a real provider in LINLI_PAYMENT_PROVIDER, or set LINLI_DEMO=1 "
                "if this deployment is a demo", provider=name, environment=cfg.environment)
    return PROVIDERS[name](cfg.payment_mchid)


def _refuse(message: str, **fields) -> None:
    logs.log(log, logging.CRITICAL, message, **fields)
    print(message, file=sys.stderr, flush=True)  # seen even before logging is set up
    raise RefusedToStart(message)


def build(clock: Clock = utcnow, cfg: Settings | None = None) -> Orders:
    cfg = cfg or settings()
    provider = payment_provider(cfg)  # first: a configuration that must not run touches nothing
    db = store.database()
    store.prepare(db)
    ensure_idempotency_index(db)  # the routes' Idempotency-Key records
    paystub_store.prepare(paystub_store.database())
    paystub.configure(paystub.Setup(clock=clock, public_url=cfg.public_url, auto_pay=cfg.payment_auto,
                                    time_scale=cfg.time_scale))
    return Orders(db=db, units=Units(db, store.SERVICE, clock), provider=provider,
                  notify_url=f"{cfg.public_url}/api/v1/payments/notify", mchid=cfg.payment_mchid,
                  upstream=Upstream(cfg.service_urls["catalog"], cfg.service_urls["gateway"], cfg.upstream_timeout),
                  reconcile_after=RECONCILE_AFTER * cfg.time_scale, amqp_url=cfg.amqp_url,
                  holds=HoldLimits(per_slot=cfg.holds_per_slot, overall=cfg.holds_overall))
