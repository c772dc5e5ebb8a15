"""Search, without I/O: the filters and the sort of a listing search, and the ranking of near-me results.

Only published listings of providers in good standing are found: `provider_active` is kept
on every listing of a provider in the same transaction that verifies or suspends it, so a
suspension hides its listings at once without a join on every search.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import geo, tokens
from .domain import RuleViolation


@dataclass(frozen=True)
class Plan:
    query: dict
    near: dict | None        # a GeoJSON point when the search is near somewhere (candidates by geo cells)
    radius_m: int
    sort: list[tuple[str, int]]


def parse_near(raw: str) -> dict:
    try:
        lng, lat = (float(x) for x in raw.split(","))
    except ValueError:
        raise RuleViolation("near", "give lng,lat, for example 121.5588,31.1765")
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise RuleViolation("near", "longitude is -180 to 180 and latitude -90 to 90")
    return {"type": "Point", "coordinates": [lng, lat]}


def plan(args: dict) -> Plan:
    query: dict = {"status": "published", "provider_active": True}
    if "category" in args:
        query["category"] = args["category"]
    if "community" in args:
        query["community_ids"] = args["community"]
    if "q" in args:
        wanted = tokens.query_tokens(args["q"])
        if not wanted:
            raise RuleViolation("q", "give at least one word or character to look for")
        query["search_tokens"] = {"$all": wanted}
    price = {}
    if "min_price" in args:
        price["$gte"] = args["min_price"]
    if "max_price" in args:
        price["$lte"] = args["max_price"]
    if price.get("$gte", 0) > price.get("$lte", float("inf")):
        raise RuleViolation("max_price", "must not be below min_price")
    if price:
        query["price_fen"] = price
    if "open_on" in args:
        day = args["open_on"]
        query["open_days"] = day.isoweekday()
        query["closed_dates"] = {"$ne": day.isoformat()}
    near = parse_near(args["near"]) if "near" in args else None
    if near is not None:
        query["geo_cells"] = {"$in": geo.covering(near, args["radius_m"], args.get("category"))}
    wanted_sort = args.get("sort") or ("distance" if near else "newest")
    if wanted_sort == "distance" and near is None:
        raise RuleViolation("sort", "sorting by distance needs near=lng,lat")
    # the id last keeps pages stable when the first keys tie
    sort = {
        "newest": [("created_at", -1), ("_id", 1)],
        "distance": [("distance_m", 1), ("_id", 1)],
        "rating": [("rating.average", -1), ("rating.count", -1), ("_id", 1)],
        "price": [("price_fen", 1), ("_id", 1)],
        "price_desc": [("price_fen", -1), ("_id", 1)],
    }[wanted_sort]
    return Plan(query=query, near=near, radius_m=args["radius_m"], sort=sort)


def pipeline(p: Plan, skip: int, limit: int) -> list[dict]:
    """One aggregation giving a page and the total, for searches that are not near somewhere."""
    return [{"$match": p.query}, {"$facet": {
        "total": [{"$count": "n"}],
        "items": [{"$sort": dict(p.sort)}, {"$skip": skip}, {"$limit": limit}],
    }}]


def rank(p: Plan, candidates: list[dict], skip: int, limit: int) -> tuple[list[dict], int]:
    """Near-me results: the candidates within the radius, with their distance, sorted, one page and the total."""
    within = []
    for doc in candidates:
        d = geo.distance_m(p.near, doc["location"]) if doc.get("location") else None
        if d is not None and d <= p.radius_m:
            within.append({**doc, "distance_m": d})
    within.sort(key=lambda doc: tuple(_sort_value(doc, field, direction) for field, direction in p.sort))
    return within[skip:skip + limit], len(within)


def _sort_value(doc: dict, field: str, direction: int) -> tuple:
    """Mongo's order in Python: missing values last when descending, first when ascending."""
    value = doc
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return (1 if direction < 0 else -1, 0)
    if direction > 0:
        return (0, value)
    return (0, -value.timestamp() if hasattr(value, "timestamp") else -value)
