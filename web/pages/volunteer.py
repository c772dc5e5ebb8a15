"""The volunteer's pages: register; go on and off duty where I am (the browser's location, or community and
building picked by hand); offers that arrive without reloading, with a countdown and why they came to me; accept
or decline; the trip (pickup with the canteen's code, the address and a call button while the task is mine, the
hand-over code, "nobody answers" leading the welfare check step by step, failure reasons); my hours.

Live offers: a small fragment (`/v/live`, htmx) the page fetches again when the volunteer's live stream carries a
message (static/live.js opens it with a one-use ticket from `/live/ticket`; the tokens stay on the server). Thin
routes: each reads or does one thing through the API and renders it."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from .. import i18n
from ..adapters.gateway import ApiProblem, SignedOut
from ..sessions import person
from . import common

bp = Blueprint("volunteer", __name__, url_prefix="/v")
LIVE_SECONDS = 3
MINE = ("assigned", "picked_up", "welfare_check")  # the task is mine now: its address and phone show
VEHICLES = {"foot": _l("on foot"), "bike": _l("by bicycle"), "e_bike": _l("by e-bike")}
FAILURES = {"wrong_address": _l("The address is wrong"), "refused": _l("The resident refused the meal"),
            "unsafe": _l("It is not safe to go on"), "meal_damaged": _l("The meal was damaged on the way")}
OUTCOMES = {"resident_safe": _l("I saw the resident: they are safe"),
            "family_reached": _l("I reached the family or the emergency contact"),
            "emergency_services_called": _l("I called the emergency services (120 / 110)"),
            "not_reached": _l("I could not reach anybody")}
TASK_STATES = {"assigned": _l("Yours: go to the kitchen and pick up the meal"),
               "picked_up": _l("You have the meal: take it to the resident"),
               "welfare_check": _l("Nobody answered the door: check that they are well"),
               "delivered": _l("Delivered"), "failed": _l("Not delivered: the committee takes it from here"),
               "cancelled": _l("Cancelled: no need to go"), "escalated": _l("The committee is finding a volunteer"),
               "offered": _l("Waiting for a volunteer to accept"), "ready": _l("The meal is ready; not yours yet"),
               "waiting": _l("The meal is not ready yet")}
MODES = {"single": _l("offered to you alone"), "broadcast": _l("offered to volunteers nearby: the first to accept takes it")}


def _volunteer() -> dict:
    if not g.account:
        raise SignedOut()
    if g.account["role"] != "volunteer":
        abort(404)
    try:
        me = person().volunteer()
    except ApiProblem as problem:
        if problem.code == "no_volunteer_profile":
            return {}
        raise
    g.role_community = (me.get("community_ids") or [None])[0]
    return me


def _zone() -> str | None:
    return common.zone()


@bp.get("")
def home():
    me = _volunteer()
    if not me:
        return redirect(url_for("volunteer.register"))
    return render_template("v/home.html", v=me, **_live(me))


def _live(me: dict) -> dict:
    offers, tasks = [], []
    if me.get("status") == "verified":  # the offers and the trips asked at once, with what every page reads
        offers, tasks = (answer.get("items", []) for answer in common.read_with_page(
            person(), ("/api/v1/delivery/offers", {"per_page": 20}), ("/api/v1/delivery/tasks", {"per_page": 50})))
        tasks = [t for t in tasks if t["status"] in MINE]
    now = datetime.now(ZoneInfo("UTC"))
    for offer in offers:
        expires = offer.get("expires_at")
        offer["seconds_left"] = max(0, int((datetime.fromisoformat(expires.replace("Z", "+00:00")) - now)
                                           .total_seconds())) if expires else None
    return {"offers": offers, "tasks": tasks, "zone": _zone(), "communities": common.communities(), "modes": MODES,
            "task_states": TASK_STATES}


@bp.get("/live")
def live():
    """The part of the page that changes: open offers and my current tasks (htmx polls it)."""
    me = _volunteer()
    if not me:
        return "", 204
    return render_template("v/_live.html", v=me, **_live(me))


@bp.route("/register", methods=["GET", "POST"])
def register():
    me = _volunteer()
    if me:
        return redirect(url_for("volunteer.home"))
    error = None
    form = request.form
    if request.method == "POST":
        chosen = [c for c in form.getlist("community_ids") if c in common.communities()]
        body = {"name": form.get("name", "").strip(), "phone": form.get("phone", "").strip(),
                "community_ids": chosen, "vehicle": form.get("vehicle", "")}
        if not body["name"]:
            error = _("Please write your name.")
        elif not body["phone"]:
            error = _("Please write your phone number: the committee and the residents call it.")
        elif not chosen:
            error = _("Please choose at least one community you will serve.")
        elif body["vehicle"] not in VEHICLES:
            error = _("Please choose how you travel.")
        else:
            try:
                person().register_volunteer(body)
                flash(_("Thank you for registering. The residents' committee will verify you; then you can go on duty."))
                return redirect(url_for("volunteer.home"))
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    return render_template("v/register.html", error=error, communities=common.communities(), vehicles=VEHICLES,
                           name=form.get("name") or common.me().get("name", "")), 200 if error is None else 400


@bp.post("/duty")
def duty():
    me = _volunteer()
    if not me:
        return redirect(url_for("volunteer.register"))
    form = request.form
    if form.get("on_duty") == "off":
        person().duty(False)
        flash(_("You are off duty. Thank you!"))
        return redirect(url_for("volunteer.home"), code=303)
    location = None
    try:
        lng, lat = float(form.get("lng", "")), float(form.get("lat", ""))
        if -180 <= lng <= 180 and -90 <= lat <= 90:
            location = {"lng": lng, "lat": lat}
    except ValueError:
        pass
    if location is None:  # no location from the browser: the community and building picked by hand
        location = common.entrance({"community_id": form.get("community_id", ""),
                                    "building": form.get("building", "").strip()})
    if location is None:
        flash(_("Please choose the community you are in (your phone did not give your location)."))
        return redirect(url_for("volunteer.home"), code=303)
    try:
        person().duty(True, location)
        flash(_("You are on duty. Offers appear on this page by themselves."))
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("volunteer.home"), code=303)


@bp.post("/offers/<offer_id>/accept")
def accept(offer_id):
    _volunteer()
    try:
        task = person().accept_offer(offer_id)
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
        return redirect(url_for("volunteer.home"), code=303)
    return redirect(url_for("volunteer.task", task_id=task["id"]), code=303)


@bp.post("/offers/<offer_id>/decline")
def decline(offer_id):
    _volunteer()
    try:
        person().decline_offer(offer_id)
        flash(_("You said no to this delivery. It goes to someone else."))
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("volunteer.home"), code=303)


@bp.get("/tasks/<task_id>")
def task(task_id):
    _volunteer()
    item = person().task(task_id)
    return render_template("v/task.html", task=item, mine=item["status"] in MINE, zone=_zone(), task_states=TASK_STATES,
                           communities=common.communities(), failures=FAILURES, outcomes=OUTCOMES)


def _task_action(task_id: str, action, done: str):
    _volunteer()
    try:
        action()
        flash(done)
    except ApiProblem as problem:
        flash(wrong_code_text(problem) or i18n.problem_text(problem))
    return redirect(url_for("volunteer.task", task_id=task_id), code=303)


def wrong_code_text(problem: ApiProblem) -> str | None:
    """A wrong pickup or hand-over code, with how many tries remain (delivery counts them; the 5th locks entry)."""
    said = (problem.details or {}).get("code") or ""
    said = said if isinstance(said, str) else " ".join(str(m) for m in said)
    if problem.code != "validation_failed" or not said:
        return None
    if "locked" in said:
        return str(i18n.ERRORS["code_locked"])
    left = re.search(r"\((\d+) tr(?:y|ies) left", said)
    if left:
        return _("This code is not right. Please ask for it again and type it carefully (%(n)s tries left).",
                 n=left.group(1))
    return _("Please type the code as digits only, 4 to 8 of them.")


def _code() -> str:
    return "".join(request.form.get("code", "").split())


@bp.post("/tasks/<task_id>/pickup")
def pickup(task_id):
    return _task_action(task_id, lambda: person().pick_up(task_id, _code()),
                        _("Picked up. Now take the meal to the resident."))


@bp.post("/tasks/<task_id>/deliver")
def deliver(task_id):
    return _task_action(task_id, lambda: person().hand_over(task_id, _code()),
                        _("Delivered. Thank you for your time!"))


@bp.post("/tasks/<task_id>/nobody-answers")
def nobody_answers(task_id):
    return _task_action(task_id, lambda: person().fail(task_id, "nobody_answers", request.form.get("note", "")[:500]),
                        _("The committee has been told. Please follow the steps below."))


@bp.post("/tasks/<task_id>/fail")
def fail(task_id):
    reason = request.form.get("reason", "")
    if reason not in FAILURES:
        _volunteer()
        flash(_("Please choose why the delivery cannot be completed."))
        return redirect(url_for("volunteer.task", task_id=task_id), code=303)
    return _task_action(task_id, lambda: person().fail(task_id, reason, request.form.get("note", "").strip()[:500]),
                        _("Reported. The committee will take it from here."))


@bp.post("/tasks/<task_id>/welfare")
def welfare(task_id):
    outcome, note = request.form.get("outcome", ""), request.form.get("note", "").strip()[:500]
    if outcome not in OUTCOMES or not note:
        _volunteer()
        flash(_("Please choose what happened and write a few words about it."))
        return redirect(url_for("volunteer.task", task_id=task_id), code=303)
    return _task_action(task_id, lambda: person().close_welfare_check(task_id, outcome, note),
                        _("Thank you for checking on them. The committee has your note."))


@bp.get("/hours")
def hours():
    me = _volunteer()
    if not me:
        return redirect(url_for("volunteer.register"))
    month, error = common.asked_month(_zone())  # the year and month lists, or the older ?month=YYYY-MM
    served = person().hours(month)
    mine = next((t for t in served.get("totals", []) if t["volunteer_id"] == me["id"]), {"minutes": 0, "tasks": 0})
    return render_template("v/hours.html", v=me, month=month, total=mine, entries=served.get("entries", []),
                           month_error=error), 400 if error else 200
