"""Catalog's MongoDB access (database `<namespace>_catalog`): every database call of the service, each
named for its question or its change.

Reads and writes take the unit of work they belong to (`u.db`, `u.session`); a change spanning documents
runs in the transaction of the unit a command or handler was given (linli.unit.Units.run). Nothing here
starts a transaction or reads the clock. `prepare` and `rebuild_places` run at start, outside any unit.
"""
from __future__ import annotations

from datetime import date, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod
from linli.schemas import page_of
from linli.unit import Unit

from .rules import geo, listings, reviews, search
from .rules.domain import CATEGORIES

SERVICE = "catalog"
PLACES_VERSION = 1  # raise it when what a search place holds changes: the next start rebuilds them all


def database() -> Database:
    return dbmod.database(SERVICE)


# -- at start ------------------------------------------------------------------------------

def prepare(db: Database, default_timezone: str) -> None:
    """Indexes and reference data; safe to run from every process at every start."""
    db.providers.create_index("owner_id", unique=True)
    db.providers.create_index("status")
    dbmod.ensure_geo_index(db.providers, "location")
    for field in geo.key_fields():  # near-me search (see rules/geo.py for why not 2dsphere, nor cells with $in)
        db.search_places.create_index(field)
    db.search_places.create_index("provider_id")
    # The embedded server's planner takes the index of the first field of a filter that has one, so
    # search.plan orders its fields from the most selective, and no index leads with status (an earlier
    # one did, and a near-me search read every listing: 1.7 s against 32 ms over 10,000). Drop that one,
    # the cells' one and the grid keys' ones: earlier versions kept them on listings.
    stale = {"status_1_category_1", "geo_cells_1", *(f"{field}_1" for field in geo.key_fields())}
    for name in stale & set(db.listings.index_information()):
        db.listings.drop_index(name)
    db.listings.create_index("community_ids")
    db.listings.create_index("category")
    db.listings.create_index("search_tokens")
    db.listings.create_index("provider_id")
    db.listings.create_index([("price_fen", ASCENDING)])
    db.listings.create_index([("created_at", DESCENDING)])
    db.listings.create_index("proposed_pricing.proposed_at", sparse=True)
    db.listing_versions.create_index([("listing_id", ASCENDING), ("version", ASCENDING)], unique=True)
    db.reviews.create_index("order_id")
    db.reviews.create_index([("subject_id", ASCENDING), ("direction", ASCENDING), ("visible_from", ASCENDING)])
    db.reviews.create_index([("counted", ASCENDING), ("visible_from", ASCENDING)])
    db.provider_orders.create_index("provider_id")
    # seeded once: an admin's later edits of a name stay
    for cid, zh, en in CATEGORIES:
        db.categories.update_one({"_id": cid}, {"$setOnInsert": {"name_zh": zh, "name_en": en}}, upsert=True)
    _backfill_listings(db, default_timezone)
    if db.meta.find_one({"_id": "search_places", "version": PLACES_VERSION}) is None:
        rebuild_places(db)
        db.meta.replace_one({"_id": "search_places"}, {"version": PLACES_VERSION}, upsert=True)


def _backfill_listings(db: Database, default_timezone: str) -> None:
    """Listings written before search kept its own fields get them, so data kept by `make run` stays findable;
    any written before listings kept a time zone get the default one, which they were read in."""
    providers: dict[str, dict] = {}
    for doc in db.listings.find({"search_tokens": {"$exists": False}}):
        if doc["provider_id"] not in providers:
            providers[doc["provider_id"]] = db.providers.find_one({"_id": doc["provider_id"]}) or {}
        provider = providers[doc["provider_id"]]
        located = {"slots": [], **doc, "location": provider.get("location")}
        db.listings.update_one({"_id": doc["_id"], "search_tokens": {"$exists": False}}, {"$set": {
            **listings.derived(located), "location": located["location"],
            "provider_active": provider.get("status") == "verified",
            "rating": provider.get("rating") or {"average": None, "count": 0}}, "$unset": {"geo_cells": ""}})
    db.listings.update_many({"timezone": {"$exists": False}}, {"$set": {"timezone": default_timezone}})


def rebuild_places(db: Database) -> int:
    """Every listing's search place from the listing (after an upgrade that changed what a place holds, or
    that brought them in); idempotent, so processes starting together may each run it."""
    for doc in db.listings.find():
        _place(db, None, doc)
    db.listings.update_many({geo.FIELD: {"$exists": True}}, {"$unset": {geo.FIELD: ""}})  # kept there before
    return db.search_places.count_documents({})


