"""Catalog's worker process: consumes the events catalog needs."""
from linli.consumer import run_worker

from . import store
from .handlers import HANDLERS


def main() -> None:
    db = store.database()
    store.prepare(db)
    run_worker("catalog", db, HANDLERS)


if __name__ == "__main__":
    main()
