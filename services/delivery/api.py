"""Delivery's HTTP routes: volunteers, offers, tasks and served hours. The rules live in
domain.py, ladder.py and lifecycle.py; a route checks who is asking and shapes the answer."""
from __future__ import annotations

from flask import Response, g
from flask_smorest import Blueprint
from pymongo.errors import DuplicateKeyError

from linli.db import in_transaction
from linli.errors import ApiError, conflict, forbidden, invalid, not_found
from linli.ids import new_id, utcnow
from linli.schemas import PageArgs, geojson_to_point, page_of, point_to_geojson
from linli.web import idempotent, requires

from . import domain, hours, lifecycle, store
from .schemas import (AssignIn, CodeIn, CorrectionIn, DutyIn, FailIn, HandOverIn, HoursEntrySchema, MonthArgs,
                      MonthSchema, OfferPage, OfferSchema, ShiftsIn, TaskArgs, TaskPage, TaskSchema,
                      TrackingSchema, VolunteerArgs, VolunteerIn, VolunteerPage, VolunteerSchema, WelfareIn)

blp = Blueprint("delivery", __name__, url_prefix="/api/v1/delivery", description="Volunteers, offers and tasks")
STAFF = ("coordinator", "admin")


def db():
    return store.database()


def _volunteer_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "location": geojson_to_point(doc.get("location")),
            "rating": domain.rating(store.stars_shown(db(), doc["_id"], utcnow()))}


def _me() -> dict:
    doc = store.volunteer_of_account(db(), g.principal.id)
    if doc is None:
        raise ApiError(409, "no_volunteer_profile", "Register as a volunteer first.")
    return doc


def _task_out(task: dict, me: dict | None, listed: bool = False) -> dict:
    """Lists always mask the resident's address and phone; one task shows them to whoever may see them now."""
    out = {**task, "id": task["_id"]}
    out.pop("codes", None)
    if listed or not domain.address_visible(task, me["_id"] if me else None, g.principal.role, utcnow()):
        out["dropoff"] = domain.masked_dropoff(task["dropoff"])
        if task.get("welfare"):
            out["welfare"] = {k: v for k, v in task["welfare"].items() if k != "emergency_contact"}
    return out


# -- volunteers --------------------------------------------------------------------------------

