"""200 orders race for a slot of 40 portions through the gateway, two from each of 100 residents: the
second order of each is refused at once (one unpaid order per resident per slot), exactly 40 of the
100 left hold a portion, 60 are turned away with a reason a person can read, and no counter goes below
zero."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, community, lunch, place_retrying, tomorrow_in_shanghai, verified_canteen

HOME = {"lng": 121.5588, "lat": 31.1765}
ORDERS = 200
RESIDENTS = 100
CAPACITY = 40


def test_two_hundred_orders_for_forty_portions(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "race", HOME, "R")
    canteen = verified_canteen(api, coordinator, "race_canteen", "Race canteen", HOME, "race")
    listing = lunch(canteen, "Race lunch", "race", CAPACITY)
    with ThreadPoolExecutor(8) as pool:
        residents = list(pool.map(lambda i: api.register(f"racer{i}", PASSWORD, f"Racer {i}", "resident"),
                                  range(RESIDENTS)))
    day = tomorrow_in_shanghai()

    def place(i: int) -> tuple[Client, object]:
        who = residents[i % len(residents)]
        answer = place_retrying(who, {
            "listing_id": listing["id"], "quantity": 1, "slot_date": day, "slot": "lunch",
            "address": {"community_id": "race", "building": str(i), "room": "1", "contact_name": "R",
                        "phone": "139 0000 0000", "location": HOME}})
        assert answer.status_code in (201, 409), answer.text[:300]
        return who, answer.json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(place, range(ORDERS)))
    placed = [(who, body["id"]) for who, body in answers if "id" in body]
    refused = [body["error"] for _, body in answers if "error" in body]
    assert len({order_id for _, order_id in placed}) == len(placed) == RESIDENTS
    assert len(refused) == ORDERS - RESIDENTS and {e["code"] for e in refused} == {"hold_limit_slot"}

    def outcomes():
        seen = [who.get(f"/api/v1/orders/{order_id}") for who, order_id in placed]
        return None if any(o["status"] == "placed" for o in seen) else seen

    final = eventually(outcomes, timeout=90, interval=1, what="catalog to answer all 100 orders")
    held = [o for o in final if o["status"] == "awaiting_payment"]
    turned_away = [o for o in final if o["status"] == "cancelled"]
    assert (len(held), len(turned_away)) == (CAPACITY, RESIDENTS - CAPACITY)
    assert all("fully booked" in o["cancel_reason"] or "only" in o["cancel_reason"] for o in turned_away), \
        {o["cancel_reason"] for o in turned_away}
    left = api.get(f"/api/v1/catalog/listings/{listing['id']}/availability?date={day}")
    assert [s["remaining"] for s in left["slots"]] == [0]
