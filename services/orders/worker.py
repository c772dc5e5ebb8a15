"""Orders' worker process: the saga's event handlers, and its timers — the deadline watcher,
the refund sender, the payment reconciler, and the stub provider's notification sender."""
from linli.consumer import Timer, run_worker

from . import bootstrap, money, saga
from .handlers import HANDLERS
from .paystub import paystub


def main() -> None:
    orders = bootstrap.build()
    units, provider = orders.units, orders.provider
    timers = [
        Timer("payment-notifications", 0.2, paystub.deliver_due_notifications),
        Timer("refunds", 0.5, lambda: money.submit_refunds(units, provider, orders.notify_url)),
        Timer("deadlines", 1.0, lambda: saga.fire_due_deadlines(units, provider)),
        Timer("reconcile", 10.0, lambda: money.reconcile_payments(units, provider,
                                                                  units.now() - orders.reconcile_after)),
    ]
    run_worker("orders", units, HANDLERS, timers)


if __name__ == "__main__":
    main()
