"""The dispatcher: offers each ready task to the nearest eligible volunteer, one at a time,
with a timer; a refusal or a timeout passes it to the next. (Optimal assignment, batching
and the full offer ladder come with the delivery issue.)"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import logs
from linli.config import settings
from linli.db import in_transaction
from linli.ids import iso, new_id, utcnow

from . import store

log = logging.getLogger("delivery.dispatch")


def offer_next(db: Database, session: ClientSession, task: dict, now: datetime) -> dict | None:
    """Offers a ready task to the nearest eligible volunteer; None when nobody is available now."""
    volunteer = store.nearest_volunteer(db, session, task)
    if volunteer is None:
        return None
    expires_at = now + timedelta(seconds=settings().offer_timeout_seconds)
    offer = {"_id": new_id("off"), "task_id": task["_id"], "order_id": task["order_id"],
             "volunteer_id": volunteer["_id"], "status": "pending", "expires_at": expires_at,
             "distance_m": round(volunteer["distance_m"], 1), "created_at": now,
             "why": {"rule": "nearest eligible volunteer to the pickup", "distance_m": round(volunteer["distance_m"], 1)}}
    moved = db.tasks.update_one(
        {"_id": task["_id"], "status": "ready"},
        {"$set": {"status": "offered", "offer": {"id": offer["_id"], "volunteer_id": volunteer["_id"],
                                                 "expires_at": expires_at}},
         "$inc": {"offers_made": 1}}, session=session).modified_count
    if not moved:
        return None
    db.offers.insert_one(offer, session=session)
    store.emit(db, session, task["_id"], "delivery.task.offered", {
        "task_id": task["_id"], "order_id": task["order_id"], "offer_id": offer["_id"],
        "volunteer_id": volunteer["_id"], "expires_at": iso(expires_at), "distance_m": offer["distance_m"]})
    return offer


def pass_over(db: Database, session: ClientSession, task_id: str, offer_id: str, why: str, now: datetime) -> bool:
    """Ends a pending offer (declined or timed out) and puts the task back to ready for the next volunteer."""
    offer = db.offers.find_one({"_id": offer_id}, session=session)
    if offer is None or db.offers.update_one({"_id": offer_id, "status": "pending"},
                                             {"$set": {"status": why, "ended_at": now}},
                                             session=session).modified_count == 0:
        return False
    db.tasks.update_one({"_id": task_id, "status": "offered", "offer.id": offer_id},
                        {"$set": {"status": "ready", "offer": None},
                         "$addToSet": {"passed_over": offer["volunteer_id"]}}, session=session)
    return True


def dispatch_round(db: Database) -> int:
    """Expires overdue offers, then offers every ready task it can; returns offers made."""
    now = utcnow()
    for task in db.tasks.find({"status": "offered", "offer.expires_at": {"$lte": now}}):
        in_transaction(db, lambda s, t=task: pass_over(db, s, t["_id"], t["offer"]["id"], "expired", now))
    made = 0
    for task in db.tasks.find({"status": "ready"}).sort("slot_end", 1).limit(200):
        if in_transaction(db, lambda s, t=task: offer_next(db, s, t, now)) is not None:
            made += 1
    if made:
        logs.log(log, logging.INFO, "offers made", count=made)
    return made
