"""Dispatch on the real database: the nearest volunteer is asked first, a round assigns exactly,
and the offer ladder climbs (timeout -> next -> open call -> coordinator's board) on an injected clock.

`Town` is the small world the delivery integration tests share: the delivery app's test client,
volunteers registered and verified through the API, and orders arriving as real events."""
from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest

from linli.auth import issue_access_token
from linli.consumer import apply_once
from linli.unit import Units
from linli.events import make_envelope
from linli.ids import utcnow
from services.delivery import bootstrap, handlers, store
from services.delivery.app import create_app

CANTEEN = {"lng": 121.5520, "lat": 31.1810}
HOME = {"lng": 121.5588, "lat": 31.1765}
_ids = count(1)


def near_canteen(metres_east: float) -> dict:
    return {"lng": CANTEEN["lng"] + metres_east / 95_400, "lat": CANTEEN["lat"]}


class Town:
    def __init__(self):
        self.db = bootstrap.database()
        self.app = create_app()
        self.http = self.app.test_client()
        # the town's committee watches over both of its communities
        self.coordinator = self.login("acc_coord", "coordinator", "林主任", communities=("lianxi", "beicai"))

    @staticmethod
    def login(account_id: str, role: str, name: str, communities: tuple[str, ...] = ()) -> dict:
        return {"Authorization": f"Bearer {issue_access_token(account_id, role, name, communities=communities)}"}

    def read(self):
        return bootstrap.units(db=self.db).read()

    def dispatch(self, at=None) -> list:
        """One dispatcher round, at `at` (an injected clock) or now."""
        return bootstrap.dispatch_round(bootstrap.units(clock=(lambda: at) if at else utcnow, db=self.db))

    def call(self, method: str, path: str, who: dict, body: dict | None = None, expect: int | None = 200):
        response = self.http.open(f"/api/v1/delivery{path}", method=method, headers=who, json=body)
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json() if response.is_json else response.get_data(as_text=True)

    def volunteer(self, name: str, at: dict, vehicle: str = "bike", communities=("lianxi",), max_tasks: int = 1,
                  verified: bool = True, on_duty: bool = True) -> tuple[str, dict]:
        who = self.login(f"acc_{name}", "volunteer", name)
        profile = self.call("POST", "/volunteers", who, {"name": name, "phone": "138 0000 0000",
                                                         "community_ids": list(communities), "vehicle": vehicle,
                                                         "max_tasks": max_tasks}, expect=201)
        if verified:
            self.call("POST", f"/volunteers/{profile['id']}/verify", self.coordinator)
            if on_duty:
                self.call("PUT", "/volunteers/me/duty", who, {"on_duty": True, "location": at})
        return profile["id"], who

    def event(self, event_type: str, data: dict, handler) -> None:
        apply_once(Units(self.db, "delivery"), "delivery", make_envelope(event_type, data, "orders"), handler)

    def order(self, resident: str = "res_1", starts_in: timedelta = timedelta(hours=3), ready: bool = True,
              home: dict = HOME, **dropoff) -> dict:
        order_id, start = f"ord_{next(_ids)}", utcnow() + starts_in
        self.event("orders.delivery.requested", {
            "order_id": order_id, "resident_id": resident, "provider_id": "prv_1", "slot_start": start.isoformat(),
            "slot_end": (start + timedelta(minutes=90)).isoformat(),
            "pickup": {"name": "Hospital canteen", "address": "1000 Hunan Road", "location": CANTEEN},
            "dropoff": {"community_id": "lianxi", "building": "12", "room": "301", "contact_name": "Wang",
                        "phone": "139 1234 5678", "location": home, **dropoff},
            "items": [{"title": "Charity lunch", "quantity": 1}], "pickup_code": "246810", "handover_code": "1357",
            "answer_by": (utcnow() + timedelta(minutes=30)).isoformat()},
            handlers.on_order_paid)
        if ready:
            self.ready(order_id)
        return store.task_of_order(self.read(), order_id)

    def ready(self, order_id: str) -> None:
        self.event("orders.order.ready", {"order_id": order_id, "provider_id": "prv_1"}, handlers.on_order_ready)

    def offers(self, who: dict) -> list[dict]:
        return self.call("GET", "/offers", who)["items"]

    def task(self, task_id: str) -> dict:
        return store.task(self.read(), task_id)

    def events(self, event_type: str) -> list[dict]:
        return [e["envelope"]["data"] for e in self.db.outbox.find({"type": event_type}).sort("seq", 1)]


@pytest.fixture
def town(mongo_env) -> Town:
    return Town()


