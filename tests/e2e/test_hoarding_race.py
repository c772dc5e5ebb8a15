"""Hoarding, measured (issue 12, item 4): 20 freshly registered accounts each fire 4 unpaid orders at a
12-portion charity lunch at once through the gateway, while 4 residents who mean to pay order in the
same rush. Nobody holds more than one unpaid order of the slot (the rest are refused, the limit named),
the slot is never oversold, the holds taken as it runs low last 10 or 5 minutes instead of 15, and the
payers get their portions and pay. Without the limits one account took all 12 portions in 4 seconds."""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import (PASSWORD, community, lunch, pay_at_cashier, place_retrying, tomorrow_in_shanghai,
                                verified_canteen)

HOME = {"lng": 121.5588, "lat": 31.1765}
CAPACITY = 12
HOARDERS, TRIES, PAYERS = 20, 4, 4


def test_twenty_fresh_accounts_cannot_empty_a_slot_they_do_not_pay_for(stack, staff):
    admin, _ = staff
    api = Client(stack.url())
    community(admin, "hoard", HOME, "H")
    canteen = verified_canteen(api, admin, "hoard_canteen", "Hoard canteen", HOME, "hoard")
    listing = lunch(canteen, "Hoard lunch", "hoard", CAPACITY)
    day = tomorrow_in_shanghai()
    with ThreadPoolExecutor(8) as pool:
        payers = list(pool.map(lambda i: api.register(f"payer{i}", PASSWORD, f"Payer {i}", "resident"),
                               range(PAYERS)))
        hoarders = list(pool.map(lambda i: api.register(f"hoarder{i}", PASSWORD, f"Hoarder {i}", "resident"),
                                 range(HOARDERS)))

    def order(who: Client, n: int):
        answer = place_retrying(who, {
            "listing_id": listing["id"], "quantity": 1, "slot_date": day, "slot": "lunch",
            "address": {"community_id": "hoard", "building": str(n), "room": "1", "contact_name": "H",
                        "phone": "139 0000 0000", "location": HOME}})
        assert answer.status_code in (201, 409), answer.text[:300]
        return who, answer.json()

    # the payers are in the first wave of the rush; every hoarder's 4 orders go out together
    rush = [(p, i) for i, p in enumerate(payers)] + [(h, n) for h in hoarders for n in range(TRIES)]
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda job: order(*job), rush))
    rush_seconds = time.monotonic() - started

    refused = [body["error"] for _, body in answers if "error" in body]
    placed = [(who, body["id"]) for who, body in answers if "id" in body]
    per_account = Counter(id(who) for who, _ in placed)
    assert max(per_account.values()) == 1, "nobody holds two unpaid orders of one slot"
    assert len(placed) == HOARDERS + PAYERS and len(refused) == HOARDERS * (TRIES - 1)
    assert {e["code"] for e in refused} == {"hold_limit_slot"}
    assert all("the most one person may hold (1)" in e["message"] and e["details"]["limit"] == 1 for e in refused)

    def settled():
        seen = [(who, who.get(f"/api/v1/orders/{order_id}")) for who, order_id in placed]
        return None if any(o["status"] == "placed" for _, o in seen) else seen

    final = eventually(settled, timeout=120, interval=1, what="catalog to answer every order")
    held = [(who, o) for who, o in final if o["status"] == "awaiting_payment"]
    assert len(held) == CAPACITY, "the slot is never oversold"

    # the holds taken as the slot ran low are short: 15 minutes while more than half is left, then 10, then 5
    def window(o: dict) -> float:
        reserved = next(e["at"] for e in o["timeline"] if e["to"] == "awaiting_payment")
        due = datetime.fromisoformat(o["deadline"]["due_at"])
        return round((due - datetime.fromisoformat(reserved)).total_seconds() / 60)

    windows = Counter(window(o) for _, o in held)
    assert windows == {15: 5, 10: 3, 5: 4}, windows  # 11..7 left: 15; 6..4 left: 10; 3..0 left: 5

    # the payers got their portions and pay for them
    theirs = [(who, o) for who, o in held if who in payers]
    assert len(theirs) == PAYERS, "the payers were in the first wave and got their portions"
    for who, o in theirs:
        pay_at_cashier(stack, who.post(f"/api/v1/orders/{o['id']}/pay", expect=200))
    eventually(lambda: all(who.get(f"/api/v1/orders/{o['id']}")["status"] == "paid" for who, o in theirs) or None,
               timeout=60, what="the payers' payments")
    left = api.get(f"/api/v1/catalog/listings/{listing['id']}/availability?date={day}")
    assert [s["remaining"] for s in left["slots"]] == [0]
    hoarded = sum(1 for who, _ in held if who in hoarders)
    print(f"hoarding race: {len(rush)} orders in {rush_seconds:.1f} s from {HOARDERS} fresh accounts x {TRIES} and "
          f"{PAYERS} payers; {len(refused)} refused at the door (one unpaid order per slot); {CAPACITY} portions: "
          f"{PAYERS} paid, {hoarded} held unpaid by {hoarded} hoarders (at most 1 each); hold windows {dict(windows)}")
