"""The offer ladder and the round's plan, without a database: who is asked, in what order, and when
the coordinator's board takes over."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.delivery.rules import costs, ladder
from services.delivery.handlers.dispatch import plan

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
CANTEEN = {"lng": 121.5520, "lat": 31.1810}
HOME = {"lng": 121.5588, "lat": 31.1765}


def _task(tid="t1", status="ready", singles=0, broadcasts=0, passed_over=(), resident="res_1", ends_in=timedelta(hours=2),
          home=HOME, community="lianxi"):
    return {"_id": tid, "order_id": f"o_{tid}", "status": status, "resident_id": resident, "provider_id": "prv_1",
            "pickup": {"location": CANTEEN}, "dropoff": {"community_id": community, "location": home},
            "slot_start": NOW + ends_in - timedelta(minutes=90), "slot_end": NOW + ends_in,
            "ladder": {"singles": singles, "broadcasts": broadcasts}, "passed_over": list(passed_over)}


def _vol(vid, lng, **kw):
    return costs.VolunteerView(**{"id": vid, "location": (lng, 31.181), "vehicle": "bike",
                                  "community_ids": frozenset({"lianxi"}), **kw})


def test_the_rungs_in_order():
    assert ladder.rung(_task(), NOW)[0] == ladder.SINGLE
    assert ladder.rung(_task(singles=ladder.SINGLE_OFFERS - 1), NOW)[0] == ladder.SINGLE
    assert ladder.rung(_task(singles=ladder.SINGLE_OFFERS), NOW)[0] == ladder.BROADCAST
    assert ladder.rung(_task(singles=ladder.SINGLE_OFFERS, broadcasts=1), NOW)[0] == ladder.ESCALATE


def test_the_board_takes_any_task_before_the_pickup_window_closes():
    closing = _task(ends_in=ladder.CARRY_TIME)
    rung, why = ladder.rung(closing, NOW)
    assert rung == ladder.ESCALATE and "closing" in why


def test_a_task_is_placed_when_ready_or_when_its_pickup_is_near():
    assert ladder.is_candidate(_task(), NOW)
    later = _task(status="waiting")
    later["slot_start"] = NOW + ladder.LEAD_TIME + timedelta(minutes=1)
    assert not ladder.is_candidate(later, NOW)
    later["slot_start"] = NOW + ladder.LEAD_TIME
    assert ladder.is_candidate(later, NOW)
    assert not ladder.is_candidate(_task(status="assigned"), NOW)


def test_one_round_offers_each_volunteer_one_task_and_explains_the_choice():
    tasks = [_task("t1"), _task("t2", resident="res_2")]
    vols = [_vol("near", 121.5521), _vol("far", 121.5400), _vol("busy", 121.5522, room=0)]
    steps = plan(tasks, vols, NOW)
    chosen = {s.tasks[0]["_id"]: s.offers[0][0].id for s in steps}
    assert set(chosen.values()) == {"near", "far"} and all(s.rung == ladder.SINGLE for s in steps)
    why = steps[0].offers[0][1].as_dict()
    assert set(why) == {"to_pickup_m", "route_m", "travel_s", "fairness_s", "affinity_s", "cost"}


def test_the_volunteer_who_served_the_resident_before_gets_it_over_a_slightly_nearer_one():
    vols = [_vol("nearer", 121.5521), _vol("familiar", 121.5530, served_residents=frozenset({"res_1"}))]
    [step] = plan([_task()], vols, NOW)
    assert step.offers[0][0].id == "familiar" and step.offers[0][1].affinity_s > 0


def test_after_three_refusals_everyone_nearby_is_asked_except_those_who_passed():
    vols = [_vol("a", 121.5521), _vol("b", 121.5530), _vol("c", 121.5540), _vol("across_town", 121.62)]
    [step] = plan([_task(singles=3, passed_over=["a"])], vols, NOW)
    assert step.rung == ladder.BROADCAST
    assert [v.id for v, _ in step.offers] == ["b", "c"]


def test_an_open_call_with_nobody_nearby_goes_straight_to_the_board():
    [step] = plan([_task(singles=3)], [_vol("across_town", 121.62)], NOW)
    assert step.rung == ladder.ESCALATE and not step.offers


def test_meals_from_one_kitchen_to_one_community_in_overlapping_windows_travel_together():
    far_home, near_home = {"lng": 121.5650, "lat": 31.1765}, {"lng": 121.5540, "lat": 31.1800}
    tasks = [_task("far", home=far_home, resident="r1"), _task("near", home=near_home, resident="r2"),
             _task("other_slot", ends_in=timedelta(hours=5)), _task("beicai", community="beicai")]
    vols = [_vol("roomy", 121.5521, room=3), *(_vol(f"v{i}", 121.5400 + i / 1000,
                                                    community_ids=frozenset({"lianxi", "beicai"})) for i in range(3))]
    steps = {tuple(t["_id"] for t in s.tasks): s for s in plan(tasks, vols, NOW)}
    assert ("near", "far") in steps  # one trip, the nearer door first
    batch = steps[("near", "far")]
    assert batch.offers[0][0].id == "roomy" and batch.offers[0][1].route_m > 0
    assert all(len(key) == 1 for key in steps if key != ("near", "far"))
    assert all(len(s.tasks) == 1 for s in plan(tasks, vols, NOW, batch=False))
