"""The provider's pages: profile and verification state; listings with slots, capacity, cut-off, dated exceptions
and price tiers (create and edit); the board of today's and the coming days' orders per slot, where new ones
appear without reloading with a visible and audible alert; accept, decline with a reason, the pickup code, mark
ready; on-site jobs (mark done); reviews with replies; the scorecard.

Live board: a small fragment (`/p/live`, htmx) fetched again when the canteen's live stream carries a message, as
the volunteer's offers are (static/live.js); a script compares the new orders with those already shown and sounds
a chime and shows a banner in words. Thin routes."""
from __future__ import annotations

import re
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from .. import i18n
from ..adapters.gateway import ApiProblem, SignedOut
from ..sessions import gateway, person
from . import common

bp = Blueprint("provider", __name__, url_prefix="/p")
OPEN = ("paid", "accepted", "ready", "delivering", "service_done")
KINDS = {"hospital_canteen": _l("hospital canteen"), "merchant": _l("shop or restaurant"),
         "craftsman": _l("craftsman"), "volunteer_expert": _l("volunteer expert")}
FULFILMENTS = {"delivered": _l("delivered by volunteers"), "on_site": _l("done at the resident's home"),
               "remote": _l("done remotely")}
STATES = {"pending": _l("Waiting for the residents' committee to verify you"), "verified": _l("Verified"),
          "suspended": _l("Paused by the residents' committee")}
LISTING_STATES = {"draft": _l("draft (not shown)"), "published": _l("published"), "paused": _l("paused"),
                  "withdrawn": _l("withdrawn")}
SLOT_ROWS, TIER_ROWS = 3, 2
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _provider() -> dict:
    if not g.account:
        raise SignedOut()
    if g.account["role"] != "provider":
        abort(404)
    try:
        me = person().my_provider()
    except ApiProblem as problem:
        if problem.status == 404:  # no profile yet: the profile page creates it
            return {}
        raise
    g.role_community = (me.get("community_ids") or [None])[0]
    return me


def _zone(provider: dict) -> str:
    community = common.communities().get((provider.get("community_ids") or [None])[0]) or {}
    return community.get("timezone") or i18n.FALLBACK_ZONE


# -- the board ---------------------------------------------------------------------------------------

@bp.get("")
def home():
    me = _provider()
    if not me:
        return redirect(url_for("provider.profile"))
    return render_template("p/home.html", p=me, states=STATES, **_board(me))


def _board(me: dict) -> dict:
    """Open orders from today on, by day and slot (the API lists newest first; the board reads by time)."""
    zone = _zone(me)
    today = datetime.now(ZoneInfo(zone)).date().isoformat()
    items = person().orders(per_page=50).get("items", []) if me.get("status") == "verified" else []
    current = sorted((o for o in items if o["status"] in OPEN and o["slot"]["date"] >= today),
                     key=lambda o: (o["slot"]["date"], o["slot"].get("start") or "", o["created_at"]))
    groups = [((d, s), list(orders)) for (d, s), orders in groupby(current, key=lambda o: (o["slot"]["date"], o["slot"]["name"]))]
    new_ids = [o["id"] for o in current if o["status"] == "paid"]
    return {"groups": groups, "new_ids": new_ids, "zone": zone, "today": today,
            "communities": common.communities()}


@bp.get("/live")
def live():
    me = _provider()
    if not me:
        return "", 204
    return render_template("p/_live.html", p=me, **_board(me))


def _order_action(order_id: str, action, done: str):
    _provider()
    try:
        action()
        flash(done)
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("provider.home") + f"#o-{order_id}", code=303)


@bp.post("/orders/<order_id>/accept")
def accept(order_id):
    return _order_action(order_id, lambda: person().accept_order(order_id),
                         _("Accepted. Give the pickup code to the volunteer who comes for it."))


@bp.post("/orders/<order_id>/decline")
def decline(order_id):
    reason = request.form.get("reason", "").strip()[:200]
    if not reason:
        _provider()
        flash(_("Please say why you cannot take this order: the resident reads it."))
        return redirect(url_for("provider.home") + f"#o-{order_id}", code=303)
    return _order_action(order_id, lambda: person().decline_order(order_id, reason),
                         _("Declined. The resident is told and refunded."))


