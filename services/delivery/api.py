"""Delivery's HTTP routes: volunteers, offers, tasks and served hours. Each route parses with a
schema, calls one command (commands.py) or one store read, and shapes the answer; who may see
what is decided in commands.py (staff within their communities)."""
from __future__ import annotations

from flask import Response, g
from flask_smorest import Blueprint

from linli.domain_errors import NotFound
from linli.schemas import PageArgs, geojson_to_point
from linli.unit import Unit
from linli.web import idempotent, requires

from . import bootstrap, commands, store
from .rules import domain, hours
from .schemas import (AssignIn, CodeIn, CorrectionIn, DutyIn, FailIn, HandOverIn, HoursEntrySchema, MonthArgs,
                      MonthSchema, OfferPage, OfferSchema, RefuseIn, ShiftsIn, TaskArgs, TaskPage, TaskSchema,
                      TrackingSchema, VolunteerArgs, VolunteerIn, VolunteerPage, VolunteerSchema, WelfareIn)

blp = Blueprint("delivery", __name__, url_prefix="/api/v1/delivery", description="Volunteers, offers and tasks")
STAFF = domain.STAFF


def db():
    return bootstrap.database()


def units():
    return bootstrap.units()


def reader() -> Unit:
    return units().read()


def _volunteer_out(doc: dict, stars: list[int] | None = None) -> dict:
    return {**doc, "id": doc["_id"], "location": geojson_to_point(doc.get("location")),
            "rating": domain.rating(store.stars_shown(reader(), doc["_id"]) if stars is None else stars)}


def _me(u: Unit) -> dict | None:
    return commands.my_volunteer(u, g.principal) if g.principal.role == "volunteer" else None


def _task_out(task: dict, me: dict | None, listed: bool = False) -> dict:
    """Lists always mask the resident's address and phone; one task shows them to whoever may see them now."""
    out = {**task, "id": task["_id"]}
    for private in ("codes", "code_attempts"):
        out.pop(private, None)
    if listed or not domain.address_visible(task, me["_id"] if me else None, g.principal.role, units().now()):
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
    return _volunteer_out(commands.register(units(), g.principal, body))


@blp.route("/volunteers")
@requires(*STAFF)
@blp.arguments(VolunteerArgs, location="query")
@blp.response(200, VolunteerPage)
def list_volunteers(args):
    """The committee's list of the volunteers serving its communities (pending ones first to verify)."""
    query = {"status": args["status"]} if "status" in args else {}
    u = reader()
    docs, numbers = store.volunteers_page(u, {**query, **g.principal.scope_filter("community_ids")}, args)
    stars = store.stars_shown_of(u, [d["_id"] for d in docs])  # one query for the page, not one per volunteer
    return {"items": [_volunteer_out(d, stars[d["_id"]]) for d in docs], **numbers}


@blp.route("/volunteers/me")
@requires("volunteer")
@blp.response(200, VolunteerSchema)
def my_profile():
    """The signed-in volunteer's profile and served minutes."""
    return _volunteer_out(commands.my_volunteer(reader(), g.principal))


