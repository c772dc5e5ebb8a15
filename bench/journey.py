"""The whole system as `make run` starts it: time to ready, then orders through the gateway.
Prints figures; asserts nothing."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import infrastructure, percentiles
from devstack import seed
from devstack.client import Client
from devstack.net import free_port
from devstack.stack import Stack

ORDERS = 40
THREADS = 8


def main() -> None:
    with infrastructure() as (mongo_url, amqp_url, namespace, scratch):
        stack = Stack(namespace=namespace, mongo_url=mongo_url, amqp_url=amqp_url, var_dir=scratch / "var",
                      ports={s: free_port() for s in ("gateway", "catalog", "orders", "delivery")})
        started = time.monotonic()
        stack.start()
        try:
            ready_s = stack.wait_ready()
            print(f"start: every process ready {ready_s:.1f} s after launch")
            t = time.monotonic()
            seed.seed(stack.url())
            print(f"demo data through the API: {time.monotonic() - t:.1f} s; "
                  f"launch to usable: {time.monotonic() - started:.1f} s")
            api = Client(stack.url())
            lunch = api.get("/api/v1/catalog/listings?category=charity_meals")["items"][0]["id"]
            residents = [api.register(f"bench{i}", "bench-pass-1", f"Bench {i}", "resident") for i in range(THREADS)]
            day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date().isoformat()
            body = lambda: {"listing_id": lunch, "quantity": 1, "slot_date": day, "slot": "lunch",
                            "address": {"community_id": "lianxi", "building": "1", "room": "1", "contact_name": "B",
                                        "phone": "139 0000 0000", "location": {"lng": 121.55, "lat": 31.18}}}
            place_ms, reserve_ms = [], []

            def one(i: int) -> None:
                who = residents[i % THREADS]
                t0 = time.perf_counter()
                order = who.post("/api/v1/orders", body(), expect=201)
                place_ms.append((time.perf_counter() - t0) * 1000)
                while who.get(f"/api/v1/orders/{order['id']}")["status"] == "placed":
                    time.sleep(0.02)
                reserve_ms.append((time.perf_counter() - t0) * 1000)

            t = time.monotonic()
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(one, range(ORDERS)))
            wall = time.monotonic() - t
            print(f"POST /api/v1/orders through the gateway, {THREADS} at a time: {percentiles(place_ms)}")
            print(f"order placed -> reservation answered (orders -> relay -> catalog -> relay -> orders): "
                  f"{percentiles(reserve_ms)}")
            print(f"{ORDERS} orders placed and reserved in {wall:.1f} s ({ORDERS / wall:.1f}/s)")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
