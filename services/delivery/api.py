"""Delivery's HTTP routes: volunteers, offers and tasks."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from pymongo.errors import DuplicateKeyError

from linli.db import in_transaction
from linli.errors import ApiError, conflict, invalid, not_found
from linli.ids import new_id, utcnow
from linli.schemas import PageArgs, geojson_to_point, page_of, point_to_geojson
from linli.web import requires

from . import dispatch, domain, store
from .schemas import (CodeIn, DutyIn, FailIn, OfferPage, OfferSchema, TaskArgs, TaskPage, TaskSchema, VolunteerIn,
                      VolunteerSchema)

blp = Blueprint("delivery", __name__, url_prefix="/api/v1/delivery", description="Volunteers, offers and tasks")


def db():
    return store.database()


def _volunteer_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "location": geojson_to_point(doc.get("location"))}


def _me() -> dict:
    doc = db().volunteers.find_one({"account_id": g.principal.id})
    if doc is None:
        raise ApiError(409, "no_volunteer_profile", "Register as a volunteer first.")
    return doc


def _task_out(task: dict, me: dict | None) -> dict:
    out = {**task, "id": task["_id"]}
    out.pop("codes", None)
    if not domain.address_visible(task, me["_id"] if me else None, g.principal.role, utcnow()):
        out["dropoff"] = domain.masked_dropoff(task["dropoff"])
    return out


# -- volunteers --------------------------------------------------------------------------------

@blp.route("/volunteers", methods=["POST"])
@requires("volunteer")
@blp.arguments(VolunteerIn)
@blp.response(201, VolunteerSchema)
def register_volunteer(body):
    """Registers the signed-in volunteer; a coordinator verifies them before any offer."""
    doc = {"_id": new_id("vol"), "account_id": g.principal.id, **body, "status": "pending", "on_duty": False,
           "location": None, "active_tasks": 0, "served_minutes": 0, "created_at": utcnow()}
    try:
        db().volunteers.insert_one(doc)
    except DuplicateKeyError:
        raise conflict("You are registered as a volunteer already.")
    return _volunteer_out(doc)


@blp.route("/volunteers/me")
@requires("volunteer")
@blp.response(200, VolunteerSchema)
def my_profile():
    """The signed-in volunteer's profile and served minutes."""
    return _volunteer_out(_me())


@blp.route("/volunteers/<volunteer_id>/verify", methods=["POST"])
@requires("coordinator", "admin")
@blp.response(200, VolunteerSchema)
def verify_volunteer(volunteer_id):
    """A coordinator confirms a volunteer; only verified volunteers get offers."""
    d = db()

    def work(session):
        doc = d.volunteers.find_one({"_id": volunteer_id}, session=session)
        if doc is None:
            raise not_found("The volunteer")
        if d.volunteers.update_one({"_id": volunteer_id, "status": "pending"},
                                   {"$set": {"status": "verified", "verified_by": g.principal.id,
                                             "verified_at": utcnow()}}, session=session).modified_count:
            store.emit(d, session, f"vol:{volunteer_id}", "delivery.volunteer.verified",
                       {"volunteer_id": volunteer_id, "account_id": doc["account_id"]})

    in_transaction(d, work)
    return _volunteer_out(d.volunteers.find_one({"_id": volunteer_id}))


@blp.route("/volunteers/me/duty", methods=["PUT"])
@requires("volunteer")
@blp.arguments(DutyIn)
@blp.response(200, VolunteerSchema)
def set_duty(body):
    """Goes on duty at a location, or off duty."""
    me = _me()
    change = {"on_duty": body["on_duty"], "duty_changed_at": utcnow()}
    if body["on_duty"]:
        if "location" not in body:
            raise invalid("location", "say where you are when you go on duty")
        if me["status"] != "verified":
            raise ApiError(409, "volunteer_not_verified",
                           "The residents' committee has not verified you yet; you can go on duty after that.")
    if "location" in body:
        change["location"] = point_to_geojson(body["location"])
    db().volunteers.update_one({"_id": me["_id"]}, {"$set": change})
    return _volunteer_out(db().volunteers.find_one({"_id": me["_id"]}))


# -- offers ------------------------------------------------------------------------------------