@blp.route("/volunteers/<volunteer_id>/verify", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.response(200, VolunteerSchema)
def verify_volunteer(volunteer_id):
    """A coordinator confirms a volunteer serving its communities; only verified volunteers get offers."""
    return _volunteer_out(commands.verify_volunteer(units(), g.principal, volunteer_id))


@blp.route("/volunteers/<volunteer_id>/refuse", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(RefuseIn)
@blp.response(200, VolunteerSchema)
def refuse_volunteer(body, volunteer_id):
    """A coordinator turns down a volunteer serving its communities, with a reason the volunteer reads; they
    cannot go on duty, and may be verified later."""
    return _volunteer_out(commands.refuse_volunteer(units(), g.principal, volunteer_id, body["reason"]))


@blp.route("/volunteers/me/duty", methods=["PUT"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(DutyIn)
@blp.response(200, VolunteerSchema)
def set_duty(body):
    """Goes on duty at a location (send it again as you move), or off duty."""
    return _volunteer_out(commands.set_duty(units(), g.principal, body))


@blp.route("/volunteers/me/shifts", methods=["PUT"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(ShiftsIn)
@blp.response(200, VolunteerSchema)
def set_shifts(body):
    """Weekly shifts (Shanghai time): while on duty, offers come only inside them. An empty list: any time."""
    return _volunteer_out(commands.set_shifts(units(), g.principal, body["shifts"]))


# -- offers ------------------------------------------------------------------------------------

@blp.route("/offers")
@requires("volunteer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, OfferPage)
def my_offers(args):
    """The signed-in volunteer's open offers, with why they were chosen (the address shows once accepted)."""
    u = reader()
    offers, numbers = store.open_offers_page(u, commands.my_volunteer(u, g.principal)["_id"], args)
    tasks = store.tasks_by_id(u, [t for o in offers for t in o["task_ids"]])
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
    task_id = commands.accept(units(), g.principal, offer_id)
    return _done(task_id)


@blp.route("/offers/<offer_id>/decline", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.response(200, OfferSchema)
def decline_offer(offer_id):
    """Says no; a single offer goes to the next volunteer at once."""
    offer = commands.decline(units(), g.principal, offer_id, bootstrap.settings().offer_timeout)
    u = reader()
    return _offer_out(store.offer(u, offer["_id"]), store.tasks_by_id(u, offer["task_ids"]))


# -- tasks ---------------------------------------------------------------------------------------

@blp.route("/tasks")
@requires("volunteer", *STAFF)
@blp.arguments(TaskArgs, location="query")
@blp.response(200, TaskPage)
def list_tasks(args):
    """A volunteer's own deliveries; the coordinator's board sees those of its communities (status=escalated:
    to assign)."""
    u = reader()
    me = _me(u)
    query = commands.task_board_filter(g.principal, me)
    if "status" in args:
        query["status"] = args["status"]
    docs, numbers = store.tasks_page(u, query, args)
    return {"items": [_task_out(t, me, listed=True) for t in docs], **numbers}


def _done(task_id: str) -> dict:
    u = reader()
    task, me = commands.seen_task(u, g.principal, task_id)
    return _task_out(task, me)


@blp.route("/tasks/<task_id>")
@requires("volunteer", *STAFF)
@blp.response(200, TaskSchema)
def get_task(task_id):
    """One delivery; the address shows to its volunteer from acceptance until an hour after hand-over."""
    return _done(task_id)


@blp.route("/tasks/<task_id>/assign", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(AssignIn)
@blp.response(200, TaskSchema)
def assign(body, task_id):
    """The coordinator gives a task nobody holds (typically one on the board) to a volunteer by hand."""
    commands.assign(units(), g.principal, task_id, body["volunteer_id"])
    return _done(task_id)


@blp.route("/tasks/<task_id>/pickup", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(CodeIn)
@blp.response(200, TaskSchema)
def pickup(body, task_id):
    """Confirms pickup with the code the provider gives (after 5 wrong codes, code entry locks)."""
    commands.pick_up(units(), g.principal, task_id, body["code"])
    return _done(task_id)


@blp.route("/tasks/<task_id>/deliver", methods=["POST"])
@requires("volunteer", *STAFF)
@idempotent(db)
@blp.arguments(HandOverIn)
@blp.response(200, TaskSchema)
def deliver(body, task_id):
    """Hand-over with the resident's 4-digit code (or a coordinator's override with a reason); credits minutes.
    After 5 wrong codes, code entry locks and the coordinator is alerted."""
    commands.hand_over(units(), g.principal, task_id, body.get("code"), body.get("override_reason"))
    return _done(task_id)


@blp.route("/tasks/<task_id>/codes/unlock", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.response(200, TaskSchema)
def unlock_codes(task_id):
    """The coordinator lets codes be entered again on a task locked after too many wrong codes."""
    commands.unlock_codes(units(), g.principal, task_id)
    return _done(task_id)


@blp.route("/tasks/<task_id>/fail", methods=["POST"])
@requires("volunteer")
@idempotent(db)
@blp.arguments(FailIn)
@blp.response(200, TaskSchema)
def fail(body, task_id):
    """Reports why the delivery cannot be completed; nobody_answers starts a welfare check instead."""
    commands.fail(units(), g.principal, task_id, body["reason"], body["note"])
    return _done(task_id)


@blp.route("/tasks/<task_id>/welfare", methods=["POST"])
@requires("volunteer", *STAFF)
@idempotent(db)
@blp.arguments(WelfareIn)
@blp.response(200, TaskSchema)
def welfare(body, task_id):
    """Records what became of a resident who did not answer the door, and closes the welfare check."""
    commands.close_welfare_check(units(), g.principal, task_id, body["outcome"], body["note"])
    return _done(task_id)


# -- served hours --------------------------------------------------------------------------------

@blp.route("/hours")
@requires("volunteer", *STAFF)
@blp.arguments(MonthArgs, location="query")
@blp.response(200, MonthSchema)
def month_hours(args):
    """Minutes served in a month: totals per volunteer and one entry per delivered task (staff: in the
    communities they watch over)."""
    u = reader()
    entries = commands.month_hours(u, g.principal, args["month"], args.get("volunteer_id"))
    totals = hours.month_totals(entries)
    names = store.volunteer_names(u, list(totals))
    return {"month": args["month"], "totals": [{**t, "name": names.get(v)} for v, t in sorted(totals.items())],
            "entries": [{**e, "id": e["_id"]} for e in entries]}


@blp.route("/hours/export")
@requires(*STAFF)
@blp.arguments(MonthArgs, location="query")
@blp.response(200, content_type="text/csv")
def export_hours(args):
    """The residents' committee's CSV of a month in its communities: volunteer, date, task, minutes."""
    u = reader()
    entries = commands.month_hours(u, g.principal, args["month"], args.get("volunteer_id"))
    body = hours.csv_text(entries, store.volunteer_names(u, sorted({e["volunteer_id"] for e in entries})))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="volunteer-hours-{args["month"]}.csv"'})


@blp.route("/hours/<entry_id>/corrections", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(CorrectionIn)
@blp.response(200, HoursEntrySchema)
def correct_hours(body, entry_id):
    """A coordinator corrects an entry's minutes, with a reason; the entry keeps every correction."""
    entry = commands.correct_hours(units(), g.principal, entry_id, body["minutes"], body["reason"])
    return {**entry, "id": entry_id}


# -- the resident's view --------------------------------------------------------------------------

@blp.route("/tracking/<order_id>")
@requires("resident", "coordinator", "admin")
@blp.response(200, TrackingSchema)
def tracking(order_id):
    """Where the resident's meal is: its delivery's state and the courier's first name."""
    u = reader()
    task = store.task_of_order(u, order_id)
    who = g.principal
    if task is None:
        raise NotFound("A delivery for this order")
    mine = task.get("resident_id") == who.id or who.relative(task.get("resident_id"))
    if not (mine if who.role == "resident" else who.watches(task["dropoff"]["community_id"])):
        raise NotFound("A delivery for this order")
    courier = store.volunteer(u, task["volunteer_id"]) if task.get("volunteer_id") else None
    return {"order_id": order_id, "status": task["status"],
            "courier_name": courier["name"].split()[0] if courier and courier.get("name") else None,
            "assigned_at": task.get("assigned_at"), "picked_up_at": task.get("picked_up_at"),
            "delivered_at": task.get("delivered_at"), "deadline": task.get("slot_end")}
