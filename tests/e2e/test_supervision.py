"""One process killed with SIGKILL under the local supervisor (as under `make run`): it comes back by
itself within seconds and the whole system serves an order again; nothing else stopped."""
from __future__ import annotations

import os
import signal
import time

import requests

from devstack.client import Client, new_key
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, community, lunch, tomorrow_in_shanghai, verified_canteen

HOME = {"lng": 121.5300, "lat": 31.1500}
# a web process, each kind of background process, and the front door
KILLED = ("orders-worker", "catalog-relay", "orders-web", "gateway", "catalog-worker", "orders-relay")
BACK_WITHIN_S = 120.0  # seconds; 3-5 s on a quiet machine (see the log), minutes on a shared machine under load


def _served(call, what: str):
    """While a web process starts again, the gateway answers 503 ("try again in a minute") or, for the
    gateway itself, nothing at all: the user tries again, as the message says. Returns the answer once served."""
    def attempt():
        try:
            response = call()
        except requests.ConnectionError:
            return None
        return response if response.status_code != 503 else None
    return eventually(attempt, timeout=BACK_WITHIN_S, interval=0.5, what=what)


def _order_is_held(resident: Client, listing: dict) -> float:
    """Places an order and returns the seconds until its portion is held (catalog and orders, both relays);
    then cancels it."""
    started = time.monotonic()
    body = {"listing_id": listing["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
            "address": {"community_id": "lianxi", "building": "3", "room": "101", "contact_name": "Zhou",
                        "phone": "139 0000 7777", "location": HOME}}
    key = new_key()
    order = _served(lambda: resident.request("POST", "/api/v1/orders", json=body, idempotency_key=key,
                                             expect=(201, 503)), "the order to be taken").json()
    eventually(lambda: resident.get(f"/api/v1/orders/{order['id']}")["status"] == "awaiting_payment" or None,
               timeout=BACK_WITHIN_S, what="the portion to be held")
    held = time.monotonic() - started
    # he lets it go, so that the next round's order is not refused as a second unpaid one for the slot
    _served(lambda: resident.request("POST", f"/api/v1/orders/{order['id']}/cancel", json={"reason": "just a test"},
                                     expect=(200, 503)), "the order to be cancelled")
    return held


def test_a_process_killed_with_sigkill_is_restarted_and_the_system_serves_within_seconds(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "lianxi", HOME, "莲溪社区")
    canteen = verified_canteen(api, coordinator, "sup_canteen", "Supervised canteen", HOME, "lianxi")
    listing = lunch(canteen, "Supervised lunch", "lianxi", 50)
    resident = api.register("sup_res", PASSWORD, "Uncle Zhou", "resident")
    _order_is_held(resident, listing)
    others_before = {name: stack.pid(name) for name in ("delivery-web", "delivery-worker", "delivery-relay")}

    for name in KILLED:
        victim = stack.pid(name)
        assert victim, f"{name} is not running: {stack.status()}"
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        eventually(lambda: (stack.pid(name) or victim) != victim or None, timeout=BACK_WITHIN_S,
                   interval=0.3, what=f"{name} to be started again")
        stack.wait_ready(timeout=BACK_WITHIN_S)
        _served(lambda: api.request("GET", "/readyz", expect=(200, 503)), "the gateway to answer")
        _order_is_held(resident, listing)
        assert time.monotonic() - killed_at < BACK_WITHIN_S * 2, f"{name} took too long to serve again"

    assert stack.process.poll() is None, "the supervisor itself kept running"
    assert {name: stack.pid(name) for name in others_before} == others_before, "no other process was restarted"
    log = stack.log_file.read_text(errors="replace")
    assert "exited: orders-worker (terminated by SIGKILL; not expected)" in log
    assert "spawned: 'orders-worker'" in log
