"""Delivery's worker process: task events, and the dispatcher every few seconds."""
from linli.consumer import Timer, run_worker

from . import bootstrap


def main() -> None:
    db = bootstrap.database()
    bootstrap.prepare(db)
    units, cfg = bootstrap.units(db=db), bootstrap.settings()
    run_worker("delivery", units, bootstrap.consumer_handlers(cfg),
               [Timer("dispatch", bootstrap.DISPATCH_EVERY_SECONDS, lambda: bootstrap.dispatch_round(units, cfg))])


if __name__ == "__main__":
    main()
