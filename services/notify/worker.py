"""Notify's worker process: events become messages; timers send what is due and record receipts."""
from linli.consumer import ConsumerRunner, Timer, run_worker

from . import bootstrap
from .handlers import HANDLERS, record_receipts, send_due


def timers(notify: bootstrap.Notify) -> list[Timer]:
    return [Timer("send", 0.25, lambda: send_due(notify.units, notify.channels, notify.delays)),
            Timer("receipts", 2.0, lambda: record_receipts(notify.units, notify.channels))]


def runner(notify: bootstrap.Notify) -> ConsumerRunner:
    """The consumer with notify's handlers and timers (the tests run it in a thread)."""
    return ConsumerRunner("notify", notify.units, HANDLERS, timers(notify))


def main() -> None:
    notify = bootstrap.build()
    run_worker("notify", notify.units, HANDLERS, timers(notify))


if __name__ == "__main__":
    main()
