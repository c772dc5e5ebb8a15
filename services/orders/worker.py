"""Orders' worker process: the saga's event handlers, and its timers — the deadline watcher,
the refund sender, the payment reconciler, and the stub provider's notification sender."""
from datetime import timedelta

from linli.config import settings
from linli.consumer import Timer, run_worker
from linli.ids import utcnow
from linli.unit import Units

from . import paystub, payments, saga, store
from .handlers import HANDLERS

# a payment still pending this long is asked about (WeChat Pay advises querying when notifications stop)
RECONCILE_AFTER = timedelta(minutes=2)


def main() -> None:
    db = store.database()
    store.prepare(db)
    paystub.prepare(paystub.database())
    provider = payments.provider()
    scale = settings().time_scale
    timers = [
        Timer("payment-notifications", 0.2, paystub.deliver_due_notifications),
        Timer("refunds", 0.5, lambda: saga.submit_refunds(db, provider, payments.notify_url())),
        Timer("deadlines", 1.0, lambda: saga.fire_due_deadlines(db, utcnow(), provider)),
        Timer("reconcile", 10.0, lambda: saga.reconcile_payments(db, provider, utcnow() - RECONCILE_AFTER * scale,
                                                                 utcnow())),
    ]
    run_worker("orders", Units(db, "orders"), HANDLERS, timers)


if __name__ == "__main__":
    main()
