"""Family (a resident's side): ask to be linked to an elder, approve a relative's request, order for an elder once
the link is approved (at the elder's price), and see the elder's orders. The API decides: a link counts only once
the elder or the committee approved it."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import i18n
from ..adapters.gateway import ApiProblem, SignedOut
from ..sessions import person
from . import common

bp = Blueprint("family", __name__, url_prefix="/r/family")


@bp.before_request
def _residents_only():
    if not g.get("account"):
        raise SignedOut()
    if g.account["role"] != "resident":
        abort(404)


def _elders() -> dict[str, dict]:
    """The elders I may order for (approved links), as the API gives them."""
    return {r["id"]: r for r in common.me().get("family_of") or []}


@bp.route("/", methods=["GET", "POST"])
def home():
    error = None
    if request.method == "POST":
        username, relation = request.form.get("elder_username", "").strip(), request.form.get("relation", "").strip()
        if not username or not relation:
            error = _("Please write the elder's username and how you are related.")
        else:
            try:
                person().post("/api/v1/me/family", {"elder_username": username, "relation": relation[:20]})
                flash(_("Your request is sent. The elder or the residents' committee approves it."))
                return redirect(url_for("family.home"), code=303)
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    my_id = common.me()["id"]
    links = person().get("/api/v1/me/family")
    elders = _elders()
    orders = [o for o in person().orders(per_page=50).get("items", []) if o.get("resident_id") in elders]
    return render_template("r/family.html", links=links, my_id=my_id, elders=elders, orders=orders, error=error,
                           zone=common.zone()), 200 if error is None else 400


@bp.post("/<link_id>/approve")
def approve(link_id):
    try:
        person().post(f"/api/v1/family/{link_id}/approve")
        flash(_("Approved: your relative can order for you now."))
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("family.home"), code=303)


@bp.route("/<elder_id>/order", methods=["GET", "POST"])
def order_for(elder_id):
    elder = _elders().get(elder_id)
    if elder is None:
        abort(404)
    communities = common.communities()
    meals = []
    for community in communities.values():
        for item in person().listings(community=community["id"], category="charity_meals", per_page=10).get("items", []):
            meals.append({**item, "community": community})
    error, form = None, request.form
    if request.method == "POST":
        community = communities.get(form.get("community_id", ""))
        building, room = form.get("building", "").strip(), form.get("room", "").strip()
        phone, listing_id, slot_date = form.get("phone", "").strip(), form.get("listing_id", ""), form.get("day", "")
        if community is None or not building or not room:
            error = _("Please give the elder's community, building and room.")
        elif not phone:
            error = _("Please give a phone number the volunteer can call.")
        elif not listing_id or not slot_date:
            error = _("Please choose a meal and a day.")
        else:
            address = {"community_id": community["id"], "building": building, "room": room}
            try:
                placed = person().place({
                    "listing_id": listing_id, "quantity": 1, "slot_date": slot_date, "slot": "lunch",
                    "for_resident_id": elder_id,
                    "address": {**address, "contact_name": elder["name"], "phone": phone,
                                "location": common.entrance(address)}})
                flash(_("Ordered for %(name)s.", name=elder["name"]))
                return redirect(url_for("resident.order", order_id=placed["id"]), code=303)
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    zone = common.zone() or i18n.FALLBACK_ZONE
    today = datetime.now(ZoneInfo(zone)).date()
    return render_template("r/family_order.html", elder=elder, meals=meals, communities=communities, form=form,
                           days=[today + timedelta(days=i) for i in range(7)], error=error), \
        200 if error is None else 400