def test_a_ready_meal_is_offered_at_once_to_the_nearest_volunteer_who_may_take_it(town):
    near_id, near = town.volunteer("near", near_canteen(100))
    _, nearer_unverified = town.volunteer("unverified", near_canteen(10), verified=False)
    _, nearer_off_duty = town.volunteer("resting", near_canteen(20), on_duty=False)
    _, elsewhere = town.volunteer("beicai", near_canteen(30), communities=("beicai",))
    _, far = town.volunteer("far", near_canteen(2000))
    task = town.order()

    [offer] = town.offers(near)
    assert offer["task_id"] == task["_id"] and offer["mode"] == "single"
    assert offer["why"]["to_pickup_m"] == pytest.approx(100, rel=0.05) and offer["why"]["cost"] > 0
    assert "room" not in offer["dropoff"] and "phone" not in offer["dropoff"]
    for other in (nearer_unverified, nearer_off_duty, elsewhere, far):
        assert town.offers(other) == []
    assert [e["volunteer_id"] for e in town.events("delivery.task.offered")] == [near_id]


def test_a_round_assigns_tasks_exactly_rather_than_each_to_its_nearest(town):
    # Both meals are nearest to "middle"; giving one to each side costs less travel in total.
    west_id, _ = town.volunteer("west", near_canteen(-900))
    middle_id, _ = town.volunteer("middle", near_canteen(300))
    first = town.order(starts_in=timedelta(minutes=20), ready=False, home=near_canteen(600))
    second = town.order(starts_in=timedelta(minutes=20), ready=False, home=near_canteen(-1500))
    steps = town.dispatch()
    holders = {s.tasks[0]["_id"]: s.offers[0][0].id for s in steps}
    assert holders == {first["_id"]: middle_id, second["_id"]: west_id}


def test_the_offer_ladder_climbs_to_the_coordinators_board_on_an_injected_clock(town):
    vols = [town.volunteer(f"v{i}", near_canteen(100 * (i + 1))) for i in range(5)]
    task = town.order()
    t0 = utcnow()

    # one at a time: v0 lets it lapse, v1 says no, v2 lets it lapse
    assert [o["task_id"] for o in town.offers(vols[0][1])] == [task["_id"]]
    town.dispatch(t0 + timedelta(seconds=91))
    assert town.offers(vols[0][1]) == []
    [offer] = town.offers(vols[1][1])
    town.call("POST", f"/offers/{offer['id']}/decline", vols[1][1])
    assert len(town.offers(vols[2][1])) == 1
    town.dispatch(t0 + timedelta(seconds=200))

    # then everyone nearby who has not passed it by, at once
    called = [town.offers(who) for _, who in vols]
    assert [len(c) for c in called] == [0, 0, 0, 1, 1] and called[3][0]["mode"] == "broadcast"
    town.dispatch(t0 + timedelta(seconds=300))

    # nobody took it: the coordinator's board, where a person assigns by hand
    assert town.task(task["_id"])["status"] == "escalated"
    [escalated] = town.events("delivery.task.escalated")
    assert escalated["task_id"] == task["_id"] and "nobody" in escalated["reason"]
    board = town.call("GET", "/tasks?status=escalated", town.coordinator)["items"]
    assert [t["id"] for t in board] == [task["_id"]]
    assigned = town.call("POST", f"/tasks/{task['_id']}/assign", town.coordinator, {"volunteer_id": vols[0][0]})
    assert assigned["status"] == "assigned" and assigned["volunteer_id"] == vols[0][0]
    assert town.events("delivery.task.assigned")[-1]["volunteer_id"] == vols[0][0]
    assert town.call("POST", f"/tasks/{task['_id']}/assign", town.coordinator, {"volunteer_id": vols[1][0]},
                     expect=409)["error"]["details"]["current_status"] == "assigned"


def test_a_task_goes_to_the_board_when_the_pickup_window_closes_whatever_its_rung(town):
    town.volunteer("v", near_canteen(100))
    task = town.order(starts_in=timedelta(minutes=-70))  # 20 minutes of the slot left
    assert town.task(task["_id"])["status"] == "escalated"
    assert "closing" in town.events("delivery.task.escalated")[0]["reason"]


def test_the_coordinator_assigns_only_a_verified_volunteer_of_the_community(town):
    task = town.order()
    pending_id, _ = town.volunteer("pending", near_canteen(50), verified=False)
    other_id, _ = town.volunteer("beicai", near_canteen(50), communities=("beicai",))
    refused = town.call("POST", f"/tasks/{task['_id']}/assign", town.coordinator, {"volunteer_id": pending_id},
                        expect=422)
    assert "volunteer_id" in refused["error"]["details"]
    refused = town.call("POST", f"/tasks/{task['_id']}/assign", town.coordinator, {"volunteer_id": other_id},
                        expect=422)
    assert "beicai" not in refused["error"]["message"] and "lianxi" in refused["error"]["message"]


def test_a_cancelled_order_withdraws_its_offer(town):
    v_id, who = town.volunteer("v", near_canteen(100))
    task = town.order()
    assert town.offers(who)
    town.event("orders.order.cancelled", {"order_id": task["order_id"], "reason": "changed my mind",
                                          "by_role": "resident", "reservation_held": False}, handlers.on_order_cancelled)
    assert town.offers(who) == [] and town.task(task["_id"])["status"] == "cancelled"
    [withdrawn] = town.events("delivery.offer.withdrawn")
    assert withdrawn == {"offer_id": withdrawn["offer_id"], "task_id": task["_id"], "order_id": task["order_id"],
                         "volunteer_id": v_id, "account_id": "acc_v", "reason": "cancelled"}


