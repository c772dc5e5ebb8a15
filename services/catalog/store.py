"""Catalog's MongoDB access (database `<namespace>_catalog`)."""
from __future__ import annotations

from datetime import date, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import db as dbmod
from linli import outbox
from linli.web import ensure_idempotency_index

from . import geo, listings, reviews, search
from .domain import CATEGORIES

SERVICE = "catalog"
PLACES_VERSION = 1  # raise it when what a search place holds changes: the next start rebuilds them all


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    """Indexes and reference data; safe to run from every process at every start."""
    outbox.ensure_indexes(db)
    ensure_idempotency_index(db)
    db.providers.create_index("owner_id", unique=True)
    dbmod.ensure_geo_index(db.providers, "location")
    for field in geo.key_fields():  # near-me search (see geo.py for why not 2dsphere, nor cells with $in)
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
    db.listing_versions.create_index([("listing_id", ASCENDING), ("version", ASCENDING)], unique=True)
    db.reviews.create_index("order_id")
    db.reviews.create_index([("subject_id", ASCENDING), ("direction", ASCENDING), ("visible_from", ASCENDING)])
    db.reviews.create_index([("counted", ASCENDING), ("visible_from", ASCENDING)])
    db.provider_orders.create_index("provider_id")
    # seeded once: an admin's later edits of a name stay
    for cid, zh, en in CATEGORIES:
        db.categories.update_one({"_id": cid}, {"$setOnInsert": {"name_zh": zh, "name_en": en}}, upsert=True)
    _backfill_listings(db)
    if db.meta.find_one({"_id": "search_places", "version": PLACES_VERSION}) is None:
        rebuild_places(db)
        db.meta.replace_one({"_id": "search_places"}, {"version": PLACES_VERSION}, upsert=True)


def _backfill_listings(db: Database) -> None:
    """Listings written before search kept its own fields get them, so data kept by `make run` stays findable."""
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


def emit(db: Database, session: ClientSession, event_type: str, data: dict, aggregate: str) -> None:
    outbox.add(db, session, source=SERVICE, event_type=event_type, data=data, aggregate=aggregate)


# -- providers -----------------------------------------------------------------------------

def move_provider(db: Database, provider_id: str, from_status: str, changes: dict, event: tuple[str, dict] | None
                  ) -> bool:
    """Changes a provider's status and, in the same transaction, whether its listings can be found.

    Conditional on the status read, so two coordinators acting at once change it once.
    """
    active = changes["status"] == "verified"

    def work(session: ClientSession) -> bool:
        moved = db.providers.update_one({"_id": provider_id, "status": from_status}, {"$set": changes},
                                        session=session).modified_count == 1
        if not moved:
            return False
        db.listings.update_many({"provider_id": provider_id}, {"$set": {"provider_active": active}}, session=session)
        for doc in db.listings.find({"provider_id": provider_id}, session=session):
            _place(db, session, doc)
        if event is not None:
            emit(db, session, event[0], event[1], f"provider:{provider_id}")
        return True

    return dbmod.in_transaction(db, work)


# -- listings ------------------------------------------------------------------------------

def _version_doc(listing: dict) -> dict:
    return {"_id": f"{listing['_id']}:{listing['version']}", "listing_id": listing["_id"],
            "version": listing["version"], "listing": listing, "created_at": listing["updated_at"]}


def save_listing(db: Database, before: dict | None, after: dict, event_type: str, event_data: dict) -> bool:
    """Writes a listing's new version, keeps a copy of it, and records its event — all or nothing.

    An edit applies only to the version it was made from; False when someone else changed it first.
    """
    def work(session: ClientSession) -> bool:
        if before is None:
            db.listings.insert_one(after, session=session)
        elif db.listings.replace_one({"_id": after["_id"], "version": before["version"]}, after,
                                     session=session).matched_count == 0:
            return False
        db.listing_versions.insert_one(_version_doc(after), session=session)
        _place(db, session, after)
        emit(db, session, event_type, event_data, f"listing:{after['_id']}")
        return True

    return dbmod.in_transaction(db, work)


def listing_version(db: Database, listing_id: str, version: int) -> dict | None:
    return db.listing_versions.find_one({"_id": f"{listing_id}:{version}"})


