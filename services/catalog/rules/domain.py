"""Catalog rules shared by the rest, without I/O: reference data, provider states, community shapes.

Listing rules live in listings.py, slot schedules in schedule.py, search tokens in tokens.py,
review rules in reviews.py, search in search.py and geo.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from linli.domain_errors import Forbidden, IllegalMove, RuleBroken

CATEGORIES = (
    ("charity_meals", "助餐", "Charity meals"),
    ("housekeeping", "家政", "Housekeeping"),
    ("appliance_repair", "家电维修", "Appliance repair"),
    ("home_repair", "房屋维修", "Home repair and renovation"),
    ("health_consultation", "健康咨询", "Health consultation"),
    ("errands", "跑腿", "Errands"),
    ("community_resources", "社区资源", "Community resources"),
)
CATEGORY_IDS = tuple(c[0] for c in CATEGORIES)
PROVIDER_KINDS = ("merchant", "hospital_canteen", "craftsman", "volunteer_expert")
FULFILMENTS = ("delivered", "on_site", "remote")
LISTING_STATUSES = ("draft", "published", "paused", "withdrawn")

# who may move a listing where; withdrawn is final so an order's listing never comes back changed
LISTING_MOVES = {
    "draft": ("published", "withdrawn"),
    "published": ("paused", "withdrawn"),
    "paused": ("published", "withdrawn"),
    "withdrawn": (),
}
# a coordinator moves a provider; a suspended provider is reinstated by verifying it again.
# action: (from, to, the refusal when the provider is elsewhere)
PROVIDER_MOVES = {
    "verify": (("pending", "suspended"), "verified", "Only a pending or suspended provider can be verified."),
    "suspend": (("pending", "verified"), "suspended", "Only a pending or verified provider can be suspended."),
}


# -- providers -----------------------------------------------------------------------------

def provider_move(current: str, action: str) -> str:
    """The provider's next status (the same when it is there already); IllegalMove when the move does not apply."""
    sources, target, refusal = PROVIDER_MOVES[action]
    if current == target:
        return current
    if current not in sources:
        raise IllegalMove(current, refusal)
    return target


def check_watches(who, community_ids, refusal: str) -> None:
    """Staff act only within the communities they watch over (an admin everywhere): `who` is a
    linli.auth.Principal, whose `watches_any` is the one home of that rule."""
    if not who.watches_any(community_ids):
        raise Forbidden(refusal)


def provider_can_publish(provider: dict) -> bool:
    return provider.get("status") == "verified"


# -- communities ---------------------------------------------------------------------------

def check_boundary(boundary: dict, center: dict) -> None:
    """A GeoJSON polygon whose outer ring is closed, and which holds the community's centre."""
    ring = boundary["coordinates"][0]
    if len(ring) < 4:
        raise RuleBroken("boundary.coordinates", "a ring needs at least four positions")
    for ring_i, r in enumerate(boundary["coordinates"]):
        if r[0] != r[-1]:
            raise RuleBroken(f"boundary.coordinates.{ring_i}", "a ring must end where it starts")
    if not point_in_ring(center["lng"], center["lat"], ring):
        raise RuleBroken("center", "the centre must lie inside the boundary")


def point_in_ring(lng: float, lat: float, ring: list[list[float]]) -> bool:
    """Ray casting on the plane: exact enough for a neighbourhood-sized polygon."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


# -- reservations --------------------------------------------------------------------------

@dataclass(frozen=True)
class Rejection:
    code: str
    reason: str


def check_buildings(buildings: list[dict]) -> list[dict]:
    """A community's buildings, each named once: an address is community + building + room."""
    names = [b["name"] for b in buildings]
    if len(set(names)) != len(names):
        raise RuleBroken("buildings", "each building is named once")
    return buildings
