"""Catalog's MongoDB access (database `<namespace>_catalog`)."""
from __future__ import annotations

from datetime import date

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import db as dbmod
from linli import outbox
from linli.web import ensure_idempotency_index

from .domain import CATEGORIES

SERVICE = "catalog"


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    """Indexes and reference data; safe to run from every process at every start."""
    outbox.ensure_indexes(db)
    ensure_idempotency_index(db)
    db.providers.create_index("owner_id", unique=True)
    dbmod.ensure_geo_index(db.providers, "location")
    db.listings.create_index([("status", ASCENDING), ("category", ASCENDING)])
    db.listings.create_index("community_ids")
    for cid, zh, en in CATEGORIES:
        db.categories.update_one({"_id": cid}, {"$setOnInsert": {"name_zh": zh, "name_en": en}}, upsert=True)


def stock_id(listing_id: str, day: date, slot: str) -> str:
    return f"{listing_id}:{day.isoformat()}:{slot}"


def take_portions(db: Database, session: ClientSession, listing_id: str, day: date, slot: str,
                  capacity: int, quantity: int) -> tuple[bool, int]:
    """The conditional decrement that never goes below zero; returns (taken, remaining after)."""
    sid = stock_id(listing_id, day, slot)
    db.slot_stock.update_one(
        {"_id": sid},
        {"$setOnInsert": {"listing_id": listing_id, "date": day.isoformat(), "slot": slot,
                          "capacity": capacity, "remaining": capacity}},
        upsert=True, session=session,
    )
    taken = db.slot_stock.update_one(
        {"_id": sid, "remaining": {"$gte": quantity}},
        {"$inc": {"remaining": -quantity}}, session=session,
    ).modified_count == 1
    remaining = db.slot_stock.find_one({"_id": sid}, {"remaining": 1}, session=session)["remaining"]
    return taken, remaining


def give_back_portions(db: Database, session: ClientSession, listing_id: str, day: date, slot: str,
                       quantity: int) -> None:
    db.slot_stock.update_one({"_id": stock_id(listing_id, day, slot)}, {"$inc": {"remaining": quantity}},
                             session=session)


def remaining_by_slot(db: Database, listing_id: str, day: date) -> dict[str, int]:
    docs = db.slot_stock.find({"listing_id": listing_id, "date": day.isoformat()})
    return {d["slot"]: d["remaining"] for d in docs}
