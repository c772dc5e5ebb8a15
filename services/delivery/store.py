"""Delivery's MongoDB access (database `<namespace>_delivery`).

Every change of a task's state is one conditional update on the state it expects, so two
people (or a person and the dispatcher) racing for the same task cannot both win.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import db as dbmod
from linli import outbox
from linli.web import ensure_idempotency_index

SERVICE = "delivery"


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    ensure_idempotency_index(db)
    db.volunteers.create_index("account_id", unique=True)
    db.volunteers.create_index([("status", ASCENDING), ("on_duty", ASCENDING)])
    dbmod.ensure_geo_index(db.volunteers, "location")
    db.tasks.create_index("order_id", unique=True)
    db.tasks.create_index([("status", ASCENDING)])
    db.tasks.create_index([("volunteer_id", ASCENDING), ("delivered_at", ASCENDING)])
    db.offers.create_index([("volunteer_id", ASCENDING), ("status", ASCENDING)])
    db.offers.create_index([("task_ids", ASCENDING), ("status", ASCENDING)])
    db.offers.create_index([("round", ASCENDING)])
    db.hours.create_index([("month", ASCENDING), ("volunteer_id", ASCENDING)])
    db.ratings.create_index([("volunteer_id", ASCENDING), ("visible_from", ASCENDING)])


def emit(db: Database, session: ClientSession, task_id: str, event_type: str, data: dict) -> None:
    outbox.add(db, session, source="delivery", event_type=event_type, data=data, aggregate=f"task:{task_id}")


# -- reads for the dispatcher ----------------------------------------------------------------

def candidate_tasks(db: Database, pickup_before: datetime, limit: int = 5000) -> list[dict]:
    """Ready tasks, and waiting tasks whose planned pickup is before `pickup_before`, soonest deadline first."""
    query = {"offer": None, "$or": [{"status": "ready"}, {"status": "waiting", "slot_start": {"$lte": pickup_before}}]}
    return list(db.tasks.find(query).sort("slot_end", ASCENDING).limit(limit))


def lapsed_offers(db: Database, now: datetime) -> list[dict]:
    return list(db.tasks.find({"status": "offered", "offer.expires_at": {"$lte": now}}))


def available_volunteers(db: Database, community_ids: list[str], session: ClientSession | None = None) -> list[dict]:
    """Verified, on duty, somewhere, serving one of the communities, with room for one more task."""
    query = {"status": "verified", "on_duty": True, "location": {"$ne": None}, "community_ids": {"$in": community_ids}}
    return [v for v in db.volunteers.find(query, session=session) if v.get("active_tasks", 0) < v["max_tasks"]]


def pending_offer_counts(db: Database, volunteer_ids: list[str], session: ClientSession | None = None) -> dict:
    """Meals each volunteer has on offer now (a batch offer counts each of its meals)."""
    counts: dict[str, int] = {}
    for offer in db.offers.find({"volunteer_id": {"$in": volunteer_ids}, "status": "pending"},
                                {"volunteer_id": 1, "task_ids": 1}, session=session):
        counts[offer["volunteer_id"]] = counts.get(offer["volunteer_id"], 0) + len(offer["task_ids"])
    return counts


def delivered_since(db: Database, volunteer_ids: list[str], since: datetime,
                    session: ClientSession | None = None) -> dict:
    counts: dict[str, int] = {}
    for task in db.tasks.find({"volunteer_id": {"$in": volunteer_ids}, "status": "delivered",
                               "delivered_at": {"$gte": since}}, {"volunteer_id": 1}, session=session):
        counts[task["volunteer_id"]] = counts.get(task["volunteer_id"], 0) + 1
    return counts


def residents_served(db: Database, volunteer_ids: list[str], resident_ids: list[str],
                     session: ClientSession | None = None) -> dict:
    served: dict[str, set] = {}
    for task in db.tasks.find({"volunteer_id": {"$in": volunteer_ids}, "resident_id": {"$in": resident_ids},
                               "status": "delivered"}, {"volunteer_id": 1, "resident_id": 1}, session=session):
        served.setdefault(task["volunteer_id"], set()).add(task["resident_id"])
    return served


# -- the offer ladder's writes ------------------------------------------------------------------

def put_on_offer(db: Database, session: ClientSession, task: dict, offer: dict, ladder: dict) -> bool:
    return db.tasks.update_one({"_id": task["_id"], "status": task["status"], "offer": None},
                               {"$set": {"status": "offered", "offer": offer, "ladder": ladder},
                                "$inc": {"offers_made": len(offer["volunteer_ids"])}},
                               session=session).modified_count == 1


def insert_offers(db: Database, session: ClientSession, offers: list[dict]) -> None:
    db.offers.insert_many(offers, session=session)


def offer(db: Database, offer_id: str, session: ClientSession | None = None) -> dict | None:
    return db.offers.find_one({"_id": offer_id}, session=session)


def close_offer(db: Database, session: ClientSession, offer_id: str, status: str, now: datetime,
                unexpired: bool = False) -> bool:
    """Ends a pending offer; with `unexpired`, only while its timer still runs (an acceptance)."""
    query: dict = {"_id": offer_id, "status": "pending"}
    if unexpired:
        query["expires_at"] = {"$gt": now}
    return db.offers.update_one(query, {"$set": {"status": status, "ended_at": now}},
                                session=session).modified_count == 1


def pending_in_round(db: Database, session: ClientSession, round_id: str) -> list[dict]:
    return list(db.offers.find({"round": round_id, "status": "pending"}, session=session))


def close_round(db: Database, session: ClientSession, round_id: str, status: str, now: datetime) -> None:
    db.offers.update_many({"round": round_id, "status": "pending"}, {"$set": {"status": status, "ended_at": now}},
                          session=session)


def end_round(db: Database, session: ClientSession, task: dict, passed_over: list[str], back_to: str) -> bool:
    """The task's open offers are over: it goes back to `back_to` and remembers who passed it by."""
    return db.tasks.update_one({"_id": task["_id"], "status": "offered", "offer.round": task["offer"]["round"]},
                               {"$set": {"status": back_to, "offer": None},
                                "$addToSet": {"passed_over": {"$each": passed_over}}},
                               session=session).modified_count == 1


