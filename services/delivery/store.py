"""Delivery's MongoDB access (database `<namespace>_delivery`)."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import db as dbmod
from linli import outbox
from linli.schemas import point_to_geojson
from linli.web import ensure_idempotency_index

SERVICE = "delivery"


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    ensure_idempotency_index(db)
    db.volunteers.create_index("account_id", unique=True)
    dbmod.ensure_geo_index(db.volunteers, "location")
    db.tasks.create_index("order_id", unique=True)
    db.tasks.create_index([("status", ASCENDING)])
    db.tasks.create_index([("volunteer_id", ASCENDING)])
    db.offers.create_index([("volunteer_id", ASCENDING), ("status", ASCENDING)])
    db.hours.create_index([("volunteer_id", ASCENDING), ("date", ASCENDING)])


def emit(db: Database, session: ClientSession, task_id: str, event_type: str, data: dict) -> None:
    outbox.add(db, session, source="delivery", event_type=event_type, data=data, aggregate=f"task:{task_id}")


def nearest_volunteer(db: Database, session: ClientSession, task: dict) -> dict | None:
    """The nearest verified, on-duty volunteer serving the drop-off community who has room and has not refused."""
    pipeline = [
        {"$geoNear": {
            "near": point_to_geojson(task["pickup"]["location"]), "distanceField": "distance_m", "spherical": True,
            "query": {"status": "verified", "on_duty": True,
                      "community_ids": task["dropoff"]["community_id"],
                      "_id": {"$nin": task.get("passed_over", [])}},
        }},
        {"$match": {"$expr": {"$lt": ["$active_tasks", "$max_tasks"]}}},
        {"$limit": 1},
    ]
    found = list(db.volunteers.aggregate(pipeline, session=session))
    return found[0] if found else None
