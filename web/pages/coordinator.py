"""The residents' committee's pages (a coordinator; an admin sees them too, everywhere): the board of what needs
attention with the dispatch map and assigning by hand; redeliver, remake, cancel, refund; the verification queues;
residents found, enrolled, tagged and ordered for; statements and volunteers' hours as downloads; this week's
figures. Thin: the API decides who may see and do what (a coordinator only within its communities), and its
refusals are shown as translated sentences."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from linli.config import settings

from .. import i18n
from ..adapters.gateway import ApiProblem, SignedOut
from ..sessions import person
from . import common
from .svg import Spot, bars, dispatch_map

bp = Blueprint("coordinator", __name__, url_prefix="/c")
STAFF = ("coordinator", "admin")
OPEN_TASKS = ("waiting", "ready", "offered", "escalated")
TROUBLE = ("escalated", "welfare_check")  # a failed delivery shows as its order, with what can be done

FAILURES = {"wrong_address": _l("the address was wrong"), "refused": _l("the resident refused the meal"),
            "unsafe": _l("the volunteer did not feel safe"), "nobody_answers": _l("nobody answered the door"),
            "meal_damaged": _l("the meal was spoiled or lost on the way")}
DEADLINES = {"payment_expiry": _l("waiting for payment"), "provider_answer": _l("the kitchen has not answered yet"),
             "provider_final": _l("the kitchen's last chance to answer"), "ready_by": _l("to be ready when the slot begins"),
             "remake_by": _l("to be made again"), "auto_complete": _l("completes by itself")}
LATE = {"provider_answer": _l("the kitchen did not answer in time"), "ready_by": _l("not ready when the slot began"),
        "remake_by": _l("not made again in time"), "provider_final": _l("the kitchen did not answer at all")}


# what a welfare check found, as the committee records it (the volunteer's page words them as "I ...")
WELFARE_OUTCOMES = {"resident_safe": _l("The resident is safe"),
                    "family_reached": _l("The family or the emergency contact was reached"),
                    "emergency_services_called": _l("The emergency services were called (120 / 110)"),
                    "not_reached": _l("Nobody could be reached")}
CODE_KINDS = {"handover": _l("the resident's hand-over code"), "pickup": _l("the kitchen's pickup code")}
CARRYING = ("assigned", "picked_up")


@bp.context_processor
def _words():
    # staff read the states about the resident ("on the way to the resident"), never the resident's "your home"
    return {"FAILURES": FAILURES, "DEADLINES": DEADLINES, "LATE": LATE, "STATUS": i18n.STAFF_STATUS,
            "DELIVERY": i18n.STAFF_DELIVERY, "WELFARE_OUTCOMES": WELFARE_OUTCOMES, "CODE_KINDS": CODE_KINDS}


@bp.before_request
def _staff_only():
    if not g.get("account"):
        raise SignedOut()
    if g.account["role"] not in STAFF:
        abort(404)


def _mine() -> list[dict]:
    """The communities this person watches over (an admin: all)."""
    everything = common.communities()
    if g.account["role"] == "admin":
        return list(everything.values())
    return [everything[c] for c in common.me().get("communities") or [] if c in everything]


def _zone(community_id: str | None = None) -> str:
    found = common.communities().get(community_id) if community_id else None
    if found is None:
        mine = _mine()
        found = mine[0] if mine else None
    return (found or {}).get("timezone") or i18n.FALLBACK_ZONE


def _back(default: str) -> str:
    target = request.form.get("back", "")
    return target if target.startswith("/c/") and common.local_path(target) else default


# -- the board ------------------------------------------------------------------------------------------------------

@bp.get("/")
def board():
    # independent reads, asked at once (they were one after another: p95 845 ms in bench/pages.py)
    # the open deadlines are asked for as such, soonest first (they were picked out of the newest 50 orders, so
    # a busy day's older ones were missing, and the count with them)
    answers = common.read_with_page(
        person(), ("/api/v1/orders", {"attention": "true", "per_page": 50}),
        ("/api/v1/delivery/tasks", {"per_page": 50}),
        ("/api/v1/delivery/volunteers", {"status": "verified", "per_page": 50}),
        ("/api/v1/orders", {"with_deadline": "true", "per_page": 50}))
    attention, tasks, volunteers, deadlines = (answer.get("items", []) for answer in answers)
    deadlines_total = answers[3].get("total", len(deadlines))
    on_duty = [v for v in volunteers if v.get("on_duty") and v.get("location")]
    trouble = [t for t in tasks if t["status"] in TROUBLE]
    locked = [t for t in tasks if t.get("code_lock") and t["status"] in CARRYING]
    open_tasks = [t for t in tasks if t["status"] in OPEN_TASKS]
    spots, legend = [], []
    kitchens: dict[str, dict] = {}
    for t in open_tasks + [t for t in tasks if t["status"] in ("assigned", "picked_up")]:
        place = t.get("pickup") or {}
        if place.get("location") and place.get("name") not in kitchens:
            kitchens[place.get("name")] = place
    for name, place in kitchens.items():
        spots.append(Spot("kitchen", place["location"]["lng"], place["location"]["lat"], name))
        legend.append(("kitchen", _("Kitchen: %(name)s", name=name)))
    for t in open_tasks + [t for t in tasks if t["status"] in ("assigned", "picked_up")]:
        drop = t.get("dropoff") or {}
        where = drop.get("location") or common.entrance(drop)  # lists hide the point: the building's entrance
        if where:
            spots.append(Spot("task", where["lng"], where["lat"], t["id"]))
            legend.append(("task", _("Meal to building %(building)s: %(state)s", building=drop.get("building", "?"),
                                     state=i18n.STAFF_DELIVERY.get(t["status"], t["status"]))))
    for v in on_duty:
        spots.append(Spot("volunteer", v["location"]["lng"], v["location"]["lat"], v["name"]))
        legend.append(("volunteer", _("Volunteer on duty: %(name)s", name=v["name"])))
    tiles = settings().map_tiles_url
    picture = dispatch_map(spots, _("Map of kitchens, meals and volunteers on duty"), tiles=tiles or None)
    return render_template("c/board.html", attention=attention, trouble=trouble, locked=locked, open_tasks=open_tasks,
                           on_duty=on_duty, deadlines=deadlines, deadlines_total=deadlines_total, picture=picture, legend=legend,
                           tiles_host=tiles.split("://", 1)[-1].split("/", 1)[0] if tiles else None,
                           communities=_mine(), zone_of=_zone, month=datetime.now(ZoneInfo(_zone())).strftime("%Y-%m"))


@bp.post("/tasks/<task_id>/assign")
def assign(task_id):
    volunteer = request.form.get("volunteer_id", "")
    if not volunteer:
        flash(_("Please choose a volunteer."))
    else:
        try:
            person().post(f"/api/v1/delivery/tasks/{task_id}/assign", {"volunteer_id": volunteer})
            flash(_("The delivery is assigned."))
        except ApiProblem as problem:
            flash(i18n.problem_text(problem))
    return redirect(_back(url_for("coordinator.board")), code=303)


def _task_action(task_id: str, path: str, body: dict | None, done: str):
    try:
        person().post(f"/api/v1/delivery/tasks/{task_id}/{path}", body)
        flash(done)
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(_back(url_for("coordinator.board")), code=303)


@bp.post("/tasks/<task_id>/welfare")
def close_welfare(task_id):
    """The committee closes a welfare check the volunteer could not finish, with what happened."""
    outcome, note = request.form.get("outcome", ""), request.form.get("note", "").strip()
    if outcome not in WELFARE_OUTCOMES or not note:
        flash(_("Please choose what happened and write a few words about it."))
        return redirect(_back(url_for("coordinator.board")), code=303)
    return _task_action(task_id, "welfare", {"outcome": outcome, "note": note[:500]},
                        _("The welfare check is closed with what happened."))


@bp.post("/tasks/<task_id>/unlock")
def unlock(task_id):
    """After speaking with the volunteer and the resident: codes may be entered again."""
    return _task_action(task_id, "codes/unlock", None, _("Codes can be entered again for this delivery."))


@bp.get("/hours")
def hours():
    """The month's served minutes in this person's communities, each entry with a form to correct it."""
    month, error = common.asked_month(_zone())  # the year and month lists, or the older ?month=YYYY-MM
    served = person().get("/api/v1/delivery/hours", month=month)
    names = {t["volunteer_id"]: t.get("name") or "?" for t in served.get("totals", [])}
    return render_template("c/hours.html", month=month, totals=served.get("totals", []),
                           entries=sorted(served.get("entries", []), key=lambda e: (names.get(e["volunteer_id"], ""),
                                                                                    e.get("date", ""))),
                           names=names, month_error=error), 400 if error else 200


@bp.post("/hours/<entry_id>/correct")
def correct_hours(entry_id):
    raw, reason = request.form.get("minutes", "").strip(), request.form.get("reason", "").strip()
    back = _back(url_for("coordinator.hours"))
    if not raw.isdigit() or not 0 <= int(raw) <= 24 * 60:
        flash(_("Please write the minutes as a whole number from 0 to 1440."))
    elif len(reason) < 5:
        flash(_("Please say why you correct the minutes (a few words)."))
    else:
        try:
            person().post(f"/api/v1/delivery/hours/{entry_id}/corrections", {"minutes": int(raw), "reason": reason[:500]})
            flash(_("The minutes are corrected to %(minutes)s; the entry keeps what they were and why.",
                    minutes=int(raw)))
        except ApiProblem as problem:
            flash(i18n.problem_text(problem))
    return redirect(back, code=303)


# -- one order: redeliver, remake, cancel, refund, pay at the desk ----------------------------------------------------

@bp.get("/orders/<order_id>")
def order(order_id):
    item = person().get(f"/api/v1/orders/{order_id}")
    return render_template("c/order.html", order=item, zone=_zone((item.get("address") or {}).get("community_id")))


def _order_action(order_id: str, path: str, body: dict, done: str):
    try:
        person().post(f"/api/v1/orders/{order_id}/{path}", body)
        flash(done)
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(_back(url_for("coordinator.order", order_id=order_id)), code=303)


@bp.post("/orders/<order_id>/redeliver")
def redeliver(order_id):
    form = request.form
    remake = form.get("remake") == "yes"
    reason = form.get("reason", "").strip() or (_("the meal is made again") if remake else _("sent out again"))
    body: dict = {"reason": reason[:200], "remake": remake}
    fix = {k: form.get(k, "").strip() for k in ("building", "room", "phone") if form.get(k, "").strip()}
    if fix:
        body["address"] = fix
    return _order_action(order_id, "redeliver", body,
                         _("The kitchen makes the meal again; then it goes out.") if remake
                         else _("The meal is sent out again; a volunteer will be offered it."))


@bp.post("/orders/<order_id>/cancel")
def cancel(order_id):
    reason = request.form.get("reason", "").strip() or _("cancelled by the residents' committee")
    return _order_action(order_id, "cancel", {"reason": reason[:200]},
                         _("The order is cancelled. Anything paid is refunded."))


@bp.post("/orders/<order_id>/refund")
def refund(order_id):
    raw, reason = request.form.get("amount", "").strip(), request.form.get("reason", "").strip()
    try:
        fen = int(round(float(raw) * 100))
        if fen <= 0:
            raise ValueError
    except (ValueError, OverflowError):  # "abc", "nan", "inf"
        flash(_("Please write the amount in yuan, for example 15 or 3.50."))
        return redirect(_back(url_for("coordinator.order", order_id=order_id)), code=303)
    if not reason:
        flash(_("Please say why you refund."))
        return redirect(_back(url_for("coordinator.order", order_id=order_id)), code=303)
    return _order_action(order_id, "refund", {"amount_fen": fen, "reason": reason[:200]},
                         _("%(amount)s is refunded.", amount=i18n.money(fen)))


@bp.post("/orders/<order_id>/pay")
def pay(order_id):
    payment = person().post(f"/api/v1/orders/{order_id}/pay")
    from urllib.parse import urlencode

    back = url_for("coordinator.order", order_id=order_id)
    return redirect(f"{payment['cashier_url']}?{urlencode({'redirect_url': back})}", code=303)


# -- verification queues ---------------------------------------------------------------------------------------------

@bp.get("/verify")
def verify():
    api = person()
    providers = api.get("/api/v1/catalog/providers", status="pending", per_page=50).get("items", [])
    volunteers = api.get("/api/v1/delivery/volunteers", status="pending", per_page=50).get("items", [])
    refused = api.get("/api/v1/delivery/volunteers", status="refused", per_page=50).get("items", [])
    return render_template("c/verify.html", providers=providers, volunteers=volunteers, refused=refused)


@bp.post("/providers/<provider_id>/<action>")
def provider_decision(provider_id, action):
    if action not in ("verify", "refuse"):
        abort(404)
    reason = request.form.get("reason", "").strip()
    try:
        if action == "verify":
            person().post(f"/api/v1/catalog/providers/{provider_id}/verify")
            flash(_("The provider is verified; its services can be ordered."))
        elif len(reason) < 3:
            flash(_("Please say why you refuse (a few words)."))
        else:
            person().post(f"/api/v1/catalog/providers/{provider_id}/suspend", {"reason": reason[:200]})
            flash(_("The provider is refused; it cannot publish until you verify it."))
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("coordinator.verify"), code=303)


@bp.post("/volunteers/<volunteer_id>/<action>")
def volunteer_decision(volunteer_id, action):
    if action not in ("verify", "refuse"):
        abort(404)
    reason = request.form.get("reason", "").strip()
    try:
        if action == "verify":
            person().post(f"/api/v1/delivery/volunteers/{volunteer_id}/verify")
            flash(_("The volunteer is verified and will be offered deliveries."))
        elif len(reason) < 3:
            flash(_("Please say why you refuse (a few words)."))
        else:
            person().post(f"/api/v1/delivery/volunteers/{volunteer_id}/refuse", {"reason": reason[:300]})
            flash(_("The volunteer is refused and reads your reason; you can still verify them later."))
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("coordinator.verify"), code=303)


# -- residents -------------------------------------------------------------------------------------------------------

@bp.route("/residents", methods=["GET", "POST"])
def residents():
    q = request.args.get("q", "").strip()
    error, form = None, request.form
    if request.method == "POST":
        body: dict = {"name": form.get("name", "").strip(), "community_id": form.get("community_id", "")}
        if form.get("username", "").strip():
            body["username"] = form["username"].strip()
        building, room = form.get("building", "").strip(), form.get("room", "").strip()
        if building or room:
            body["addresses"] = [{"label": "home", "community_id": body["community_id"], "building": building,
                                  "room": room}]
        if form.get("phone", "").strip():
            body["phone"] = form["phone"].strip()
        born = form.get("birth_year", "").strip()
        if born and not (born.isdigit() and len(born) == 4):
            error = _("Please write the year of birth as four digits, for example 1948.")
        elif born:
            body["birth_year"] = int(born)
        if form.get("contact_name", "").strip() or form.get("contact_phone", "").strip():
            body["emergency_contact"] = {"name": form.get("contact_name", "").strip(),
                                         "phone": form.get("contact_phone", "").strip(),
                                         "relation": form.get("contact_relation", "").strip()}
        if not body["name"]:
            error = _("Please write the elder's name.")
        if error is None:
            try:
                enrolled = person().post("/api/v1/accounts/residents", body)
                if form.get("elder70") == "yes":
                    person().put(f"/api/v1/accounts/{enrolled['id']}/tags",
                                 {"tags": ["elder70"], "checked": _("enrolled by the residents' committee")})
                flash(_("%(name)s is enrolled. You can order for them now.", name=enrolled["name"]))
                return redirect(url_for("coordinator.resident", account_id=enrolled["id"]), code=303)
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    found = None
    if q:
        try:
            found = person().get("/api/v1/accounts", q=q, per_page=30).get("items", [])
        except ApiProblem as problem:
            error = i18n.problem_text(problem)
    return render_template("c/residents.html", q=q, found=found, communities=_mine(), error=error,
                           form=form), 200 if error is None else 400


def _listings_for(community_id: str | None) -> list[dict]:
    if not community_id:
        return []
    return person().listings(community=community_id, category="charity_meals", per_page=20).get("items", [])


def _days(zone: str) -> list[date]:
    today = datetime.now(ZoneInfo(zone)).date()
    return [today + timedelta(days=i) for i in range(7)]


@bp.get("/residents/<account_id>")
def resident(account_id):
    detail = person().get(f"/api/v1/accounts/{account_id}")
    profile = detail.get("profile") or {}
    community_id = profile.get("community_id")
    zone = _zone(community_id)
    return render_template("c/resident.html", detail=detail, profile=profile, listings=_listings_for(community_id),
                           days=_days(zone), zone=zone, community=common.communities().get(community_id))


@bp.post("/residents/<account_id>/tags")
def tags(account_id):
    chosen = [t for t in request.form.getlist("tags") if t in i18n.TAGS]
    checked = request.form.get("checked", "").strip()
    if len(checked) < 3:
        flash(_("Please say how you checked (for example: saw the ID card)."))
    else:
        try:
            person().put(f"/api/v1/accounts/{account_id}/tags", {"tags": chosen, "checked": checked[:200]})
            flash(_("The eligibility is saved; it applies to the next order."))
        except ApiProblem as problem:
            flash(i18n.problem_text(problem))
    return redirect(url_for("coordinator.resident", account_id=account_id), code=303)


def _reachable_at(profile: dict, community_id: str) -> str:
    """The phone the volunteer calls: the elder's own, else the emergency contact's, else the committee's."""
    return (profile.get("phone") or (profile.get("emergency_contact") or {}).get("phone")
            or (common.communities().get(community_id) or {}).get("committee_phone") or common.CITY_HOTLINE)