def test_when_one_volunteer_takes_an_open_call_each_other_one_is_told_the_offer_is_withdrawn(town):
    vols = [town.volunteer(f"v{i}", near_canteen(100 * (i + 1))) for i in range(5)]
    task = town.order()
    t0 = utcnow()
    town.dispatch(t0 + timedelta(seconds=91))
    [offer] = town.offers(vols[1][1])
    town.call("POST", f"/offers/{offer['id']}/decline", vols[1][1])
    town.dispatch(t0 + timedelta(seconds=200))
    # each offer names the volunteer's account, so notify needs no lookup to tell them
    offered = town.events("delivery.task.offered")
    assert [(e["volunteer_id"], e["account_id"]) for e in offered] == [(v_id, f"acc_v{i}") for i, (v_id, _) in
                                                                       enumerate(vols)]
    assert [len(town.offers(who)) for _, who in vols] == [0, 0, 0, 1, 1]
    assert town.events("delivery.offer.withdrawn") == []  # lapsed and declined offers are not "withdrawn"

    [taken] = town.offers(vols[3][1])
    town.call("POST", f"/offers/{taken['id']}/accept", vols[3][1])
    [withdrawn] = town.events("delivery.offer.withdrawn")
    assert (withdrawn["volunteer_id"], withdrawn["account_id"], withdrawn["reason"]) == (vols[4][0], "acc_v4", "taken")
    assert withdrawn["task_id"] == task["_id"] and withdrawn["offer_id"] != taken["id"]
    assert town.offers(vols[4][1]) == []


def test_two_meals_from_one_kitchen_to_one_community_go_as_one_trip(town):
    _, roomy = town.volunteer("roomy", near_canteen(100), max_tasks=2)
    far_home, near_home = near_canteen(1500), near_canteen(400)
    first = town.order(starts_in=timedelta(minutes=20), ready=False, home=far_home)
    second = town.order(starts_in=timedelta(minutes=20), ready=False, resident="res_2", home=near_home)
    town.dispatch()

    [offer] = town.offers(roomy)
    assert offer["task_ids"] == [second["_id"], first["_id"]]  # the nearer door first
    assert [s["task_id"] for s in offer["stops"]] == offer["task_ids"] and "room" not in offer["stops"][0]["dropoff"]
    assert offer["why"]["route_m"] == pytest.approx(1500, rel=0.02)
    town.call("POST", f"/offers/{offer['id']}/accept", roomy)
    assert {town.task(t)["status"] for t in offer["task_ids"]} == {"assigned"}
    assert sorted(e["task_id"] for e in town.events("delivery.task.assigned")) == sorted(offer["task_ids"])
    assert town.call("GET", "/volunteers/me", roomy)["active_tasks"] == 2
    assert town.call("GET", f"/tasks/{first['_id']}", roomy)["batch"] == offer["task_ids"]


def test_a_declined_trip_puts_every_meal_back_on_the_ladder(town):
    roomy_id, roomy = town.volunteer("roomy", near_canteen(100), max_tasks=2)
    tasks = [town.order(starts_in=timedelta(minutes=20), ready=False) for _ in range(2)]
    town.dispatch()
    [offer] = town.offers(roomy)
    town.call("POST", f"/offers/{offer['id']}/decline", roomy)
    for task in tasks:
        again = town.task(task["_id"])
        assert again["status"] == "waiting" and again["passed_over"] == [roomy_id]


def test_cancelling_one_meal_of_an_offered_trip_puts_the_other_back_on_offer_at_once(town):
    _, roomy = town.volunteer("roomy", near_canteen(100), max_tasks=2)
    first = town.order(starts_in=timedelta(minutes=20), ready=False, home=near_canteen(1500))
    second = town.order(starts_in=timedelta(minutes=20), ready=False, resident="res_2", home=near_canteen(400))
    town.dispatch()
    [trip] = town.offers(roomy)
    assert len(trip["task_ids"]) == 2
    town.event("orders.order.cancelled", {"order_id": second["order_id"], "reason": "changed my mind",
                                          "by_role": "resident", "reservation_held": True}, handlers.on_order_cancelled)
    assert town.task(second["_id"])["status"] == "cancelled"
    assert town.task(first["_id"])["status"] == "waiting" and town.task(first["_id"])["offer"] is None
    town.dispatch()  # the next round, seconds later, not when the trip's offer would lapse
    [alone] = town.offers(roomy)
    assert alone["task_ids"] == [first["_id"]]


def test_registering_twice_is_refused_and_keeps_one_profile(town):
    volunteer_id, who = town.volunteer("v", near_canteen(100), verified=False)
    again = town.call("POST", "/volunteers", who, {"name": "v again", "phone": "138 0000 0000",
                                                   "community_ids": ["lianxi"], "vehicle": "foot"}, expect=409)
    assert "already" in again["error"]["message"]
    assert town.call("GET", "/volunteers/me", who)["id"] == volunteer_id
    assert town.db.volunteers.count_documents({"account_id": "acc_v"}) == 1
