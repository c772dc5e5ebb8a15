"""What it costs to give a task to a volunteer, in seconds, and why (no I/O).

cost = travel (volunteer -> pickup -> drop-off, at the volunteer's speed)
     + fairness (tasks the volunteer already carried today)
     - affinity (the volunteer has served this resident before: elders trust a familiar face).

The same formula exists twice: `terms` for one pair (what an offer records as its reasons) and
`cost_matrix` for a whole round (numpy, so 2,000 x 500 takes milliseconds). A unit test keeps
them equal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
# Streets are not straight lines; a constant detour factor keeps the ranking and the seconds honest enough.
DETOUR = 1.3
SPEED_M_PER_S = {"foot": 1.25, "bike": 3.5, "e_bike": 5.0}
# One task already carried today weighs like five minutes more travel: spreads the work without
# sending anyone across town for the sake of it.
FAIRNESS_S_PER_TASK = 300.0
AFFINITY_BONUS_S = 600.0


@dataclass(frozen=True)
class Job:
    """One trip to offer: a single task, or a batch from one kitchen to one community (stops in order)."""
    id: str
    pickup: tuple[float, float]  # (lng, lat)
    stops: tuple[tuple[float, float], ...]
    community_id: str
    resident_ids: frozenset[str] = frozenset()
    passed_over: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return len(self.stops)

    @property
    def route_m(self) -> float:
        """Pickup, then every stop in order."""
        points = (self.pickup, *self.stops)
        return sum(distance_m(a, b) for a, b in zip(points, points[1:]))


@dataclass(frozen=True)
class VolunteerView:
    id: str
    location: tuple[float, float]
    vehicle: str
    community_ids: frozenset[str]
    room: int = 1  # how many more tasks they may take now
    done_today: int = 0
    served_residents: frozenset[str] = frozenset()
    account_id: str | None = None  # the volunteer's account: notify tells it of an offer without a lookup


@dataclass(frozen=True)
class Terms:
    to_pickup_m: float
    route_m: float
    travel_s: float
    fairness_s: float
    affinity_s: float

    @property
    def total(self) -> float:
        return self.travel_s + self.fairness_s - self.affinity_s

    def as_dict(self) -> dict:
        return {"to_pickup_m": round(self.to_pickup_m, 1), "route_m": round(self.route_m, 1),
                "travel_s": round(self.travel_s, 1), "fairness_s": self.fairness_s,
                "affinity_s": self.affinity_s, "cost": round(self.total, 1)}


def eligible(job: Job, volunteer: VolunteerView) -> bool:
    """Serves the drop-off's community, has room for every meal of the trip, and has not turned one of
    them down (or let the offer lapse)."""
    return (job.community_id in volunteer.community_ids and volunteer.room >= job.size
            and volunteer.id not in job.passed_over)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(distances_m(np.array([a]), np.array([b]))[0, 0])


def distances_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distances between every point of `a` (n x 2, lng/lat) and every point of `b` (m x 2)."""
    lng1, lat1 = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
    lng2, lat2 = np.radians(b[:, 0])[None, :], np.radians(b[:, 1])[None, :]
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def terms(job: Job, volunteer: VolunteerView) -> Terms:
    to_pickup, route = distance_m(volunteer.location, job.pickup), job.route_m
    return Terms(
        to_pickup_m=to_pickup, route_m=route,
        travel_s=(to_pickup + route) * DETOUR / SPEED_M_PER_S[volunteer.vehicle],
        fairness_s=FAIRNESS_S_PER_TASK * volunteer.done_today,
        affinity_s=AFFINITY_BONUS_S if job.resident_ids & volunteer.served_residents else 0.0,
    )


@dataclass(frozen=True)
class Matrix:
    cost: np.ndarray        # tasks x volunteers, seconds
    to_pickup_m: np.ndarray  # tasks x volunteers
    allowed: np.ndarray     # tasks x volunteers, bool: the pair is eligible


def cost_matrix(tasks: list[Job], volunteers: list[VolunteerView]) -> Matrix:
    """The round's whole matrix; the Python loops touch only the sparse sets (passed over, served before)."""
    n, m = len(tasks), len(volunteers)
    pickups = np.array([t.pickup for t in tasks], dtype=float).reshape(n, 2)
    spots = np.array([v.location for v in volunteers], dtype=float).reshape(m, 2)
    to_pickup = distances_m(pickups, spots)
    legs = np.array([t.route_m for t in tasks], dtype=float)
    speed = np.array([SPEED_M_PER_S[v.vehicle] for v in volunteers], dtype=float)
    travel = (to_pickup + legs[:, None]) * DETOUR / speed[None, :]
    fairness = FAIRNESS_S_PER_TASK * np.array([v.done_today for v in volunteers], dtype=float)

    column = {v.id: j for j, v in enumerate(volunteers)}
    communities = sorted({t.community_id for t in tasks})
    serves = np.array([[c in v.community_ids for v in volunteers] for c in communities], dtype=bool).reshape(
        len(communities), m)
    community_row = {c: i for i, c in enumerate(communities)}
    allowed = serves[[community_row[t.community_id] for t in tasks]] if n else np.zeros((0, m), dtype=bool)
    allowed &= np.array([v.room for v in volunteers])[None, :] >= np.array([t.size for t in tasks])[:, None]
    affinity = np.zeros((n, m))
    rows_of_resident: dict[str, list[int]] = {}
    for i, t in enumerate(tasks):
        for volunteer_id in t.passed_over:
            if volunteer_id in column:
                allowed[i, column[volunteer_id]] = False
        for resident_id in t.resident_ids:
            rows_of_resident.setdefault(resident_id, []).append(i)
    for j, v in enumerate(volunteers):
        for resident_id in v.served_residents:
            affinity[rows_of_resident.get(resident_id, []), j] = AFFINITY_BONUS_S
    return Matrix(cost=travel + fairness[None, :] - affinity, to_pickup_m=to_pickup, allowed=allowed)
