"""The one great-circle distance every service uses (haversine on MongoDB's sphere)."""
from __future__ import annotations

import math

EARTH_RADIUS_M = 6_378_137  # the radius MongoDB's spherical distances use


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
