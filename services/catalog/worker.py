"""Catalog's worker process: consumes the events catalog needs."""
from linli.consumer import Timer, run_worker
from linli.ids import utcnow
from linli.unit import Units

from . import store
from .handlers import HANDLERS

# a blind review is revealed by time as well as by the other side writing
REVEAL_EVERY_SECONDS = 60


def main() -> None:
    db = store.database()
    store.prepare(db)
    run_worker("catalog", Units(db, "catalog"), HANDLERS,
               [Timer("reveal reviews", REVEAL_EVERY_SECONDS, lambda: store.count_revealed(db, utcnow()))])


if __name__ == "__main__":
    main()