def _place(db: Database, session: ClientSession | None, listing: dict) -> None:
    """The listing's search place as the listing now is: written, or removed while search must not find it."""
    place = search.place_of(listing)
    if place is None:
        db.search_places.delete_one({"_id": listing["_id"]}, session=session)
    else:
        db.search_places.replace_one({"_id": listing["_id"]}, place, upsert=True, session=session)


# -- reference data ------------------------------------------------------------------------

def categories(u: Unit) -> list[dict]:
    return list(u.db.categories.find(session=u.session).sort("_id"))


def category(u: Unit, category_id: str) -> dict | None:
    return u.db.categories.find_one({"_id": category_id}, session=u.session)


def add_category(u: Unit, doc: dict) -> bool:
    """False when a category with that id exists already."""
    return _insert_new(u, "categories", doc)


def rename_category(u: Unit, category_id: str, names: dict) -> dict | None:
    if names:
        u.db.categories.update_one({"_id": category_id}, {"$set": names}, session=u.session)
    return category(u, category_id)


def communities(u: Unit) -> list[dict]:
    return list(u.db.communities.find(session=u.session).sort("_id"))


def community(u: Unit, community_id: str) -> dict | None:
    return u.db.communities.find_one({"_id": community_id}, session=u.session)


def community_centres(u: Unit) -> list[dict]:
    return list(u.db.communities.find({}, {"center": 1}, session=u.session))


def unknown_communities(u: Unit, ids: list[str]) -> list[str]:
    known = {c["_id"] for c in u.db.communities.find({"_id": {"$in": ids}}, {"_id": 1}, session=u.session)}
    return sorted(set(ids) - known)


def add_community(u: Unit, doc: dict) -> bool:
    """False when a community with that id exists already."""
    return _insert_new(u, "communities", doc)


def change_community(u: Unit, community_id: str, changes: dict) -> None:
    u.db.communities.update_one({"_id": community_id}, {"$set": changes}, session=u.session)


def reach_community(u: Unit, community: dict) -> int:
    """A community added or moved joins the radius listings whose radius now reaches its centre, and leaves
    those it has moved out of reach of. Returns how many listings changed."""
    changed = 0
    for doc in u.db.listings.find({"service_radius_m": {"$gt": 0}, "status": {"$ne": "withdrawn"}},
                                  {"location": 1, "service_radius_m": 1, "community_ids": 1}, session=u.session):
        reaches = bool(listings.communities_within(doc["location"], doc["service_radius_m"], [community]))
        if reaches != (community["_id"] in doc["community_ids"]):
            change = {"$addToSet" if reaches else "$pull": {"community_ids": community["_id"]}}
            changed += u.db.listings.update_one({"_id": doc["_id"]}, change, session=u.session).modified_count
            u.db.search_places.update_one({"_id": doc["_id"]}, change, session=u.session)
    return changed


def _insert_new(u: Unit, collection: str, doc: dict) -> bool:
    try:
        u.db[collection].insert_one(doc, session=u.session)
    except DuplicateKeyError:
        return False
    return True


# -- providers -----------------------------------------------------------------------------

def add_provider(u: Unit, doc: dict) -> bool:
    """False when this account has a provider profile already."""
    return _insert_new(u, "providers", doc)


def provider(u: Unit, provider_id: str) -> dict | None:
    return u.db.providers.find_one({"_id": provider_id}, session=u.session)


def provider_of(u: Unit, owner_id: str) -> dict | None:
    """The provider profile an account keeps."""
    return u.db.providers.find_one({"owner_id": owner_id}, session=u.session)


def providers_by_id(u: Unit, ids: list[str]) -> dict[str, dict]:
    return {p["_id"]: p for p in u.db.providers.find({"_id": {"$in": ids}}, session=u.session)}


def providers_in(u: Unit, scope: dict, status: str | None, page: dict) -> tuple[list[dict], dict]:
    """A page of providers within a staff member's scope (a filter on community_ids), oldest first."""
    query = {**scope, **({"status": status} if status else {})}
    return page_of(u.db.providers, query, page, [("created_at", 1), ("_id", 1)])


