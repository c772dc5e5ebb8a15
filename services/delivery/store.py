"""Delivery's MongoDB access (database `<namespace>_delivery`): every database call of the service.

Every change of a task's state is one conditional update on the states its move starts from
(`move_task`, the from-states read from rules.domain.MOVES), so two people (or a person and the
dispatcher) racing for the same task cannot both win. Functions take the unit of work they run in
(`u.db`, `u.session`); reads outside a transaction take a unit from `Units.read()`.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod
from linli import outbox
from linli.schemas import page_of
from linli.unit import Unit

from .rules import domain

SERVICE = "delivery"


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    db.volunteers.create_index("account_id", unique=True)
    db.volunteers.create_index([("status", ASCENDING), ("on_duty", ASCENDING)])
    db.volunteers.create_index([("community_ids", ASCENDING)])
    dbmod.ensure_geo_index(db.volunteers, "location")
    db.tasks.create_index("order_id", unique=True)
    db.tasks.create_index([("status", ASCENDING)])
    db.tasks.create_index([("dropoff.community_id", ASCENDING), ("status", ASCENDING)])
    db.tasks.create_index([("volunteer_id", ASCENDING), ("delivered_at", ASCENDING)])
    db.offers.create_index([("volunteer_id", ASCENDING), ("status", ASCENDING)])
    db.offers.create_index([("task_ids", ASCENDING), ("status", ASCENDING)])
    db.offers.create_index([("round", ASCENDING)])
    db.hours.create_index([("month", ASCENDING), ("volunteer_id", ASCENDING)])
    db.ratings.create_index([("volunteer_id", ASCENDING), ("visible_from", ASCENDING)])


# -- reads for the dispatcher ----------------------------------------------------------------

def candidate_tasks(u: Unit, pickup_before: datetime, limit: int = 5000) -> list[dict]:
    """Ready tasks, and waiting tasks whose planned pickup is before `pickup_before`, soonest deadline first."""
    query = {"offer": None, "$or": [{"status": "ready"}, {"status": "waiting", "slot_start": {"$lte": pickup_before}}]}
    return list(u.db.tasks.find(query, session=u.session).sort("slot_end", ASCENDING).limit(limit))


def lapsed_offers(u: Unit) -> list[dict]:
    return list(u.db.tasks.find({"status": "offered", "offer.expires_at": {"$lte": u.now}}, session=u.session))


def available_volunteers(u: Unit, community_ids: list[str]) -> list[dict]:
    """Verified, on duty, somewhere, serving one of the communities, with room for one more task."""
    query = {"status": "verified", "on_duty": True, "location": {"$ne": None}, "community_ids": {"$in": community_ids}}
    return [v for v in u.db.volunteers.find(query, session=u.session) if v.get("active_tasks", 0) < v["max_tasks"]]


def pending_offer_counts(u: Unit, volunteer_ids: list[str]) -> dict:
    """Meals each volunteer has on offer now (a batch offer counts each of its meals)."""
    counts: dict[str, int] = {}
    for offer in u.db.offers.find({"volunteer_id": {"$in": volunteer_ids}, "status": "pending"},
                                  {"volunteer_id": 1, "task_ids": 1}, session=u.session):
        counts[offer["volunteer_id"]] = counts.get(offer["volunteer_id"], 0) + len(offer["task_ids"])
    return counts


def delivered_since(u: Unit, volunteer_ids: list[str], since: datetime) -> dict:
    counts: dict[str, int] = {}
    for task in u.db.tasks.find({"volunteer_id": {"$in": volunteer_ids}, "status": "delivered",
                                 "delivered_at": {"$gte": since}}, {"volunteer_id": 1}, session=u.session):
        counts[task["volunteer_id"]] = counts.get(task["volunteer_id"], 0) + 1
    return counts


def residents_served(u: Unit, volunteer_ids: list[str], resident_ids: list[str]) -> dict:
    served: dict[str, set] = {}
    for task in u.db.tasks.find({"volunteer_id": {"$in": volunteer_ids}, "resident_id": {"$in": resident_ids},
                                 "status": "delivered"}, {"volunteer_id": 1, "resident_id": 1}, session=u.session):
        served.setdefault(task["volunteer_id"], set()).add(task["resident_id"])
    return served


# -- task moves: the from-states come from the table ----------------------------------------------

def move_task(u: Unit, task_id: str, action: str, change: dict | None = None, where: dict | None = None,
              only_from: str | None = None) -> bool:
    """One conditional state change by the move `action`: only from its from-states (or, with `only_from`,
    from that one of them), and only while `where` still holds. Sets the move's target state."""
    move = domain.move_of(action)
    states = [only_from] if only_from in move.sources else list(move.sources)
    if only_from is not None and only_from not in move.sources:
        return False
    change = {**(change or {})}
    change["$set"] = {**change.get("$set", {}), "status": move.target}
    query: dict = {"_id": task_id, "status": {"$in": states}, **(where or {})}
    return u.db.tasks.update_one(query, change, session=u.session).modified_count == 1


