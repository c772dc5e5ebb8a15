"""Search, without I/O: the filters and the sort of a listing search, what near-me search keeps of a listing
(its place), and the ranking of near-me results.

Only published listings of providers in good standing are found: `provider_active` is kept
on every listing of a provider in the same transaction that verifies or suspends it, so a
suspension hides its listings at once without a join on every search. Near-me search reads
small places instead of listings, since the embedded server spends its time per candidate
decoding whole documents (at the store over 100,000 listings: p50 31 -> 26 ms, p99 53 -> 43 ms).
A listing has a place exactly while search may find it, written in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from linli.domain_errors import RuleBroken
from linli.geo import distance_m

from . import geo, tokens


SEARCHABLE = {"status": "published", "provider_active": True}
# what near-me search filters, ranks and sorts by, besides the grid keys
PLACE_FIELDS = ("location", "service_radius_m", "community_ids", "price_fen", "open_days", "closed_dates",
                "search_tokens", "rating", "created_at", "provider_id")


def searchable(listing: dict) -> bool:
    return all(listing.get(field) == value for field, value in SEARCHABLE.items())


def place_of(listing: dict) -> dict | None:
    """The place near-me search finds a listing by, or None while search must not find it."""
    if not searchable(listing) or not listing.get("location"):
        return None
    return {"_id": listing["_id"], geo.FIELD: geo.keys_of(listing["location"], listing["category"]),
            **{field: listing.get(field) for field in PLACE_FIELDS}}


@dataclass(frozen=True)
class Plan:
    query: dict
    near: dict | None        # a GeoJSON point when the search is near somewhere (candidates by grid keys)
    radius_m: int
    sort: list[tuple[str, int]]
    ranges: tuple = ()       # near: (field, lowest, highest) grid keys holding the circle, see geo.covering
    words: tuple = ()        # the tokens of q, every one of which a listing found must hold


def parse_near(raw: str) -> dict:
    try:
        lng, lat = (float(x) for x in raw.split(","))
    except ValueError:
        raise RuleBroken("near", "give lng,lat, for example 121.5588,31.1765")
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise RuleBroken("near", "longitude is -180 to 180 and latitude -90 to 90")
    return {"type": "Point", "coordinates": [lng, lat]}


def plan(args: dict) -> Plan:
    # The most selective indexed field first: the embedded server uses the index of the first field that
    # has one (a community: 30 ms; a category first: 1 s; status first, which has none: every listing).
    query: dict = {}
    if "community" in args:
        query["community_ids"] = args["community"]
    wanted: list[str] = []
    if "q" in args:
        wanted = tokens.query_tokens(args["q"])
        if not wanted:
            raise RuleBroken("q", "give at least one word or character to look for")
        # Equality on one token lets the embedded server use the index, which it never does for `$all`
        # (a town-wide q over 100,000 listings: 1.8 s against 8.3 s). MongoDB uses the index either way.
        query["search_tokens"] = wanted[0]
        if len(wanted) > 1:
            query["$and"] = [{"search_tokens": {"$all": wanted[1:]}}]
    price = {}
    if "min_price" in args:
        price["$gte"] = args["min_price"]
    if "max_price" in args:
        price["$lte"] = args["max_price"]
    if price.get("$gte", 0) > price.get("$lte", float("inf")):
        raise RuleBroken("max_price", "must not be below min_price")
    if "category" in args:
        query["category"] = args["category"]
    if price:
        query["price_fen"] = price
    if "open_on" in args:
        day = args["open_on"]
        query["open_days"] = day.isoweekday()
        query["closed_dates"] = {"$ne": day.isoformat()}
    query.update(SEARCHABLE)
    near = parse_near(args["near"]) if "near" in args else None
    ranges = tuple(geo.covering(near, args["radius_m"], args.get("category"))) if near is not None else ()
    wanted_sort = args.get("sort") or ("distance" if near else "newest")
    if wanted_sort == "distance" and near is None:
        raise RuleBroken("sort", "sorting by distance needs near=lng,lat")
    # the id last keeps pages stable when the first keys tie
    sort = {
        "newest": [("created_at", -1), ("_id", 1)],
        "distance": [("distance_m", 1), ("_id", 1)],
        "rating": [("rating.average", -1), ("rating.count", -1), ("_id", 1)],
        "price": [("price_fen", 1), ("_id", 1)],
        "price_desc": [("price_fen", -1), ("_id", 1)],
    }[wanted_sort]
    return Plan(query=query, near=near, radius_m=args["radius_m"], sort=sort, ranges=ranges, words=tuple(wanted))


def near_queries(p: Plan) -> list[dict]:
    """The finds of places that bring a near search's candidates, one per grid key range (never one `$or`:
    the embedded server reads every document for it). The key comes first, since that server uses the index
    of the first field that has one. Left out: SEARCHABLE, which every place meets; the category, which a
    category search's keys carry; and the words of q, which `holds_words` checks on the candidates, since
    the server is slow at looking through each candidate's tokens (q=维修 near me, 100,000 listings:
    p50 38 ms, against 29 ms checked here)."""
    left_out = {*SEARCHABLE, "category", "search_tokens", "$and"}  # `$and` holds only the words' `$all`
    rest = {field: value for field, value in p.query.items() if field not in left_out}
    return [{field: {"$gte": lowest, "$lte": highest}, **rest} for field, lowest, highest in p.ranges]


def holds_words(p: Plan, place: dict) -> bool:
    return set(p.words) <= set(place.get("search_tokens") or ())


def pipeline(p: Plan, skip: int, limit: int) -> list[dict]:
    """One aggregation giving a page and the total, for searches that are not near somewhere."""
    return [{"$match": p.query}, {"$facet": {
        "total": [{"$count": "n"}],
        "items": [{"$sort": dict(p.sort)}, {"$skip": skip}, {"$limit": limit}],
    }}]


def rank(p: Plan, candidates: list[dict], skip: int, limit: int) -> tuple[list[dict], int]:
    """Near-me results: the candidates within the radius, with their distance, sorted, one page and the total.
    A listing that serves only a radius around its provider is left out where it would not come."""
    within = []
    for doc in candidates:
        d = distance_m(*p.near["coordinates"], *doc["location"]["coordinates"]) if doc.get("location") else None
        if d is not None and d <= p.radius_m and d <= (doc.get("service_radius_m") or d):
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