def listing_serving(u: Unit, provider_id: str, community_ids: list[str]) -> dict | None:
    """A listing of the provider, not withdrawn, that names one of `community_ids` (not by its radius)."""
    return u.db.listings.find_one({"provider_id": provider_id, "status": {"$ne": "withdrawn"},
                                   "service_radius_m": {"$in": [None, 0]},
                                   "community_ids": {"$in": sorted(community_ids)}},
                                  {"title": 1, "community_ids": 1}, session=u.session)


def edit_provider(u: Unit, provider: dict, changes: dict, centres: list[dict]) -> bool:
    """A provider's own edit of its profile; a move carries its listings (where search finds them, and the
    communities a radius listing reaches, among `centres`) along. Conditional on the profile read, so an edit
    made meanwhile is not overwritten. Raises RuleBroken if a radius listing would reach no community; the
    unit's transaction then writes nothing."""
    if not u.db.providers.update_one({"_id": provider["_id"], "updated_at": provider.get("updated_at")},
                                     {"$set": changes}, session=u.session).modified_count:
        return False
    if "location" in changes:
        for doc in u.db.listings.find({"provider_id": provider["_id"]}, session=u.session):
            moved = {**doc, "location": changes["location"]}
            if doc.get("service_radius_m") and doc["status"] != "withdrawn":
                moved["community_ids"] = listings.radius_area_after_move(doc, changes["location"], centres)
            derived = listings.derived(moved)
            u.db.listings.update_one({"_id": doc["_id"]}, {"$set": {
                "location": moved["location"], "community_ids": moved["community_ids"], **derived}},
                session=u.session)
            _place(u.db, u.session, {**moved, **derived})
    return True


def move_provider(u: Unit, provider_id: str, from_status: str, changes: dict) -> bool:
    """Changes a provider's status and whether its listings can be found, in the unit's transaction.

    Conditional on the status read, so two coordinators acting at once change it once.
    """
    if u.db.providers.update_one({"_id": provider_id, "status": from_status}, {"$set": changes},
                                 session=u.session).modified_count != 1:
        return False
    active = changes["status"] == "verified"
    u.db.listings.update_many({"provider_id": provider_id}, {"$set": {"provider_active": active}}, session=u.session)
    for doc in u.db.listings.find({"provider_id": provider_id}, session=u.session):
        _place(u.db, u.session, doc)
    return True


# -- listings ------------------------------------------------------------------------------

def listing(u: Unit, listing_id: str) -> dict | None:
    return u.db.listings.find_one({"_id": listing_id}, session=u.session)


def save_listing(u: Unit, before: dict | None, after: dict) -> bool:
    """Writes a listing's new version, keeps a copy of it, and writes its search place.

    An edit applies only to the version it was made from; False when someone else changed it first.
    """
    if before is None:
        u.db.listings.insert_one(after, session=u.session)
    elif u.db.listings.replace_one({"_id": after["_id"], "version": before["version"]}, after,
                                   session=u.session).matched_count == 0:
        return False
    u.db.listing_versions.insert_one({"_id": f"{after['_id']}:{after['version']}", "listing_id": after["_id"],
                                      "version": after["version"], "listing": after,
                                      "created_at": after["updated_at"]}, session=u.session)
    _place(u.db, u.session, after)
    return True


def listing_version(u: Unit, listing_id: str, version: int) -> dict | None:
    return u.db.listing_versions.find_one({"_id": f"{listing_id}:{version}"}, session=u.session)


def listings_of(u: Unit, provider_id: str, page: dict) -> tuple[list[dict], dict]:
    """A page of one provider's own listings, drafts and paused ones too (withdrawn ones last), newest first."""
    return page_of(u.db.listings, {"provider_id": provider_id}, page, [("created_at", -1), ("_id", 1)])


def listings_awaiting_approval(u: Unit, scope: dict, page: dict) -> tuple[list[dict], dict]:
    """A page of listings whose price tiers wait for the committee, within a staff member's scope."""
    query = {**scope, "proposed_pricing.proposed_at": {"$exists": True}, "status": {"$ne": "withdrawn"}}
    return page_of(u.db.listings, query, page, [("proposed_pricing.proposed_at", 1), ("_id", 1)])