def move_tasks(u: Unit, task_ids: list[str], action: str, change: dict, where: dict) -> bool:
    """A batch moves together or not at all (the caller's transaction is aborted on False).
    One conditional update per task, so each task's expected state is checked on its own
    (see linli.db.in_transaction for the embedded server's spurious duplicate-key conflicts)."""
    return all(move_task(u, task_id, action, change, where) for task_id in task_ids)


def put_on_offer(u: Unit, task: dict, offer: dict, ladder: dict) -> bool:
    return move_task(u, task["_id"], "offer", {"$set": {"offer": offer, "ladder": ladder},
                                               "$inc": {"offers_made": len(offer["volunteer_ids"])}},
                     where={"offer": None}, only_from=task["status"])


def end_round(u: Unit, task: dict, passed_over: list[str]) -> bool:
    """The task's open offers are over: back on the ladder (ready when its meal is), remembering who passed."""
    return move_task(u, task["_id"], domain.back_on_ladder(bool(task.get("meal_ready"))),
                     {"$set": {"offer": None}, "$addToSet": {"passed_over": {"$each": passed_over}}},
                     where={"offer.round": task["offer"]["round"]})


def escalate(u: Unit, task: dict, why: str) -> bool:
    return move_task(u, task["_id"], "escalate", {"$set": {"escalation": {"reason": why, "at": u.now}}},
                     where={"offer": None}, only_from=task["status"])


def send_out_again(u: Unit, task: dict, dropoff_fix: dict, remake: bool = False) -> bool:
    """A failed task back on the ladder from its first rung, with no volunteer, the address corrected;
    the failed attempt is kept in `attempts`. With `remake` the meal is to be made again: the task waits for
    it. False when the task is not (or no longer) failed."""
    ready = task.get("meal_ready", False) and not remake
    attempt = {k: task.get(k) for k in ("volunteer_id", "assigned_at", "picked_up_at", "failed_at", "failure",
                                        "welfare")}
    return move_task(
        u, task["_id"], "send_out_again_meal_ready" if ready else "send_out_again",
        {"$set": {"meal_ready": ready, "volunteer_id": None, "offer": None,
                  "batch": None, "assigned_by": None, "assigned_at": None, "picked_up_at": None, "failed_at": None,
                  "failure": None, "welfare": None, "escalation": None, "ladder": {"singles": 0, "broadcasts": 0},
                  "code_attempts": {}, "code_lock": None,
                  "sent_out_again_at": u.now, **{f"dropoff.{k}": v for k, v in dropoff_fix.items()}},
         "$push": {"attempts": attempt}},
        where={"failed_at": task["failed_at"]})


def cancel_task(u: Unit, task: dict) -> bool:
    return move_task(u, task["_id"], "cancel", {"$set": {"cancelled_at": u.now, "offer": None}},
                     only_from=task["status"])


def mark_meal_ready(u: Unit, task_id: str) -> None:
    """Remembered even while the task is on offer, so that a lapsed offer puts it back as ready."""
    u.db.tasks.update_one({"_id": task_id, "meal_ready": {"$ne": True}},
                          {"$set": {"meal_ready": True, "ready_at": u.now}}, session=u.session)


def remember_passed_over(u: Unit, task_id: str, volunteer_id: str) -> None:
    u.db.tasks.update_one({"_id": task_id}, {"$addToSet": {"passed_over": volunteer_id}}, session=u.session)


def insert_task(u: Unit, task: dict) -> None:
    u.db.tasks.insert_one(task, session=u.session)


# -- codes tried at the kitchen and at the door -------------------------------------------------

def count_wrong_code(u: Unit, task: dict, kind: str) -> int:
    """One more wrong `kind` code on the task, while its code entry is not locked; the count after it.
    Every try writes the task document in its transaction (a wrong one here, a right one by its move),
    so concurrent tries on one task conflict and are retried one after another: none is uncounted."""
    after = u.db.tasks.find_one_and_update(
        {"_id": task["_id"], "code_lock": None}, {"$inc": {f"code_attempts.{kind}": 1}},
        projection={"code_attempts": 1}, return_document=True, session=u.session)
    return (after or {}).get("code_attempts", {}).get(kind, 0)


