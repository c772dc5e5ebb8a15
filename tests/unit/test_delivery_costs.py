"""The dispatch cost: travel by the volunteer's speed, plus fairness, minus affinity; one formula twice."""
from __future__ import annotations

import numpy as np
import pytest

from services.delivery.rules import costs

CANTEEN = (121.5520, 31.1810)
HOME = (121.5588, 31.1765)


def _task(**kw):
    return costs.Job(**{"id": "t", "pickup": CANTEEN, "stops": (HOME,), "community_id": "lianxi",
                        "resident_ids": frozenset({"res_1"}), **kw})


def _vol(vid="v", at=(121.551, 31.181), vehicle="bike", **kw):
    return costs.VolunteerView(**{"id": vid, "location": at, "vehicle": vehicle,
                                  "community_ids": frozenset({"lianxi"}), **kw})


def test_a_kilometre_east_is_about_a_kilometre():
    assert costs.distance_m((121.0, 31.0), (121.0 + 1 / 95.4, 31.0)) == pytest.approx(1000, rel=0.01)


def test_a_nearer_volunteer_costs_less_and_a_bike_beats_walking_the_same_way():
    near, far = costs.terms(_task(), _vol(at=CANTEEN)), costs.terms(_task(), _vol(at=(121.57, 31.19)))
    assert near.total < far.total and near.to_pickup_m == pytest.approx(0, abs=0.01)
    walking = costs.terms(_task(), _vol(at=CANTEEN, vehicle="foot"))
    assert walking.travel_s > near.travel_s


def test_work_already_done_today_makes_way_for_others_and_a_familiar_face_is_preferred():
    fresh, busy = costs.terms(_task(), _vol()), costs.terms(_task(), _vol(done_today=2))
    assert busy.total - fresh.total == 2 * costs.FAIRNESS_S_PER_TASK
    known = costs.terms(_task(), _vol(served_residents=frozenset({"res_1"})))
    assert fresh.total - known.total == costs.AFFINITY_BONUS_S
    assert known.as_dict()["affinity_s"] == costs.AFFINITY_BONUS_S


def test_only_volunteers_of_the_community_with_room_who_did_not_pass_it_by_are_eligible():
    assert costs.eligible(_task(), _vol())
    assert not costs.eligible(_task(community_id="beicai"), _vol())
    assert not costs.eligible(_task(), _vol(room=0))
    assert not costs.eligible(_task(passed_over=frozenset({"v"})), _vol())
    assert not costs.eligible(_task(stops=(HOME, HOME)), _vol(room=1))  # a batch of two needs room for two
    assert costs.eligible(_task(stops=(HOME, HOME)), _vol(room=2))


def test_a_trip_runs_from_the_pickup_through_every_stop_in_order():
    there_and_on = _task(stops=(HOME, CANTEEN))
    assert there_and_on.route_m == pytest.approx(2 * costs.distance_m(CANTEEN, HOME))


def test_the_round_matrix_says_exactly_what_each_offer_records():
    rng = np.random.default_rng(7)
    tasks = [_task(id=f"t{i}", pickup=tuple(rng.uniform([121.54, 31.17], [121.57, 31.19])),
                   stops=tuple(tuple(rng.uniform([121.54, 31.17], [121.57, 31.19])) for _ in range(1 + i % 2)),
                   resident_ids=frozenset({f"r{i % 3}"}),
                   community_id="lianxi" if i % 4 else "beicai", passed_over=frozenset({"v1"}) if i == 2 else frozenset())
             for i in range(6)]
    vols = [_vol(f"v{j}", at=tuple(rng.uniform([121.54, 31.17], [121.57, 31.19])), vehicle=("foot", "bike", "e_bike")[j % 3],
                 done_today=j % 2, served_residents=frozenset({f"r{j % 3}"}), room=0 if j == 3 else 1 + j % 2)
            for j in range(5)]
    matrix = costs.cost_matrix(tasks, vols)
    for i, t in enumerate(tasks):
        for j, v in enumerate(vols):
            assert matrix.cost[i, j] == pytest.approx(costs.terms(t, v).total)
            assert matrix.allowed[i, j] == costs.eligible(t, v)