@bp.post("/residents/<account_id>/order")
def order_for(account_id):
    detail = person().get(f"/api/v1/accounts/{account_id}")
    profile = detail.get("profile") or {}
    addresses = profile.get("addresses") or []
    form = request.form
    listing_id, day, slot = form.get("listing_id", ""), form.get("day", ""), form.get("slot", "lunch")
    if not addresses:
        flash(_("Please save the elder's building and room first."))
    elif not listing_id or not day:
        flash(_("Please choose a meal and a day."))
    else:
        address = addresses[0]
        body = {"listing_id": listing_id, "quantity": 1, "slot_date": day, "slot": slot, "for_resident_id": account_id,
                "address": {"community_id": address["community_id"], "building": address["building"],
                            "room": address["room"], "contact_name": detail["name"],
                            "phone": _reachable_at(profile, address["community_id"]),
                            "location": common.entrance(address)}}
        if profile.get("emergency_contact"):
            body["address"]["emergency_contact"] = profile["emergency_contact"]
        try:
            placed = person().place(body)
            flash(_("Ordered for %(name)s.", name=detail["name"]))
            return redirect(url_for("coordinator.order", order_id=placed["id"]), code=303)
        except ApiProblem as problem:
            flash(i18n.problem_text(problem))
    return redirect(url_for("coordinator.resident", account_id=account_id), code=303)


