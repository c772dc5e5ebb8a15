"""Dispatch on a synthetic town: 2,000 open tasks and 500 volunteers on duty.

Prints, asserts nothing:
- the time of one planning round (cost matrix, locality, exact assignment; batching on/off);
- total travel to the pickups of the round's offers, against the exact optimum on the full
  (non-local) matrix and against greedy nearest-first;
- on a clustered town (a few kitchens, lunch for a few communities), the travel per meal
  saved by batching.

The planning is the code the worker runs (services.delivery.dispatch.plan); the database
reads and writes of a round are not in these figures.
"""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from services.delivery import costs, dispatch
from services.delivery.assignment import assign

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc)
ORIGIN = np.array([121.50, 31.15])
KM = np.array([1 / 95.4, 1 / 111.2])  # degrees per km at Shanghai's latitude


def _spot(rng, centre, spread_km):
    return tuple(centre + rng.normal(0, spread_km, 2) * KM)


def town(seed: int, n_tasks: int, n_volunteers: int, kitchens: int, communities: int, room: int,
         size_km: float = 10.0):
    rng = np.random.default_rng(seed)
    kitchen_at = [ORIGIN + rng.uniform(0, size_km, 2) * KM for _ in range(kitchens)]
    community_at = [ORIGIN + rng.uniform(0, size_km, 2) * KM for _ in range(communities)]
    tasks = []
    for i in range(n_tasks):
        k, c = rng.integers(kitchens), rng.integers(communities)
        home = _spot(rng, community_at[c], 0.3)
        start = NOW + timedelta(minutes=int(rng.integers(0, 20)))
        tasks.append({"_id": f"t{i}", "order_id": f"o{i}", "status": "ready", "provider_id": f"k{k}",
                      "resident_id": f"r{i}", "passed_over": [], "ladder": {"singles": 0, "broadcasts": 0},
                      "pickup": {"location": {"lng": kitchen_at[k][0], "lat": kitchen_at[k][1]}},
                      "dropoff": {"community_id": f"c{c}", "location": {"lng": home[0], "lat": home[1]}},
                      "slot_start": start, "slot_end": start + timedelta(minutes=90)})
    volunteers = []
    for j in range(n_volunteers):
        at = ORIGIN + rng.uniform(0, size_km, 2) * KM
        near = frozenset(f"c{c}" for c, centre in enumerate(community_at)
                         if costs.distance_m(tuple(at), tuple(centre)) <= 4000) or frozenset({"c0"})
        volunteers.append(costs.VolunteerView(id=f"v{j}", location=tuple(at), vehicle=("foot", "bike", "e_bike")[j % 3],
                                              community_ids=near, room=room))
    return tasks, volunteers


def timed(fn, repeat: int = 5):
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return result, statistics.median(samples)


def travel_km(pairs, matrix) -> float:
    return sum(matrix.to_pickup_m[i, j] for i, j in pairs) / 1000


def greedy_nearest(matrix, tasks) -> list[tuple[int, int]]:
    """Each task, soonest deadline first, to the nearest eligible volunteer still free."""
    free, pairs = np.ones(matrix.allowed.shape[1], dtype=bool), []
    for i in sorted(range(len(tasks)), key=lambda i: tasks[i]["slot_end"]):
        options = np.where(matrix.allowed[i] & free, matrix.to_pickup_m[i], np.inf)
        j = int(np.argmin(options))
        if np.isfinite(options[j]):
            pairs.append((i, j))
            free[j] = False
    return pairs


def exact_full(matrix) -> list[tuple[int, int]]:
    """The optimum without the locality cut: every eligible pair in the matrix."""
    return assign(matrix.cost, matrix.allowed)


def main() -> None:
    tasks, volunteers = town(seed=1, n_tasks=2000, n_volunteers=500, kitchens=60, communities=40, room=1)
    steps, plan_s = timed(lambda: dispatch.plan(tasks, volunteers, NOW, batch=False))
    print(f"one round, 2,000 tasks x 500 volunteers: planned in {plan_s * 1000:.0f} ms (median of 5), "
          f"{len(steps)} offers")

    # The same rows the dispatcher plans: the most urgent trips, at most a few per volunteer.
    rows = dispatch.URGENT_TRIPS_PER_VOLUNTEER * len(volunteers)
    urgent = sorted(tasks, key=lambda t: (t["slot_end"], t["_id"]))[:rows]
    row = {t["_id"]: i for i, t in enumerate(urgent)}
    matrix = costs.cost_matrix([dispatch.job([t])[0] for t in urgent], volunteers)
    ours = [(row[s.tasks[0]["_id"]], int(s.offers[0][0].id[1:])) for s in steps]
    full, full_s = timed(lambda: exact_full(matrix), repeat=1)
    greedy = greedy_nearest(matrix, urgent)
    for name, pairs in (("dispatcher (local exact)", ours), ("exact optimum, full matrix", full),
                        ("greedy nearest-first", greedy)):
        km = travel_km(pairs, matrix)
        cost_h = sum(matrix.cost[i, j] for i, j in pairs) / 3600
        print(f"  {name:28s} {len(pairs):4d} offers, to pickups {km:6.1f} km ({km / len(pairs) * 1000:4.0f} m each), "
              f"whole trips {cost_h:5.1f} h")
    print(f"  (the full {matrix.cost.shape[0]} x {matrix.cost.shape[1]} matrix solved in {full_s * 1000:.0f} ms; "
          f"rectangular, not padded to a square)")

    tasks, volunteers = town(seed=2, n_tasks=2000, n_volunteers=500, kitchens=6, communities=12, room=4)
    for batch in (False, True):
        steps, plan_s = timed(lambda: dispatch.plan(tasks, volunteers, NOW, batch=batch), repeat=3)
        meals = sum(len(s.tasks) for s in steps)
        metres = sum(t.to_pickup_m + t.route_m for s in steps for _, t in s.offers)
        print(f"clustered town, batching {'on ' if batch else 'off'}: {len(steps)} trips carry {meals} meals, "
              f"{metres / 1000:.0f} km in all, {metres / max(meals, 1):.0f} m per meal, planned in {plan_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