def search_listings(u: Unit, plan: search.Plan, page: int, per_page: int) -> tuple[list[dict], int]:
    skip = (page - 1) * per_page
    if plan.near is not None:
        candidates = [place for query in search.near_queries(plan) for place in u.db.search_places.find(query)
                      if search.holds_words(plan, place)]
        found, total = search.rank(plan, candidates, skip, per_page)
        by_id = {doc["_id"]: doc for doc in u.db.listings.find({"_id": {"$in": [place["_id"] for place in found]}})}
        # one changed between the two reads is shown as it now is, or left out if search may no longer find it
        return [{**by_id[place["_id"]], "distance_m": place["distance_m"]} for place in found
                if place["_id"] in by_id and search.searchable(by_id[place["_id"]])], total
    result = next(u.db.listings.aggregate(search.pipeline(plan, skip, per_page)))
    total = result["total"][0]["n"] if result["total"] else 0
    return result["items"], total


# -- capacity and reservations -------------------------------------------------------------

def stock_id(listing_id: str, day: date, slot: str) -> str:
    return f"{listing_id}:{day.isoformat()}:{slot}"


def _sync_capacity(u: Unit, sid: str, capacity: int) -> dict:
    """Brings a slot's counter in line with the day's capacity, which an exception may have changed.

    `taken` is what confirmed orders hold; `remaining` is capacity minus taken, never below zero.
    Conditional on what was read, and inside the handler's transaction, so no update is lost.
    """
    stock = u.db.slot_stock.find_one({"_id": sid}, session=u.session)
    taken = stock.get("taken", stock["capacity"] - stock["remaining"])
    if stock["capacity"] != capacity or "taken" not in stock:
        _set_checked(u, {"_id": sid, "capacity": stock["capacity"], "remaining": stock["remaining"]},
                     {"capacity": capacity, "taken": taken, "remaining": max(capacity - taken, 0)})
        stock = u.db.slot_stock.find_one({"_id": sid}, session=u.session)
    return stock


def take_portions(u: Unit, listing_id: str, day: date, slot: str, capacity: int, quantity: int) -> tuple[bool, int]:
    """The conditional decrement that never goes below zero; returns (taken, remaining after)."""
    sid = stock_id(listing_id, day, slot)
    u.db.slot_stock.update_one(
        {"_id": sid},
        {"$setOnInsert": {"listing_id": listing_id, "date": day.isoformat(), "slot": slot,
                          "capacity": capacity, "remaining": capacity, "taken": 0}},
        upsert=True, session=u.session,
    )
    _sync_capacity(u, sid, capacity)
    taken = u.db.slot_stock.update_one(
        {"_id": sid, "remaining": {"$gte": quantity}},
        {"$inc": {"remaining": -quantity, "taken": quantity}}, session=u.session,
    ).modified_count == 1
    remaining = u.db.slot_stock.find_one({"_id": sid}, {"remaining": 1}, session=u.session)["remaining"]
    return taken, remaining


def give_back_portions(u: Unit, listing_id: str, day: date, slot: str, quantity: int) -> None:
    sid = stock_id(listing_id, day, slot)
    stock = u.db.slot_stock.find_one({"_id": sid}, session=u.session)
    if stock is None:
        return
    taken = max(stock.get("taken", stock["capacity"] - stock["remaining"]) - quantity, 0)
    _set_checked(u, {"_id": sid, "capacity": stock["capacity"], "remaining": stock["remaining"]},
                 {"taken": taken, "remaining": max(stock["capacity"] - taken, 0)})


def _set_checked(u: Unit, expected: dict, changes: dict) -> None:
    """Sets `changes` only on the counter as it was read; anything else means a lost race, so the
    handler fails and its event is retried rather than a count silently dropped."""
    if u.db.slot_stock.update_one(expected, {"$set": changes}, session=u.session).matched_count != 1:
        raise RuntimeError(f"slot counter {expected['_id']} changed while being updated")


def taken_by_slot(u: Unit, listing_id: str, days: list[date]) -> dict[tuple[str, str], int]:
    """(date, slot) -> portions held by confirmed orders."""
    docs = u.db.slot_stock.find({"listing_id": listing_id, "date": {"$in": [d.isoformat() for d in days]}},
                                session=u.session)
    return {(d["date"], d["slot"]): d.get("taken", d["capacity"] - d["remaining"]) for d in docs}


def reservation(u: Unit, order_id: str) -> dict | None:
    return u.db.reservations.find_one({"_id": order_id}, session=u.session)


def record_reservation(u: Unit, record: dict) -> None:
    u.db.reservations.insert_one(record, session=u.session)