# -- downloads and figures -------------------------------------------------------------------------------------------

@bp.get("/downloads")
def downloads():
    return render_template("c/downloads.html", month=common.this_month(_zone()))


def _file(path: str, **params) -> Response:
    content, mimetype, disposition = person().download(path, **params)
    return Response(content, headers={"Content-Type": mimetype, "Content-Disposition": disposition,
                                      "Cache-Control": "no-store"})


@bp.get("/downloads/statement")
def statement_file():
    month, party = _download_month(), request.args.get("party", "").strip() or "resident"
    if month is None:
        return render_template("c/downloads.html", month=common.this_month(_zone()), error=_("Please choose a month.")), 400
    return _file("/api/v1/payments/statements", party=party, month=month, format="csv")


@bp.get("/downloads/hours")
def hours_file():
    month = _download_month()
    if month is None:
        return render_template("c/downloads.html", month=common.this_month(_zone()), error=_("Please choose a month.")), 400
    return _file("/api/v1/delivery/hours/export", month=month)


def _download_month() -> str | None:
    """The month a download asks for (the lists, or ?month=YYYY-MM); None when none or no month was given."""
    month, error = common.asked_month(_zone())
    return None if error or not request.args.get("month", "").strip() else month


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@bp.get("/figures")
def figures():
    """This week (Monday to today, in the community's zone): meals delivered each day, the share delivered before
    the slot ended, and the open deadlines."""
    zone = ZoneInfo(_zone())
    today = datetime.now(zone).date()
    monday = today - timedelta(days=today.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    served = {d: 0 for d in days}
    on_time = {d: 0 for d in days}
    api = person()
    for page in range(1, 6):
        found = api.get("/api/v1/delivery/tasks", status="delivered", per_page=50, page=page)
        for t in found.get("items", []):
            at = _at(t.get("delivered_at"))
            if at is None:
                continue
            local = at.astimezone(zone).date()
            if local in served:
                served[local] += 1
                end = _at(t.get("slot_end"))
                on_time[local] += 1 if end is None or at <= end else 0
        if page * 50 >= found.get("total", 0):
            break
    open_orders = [o for o in api.get("/api/v1/orders", per_page=50).get("items", [])
                   if o.get("deadline") and o["status"] not in ("completed", "cancelled")]
    total = sum(served.values())
    share = round(100 * sum(on_time.values()) / total) if total else None
    labels = [i18n.day(d).split(" ")[-1] if i18n.choose_locale() != "en" else i18n.day(d).split(" ")[0] for d in days]
    meals_chart = bars(list(zip(labels, [served[d] for d in days])), _("Meals delivered each day this week"))
    share_chart = bars(list(zip(labels, [round(100 * on_time[d] / served[d]) if served[d] else 0 for d in days])),
                       _("Share delivered on time each day (per cent)"), "%", most=100)
    return render_template("c/figures.html", total=total, share=share, open_orders=open_orders, meals_chart=meals_chart,
                           share_chart=share_chart, monday=monday, zone=_zone())