@bp.post("/orders/<order_id>/ready")
def ready(order_id):
    return _order_action(order_id, lambda: person().ready_order(order_id),
                         _("Marked ready. A volunteer is on the way."))


@bp.post("/orders/<order_id>/done")
def done(order_id):
    return _order_action(order_id, lambda: person().done_order(order_id),
                         _("Marked done. The resident is asked to confirm."))


# -- profile -----------------------------------------------------------------------------------------

@bp.route("/profile", methods=["GET", "POST"])
def profile():
    me = _provider()
    error = None
    form = request.form
    if request.method == "POST":
        community = common.communities().get(form.get("community_id", ""))
        body = {"name": form.get("name", "").strip(), "phone": form.get("phone", "").strip(),
                "address": form.get("address", "").strip()}
        if form.get("contact_name", "").strip():
            body["contact_name"] = form["contact_name"].strip()
        if not me:
            body["kind"] = form.get("kind", "")
        if not body["name"]:
            error = _("Please write the name residents know you by.")
        elif not body["address"]:
            error = _("Please write your address: volunteers come there for the meals.")
        elif community is None:
            error = _("Please choose the community you serve.")
        elif not me and body["kind"] not in KINDS:
            error = _("Please choose what kind of provider you are.")
        else:
            body["community_ids"] = sorted({community["id"], *(me.get("community_ids") or [])}) if me else [community["id"]]
            body["location"] = common.entrance({"community_id": community["id"], "building": form.get("building", "").strip()})
            try:
                (person().edit_provider if me else person().create_provider)(body)
                flash(_("Your profile is saved."))
                return redirect(url_for("provider.profile"), code=303)
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    return render_template("p/profile.html", p=me, error=error, kinds=KINDS, states=STATES,
                           communities=common.communities()), 200 if error is None else 400


# -- listings ----------------------------------------------------------------------------------------

@bp.get("/listings")
def listings():
    me = _provider()
    if not me:
        return redirect(url_for("provider.profile"))
    return render_template("p/listings.html", p=me, items=person().my_listings().get("items", []),
                           fulfilments=FULFILMENTS, listing_states=LISTING_STATES)