def escalate(db: Database, session: ClientSession, task: dict, why: str, now: datetime) -> bool:
    return db.tasks.update_one({"_id": task["_id"], "status": task["status"], "offer": None},
                               {"$set": {"status": "escalated", "escalation": {"reason": why, "at": now}}},
                               session=session).modified_count == 1


def send_out_again(db: Database, session: ClientSession, task: dict, dropoff_fix: dict, now: datetime,
                   remake: bool = False) -> bool:
    """A failed task back on the ladder from its first rung, with no volunteer, the address corrected;
    the failed attempt is kept in `attempts`. With `remake` the meal is to be made again: the task waits for
    it. False when the task is not (or no longer) failed."""
    ready = task.get("meal_ready", False) and not remake
    attempt = {k: task.get(k) for k in ("volunteer_id", "assigned_at", "picked_up_at", "failed_at", "failure",
                                        "welfare")}
    return db.tasks.update_one(
        {"_id": task["_id"], "status": "failed", "failed_at": task["failed_at"]},
        {"$set": {"status": "ready" if ready else "waiting", "meal_ready": ready, "volunteer_id": None, "offer": None,
                  "batch": None, "assigned_by": None, "assigned_at": None, "picked_up_at": None, "failed_at": None,
                  "failure": None, "welfare": None, "escalation": None, "ladder": {"singles": 0, "broadcasts": 0},
                  "sent_out_again_at": now, **{f"dropoff.{k}": v for k, v in dropoff_fix.items()}},
         "$push": {"attempts": attempt}},
        session=session).modified_count == 1


def remember_passed_over(db: Database, session: ClientSession, task_id: str, volunteer_id: str) -> None:
    db.tasks.update_one({"_id": task_id}, {"$addToSet": {"passed_over": volunteer_id}}, session=session)


def withdraw_offers(db: Database, session: ClientSession, task_ids: list[str], now: datetime,
                    except_id: str | None = None) -> None:
    db.offers.update_many({"task_ids": {"$in": task_ids}, "status": "pending", "_id": {"$ne": except_id}},
                          {"$set": {"status": "withdrawn", "ended_at": now}}, session=session)


def insert_task(db: Database, session: ClientSession, task: dict) -> None:
    db.tasks.insert_one(task, session=session)


def mark_meal_ready(db: Database, session: ClientSession, task_id: str, now: datetime) -> None:
    """Remembered even while the task is on offer, so that a lapsed offer puts it back as ready."""
    db.tasks.update_one({"_id": task_id, "meal_ready": {"$ne": True}}, {"$set": {"meal_ready": True, "ready_at": now}},
                        session=session)


# -- tasks held by a volunteer ----------------------------------------------------------------

def move_task(db: Database, session: ClientSession, task_id: str, from_states: tuple[str, ...] | str,
              change: dict, where: dict | None = None) -> bool:
    """One conditional state change: only from the states given, and only while `where` still holds."""
    states = list(from_states) if isinstance(from_states, tuple) else [from_states]
    query: dict = {"_id": task_id, "status": {"$in": states}, **(where or {})}
    return db.tasks.update_one(query, change, session=session).modified_count == 1


