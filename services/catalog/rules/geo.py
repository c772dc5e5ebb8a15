"""Near-me search, without I/O: grid keys that an ordinary index finds by ranges, and distances on the sphere.

Why not $geoNear: the embedded server answers a 2dsphere query by examining every point
(about 10 s over 100,000 listings). Why not an array of cells asked for with `$in`: the server
compares every cell of every candidate with every cell asked for, in Python (80 cells: 186 ms).
A range on an indexed scalar field is fast. So each listing's search place (see search.py) carries,
for each of three grid sizes, the key of the grid cell it lies in: "row:col", zero-padded so that the
cells of one grid row sort together by column; plain, and prefixed by its category (the usual
near-me question is "meals near me"). A search takes the finest grid on which its circle spans
at most MAX_ROWS rows and asks, row by row, for the run of columns the circle reaches in that
row: one index range per row (8 or 9 for a 2 km radius). The exact great-circle distance then
keeps what lies within the radius. On MongoDB proper the same queries are as fast.
"""
from __future__ import annotations

import math

from linli.geo import EARTH_RADIUS_M

GRID_DEGREES = (0.005, 0.02, 0.1)         # about 500 m, 2 km and 10 km from south to north
MAX_ROWS = 10                             # enough for any radius up to 50 km on one of the grids
FIELD = "geo_keys"                        # the search place's field holding its keys
_HAIR = 1e-9                              # degrees added wherever float rounding could lose a place


def _row(level: int, lat: float) -> int:
    size = GRID_DEGREES[level]
    return math.floor(lat / size) + round(90 / size)      # from 0 at the south pole up


def _col(level: int, lng: float) -> int:
    """The column before wrapping: a search's run of columns may reach past 180°."""
    size = GRID_DEGREES[level]
    return math.floor(lng / size) + round(180 / size)     # from 0 at 180° W eastwards


def _key(row: int, col: int) -> str:
    return f"{row:05d}:{col:05d}"


def _name(level: int, by_category: bool) -> str:
    return f"g{level}c" if by_category else f"g{level}"


def key_fields() -> list[str]:
    """The indexed fields, one per grid and per plain or by category."""
    return [f"{FIELD}.{_name(level, c)}" for level in range(len(GRID_DEGREES)) for c in (False, True)]


def keys_of(location: dict | None, category: str) -> dict:
    """The keys a listing at `location` (GeoJSON) is found by; none without a location."""
    if not location:
        return {}
    lng, lat = location["coordinates"]
    keys = {}
    for level, size in enumerate(GRID_DEGREES):
        cell = _key(_row(level, lat), _col(level, lng) % round(360 / size))  # 180° E is 180° W
        keys[_name(level, False)] = cell
        keys[_name(level, True)] = f"{category}|{cell}"
    return keys


def covering(point: dict, radius_m: float, category: str | None = None) -> list[tuple[str, str, str]]:
    """Index ranges (field, lowest key, highest key) that together hold every place within `radius_m` of
    `point` (GeoJSON), found by plain keys or by those of `category`. The ranges never overlap."""
    lng, lat = point["coordinates"]
    theta = radius_m / EARTH_RADIUS_M                     # the radius as an angle at the earth's centre
    south, north = max(lat - math.degrees(theta) - _HAIR, -90), min(lat + math.degrees(theta) + _HAIR, 90)
    level = next((lv for lv in range(len(GRID_DEGREES)) if _row(lv, north) - _row(lv, south) < MAX_ROWS),
                 len(GRID_DEGREES) - 1)
    field = f"{FIELD}.{_name(level, category is not None)}"
    prefix = f"{category}|" if category else ""
    return [(field, prefix + _key(row, first), prefix + _key(row, last))
            for row in range(_row(level, south), _row(level, north) + 1)
            for first, last in _columns(level, row, lng, lat, theta)]


def _columns(level: int, row: int, lng: float, lat: float, theta: float) -> list[tuple[int, int]]:
    """The columns of `row` that a circle of angle `theta` around (lng, lat) reaches: one run, two when
    it crosses 180°, the whole row when it holds a pole."""
    size = GRID_DEGREES[level]
    ncols = round(360 / size)
    band_south = (row - round(90 / size)) * size - _HAIR
    band_north = band_south + size + 2 * _HAIR
    # The haversine solved for the longitude difference, made as large as the band allows: the
    # band's latitude nearest the centre, and the cosine of the one farthest from the equator
    # (where a degree of longitude is shortest). A flat "metres per degree" would miss places
    # near the circle's east and west ends, since a great circle bulges towards the pole.
    nearest = min(max(lat, band_south), band_north)
    room = math.sin(theta / 2) ** 2 - math.sin(math.radians(lat - nearest) / 2) ** 2
    scale = math.cos(math.radians(lat)) * math.cos(math.radians(min(max(abs(band_south), abs(band_north)), 90)))
    if scale <= 0 or room >= scale:
        return [(0, ncols - 1)]
    dlng = math.degrees(2 * math.asin(math.sqrt(max(room, 0) / scale))) + _HAIR
    first, last = _col(level, lng - dlng), _col(level, lng + dlng)
    if last - first + 1 >= ncols:
        return [(0, ncols - 1)]
    first, last = first % ncols, last % ncols
    return [(first, last)] if first <= last else [(first, ncols - 1), (0, last)]

