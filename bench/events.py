"""Event plumbing throughput on this machine: outbox writes, relay publishing with confirms,
and consuming with the inbox transaction. Prints figures; asserts nothing."""
from __future__ import annotations

import threading
import time

from bench.common import infrastructure
from linli import db as dbmod
from linli.consumer import ConsumerRunner
from linli.unit import Units
from tests.integration import messaging as m

N = 500


def main() -> None:
    with infrastructure():
        m.declare()
        db = dbmod.database("probe")
        started = time.perf_counter()
        for i in range(N):
            m.write_with_event(db, 1, aggregate=f"thing:{i % 50}")
        write_s = time.perf_counter() - started
        print(f"outbox: {N} state changes with their event, one transaction each: {N / write_s:,.0f}/s "
              f"({write_s / N * 1000:.2f} ms each)")

        from linli.relay import Relay

        relay = Relay("probe", db=db)
        started = time.perf_counter()
        published = 0
        while published < N:
            published += relay.run_once()
        relay_s = time.perf_counter() - started
        print(f"relay: {N} events claimed, published with confirms and marked sent: {N / relay_s:,.0f}/s")

        stop = threading.Event()
        runner = ConsumerRunner("probe", Units(db, "probe"), {"test.thing.happened": m.count_effect}, subscriptions=m.SUBSCRIPTIONS)
        thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
        started = time.perf_counter()
        thread.start()
        while runner.processed < N:
            time.sleep(0.01)
        consume_s = time.perf_counter() - started
        stop.set()
        thread.join(10)
        print(f"consumer: {N} events, inbox + handler + commit + ack each: {N / consume_s:,.0f}/s "
              f"(prefetch {runner.cfg.prefetch})")
        assert m.effect(db)["applied"] == N


if __name__ == "__main__":
    main()