def lock_codes(u: Unit, task_id: str, kind: str) -> None:
    u.db.tasks.update_one({"_id": task_id, "code_lock": None},
                          {"$set": {"code_lock": {"kind": kind, "at": u.now}}}, session=u.session)


def unlock_codes(u: Unit, task_id: str, by: str) -> bool:
    return u.db.tasks.update_one({"_id": task_id, "code_lock": {"$ne": None}},
                                 {"$set": {"code_lock": None, "code_attempts": {}},
                                  "$push": {"code_unlocks": {"by": by, "at": u.now}}},
                                 session=u.session).modified_count == 1


# -- offers ---------------------------------------------------------------------------------------

def insert_offers(u: Unit, offers: list[dict]) -> None:
    u.db.offers.insert_many(offers, session=u.session)


def offer(u: Unit, offer_id: str) -> dict | None:
    return u.db.offers.find_one({"_id": offer_id}, session=u.session)


def close_offer(u: Unit, offer_id: str, status: str, unexpired: bool = False) -> bool:
    """Ends a pending offer; with `unexpired`, only while its timer still runs (an acceptance)."""
    query: dict = {"_id": offer_id, "status": "pending"}
    if unexpired:
        query["expires_at"] = {"$gt": u.now}
    return u.db.offers.update_one(query, {"$set": {"status": status, "ended_at": u.now}},
                                  session=u.session).modified_count == 1


def pending_in_round(u: Unit, round_id: str) -> list[dict]:
    return list(u.db.offers.find({"round": round_id, "status": "pending"}, session=u.session))


def close_round(u: Unit, round_id: str, status: str) -> None:
    u.db.offers.update_many({"round": round_id, "status": "pending"},
                            {"$set": {"status": status, "ended_at": u.now}}, session=u.session)


def withdraw_offers(u: Unit, task_ids: list[str], except_id: str | None = None) -> list[dict]:
    """Withdraws the pending offers of these tasks (but `except_id`); returns the offers withdrawn."""
    query = {"task_ids": {"$in": task_ids}, "status": "pending", "_id": {"$ne": except_id}}
    offers = list(u.db.offers.find(query, session=u.session))
    u.db.offers.update_many({"_id": {"$in": [o["_id"] for o in offers]}, "status": "pending"},
                            {"$set": {"status": "withdrawn", "ended_at": u.now}}, session=u.session)
    return offers


def open_offers_page(u: Unit, volunteer_id: str, args: dict) -> tuple[list[dict], dict]:
    query = {"volunteer_id": volunteer_id, "status": "pending", "expires_at": {"$gt": u.now}}
    return page_of(u.db.offers, query, args, [("expires_at", 1), ("_id", 1)])


# -- tasks read ------------------------------------------------------------------------------------

def task(u: Unit, task_id: str) -> dict | None:
    return u.db.tasks.find_one({"_id": task_id}, session=u.session)


def task_of_order(u: Unit, order_id: str) -> dict | None:
    return u.db.tasks.find_one({"order_id": order_id}, session=u.session)


def tasks_by_id(u: Unit, task_ids: list[str]) -> dict[str, dict]:
    return {t["_id"]: t for t in u.db.tasks.find({"_id": {"$in": task_ids}}, session=u.session)}


def tasks_page(u: Unit, query: dict, args: dict) -> tuple[list[dict], dict]:
    return page_of(u.db.tasks, query, args, [("created_at", -1), ("_id", 1)])


# -- volunteers -------------------------------------------------------------------------------

def volunteer(u: Unit, volunteer_id: str) -> dict | None:
    return u.db.volunteers.find_one({"_id": volunteer_id}, session=u.session)


def insert_volunteer(u: Unit, doc: dict) -> bool:
    """False when the account is registered already."""
    try:
        u.db.volunteers.insert_one(doc, session=u.session)
    except DuplicateKeyError:
        return False
    return True


def volunteer_of_account(u: Unit, account_id: str) -> dict | None:
    return u.db.volunteers.find_one({"account_id": account_id}, session=u.session)


def update_volunteer(u: Unit, volunteer_id: str, change: dict) -> dict:
    u.db.volunteers.update_one({"_id": volunteer_id}, {"$set": change}, session=u.session)
    return volunteer(u, volunteer_id)


