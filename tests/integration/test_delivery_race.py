"""Twenty volunteers accept the same open call at the same moment, on the real database:
exactly one gets the delivery, the nineteen others a 409."""
from __future__ import annotations

import threading

from services.delivery.rules import ladder

from tests.integration.test_delivery_town import near_canteen, town  # noqa: F401  (fixture)


def test_twenty_simultaneous_accepts_give_exactly_one_winner(town):
    first = [town.volunteer(f"first{i}", near_canteen(10 * (i + 1))) for i in range(ladder.SINGLE_OFFERS)]
    crowd = [town.volunteer(f"crowd{i}", near_canteen(100 + 50 * i)) for i in range(20)]
    task = town.order()
    for _, who in first:  # the nearest three say no, one after the other: the open call goes out
        [offer] = town.offers(who)
        town.call("POST", f"/offers/{offer['id']}/decline", who)
    offers = [town.offers(who) for _, who in crowd]
    assert all(len(o) == 1 and o[0]["mode"] == "broadcast" for o in offers)

    start, answers = threading.Barrier(len(crowd)), [None] * len(crowd)

    def accept(i: int) -> None:
        client = town.app.test_client()
        start.wait()
        answers[i] = client.post(f"/api/v1/delivery/offers/{offers[i][0]['id']}/accept", headers=crowd[i][1])

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(len(crowd))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 19
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    held = town.task(task["_id"])
    assert held["status"] == "assigned" and held["volunteer_id"] == crowd[winner][0]
    assert [e["volunteer_id"] for e in town.events("delivery.task.assigned")] == [crowd[winner][0]]
    assert all(a.get_json()["error"]["code"] == "offer_closed" for a in answers if a.status_code == 409)
    assert sum(town.call("GET", "/volunteers/me", who)["active_tasks"] for _, who in crowd) == 1
    assert all(town.offers(who) == [] for _, who in crowd)