@blp.route("/offers")
@requires("volunteer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, OfferPage)
def my_offers(args):
    """The signed-in volunteer's pending offers (the address shows once accepted)."""
    me = _me()
    query = {"volunteer_id": me["_id"], "status": "pending", "expires_at": {"$gt": utcnow()}}
    offers, numbers = page_of(db().offers, query, args, [("expires_at", 1), ("_id", 1)])
    tasks = {t["_id"]: t for t in db().tasks.find({"_id": {"$in": [o["task_id"] for o in offers]}})}
    items = []
    for offer in offers:
        task = tasks.get(offer["task_id"], {})
        items.append({**offer, "id": offer["_id"], "pickup": task.get("pickup"), "items": task.get("items"),
                      "slot_end": task.get("slot_end"),
                      "dropoff": domain.masked_dropoff(task["dropoff"]) if task else None})
    return {"items": items, **numbers}


@blp.route("/offers/<offer_id>/accept", methods=["POST"])
@requires("volunteer")
@blp.response(200, TaskSchema)
def accept_offer(offer_id):
    """Takes the delivery; the first valid acceptance wins."""
    me, d, now = _me(), db(), utcnow()

    def work(session):
        offer = d.offers.find_one({"_id": offer_id, "volunteer_id": me["_id"]}, session=session)
        if offer is None:
            raise not_found("The offer")
        taken = d.offers.update_one({"_id": offer_id, "status": "pending", "expires_at": {"$gt": now}},
                                    {"$set": {"status": "accepted", "ended_at": now}}, session=session).modified_count
        assigned = taken and d.tasks.update_one(
            {"_id": offer["task_id"], "status": "offered", "offer.id": offer_id},
            {"$set": {"status": "assigned", "volunteer_id": me["_id"], "assigned_at": now}},
            session=session).modified_count
        if not assigned:
            raise ApiError(409, "offer_closed", "This offer is no longer open: it expired, was withdrawn or was taken.",
                           {"offer_status": offer["status"]})
        d.volunteers.update_one({"_id": me["_id"]}, {"$inc": {"active_tasks": 1}}, session=session)
        store.emit(d, session, offer["task_id"], "delivery.task.assigned",
                   {"task_id": offer["task_id"], "order_id": offer["order_id"], "volunteer_id": me["_id"]})
        return offer["task_id"]

    task_id = in_transaction(d, work)
    return _task_out(d.tasks.find_one({"_id": task_id}), me)


@blp.route("/offers/<offer_id>/decline", methods=["POST"])
@requires("volunteer")
@blp.response(200, OfferSchema)
def decline_offer(offer_id):
    """Says no; the task goes to the next volunteer at once."""
    me, d, now = _me(), db(), utcnow()
    offer = d.offers.find_one({"_id": offer_id, "volunteer_id": me["_id"]})
    if offer is None:
        raise not_found("The offer")

    def work(session):
        if not dispatch.pass_over(d, session, offer["task_id"], offer_id, "declined", now):
            raise ApiError(409, "offer_closed", "This offer is no longer open.")
        task = d.tasks.find_one({"_id": offer["task_id"]}, session=session)
        if task["status"] == "ready":
            dispatch.offer_next(d, session, task, now)

    in_transaction(d, work)
    return {**d.offers.find_one({"_id": offer_id}), "id": offer_id}


# -- tasks ---------------------------------------------------------------------------------------

@blp.route("/tasks")
@requires("volunteer", "coordinator", "admin")
@blp.arguments(TaskArgs, location="query")
@blp.response(200, TaskPage)
def list_tasks(args):
    """A volunteer's own deliveries; the coordinator's board sees them all."""
    me = _me() if g.principal.role == "volunteer" else None
    query = {"volunteer_id": me["_id"]} if me else {}
    if "status" in args:
        query["status"] = args["status"]
    docs, numbers = page_of(db().tasks, query, args, [("created_at", -1), ("_id", 1)])
    return {"items": [_task_out(t, me) for t in docs], **numbers}


def _my_task(task_id: str) -> tuple[dict, dict | None]:
    me = _me() if g.principal.role == "volunteer" else None
    task = db().tasks.find_one({"_id": task_id})
    if task is None or (me is not None and task.get("volunteer_id") != me["_id"]):
        raise not_found("The task")
    return task, me


@blp.route("/tasks/<task_id>")
@requires("volunteer", "coordinator", "admin")
@blp.response(200, TaskSchema)
def get_task(task_id):
    """One delivery."""
    task, me = _my_task(task_id)
    return _task_out(task, me)


@blp.route("/tasks/<task_id>/pickup", methods=["POST"])
@requires("volunteer")
@blp.arguments(CodeIn)
@blp.response(200, TaskSchema)
def pickup(body, task_id):
    """Confirms pickup with the code the provider gives."""
    task, me = _my_task(task_id)
    if body["code"] != task["codes"]["pickup"]:
        raise invalid("code", "this is not the pickup code for this order; ask the provider's staff again")
    d, now = db(), utcnow()

    def work(session):
        if not d.tasks.update_one({"_id": task_id, "status": "assigned", "volunteer_id": me["_id"]},
                                  {"$set": {"status": "picked_up", "picked_up_at": now}},
                                  session=session).modified_count:
            raise ApiError(409, "illegal_transition", f"This delivery is {task['status']}; it cannot be picked up now.",
                           {"current_status": task["status"]})
        store.emit(d, session, task_id, "delivery.task.picked_up",
                   {"task_id": task_id, "order_id": task["order_id"], "volunteer_id": me["_id"]})

    in_transaction(d, work)
    return _task_out(d.tasks.find_one({"_id": task_id}), me)


@blp.route("/tasks/<task_id>/deliver", methods=["POST"])
@requires("volunteer")
@blp.arguments(CodeIn)
@blp.response(200, TaskSchema)
def deliver(body, task_id):
    """Confirms hand-over with the resident's 4-digit code; credits the volunteer's minutes."""
    task, me = _my_task(task_id)
    if body["code"] != task["codes"]["handover"]:
        raise invalid("code", "this is not the resident's code; ask them to read it from their order")
    d, now = db(), utcnow()
    minutes = domain.served_minutes(task.get("assigned_at") or now, now)

    def work(session):
        if not d.tasks.update_one({"_id": task_id, "status": "picked_up", "volunteer_id": me["_id"]},
                                  {"$set": {"status": "delivered", "delivered_at": now, "minutes": minutes}},
                                  session=session).modified_count:
            raise ApiError(409, "illegal_transition", f"This delivery is {task['status']}; it cannot be handed over now.",
                           {"current_status": task["status"]})
        d.volunteers.update_one({"_id": me["_id"]}, {"$inc": {"active_tasks": -1, "served_minutes": minutes}},
                                session=session)
        d.hours.insert_one({"_id": f"hrs:{task_id}", "volunteer_id": me["_id"], "task_id": task_id,
                            "date": now.date().isoformat(), "minutes": minutes, "at": now}, session=session)
        store.emit(d, session, task_id, "delivery.task.delivered",
                   {"task_id": task_id, "order_id": task["order_id"], "volunteer_id": me["_id"], "minutes": minutes})

    in_transaction(d, work)
    return _task_out(d.tasks.find_one({"_id": task_id}), me)


@blp.route("/tasks/<task_id>/fail", methods=["POST"])
@requires("volunteer")
@blp.arguments(FailIn)
@blp.response(200, TaskSchema)
def fail(body, task_id):
    """Reports that the delivery cannot be completed, and why; the coordinator takes it from there."""
    task, me = _my_task(task_id)
    d, now = db(), utcnow()

    def work(session):
        if not d.tasks.update_one({"_id": task_id, "status": {"$in": ["assigned", "picked_up"]},
                                   "volunteer_id": me["_id"]},
                                  {"$set": {"status": "failed", "failed_at": now, "failure": body}},
                                  session=session).modified_count:
            raise ApiError(409, "illegal_transition", f"This delivery is {task['status']}; it cannot fail now.",
                           {"current_status": task["status"]})
        d.volunteers.update_one({"_id": me["_id"]}, {"$inc": {"active_tasks": -1}}, session=session)
        store.emit(d, session, task_id, "delivery.task.failed",
                   {"task_id": task_id, "order_id": task["order_id"], "volunteer_id": me["_id"],
                    "reason": body["reason"]})

    in_transaction(d, work)
    return _task_out(d.tasks.find_one({"_id": task_id}), me)
