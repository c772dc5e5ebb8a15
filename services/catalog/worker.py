"""Catalog's worker process: consumes the events catalog needs and reveals blind reviews as time passes."""
from linli.consumer import Timer, run_worker

from . import bootstrap
from .handlers import HANDLERS, reveal_reviews

# a blind review is revealed by time as well as by the other side writing
REVEAL_EVERY_SECONDS = 60


def main() -> None:
    catalog = bootstrap.build()
    run_worker("catalog", catalog.units, HANDLERS,
               [Timer("reveal reviews", REVEAL_EVERY_SECONDS, lambda: catalog.units.run(reveal_reviews))])


if __name__ == "__main__":
    main()