def release_reservation(u: Unit, order_id: str) -> dict | None:
    """Marks a confirmed reservation released; the reservation, or None when none was held."""
    if not u.db.reservations.update_one({"_id": order_id, "status": "confirmed"},
                                        {"$set": {"status": "released", "released_at": u.now}},
                                        session=u.session).modified_count:
        return None
    return reservation(u, order_id)


def mark_cancelled_before_reserved(u: Unit, order_id: str) -> None:
    """An order cancelled before its placement arrived never holds a portion when it does."""
    u.db.reservations.update_one({"_id": order_id}, {"$setOnInsert": {"status": "cancelled_before_reserved",
                                                                      "created_at": u.now}},
                                 upsert=True, session=u.session)


# -- orders' facts and reviews -------------------------------------------------------------

def note_order(u: Unit, order_id: str, *, set_: dict | None = None, earliest: dict | None = None) -> None:
    """Keeps what catalog learns about an order from orders' events, in whatever order they arrive:
    `set_` fields are facts that do not change, `earliest` keeps the first time something happened."""
    update: dict = {"$setOnInsert": {"_id": order_id}}
    if set_:
        update["$set"] = set_
    if earliest:
        update["$min"] = earliest
    u.db.provider_orders.update_one({"_id": order_id}, update, upsert=True, session=u.session)


def order_facts(u: Unit, order_id: str) -> dict | None:
    return u.db.provider_orders.find_one({"_id": order_id}, session=u.session)


def add_review(u: Unit, review: dict, completed_at: datetime) -> datetime | None:
    """Inserts a review; when it completes the resident/provider pair, the order's reviews show now.
    Returns when the order's reviews show, or None when this order has a review in this direction already."""
    if not _insert_new(u, "reviews", review):
        return None
    written = {r["direction"] for r in u.db.reviews.find({"order_id": review["order_id"]}, {"direction": 1},
                                                          session=u.session)}
    shown_from = reviews.visible_from(completed_at, written, u.now)
    u.db.reviews.update_many({"order_id": review["order_id"]}, {"$min": {"visible_from": shown_from}},
                             session=u.session)
    return shown_from


def review(u: Unit, review_id: str) -> dict | None:
    return u.db.reviews.find_one({"_id": review_id}, session=u.session)


def reply_once(u: Unit, review_id: str, reply: dict) -> bool:
    """False when the review has a reply already."""
    return u.db.reviews.update_one({"_id": review_id, "reply": None}, {"$set": {"reply": reply}},
                                   session=u.session).modified_count == 1


def _shown_about(provider_id: str, now: datetime) -> dict:
    return {"subject_id": provider_id, "direction": "resident_to_provider", "visible_from": {"$lte": now}}


def shown_reviews_page(u: Unit, provider_id: str, page: dict) -> tuple[list[dict], dict]:
    """Residents' reviews of a provider that are no longer blind, newest first."""
    return page_of(u.db.reviews, _shown_about(provider_id, u.now), page, [("created_at", -1), ("_id", 1)])


def shown_stars(u: Unit, provider_id: str) -> list[dict]:
    return list(u.db.reviews.find(_shown_about(provider_id, u.now), {"stars": 1, "created_at": 1},
                                  session=u.session))


def orders_of(u: Unit, provider_id: str) -> list[dict]:
    return list(u.db.provider_orders.find({"provider_id": provider_id}, session=u.session))


def count_revealed(u: Unit) -> int:
    """Folds reviews that have become visible by `u.now` into their providers' scores (shown in search and
    on listings). The score is recomputed from the counted reviews, so running it twice changes nothing."""
    due = {"direction": "resident_to_provider", "counted": False, "visible_from": {"$lte": u.now}}
    providers = {r["subject_id"] for r in u.db.reviews.find(due, {"subject_id": 1}, session=u.session)}
    for provider_id in providers:
        u.db.reviews.update_many({**due, "subject_id": provider_id}, {"$set": {"counted": True}}, session=u.session)
        counted = list(u.db.reviews.find({"direction": "resident_to_provider", "counted": True,
                                          "subject_id": provider_id}, {"stars": 1}, session=u.session))
        rating = reviews.score(counted)
        u.db.providers.update_one({"_id": provider_id}, {"$set": {"rating": rating}}, session=u.session)
        u.db.listings.update_many({"provider_id": provider_id}, {"$set": {"rating": rating}}, session=u.session)
        u.db.search_places.update_many({"provider_id": provider_id}, {"$set": {"rating": rating}},
                                       session=u.session)
    return len(providers)