def search_listings(db: Database, plan: search.Plan, page: int, per_page: int) -> tuple[list[dict], int]:
    skip = (page - 1) * per_page
    if plan.near is not None:
        candidates = [place for query in search.near_queries(plan) for place in db.search_places.find(query)
                      if search.holds_words(plan, place)]
        found, total = search.rank(plan, candidates, skip, per_page)
        by_id = {doc["_id"]: doc for doc in db.listings.find({"_id": {"$in": [place["_id"] for place in found]}})}
        # one changed between the two reads is shown as it now is, or left out if search may no longer find it
        return [{**by_id[place["_id"]], "distance_m": place["distance_m"]} for place in found
                if place["_id"] in by_id and search.searchable(by_id[place["_id"]])], total
    result = next(db.listings.aggregate(search.pipeline(plan, skip, per_page)))
    total = result["total"][0]["n"] if result["total"] else 0
    return result["items"], total


# -- capacity ------------------------------------------------------------------------------

def stock_id(listing_id: str, day: date, slot: str) -> str:
    return f"{listing_id}:{day.isoformat()}:{slot}"


def _sync_capacity(db: Database, session: ClientSession, sid: str, capacity: int) -> dict:
    """Brings a slot's counter in line with the day's capacity, which an exception may have changed.

    `taken` is what confirmed orders hold; `remaining` is capacity minus taken, never below zero.
    Conditional on what was read, and inside the handler's transaction, so no update is lost.
    """
    stock = db.slot_stock.find_one({"_id": sid}, session=session)
    taken = stock.get("taken", stock["capacity"] - stock["remaining"])
    if stock["capacity"] != capacity or "taken" not in stock:
        _set_checked(db, session, {"_id": sid, "capacity": stock["capacity"], "remaining": stock["remaining"]},
                     {"capacity": capacity, "taken": taken, "remaining": max(capacity - taken, 0)})
        stock = db.slot_stock.find_one({"_id": sid}, session=session)
    return stock


def take_portions(db: Database, session: ClientSession, listing_id: str, day: date, slot: str,
                  capacity: int, quantity: int) -> tuple[bool, int]:
    """The conditional decrement that never goes below zero; returns (taken, remaining after)."""
    sid = stock_id(listing_id, day, slot)
    db.slot_stock.update_one(
        {"_id": sid},
        {"$setOnInsert": {"listing_id": listing_id, "date": day.isoformat(), "slot": slot,
                          "capacity": capacity, "remaining": capacity, "taken": 0}},
        upsert=True, session=session,
    )
    _sync_capacity(db, session, sid, capacity)
    taken = db.slot_stock.update_one(
        {"_id": sid, "remaining": {"$gte": quantity}},
        {"$inc": {"remaining": -quantity, "taken": quantity}}, session=session,
    ).modified_count == 1
    remaining = db.slot_stock.find_one({"_id": sid}, {"remaining": 1}, session=session)["remaining"]
    return taken, remaining


def give_back_portions(db: Database, session: ClientSession, listing_id: str, day: date, slot: str,
                       quantity: int) -> None:
    sid = stock_id(listing_id, day, slot)
    stock = db.slot_stock.find_one({"_id": sid}, session=session)
    if stock is None:
        return
    taken = max(stock.get("taken", stock["capacity"] - stock["remaining"]) - quantity, 0)
    _set_checked(db, session, {"_id": sid, "capacity": stock["capacity"], "remaining": stock["remaining"]},
                 {"taken": taken, "remaining": max(stock["capacity"] - taken, 0)})


def _set_checked(db: Database, session: ClientSession, expected: dict, changes: dict) -> None:
    """Sets `changes` only on the counter as it was read; anything else means a lost race, so the
    handler fails and its event is retried rather than a count silently dropped."""
    if db.slot_stock.update_one(expected, {"$set": changes}, session=session).matched_count != 1:
        raise RuntimeError(f"slot counter {expected['_id']} changed while being updated")


def taken_by_slot(db: Database, listing_id: str, days: list[date]) -> dict[tuple[str, str], int]:
    """(date, slot) -> portions held by confirmed orders."""
    docs = db.slot_stock.find({"listing_id": listing_id, "date": {"$in": [d.isoformat() for d in days]}})
    return {(d["date"], d["slot"]): d.get("taken", d["capacity"] - d["remaining"]) for d in docs}



# -- orders' facts and reviews -------------------------------------------------------------

def note_order(db: Database, session: ClientSession, order_id: str, *, set_: dict | None = None,
               earliest: dict | None = None) -> None:
    """Keeps what catalog learns about an order from orders' events, in whatever order they arrive:
    `set_` fields are facts that do not change, `earliest` keeps the first time something happened."""
    update: dict = {"$setOnInsert": {"_id": order_id}}
    if set_:
        update["$set"] = set_
    if earliest:
        update["$min"] = earliest
    db.provider_orders.update_one({"_id": order_id}, update, upsert=True, session=session)