def move_tasks(db: Database, session: ClientSession, task_ids: list[str], from_state: str, change: dict,
               where: dict) -> bool:
    """A batch moves together or not at all (the caller's transaction is aborted on False).
    One conditional update per task, so each task's expected state is checked on its own
    (see linli.db.in_transaction for the embedded server's spurious duplicate-key conflicts)."""
    return all(move_task(db, session, task_id, from_state, change, where) for task_id in task_ids)


def change_load(db: Database, session: ClientSession, volunteer_id: str, tasks: int, minutes: int = 0) -> None:
    db.volunteers.update_one({"_id": volunteer_id}, {"$inc": {"active_tasks": tasks, "served_minutes": minutes}},
                             session=session)


# -- served hours ---------------------------------------------------------------------------------

def credit_hours(db: Database, session: ClientSession, entry: dict) -> None:
    db.hours.insert_one(entry, session=session)


def correct_hours(db: Database, session: ClientSession, entry: dict, minutes: int, correction: dict) -> bool:
    """Only from the minutes the coordinator saw: two corrections at once cannot both apply."""
    return db.hours.update_one({"_id": entry["_id"], "minutes": entry["minutes"]},
                               {"$set": {"minutes": minutes}, "$push": {"corrections": correction}},
                               session=session).modified_count == 1


def hours_of_month(db: Database, month: str, volunteer_id: str | None = None) -> list[dict]:
    query = {"month": month, **({"volunteer_id": volunteer_id} if volunteer_id else {})}
    return list(db.hours.find(query).sort([("date", ASCENDING), ("task_id", ASCENDING)]))


def task_of_order(db: Database, order_id: str, session: ClientSession | None = None) -> dict | None:
    return db.tasks.find_one({"order_id": order_id}, session=session)


def task(db: Database, task_id: str, session: ClientSession | None = None) -> dict | None:
    return db.tasks.find_one({"_id": task_id}, session=session)


def volunteer(db: Database, volunteer_id: str, session: ClientSession | None = None) -> dict | None:
    return db.volunteers.find_one({"_id": volunteer_id}, session=session)


# -- volunteers -------------------------------------------------------------------------------

def insert_volunteer(db: Database, doc: dict) -> None:
    db.volunteers.insert_one(doc)


def volunteer_of_account(db: Database, account_id: str) -> dict | None:
    return db.volunteers.find_one({"account_id": account_id})


def update_volunteer(db: Database, volunteer_id: str, change: dict) -> dict:
    db.volunteers.update_one({"_id": volunteer_id}, {"$set": change})
    return volunteer(db, volunteer_id)


def verify_volunteer(db: Database, session: ClientSession, volunteer_id: str, by: str, now: datetime) -> bool:
    return db.volunteers.update_one({"_id": volunteer_id, "status": "pending"},
                                    {"$set": {"status": "verified", "verified_by": by, "verified_at": now}},
                                    session=session).modified_count == 1


def volunteer_names(db: Database, volunteer_ids: list[str]) -> dict[str, str]:
    return {v["_id"]: v["name"] for v in db.volunteers.find({"_id": {"$in": volunteer_ids}}, {"name": 1})}


def tasks_by_id(db: Database, task_ids: list[str]) -> dict[str, dict]:
    return {t["_id"]: t for t in db.tasks.find({"_id": {"$in": task_ids}})}


def hours_entry(db: Database, entry_id: str) -> dict | None:
    return db.hours.find_one({"_id": entry_id})


# -- ratings ------------------------------------------------------------------------------------

def keep_rating(db: Database, session: ClientSession, rating: dict) -> None:
    """Once per review, whichever way it arrives again."""
    db.ratings.update_one({"_id": rating["_id"]}, {"$setOnInsert": rating}, upsert=True, session=session)


def show_order_reviews_from(db: Database, session: ClientSession, order_id: str, visible_from: datetime) -> None:
    """Catalog shows every review of an order once both sides have written: a later review of the same
    order that is visible sooner brings the kept ones forward."""
    db.ratings.update_many({"order_id": order_id, "visible_from": {"$gt": visible_from}},
                           {"$set": {"visible_from": visible_from}}, session=session)


def stars_shown(db: Database, volunteer_id: str, now: datetime) -> list[int]:
    """Reviews are blind until catalog shows them; the average counts only those shown by `now`."""
    return [r["stars"] for r in db.ratings.find({"volunteer_id": volunteer_id, "visible_from": {"$lte": now}},
                                                {"stars": 1})]
