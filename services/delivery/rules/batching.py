"""Batches (no I/O): meals from the same kitchen, for the same community, in overlapping windows,
go with one volunteer on one trip, dropped off in a sensible order.

Grouping is greedy by window start (a batch's windows must share a common stretch of time), and
the stop order is nearest-next from the pickup: with at most BATCH_MAX stops in one community,
that is within a few metres of the best order and needs no routing engine.
"""
from __future__ import annotations

from . import costs

BATCH_MAX = 4
# Two pickups this close are the same kitchen door (the same canteen may be geocoded twice).
SAME_PLACE_M = 50.0


def _key(task: dict) -> tuple:
    return task.get("provider_id"), task["dropoff"]["community_id"]


def group(tasks: list[dict], max_size: int = BATCH_MAX) -> list[list[dict]]:
    """Tasks in batches; a task that fits no batch is a batch of one. Order: earliest window first."""
    batches: list[tuple[list[dict], object, object]] = []  # (tasks, common window start, end)
    for task in sorted(tasks, key=lambda t: (t["slot_start"], t["_id"])):
        for i, (members, start, end) in enumerate(batches):
            head = members[0]
            if (len(members) < max_size and _key(head) == _key(task)
                    and costs.distance_m(_point(head["pickup"]), _point(task["pickup"])) <= SAME_PLACE_M
                    and max(start, task["slot_start"]) < min(end, task["slot_end"])):
                batches[i] = (members + [task], max(start, task["slot_start"]), min(end, task["slot_end"]))
                break
        else:
            batches.append(([task], task["slot_start"], task["slot_end"]))
    return [members for members, _, _ in batches]


def stop_order(pickup: tuple[float, float], dropoffs: list[tuple[float, float]]) -> list[int]:
    """Indices of `dropoffs` in visiting order: always the nearest stop not yet visited."""
    left, here, order = list(range(len(dropoffs))), pickup, []
    while left:
        nearest = min(left, key=lambda i: costs.distance_m(here, dropoffs[i]))
        order.append(nearest)
        left.remove(nearest)
        here = dropoffs[nearest]
    return order


def _point(place: dict) -> tuple[float, float]:
    return place["location"]["lng"], place["location"]["lat"]
