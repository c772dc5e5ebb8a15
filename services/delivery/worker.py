"""Delivery's worker process: task events, and the dispatcher every few seconds."""
from linli.consumer import Timer, run_worker
from linli.unit import Units

from . import dispatch, store
from .handlers import HANDLERS


def main() -> None:
    db = store.database()
    store.prepare(db)
    run_worker("delivery", Units(db, "delivery"), HANDLERS, [Timer("dispatch", 2.0, lambda: dispatch.dispatch_round(db))])


if __name__ == "__main__":
    main()
