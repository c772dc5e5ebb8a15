"""Orders in flight through the gateway while processes, the broker and the database are killed,
paused and cut off. Whatever happens, every order ends paid with one reservation, one payment, one
set of ledger lines and one delivery task, every event is published and handled once, and no
message is dead-lettered.  Run with `make fault`."""
from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import eventually
from tests.e2e.conftest import lunch
from tests.faults.conftest import HOME
from tests.faults.kit import counts, dead_letter_details, dead_letters, place_and_pay

pytestmark = pytest.mark.fault

ORDERS = int(os.environ.get("LINLI_FAULT_ORDERS", "30"))
PROCESSES = ("orders-relay", "catalog-worker", "orders-worker", "catalog-relay", "delivery-worker", "delivery-relay")


def _in_flight(world, name: str, fault) -> None:
    """Places ORDERS orders on a new listing while `fault()` runs, then checks the counts."""
    world.canteen.request("GET", "/api/v1/catalog/listings?community=lianxi")  # signs in again if need be
    listing = lunch(world.canteen.client, f"Lunch under {name}", "lianxi", 1000, price_fen=1200)
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)).date().isoformat()
    result = {}
    driver = threading.Thread(target=lambda: result.update(
        flight=place_and_pay(world.residents, listing["id"], day, ORDERS, HOME)))
    driver.start()
    time.sleep(1.5)  # some orders placed, some held, some paying
    fault()
    driver.join()
    flight = result["flight"]
    print(f"\n{name}: answers seen while retrying {dict(flight.answers)}")
    assert not flight.errors, flight.errors[:5]
    assert len(flight.order_ids) == ORDERS
    assert set(flight.final.values()) == {"paid"}, flight.final

    n = ORDERS
    sent = {"sent": n}
    want = {"orders": n, "orders_paid": n, "reservations": n, "reservations_confirmed": n, "portions_taken": n,
            "payments": n, "payments_succeeded": n, "provider_payments": n, "ledger_orders": n, "ledger_reversals": 0,
            "delivery_tasks": n, "delivery_task_orders": n, "placed_events": sent, "confirmed_events": sent,
            "paid_events": sent, "delivery_requested_events": sent, "task_events": sent, "catalog_handled_placed": n, "orders_handled_confirmed": n,
            "delivery_handled_paid": n}
    mongo_url = world.mongo.url

    def settled():
        now = counts(mongo_url, world.stack.namespace, flight.order_ids, listing["id"])
        lines = now.pop("ledger_lines_per_order")
        return now if now == want and len(lines) == 1 else None

    try:
        eventually(settled, timeout=120, interval=1, what="every count to settle")
    except AssertionError:
        got = counts(mongo_url, world.stack.namespace, flight.order_ids, listing["id"])
        raise AssertionError(f"{name}: counts differ from one per order:\n"
                             + "\n".join(f"  {k}: {got[k]!r} (want {want.get(k, 'one value')!r})"
                                         for k in got if got[k] != want.get(k)))
    dead = dead_letters(world.broker.url, world.stack.namespace)
    assert dead == {"catalog": 0, "orders": 0, "delivery": 0}, (dead, {
        consumer: dead_letter_details(world.broker.url, world.stack.namespace, consumer)
        for consumer, count in dead.items() if count})
    world.stack.wait_ready(timeout=120)


def test_each_relay_and_worker_killed_with_sigkill(world):
    def kill_each():
        for name in PROCESSES:
            victim = world.stack.pid(name)
            assert victim, world.stack.status()
            os.kill(victim, signal.SIGKILL)
            time.sleep(2)
    _in_flight(world, "each relay and worker killed", kill_each)


def test_broker_killed_and_started_again(world):
    def crash():
        world.broker.kill()
        time.sleep(15)
        world.broker.start()
    _in_flight(world, "broker killed", crash)


def test_database_killed_and_started_again(world):
    def crash():
        world.mongo.kill()
        time.sleep(10)
        world.mongo.start()
    _in_flight(world, "database killed", crash)


def test_broker_paused_for_a_minute(world):
    def pause():
        world.broker.signal(signal.SIGSTOP)
        try:
            time.sleep(60)
        finally:
            world.broker.signal(signal.SIGCONT)
    _in_flight(world, "broker paused 60 s", pause)


def test_slow_stalled_and_cut_network(world):
    proxies = (world.amqp_proxy, world.mongo_proxy)

    def network():
        for p in proxies:  # a slow network: 40 ms each way on every chunk
            p.latency = 0.04
        time.sleep(8)
        world.mongo_proxy.stalled = True  # the database's packets dropped for a while
        time.sleep(6)
        world.mongo_proxy.stalled = False
        world.amqp_proxy.stalled = True  # then the broker's
        time.sleep(6)
        world.amqp_proxy.stalled = False
        for p in proxies:
            p.latency = 0
            p.cut()  # every connection reset at once
        time.sleep(2)
        for p in proxies:
            p.refusing = True  # and nobody gets through for a while
            p.cut()
        time.sleep(6)
        for p in proxies:
            p.refusing = False
    _in_flight(world, "slow, stalled and cut network", network)
