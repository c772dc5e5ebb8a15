"""Near-me search, without I/O: grid cells that an ordinary index can find, and distances on the sphere.

Why not $geoNear: the embedded server answers a 2dsphere query by examining every point
(about 10 s over 100,000 listings), while an equality on an indexed array is fast. So each
listing carries the cells it lies in at four grid sizes, also qualified by its category
(the usual near-me question is "meals near me"); a search asks for the cells covering its
circle at the finest size that needs few cells, then keeps what lies within the radius by
the exact great-circle distance. On MongoDB proper the same query is as fast.
"""
from __future__ import annotations

import math

EARTH_RADIUS_M = 6_378_137          # the radius MongoDB's spherical distances use
CELL_DEGREES = (0.005, 0.02, 0.1, 0.5)  # about 500 m, 2 km, 10 km and 50 km across
MAX_COVER = 100                          # cells per query before a coarser grid is used
_M_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


def _cell(level: int, lng: float, lat: float) -> str:
    size = CELL_DEGREES[level]
    return f"{level}:{math.floor(lng / size)}:{math.floor(lat / size)}"


def cells_of(location: dict | None, category: str) -> list[str]:
    """The cells a listing at `location` (GeoJSON) is found in: plain and per category."""
    if not location:
        return []
    lng, lat = location["coordinates"]
    plain = [_cell(level, lng, lat) for level in range(len(CELL_DEGREES))]
    return plain + [f"{c}|{category}" for c in plain]


def covering(point: dict, radius_m: float, category: str | None = None) -> list[str]:
    """Cells that together hold every place within `radius_m` of `point` (GeoJSON)."""
    lng, lat = point["coordinates"]
    dlat = radius_m / _M_PER_DEGREE
    dlng = radius_m / (_M_PER_DEGREE * max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6))
    for level, size in enumerate(CELL_DEGREES):
        xs = range(math.floor((lng - dlng) / size), math.floor((lng + dlng) / size) + 1)
        ys = range(math.floor((lat - dlat) / size), math.floor((lat + dlat) / size) + 1)
        if len(xs) * len(ys) <= MAX_COVER or level == len(CELL_DEGREES) - 1:
            cells = [f"{level}:{x}:{y}" for x in xs for y in ys]
            return [f"{c}|{category}" for c in cells] if category else cells
    raise AssertionError("unreachable: the coarsest grid always answers")


def distance_m(a: dict, b: dict) -> float:
    """Great-circle distance between two GeoJSON points (haversine)."""
    (lng1, lat1), (lng2, lat2) = a["coordinates"], b["coordinates"]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