def post_review(db: Database, review: dict, completed_at: datetime, now: datetime, event_data: dict) -> dict:
    """Inserts a review and its event; when it completes the resident/provider pair, the order's reviews show now.

    Raises DuplicateKeyError when this order already has a review in this direction.
    """
    def work(session: ClientSession) -> dict:
        db.reviews.insert_one(review, session=session)
        written = {r["direction"] for r in db.reviews.find({"order_id": review["order_id"]}, {"direction": 1},
                                                            session=session)}
        shown_from = reviews.visible_from(completed_at, written, now)
        db.reviews.update_many({"order_id": review["order_id"]}, {"$min": {"visible_from": shown_from}},
                               session=session)
        emit(db, session, "catalog.review.posted", {**event_data, "visible_from": shown_from.isoformat()},
             f"review:{review['order_id']}")
        return {**review, "visible_from": min(review["visible_from"], shown_from)}

    return dbmod.in_transaction(db, work)


# -- providers' own edits and service areas ------------------------------------------------------

def edit_provider(db: Database, provider: dict, changes: dict) -> bool:
    """A provider's own edit of its profile; a move carries its listings (where search finds them, and the
    communities a radius listing reaches) along. Conditional on the profile read, so an edit made meanwhile
    is not overwritten. Raises RuleViolation, writing nothing, if a radius listing would reach no community."""
    communities = list(db.communities.find({}, {"center": 1})) if "location" in changes else []

    def work(session: ClientSession) -> bool:
        if not db.providers.update_one({"_id": provider["_id"], "updated_at": provider.get("updated_at")},
                                       {"$set": changes}, session=session).modified_count:
            return False
        if "location" in changes:
            for doc in db.listings.find({"provider_id": provider["_id"]}, session=session):
                moved = {**doc, "location": changes["location"]}
                if doc.get("service_radius_m") and doc["status"] != "withdrawn":
                    moved["community_ids"] = listings.radius_area_after_move(doc, changes["location"], communities)
                derived = listings.derived(moved)
                db.listings.update_one({"_id": doc["_id"]}, {"$set": {
                    "location": moved["location"], "community_ids": moved["community_ids"], **derived}},
                    session=session)
                _place(db, session, {**moved, **derived})
        return True

    return dbmod.in_transaction(db, work)


def reach_community(db: Database, community: dict) -> int:
    """A community added or moved joins the radius listings whose radius now reaches its centre, and leaves
    those it has moved out of reach of. Returns how many listings changed."""
    changed = 0
    for doc in db.listings.find({"service_radius_m": {"$gt": 0}, "status": {"$ne": "withdrawn"}},
                                {"location": 1, "service_radius_m": 1, "community_ids": 1}):
        reaches = bool(listings.communities_within(doc["location"], doc["service_radius_m"], [community]))
        if reaches != (community["_id"] in doc["community_ids"]):
            change = {"$addToSet" if reaches else "$pull": {"community_ids": community["_id"]}}
            changed += db.listings.update_one({"_id": doc["_id"]}, change).modified_count
            db.search_places.update_one({"_id": doc["_id"]}, change)
    return changed


def count_revealed(db: Database, now: datetime) -> int:
    """Folds reviews that have become visible into their providers' scores (shown in search and on listings).

    Run after a review is posted and by the worker's timer, since time alone reveals a blind review.
    The score is recomputed from the counted reviews, so running it twice changes nothing.
    """
    due = {"direction": "resident_to_provider", "counted": False, "visible_from": {"$lte": now}}
    providers = {r["subject_id"] for r in db.reviews.find(due, {"subject_id": 1})}
    for provider_id in providers:
        db.reviews.update_many({**due, "subject_id": provider_id}, {"$set": {"counted": True}})
        counted = list(db.reviews.find({"direction": "resident_to_provider", "counted": True,
                                        "subject_id": provider_id}, {"stars": 1}))
        rating = reviews.score(counted)
        db.providers.update_one({"_id": provider_id}, {"$set": {"rating": rating}})
        db.listings.update_many({"provider_id": provider_id}, {"$set": {"rating": rating}})
        db.search_places.update_many({"provider_id": provider_id}, {"$set": {"rating": rating}})
    return len(providers)