def verify_volunteer(u: Unit, volunteer_id: str, by: str) -> bool:
    """From pending, or from refused (the committee changed its mind); the refusal's reason goes."""
    return u.db.volunteers.update_one({"_id": volunteer_id, "status": {"$in": ["pending", "refused"]}},
                                      {"$set": {"status": "verified", "verified_by": by, "verified_at": u.now},
                                       "$unset": {"refused_reason": "", "refused_by": "", "refused_at": ""}},
                                      session=u.session).modified_count == 1


def refuse_volunteer(u: Unit, volunteer_id: str, by: str, reason: str) -> bool:
    """From pending, or from verified while they hold no delivery; they go off duty. False when already refused
    or busy."""
    return u.db.volunteers.update_one(
        {"_id": volunteer_id, "$or": [{"status": "pending"}, {"status": "verified", "active_tasks": {"$lte": 0}}]},
        {"$set": {"status": "refused", "on_duty": False, "refused_reason": reason, "refused_by": by,
                  "refused_at": u.now}}, session=u.session).modified_count == 1


def volunteers_page(u: Unit, query: dict, args: dict) -> tuple[list[dict], dict]:
    return page_of(u.db.volunteers, query, args, [("status", 1), ("created_at", 1), ("_id", 1)])


def volunteer_names(u: Unit, volunteer_ids: list[str]) -> dict[str, str]:
    return {v["_id"]: v["name"] for v in u.db.volunteers.find({"_id": {"$in": volunteer_ids}}, {"name": 1},
                                                              session=u.session)}


def change_load(u: Unit, volunteer_id: str, tasks: int, minutes: int = 0) -> None:
    u.db.volunteers.update_one({"_id": volunteer_id}, {"$inc": {"active_tasks": tasks, "served_minutes": minutes}},
                               session=u.session)


# -- served hours ---------------------------------------------------------------------------------

def credit_hours(u: Unit, entry: dict) -> None:
    u.db.hours.insert_one(entry, session=u.session)


def correct_hours(u: Unit, entry: dict, minutes: int, correction: dict) -> bool:
    """Only from the minutes the coordinator saw: two corrections at once cannot both apply."""
    return u.db.hours.update_one({"_id": entry["_id"], "minutes": entry["minutes"]},
                                 {"$set": {"minutes": minutes}, "$push": {"corrections": correction}},
                                 session=u.session).modified_count == 1


def hours_of_month(u: Unit, month: str, volunteer_id: str | None = None, scope: dict | None = None) -> list[dict]:
    """A month's entries, of one volunteer or all, within `scope` (a staff member's communities)."""
    query = {"month": month, **({"volunteer_id": volunteer_id} if volunteer_id else {}), **(scope or {})}
    return list(u.db.hours.find(query, session=u.session).sort([("date", ASCENDING), ("task_id", ASCENDING)]))


def hours_entry(u: Unit, entry_id: str) -> dict | None:
    return u.db.hours.find_one({"_id": entry_id}, session=u.session)


# -- ratings ------------------------------------------------------------------------------------

def keep_rating(u: Unit, rating: dict) -> None:
    """Once per review, whichever way it arrives again."""
    u.db.ratings.update_one({"_id": rating["_id"]}, {"$setOnInsert": rating}, upsert=True, session=u.session)


def show_order_reviews_from(u: Unit, order_id: str, visible_from: datetime) -> None:
    """Catalog shows every review of an order once both sides have written: a later review of the same
    order that is visible sooner brings the kept ones forward."""
    u.db.ratings.update_many({"order_id": order_id, "visible_from": {"$gt": visible_from}},
                             {"$set": {"visible_from": visible_from}}, session=u.session)


def stars_shown_of(u: Unit, volunteer_ids: list[str]) -> dict[str, list[int]]:
    """stars_shown for a page of volunteers in one query (the committee's list asked once per volunteer)."""
    found: dict[str, list[int]] = {v: [] for v in volunteer_ids}
    for r in u.db.ratings.find({"volunteer_id": {"$in": list(volunteer_ids)}, "visible_from": {"$lte": u.now}},
                               {"stars": 1, "volunteer_id": 1}, session=u.session):
        found[r["volunteer_id"]].append(r["stars"])
    return found


def stars_shown(u: Unit, volunteer_id: str) -> list[int]:
    """Reviews are blind until catalog shows them; the average counts only those shown by `u.now`."""
    return [r["stars"] for r in u.db.ratings.find({"volunteer_id": volunteer_id, "visible_from": {"$lte": u.now}},
                                                  {"stars": 1}, session=u.session)]
