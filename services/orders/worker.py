"""Orders' worker process: the saga's event handlers, and the stub provider's notification sender."""
from linli.consumer import Timer, run_worker

from . import paystub, store
from .handlers import HANDLERS


def main() -> None:
    db = store.database()
    store.prepare(db)
    paystub.prepare(paystub.database())
    timers = [Timer("payment-notifications", 0.2, paystub.deliver_due_notifications)]
    run_worker("orders", db, HANDLERS, timers)


if __name__ == "__main__":
    main()