def parse_listing(form, communities: dict) -> tuple[dict, list[str]]:
    """The listing form as the API's body, and a sentence for each thing to correct (naming the field)."""
    problems: list[str] = []
    body = {"title": form.get("title", "").strip(), "description": form.get("description", "").strip()[:2000],
            "unit": form.get("unit", "").strip() or _("portion"), "status": form.get("status", "published")}
    if not body["title"]:
        problems.append(_("Please write a title."))
    if body["status"] not in LISTING_STATES:
        body["status"] = "published"
    price = common.fen(form.get("price", ""))
    if price is None:
        problems.append(_("Please write the price in yuan, for example 15 or 3.50."))
    else:
        body["price_fen"] = price
    body["community_ids"] = [c for c in form.getlist("community_ids") if c in communities]
    if not body["community_ids"]:
        problems.append(_("Please choose at least one community you serve with it."))
    slots = []
    for i in range(SLOT_ROWS):
        name, start, end = (form.get(f"slot{i}_{k}", "").strip() for k in ("name", "start", "end"))
        capacity, cutoff = form.get(f"slot{i}_capacity", "").strip(), form.get(f"slot{i}_cutoff", "").strip()
        if not (name or start or end or capacity):
            continue
        if not (name and HHMM.match(start) and HHMM.match(end) and start < end
                and re.fullmatch(r"[0-9]{1,6}", capacity) and int(capacity) >= 1 and (not cutoff or HHMM.match(cutoff))):
            problems.append(_("Time slot %(n)s: please give its name, a start and an end like 11:00, how many it can "
                              "take (1 or more) and, if you like, an order cut-off like 09:30.", n=i + 1))
            continue
        slots.append({"name": name, "start": start, "end": end, "capacity": int(capacity), "cutoff": cutoff or None})
    body["slots"] = slots
    exceptions = []
    for n, line in enumerate(form.get("exceptions", "").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        day, rest = parts[0], parts[1:]
        slot = rest.pop(0) if rest and not (rest[0] in ("closed", "关闭") or rest[0].startswith("+")) else None
        change = rest[0] if len(rest) == 1 else ""
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", day) or not (change in ("closed", "关闭") or re.match(r"^\+[1-9]\d*$", change)):
            problems.append(_("Exception line %(n)s: write a day, the slot if only one, then \"closed\" or +extra "
                              "portions, for example 2026-10-01 lunch closed.", n=n))
            continue
        exceptions.append({"date": day, "slot": slot, **({"closed": True} if change in ("closed", "关闭")
                                                           else {"extra": int(change[1:])})})
    body["exceptions"] = exceptions
    tiers = []
    for i in range(TIER_ROWS):
        tag, pays = form.get(f"tier{i}_tag", "").strip(), form.get(f"tier{i}_pays", "").strip()
        funder, share = form.get(f"tier{i}_funder", "").strip(), form.get(f"tier{i}_share", "").strip()
        if not (tag or pays or funder or share):
            continue
        pays_fen, share_fen = common.fen(pays), (common.fen(share) if share else 0)
        if tag not in i18n.TAGS or pays_fen is None or share_fen is None or (share_fen and not funder):
            problems.append(_("Price tier %(n)s: choose who it is for, what they pay in yuan, and who pays the rest "
                              "and how much.", n=i + 1))
            continue
        tiers.append({"tag": tag, "resident_pays_fen": pays_fen,
                      "shares": [{"funder": funder, "amount_fen": share_fen}] if funder else []})
    body["tiers"] = tiers
    return body, problems


@bp.route("/listings/new", methods=["GET", "POST"])
@bp.route("/listings/<listing_id>/edit", methods=["GET", "POST"])
def listing_form(listing_id=None):
    me = _provider()
    if not me:
        return redirect(url_for("provider.profile"))
    item = next((i for i in person().my_listings().get("items", []) if i["id"] == listing_id), None) if listing_id else None
    if listing_id and item is None:
        abort(404)
    problems: list[str] = []
    if request.method == "POST":
        body, problems = parse_listing(request.form, common.communities())
        if not problems:
            try:
                if item:
                    person().edit_listing(listing_id, body)
                else:
                    body.update(category=request.form.get("category", ""),
                                fulfilment=request.form.get("fulfilment", ""))
                    person().create_listing(body)
                flash(_("The listing is saved."))
                return redirect(url_for("provider.listings"), code=303)
            except ApiProblem as problem:
                problems.append(i18n.problem_text(problem))
    return render_template("p/listing_form.html", p=me, item=item, problems=problems, categories=gateway().categories(),
                           communities=common.communities(), fulfilments=FULFILMENTS, listing_states=LISTING_STATES,
                           slot_rows=SLOT_ROWS, tier_rows=TIER_ROWS), 200 if not problems else 400


# -- the monthly statement ---------------------------------------------------------------------------

def _month(me: dict) -> tuple[str, str | None]:
    """The year and month lists, or the older ?month=YYYY-MM; else this month in the provider's zone."""
    return common.asked_month(_zone(me))


@bp.get("/statement")
def statement():
    me = _provider()
    if not me:
        return redirect(url_for("provider.profile"))
    month, error = _month(me)
    return render_template("p/statement.html", p=me, month=month, body=person().statement(month), zone=_zone(me),
                           parties={"resident": _("Residents")}, month_error=error), 400 if error else 200


@bp.get("/statement.csv")
def statement_csv():
    me = _provider()
    if not me:
        return redirect(url_for("provider.profile"))
    month, error = _month(me)
    if error:
        return statement()
    return Response(person().statement_csv(month), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="linli-statement-{month}.csv"'})


# -- reviews and scorecard ---------------------------------------------------------------------------

@bp.get("/reviews")
def reviews():
    me = _provider()
    if not me:
        return redirect(url_for("provider.profile"))
    return render_template("p/reviews.html", p=me, reviews=person().reviews(me["id"]).get("items", []),
                           scorecard=person().scorecard(me["id"]), zone=_zone(me))


@bp.post("/reviews/<review_id>/reply")
def reply(review_id):
    _provider()
    text = request.form.get("text", "").strip()[:1000]
    if not text:
        flash(_("Please write your reply."))
    else:
        try:
            person().reply(review_id, text)
            flash(_("Your reply is published under the review."))
        except ApiProblem as problem:
            flash(i18n.problem_text(problem))
    return redirect(url_for("provider.reviews") + f"#r-{review_id}", code=303)