@blp.route("/volunteers", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(VolunteerIn)
@blp.response(201, VolunteerSchema)
def register_volunteer(body):
    """Registers the signed-in volunteer; a coordinator verifies them before any offer."""
    doc = {"_id": new_id("vol"), "account_id": g.principal.id, **body, "status": "pending", "on_duty": False,
           "location": None, "active_tasks": 0, "served_minutes": 0, "created_at": utcnow()}
    try:
        store.insert_volunteer(db(), doc)
    except DuplicateKeyError:
        raise conflict("You are registered as a volunteer already.")
    return _volunteer_out(doc)


@blp.route("/volunteers")
@requires(*STAFF)
@blp.arguments(VolunteerArgs, location="query")
@blp.response(200, VolunteerPage)
def list_volunteers(args):
    """The committee's list of volunteers (pending ones first to verify)."""
    query = {"status": args["status"]} if "status" in args else {}
    docs, numbers = page_of(db().volunteers, query, args, [("status", 1), ("created_at", 1), ("_id", 1)])
    return {"items": [_volunteer_out(d) for d in docs], **numbers}


@blp.route("/volunteers/me")
@requires("volunteer")
@blp.response(200, VolunteerSchema)
def my_profile():
    """The signed-in volunteer's profile and served minutes."""
    return _volunteer_out(_me())


@blp.route("/volunteers/<volunteer_id>/verify", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.response(200, VolunteerSchema)
def verify_volunteer(volunteer_id):
    """A coordinator confirms a volunteer; only verified volunteers get offers."""
    d = db()
    doc = store.volunteer(d, volunteer_id)
    if doc is None:
        raise not_found("The volunteer")

    def work(session):
        if store.verify_volunteer(d, session, volunteer_id, g.principal.id, utcnow()):
            store.emit(d, session, f"vol:{volunteer_id}", "delivery.volunteer.verified",
                       {"volunteer_id": volunteer_id, "account_id": doc["account_id"]})

    in_transaction(d, work)
    return _volunteer_out(store.volunteer(d, volunteer_id))


@blp.route("/volunteers/me/duty", methods=["PUT"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(DutyIn)
@blp.response(200, VolunteerSchema)
def set_duty(body):
    """Goes on duty at a location (send it again as you move), or off duty."""
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
    return _volunteer_out(store.update_volunteer(db(), me["_id"], change))


@blp.route("/volunteers/me/shifts", methods=["PUT"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(ShiftsIn)
@blp.response(200, VolunteerSchema)
def set_shifts(body):
    """Weekly shifts (Shanghai time): while on duty, offers come only inside them. An empty list: any time."""
    return _volunteer_out(store.update_volunteer(db(), _me()["_id"], {"shifts": body["shifts"]}))


# -- offers ------------------------------------------------------------------------------------

@blp.route("/offers")
@requires("volunteer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, OfferPage)
def my_offers(args):
    """The signed-in volunteer's open offers, with why they were chosen (the address shows once accepted)."""
    me = _me()
    query = {"volunteer_id": me["_id"], "status": "pending", "expires_at": {"$gt": utcnow()}}
    offers, numbers = page_of(db().offers, query, args, [("expires_at", 1), ("_id", 1)])
    tasks = store.tasks_by_id(db(), [t for o in offers for t in o["task_ids"]])
    return {"items": [_offer_out(offer, tasks) for offer in offers], **numbers}


def _offer_out(offer: dict, tasks: dict[str, dict]) -> dict:
    """What a volunteer needs to decide: where from, what, by when, and each drop-off's building only."""
    stops = [{"task_id": t["_id"], "items": t["items"], "dropoff": domain.masked_dropoff(t["dropoff"])}
             for t in (tasks.get(i) for i in offer["task_ids"]) if t]
    first = tasks.get(offer["task_id"], {})
    return {**offer, "id": offer["_id"], "pickup": first.get("pickup"), "items": first.get("items"),
            "slot_end": first.get("slot_end"), "dropoff": stops[0]["dropoff"] if stops else None, "stops": stops}


@blp.route("/offers/<offer_id>/accept", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.response(200, TaskSchema)
def accept_offer(offer_id):
    """Takes the delivery; the first valid acceptance wins, later ones get 409."""
    me = _me()
    task_id = lifecycle.accept(db(), me, offer_id, utcnow())
    return _task_out(store.task(db(), task_id), me)


@blp.route("/offers/<offer_id>/decline", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.response(200, OfferSchema)
def decline_offer(offer_id):
    """Says no; a single offer goes to the next volunteer at once."""
    lifecycle.decline(db(), _me(), offer_id, utcnow())
    offer = store.offer(db(), offer_id)
    return _offer_out(offer, store.tasks_by_id(db(), offer["task_ids"]))


# -- tasks ---------------------------------------------------------------------------------------

@blp.route("/tasks")
@requires("volunteer", *STAFF)
@blp.arguments(TaskArgs, location="query")
@blp.response(200, TaskPage)
def list_tasks(args):
    """A volunteer's own deliveries; the coordinator's board sees them all (status=escalated: to assign)."""
    me = _me() if g.principal.role == "volunteer" else None
    query = {"volunteer_id": me["_id"]} if me else {}
    if "status" in args:
        query["status"] = args["status"]
    docs, numbers = page_of(db().tasks, query, args, [("created_at", -1), ("_id", 1)])
    return {"items": [_task_out(t, me, listed=True) for t in docs], **numbers}


def _task(task_id: str) -> tuple[dict, dict | None]:
    """The task, if the caller may see it: staff see all, a volunteer only the ones they hold or held."""
    me = _me() if g.principal.role == "volunteer" else None
    task = store.task(db(), task_id)
    if task is None or (me is not None and task.get("volunteer_id") != me["_id"]):
        raise not_found("The task")
    return task, me


def _done(task_id: str, me: dict | None) -> dict:
    return _task_out(store.task(db(), task_id), me)


@blp.route("/tasks/<task_id>")
@requires("volunteer", *STAFF)
@blp.response(200, TaskSchema)
def get_task(task_id):
    """One delivery; the address shows to its volunteer from acceptance until an hour after hand-over."""
    return _task_out(*_task(task_id))


@blp.route("/tasks/<task_id>/assign", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(AssignIn)
@blp.response(200, TaskSchema)
def assign(body, task_id):
    """The coordinator gives a task nobody holds (typically one on the board) to a volunteer by hand."""
    task, _ = _task(task_id)
    lifecycle.assign(db(), g.principal, task, body["volunteer_id"], utcnow())
    return _done(task_id, None)


@blp.route("/tasks/<task_id>/pickup", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(CodeIn)
@blp.response(200, TaskSchema)
def pickup(body, task_id):
    """Confirms pickup with the code the provider gives."""
    task, me = _task(task_id)
    lifecycle.pick_up(db(), me, task, body["code"], utcnow())
    return _done(task_id, me)


@blp.route("/tasks/<task_id>/deliver", methods=["POST"])
@requires("volunteer", *STAFF)
@idempotent(db)
@blp.arguments(HandOverIn)
@blp.response(200, TaskSchema)
def deliver(body, task_id):
    """Hand-over with the resident's 4-digit code (or a coordinator's override with a reason); credits minutes."""
    task, me = _task(task_id)
    if g.principal.role == "volunteer" and "override_reason" in body:
        raise forbidden("Only the coordinator can confirm a hand-over without the resident's code.")
    lifecycle.hand_over(db(), g.principal, task, body.get("code"), body.get("override_reason"), utcnow())
    return _done(task_id, me)


@blp.route("/tasks/<task_id>/fail", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(FailIn)
@blp.response(200, TaskSchema)
def fail(body, task_id):
    """Reports why the delivery cannot be completed; nobody_answers starts a welfare check instead."""
    task, me = _task(task_id)
    lifecycle.fail(db(), me, task, body["reason"], body["note"], utcnow())
    return _done(task_id, me)


@blp.route("/tasks/<task_id>/welfare", methods=["POST"])
@requires("volunteer", *STAFF)
@idempotent(db)
@blp.arguments(WelfareIn)
@blp.response(200, TaskSchema)
def welfare(body, task_id):
    """Records what became of a resident who did not answer the door, and closes the welfare check."""
    task, me = _task(task_id)
    lifecycle.close_welfare_check(db(), g.principal, task, body["outcome"], body["note"], utcnow())
    return _done(task_id, me)


# -- served hours --------------------------------------------------------------------------------

def _month(args: dict) -> list[dict]:
    """A volunteer sees their own month; staff see everyone's, or one volunteer's."""
    volunteer_id = _me()["_id"] if g.principal.role == "volunteer" else args.get("volunteer_id")
    return store.hours_of_month(db(), args["month"], volunteer_id)


@blp.route("/hours")
@requires("volunteer", *STAFF)
@blp.arguments(MonthArgs, location="query")
@blp.response(200, MonthSchema)
def month_hours(args):
    """Minutes served in a month: totals per volunteer and one entry per delivered task."""
    entries = _month(args)
    totals = hours.month_totals(entries)
    names = store.volunteer_names(db(), list(totals))
    return {"month": args["month"], "totals": [{**t, "name": names.get(v)} for v, t in sorted(totals.items())],
            "entries": [{**e, "id": e["_id"]} for e in entries]}


@blp.route("/hours/export")
@requires(*STAFF)
@blp.arguments(MonthArgs, location="query")
@blp.response(200, content_type="text/csv")
def export_hours(args):
    """The residents' committee's CSV of a month: volunteer, date, task, minutes."""
    entries = _month(args)
    body = hours.csv_text(entries, store.volunteer_names(db(), sorted({e["volunteer_id"] for e in entries})))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="volunteer-hours-{args["month"]}.csv"'})


@blp.route("/hours/<entry_id>/corrections", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(CorrectionIn)
@blp.response(200, HoursEntrySchema)
def correct_hours(body, entry_id):
    """A coordinator corrects an entry's minutes, with a reason; the entry keeps every correction."""
    entry = store.hours_entry(db(), entry_id)
    if entry is None:
        raise not_found("The hours entry")
    lifecycle.correct_hours(db(), g.principal, entry, body["minutes"], body["reason"], utcnow())
    return {**store.hours_entry(db(), entry_id), "id": entry_id}


# -- the resident's view --------------------------------------------------------------------------

@blp.route("/tracking/<order_id>")
@requires("resident", "coordinator", "admin")
@blp.response(200, TrackingSchema)
def tracking(order_id):
    """Where the resident's meal is: its delivery's state and the courier's first name."""
    task = db().tasks.find_one({"order_id": order_id})
    who = g.principal
    mine = task is not None and (task.get("resident_id") == who.id or who.relative(task.get("resident_id")))
    if task is None or (who.role == "resident" and not mine):
        raise not_found("A delivery for this order")
    courier = store.volunteer(db(), task["volunteer_id"]) if task.get("volunteer_id") else None
    return {"order_id": order_id, "status": task["status"],
            "courier_name": courier["name"].split()[0] if courier and courier.get("name") else None,
            "assigned_at": task.get("assigned_at"), "picked_up_at": task.get("picked_up_at"),
            "delivered_at": task.get("delivered_at"), "deadline": task.get("slot_end")}
