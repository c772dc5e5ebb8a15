"""The resident's pages: home (with the elder's one large action), search, a listing, ordering with a saved
address, paying at the cashier, my orders, an order with its timeline, tracking, cancel and reviews.
Thin: each reads or does one thing through the API and renders it."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import i18n
from ..adapters.gateway import ApiProblem, SignedOut
from ..sessions import gateway, person
from . import common

bp = Blueprint("resident", __name__)
DAYS_AHEAD = 7
TAKEN_ON = ("accepted", "ready", "delivering", "service_done")  # a resident may cancel only before the kitchen accepts
ROLE_HOMES = {"volunteer": "volunteer.home", "provider": "provider.home",  # each role's own main page
              "coordinator": "coordinator.board", "admin": "admin.home"}


def _signed_in() -> None:
    if not g.account:
        raise SignedOut()


def _today(zone: str | None) -> date:
    return datetime.now(ZoneInfo(zone or i18n.FALLBACK_ZONE)).date()


def _address_choices() -> list[dict]:
    return [a for a in common.profile().get("addresses") or [] if common.communities().get(a.get("community_id"))]


def _order_address(address: dict) -> dict:
    detail, p = common.me(), common.profile()
    out = {"community_id": address["community_id"], "building": address["building"], "room": address["room"],
           "contact_name": detail["name"], "phone": p.get("phone") or "", "location": common.entrance(address)}
    if p.get("emergency_contact"):
        out["emergency_contact"] = p["emergency_contact"]
    return out


def _usual_lunch() -> dict | None:
    """The canteen lunch this person ordered last, else the first charity lunch of their community."""
    for order in person().orders(per_page=10).get("items", []):
        if order.get("listing", {}).get("category") == "charity_meals":
            return {"id": order["listing"]["id"], "title": order["listing"]["title"],
                    "provider": order.get("provider", {}).get("name")}
    community = common.home_community()
    if community is None:
        return None
    found = person().listings(community=community["id"], category="charity_meals", per_page=1).get("items", [])
    return {"id": found[0]["id"], "title": found[0]["title"], "provider": (found[0].get("provider") or {}).get("name")} \
        if found else None


def _next_open_slot(listing_id: str, zone: str | None, slot_name: str | None = None) -> tuple[str, dict] | None:
    """Today's or tomorrow's first slot that still takes orders."""
    today = _today(zone)
    days = person().availability(listing_id, today.isoformat(), (today + timedelta(days=1)).isoformat()).get("days", [])
    now = datetime.now(ZoneInfo("UTC"))
    for d in days:
        for slot in d.get("slots", []):
            if slot_name and slot["name"] != slot_name:
                continue
            cutoff = datetime.fromisoformat(slot["cutoff_at"].replace("Z", "+00:00")) if slot.get("cutoff_at") else None
            if (slot.get("remaining") or 0) > 0 and (cutoff is None or cutoff > now):
                return d["date"], slot
    return None


@bp.get("/")
def home():
    if not g.account:
        return render_template("welcome.html")
    if g.account["role"] in ROLE_HOMES:
        return redirect(url_for(ROLE_HOMES[g.account["role"]]))
    p = common.profile()
    community = common.home_community()
    zone = community.get("timezone") if community else None
    lunch = next_slot = None
    if community and _address_choices():
        lunch = _usual_lunch()
        next_slot = _next_open_slot(lunch["id"], zone, "lunch") if lunch else None
    nearby = []
    if community:
        address = (_address_choices() or [{}])[0]
        spot = common.entrance(address) if address else community["center"]
        nearby = person().listings(near=f"{spot['lng']},{spot['lat']}", per_page=8).get("items", [])
    return render_template("r/home.html", categories=gateway().categories(), nearby=nearby, lunch=lunch,
                           next_slot=next_slot, zone=zone, profile=p, community=community,
                           today_iso=_today(zone).isoformat())


@bp.post("/r/lunch")
def quick_lunch():
    """The elder's one large action: the usual lunch, the next open day, one portion, the saved address."""
    _signed_in()
    addresses = _address_choices()
    lunch = _usual_lunch()
    if not addresses or lunch is None:
        flash(_("Please save your address first; then lunch is one tap away."))
        return redirect(url_for("everyone.profile"))
    community = common.communities()[addresses[0]["community_id"]]
    found = _next_open_slot(lunch["id"], community.get("timezone"), "lunch")
    if found is None:
        flash(_("Lunch is full or closed for today and tomorrow. Please call the committee."))
        return redirect(url_for("resident.home"))
    slot_date, slot = found
    order = person().place({"listing_id": lunch["id"], "quantity": 1, "slot_date": slot_date, "slot": slot["name"],
                            "address": _order_address(addresses[0])})
    return redirect(url_for("resident.order", order_id=_settled(order)["id"]))


def _settled(order: dict) -> dict:
    """An order is placed at once and held by the kitchen a moment later: wait for that (a few seconds at most),
    so the next page can offer the payment."""
    deadline = time.monotonic() + 6
    while order["status"] == "placed" and time.monotonic() < deadline:
        time.sleep(0.3)
        order = person().order(order["id"])
    return order


@bp.get("/r/search")
def search():
    _signed_in()
    args = request.args
    params = {"q": args.get("q", "").strip() or None, "category": args.get("category") or None,
              "open_on": args.get("day") or None, "per_page": 20}
    problems = []
    for name, key in (("min_price", "min"), ("max_price", "max")):
        raw = args.get(key, "").strip()
        if raw:
            params[name] = common.fen(raw)
            if params[name] is None:
                problems.append(_("Please write the price in yuan, for example 15 or 3.50."))
    community = common.home_community()
    if community and not params["q"]:
        params["community"] = community["id"]
    results = None if problems else person().listings(**params)
    today = _today(community.get("timezone") if community else None)
    return render_template("r/search.html", results=results, categories=gateway().categories(), args=args,
                           problems=problems, days=[today + timedelta(days=i) for i in range(DAYS_AHEAD)]), \
        200 if not problems else 400


def my_price(listing: dict) -> tuple[int, dict | None]:
    """What this person pays for one: the cheapest tier their verified tags qualify for (orders prices the same
    way, and the order shows its own amount), else the full price."""
    tags = set(common.me().get("tags") or [])
    tiers = [t for t in listing.get("tiers") or [] if t["tag"] in tags]
    tier = min(tiers, key=lambda t: t["resident_pays_fen"]) if tiers else None
    return (tier["resident_pays_fen"] if tier else listing["price_fen"]), tier


@bp.get("/r/listings/<listing_id>")
def listing(listing_id):
    _signed_in()
    item = person().listing(listing_id)
    zone = item.get("timezone")
    today = _today(zone)
    availability = person().availability(listing_id, today.isoformat(), (today + timedelta(days=DAYS_AHEAD - 1)).isoformat())
    provider_id = (item.get("provider") or {}).get("id")
    provider = person().provider(provider_id) if provider_id else {}
    reviews = person().reviews(provider_id).get("items", [])[:5] if provider_id else []
    scorecard = person().scorecard(provider_id) if provider_id else {}
    pays, tier = my_price(item)
    return render_template("r/listing.html", item=item, availability=availability, provider=provider, reviews=reviews,
                           scorecard=scorecard, pays=pays, tier=tier, zone=zone)


@bp.route("/r/listings/<listing_id>/order", methods=["GET", "POST"])
def order_form(listing_id):
    _signed_in()
    item = person().listing(listing_id)
    addresses = _address_choices()
    error = None
    if request.method == "POST":
        form = request.form
        slot_date, _sep, slot = form.get("when", "").partition("|")
        quantity = form.get("quantity", "1")
        index = form.get("address", "0")
        if not slot_date or not slot:
            error = _("Please choose a day and a time.")
        elif not quantity.isdigit() or not 1 <= int(quantity) <= (item.get("max_quantity") or 10):
            error = _("Please choose how many (1 to %(most)s).", most=item.get("max_quantity") or 10)
        elif not index.isdigit() or int(index) >= len(addresses):
            error = _("Please choose one of your saved addresses.")
        else:
            try:
                order = person().place({"listing_id": listing_id, "quantity": int(quantity), "slot_date": slot_date,
                                        "slot": slot, "address": _order_address(addresses[int(index)]),
                                        "notes": form.get("notes", "").strip()[:500]})
                return redirect(url_for("resident.order", order_id=_settled(order)["id"]))
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    today = _today(item.get("timezone"))
    availability = person().availability(listing_id, today.isoformat(), (today + timedelta(days=DAYS_AHEAD - 1)).isoformat())
    pays, tier = my_price(item)
    return render_template("r/order_form.html", item=item, availability=availability, addresses=addresses,
                           communities=common.communities(), error=error, pays=pays, tier=tier,
                           zone=item.get("timezone")), 200 if error is None else 400


@bp.get("/r/orders")
def orders():
    _signed_in()
    page = person().orders(per_page=30)
    return render_template("r/orders.html", orders=page.get("items", []), zone=common.zone())


def _zone_of(order: dict) -> str | None:
    return (common.communities().get(order.get("address", {}).get("community_id")) or {}).get("timezone")


@bp.get("/r/orders/<order_id>")
def order(order_id):
    _signed_in()
    item = i18n.as_shown(person().order(order_id))  # a failed delivery says so, not "on its way to you"
    return render_template("r/order.html", order=item, zone=_zone_of(item))


@bp.get("/r/orders/<order_id>/live")
def order_live(order_id):
    """The part of the order page that changes (htmx polls it while the order moves)."""
    _signed_in()
    item = i18n.as_shown(person().order(order_id))
    return render_template("r/_order_live.html", order=item, zone=_zone_of(item))


@bp.post("/r/orders/<order_id>/pay")
def pay(order_id):
    _signed_in()
    payment = person().pay(order_id)
    back = url_for("resident.order", order_id=order_id)
    return redirect(f"{payment['cashier_url']}?{urlencode({'redirect_url': back})}", code=303)


@bp.post("/r/orders/<order_id>/cancel")
def cancel(order_id):
    _signed_in()
    try:
        person().cancel(order_id, "cancelled by the resident")
        flash(_("Your order is cancelled. Anything you paid is refunded."))
    except ApiProblem as problem:
        too_late = problem.status in (403, 409) and person().order(order_id).get("status") in TAKEN_ON
        flash(_("The kitchen has already started on it, so it can no longer be cancelled here. If you need to, "
                "please call the committee.") if too_late else i18n.problem_text(problem))
    return redirect(url_for("resident.order", order_id=order_id), code=303)


@bp.post("/r/orders/<order_id>/confirm")
def confirm(order_id):
    """The provider says the job at home is done; the resident says so too (otherwise it completes by itself in
    3 days, and a job not done is a call to the committee)."""
    _signed_in()
    try:
        person().complete(order_id)
        flash(_("Thank you. The job is confirmed as done; you can review it below."))
    except ApiProblem as problem:
        flash(i18n.problem_text(problem))
    return redirect(url_for("resident.order", order_id=order_id), code=303)


@bp.post("/r/orders/<order_id>/review")
def review(order_id):
    _signed_in()
    direction = {"provider": "resident_to_provider", "volunteer": "resident_to_volunteer"}.get(request.form.get("about"))
    stars = request.form.get("stars", "")
    if direction is None or stars not in ("1", "2", "3", "4", "5"):
        flash(_("Please choose from one to five stars."))
    else:
        try:
            person().review(order_id, direction, int(stars), request.form.get("text", "").strip()[:1000])
            flash(_("Thank you for your review."))
        except ApiProblem as problem:
            # her order is completed (the form shows only then), but reviews may not have heard of it yet: the
            # API cannot tell that from a stranger's order for a moment, and says "not found" or "not completed"
            catching_up = problem.status == 404 or problem.code == "not_completed"
            flash(_("Reviews open a moment after the order is completed. Please send it again in a minute.")
                  if catching_up and person().order(order_id).get("status") == "completed"
                  else i18n.problem_text(problem))
    return redirect(url_for("resident.order", order_id=order_id), code=303)


@bp.get("/r/orders/<order_id>/track")
def track(order_id):
    _signed_in()
    view = person().track(order_id)
    if not view.get("order"):
        abort(404)
    return render_template("r/track.html", view=view, order=i18n.as_shown(view["order"]), zone=_zone_of(view["order"]))


@bp.get("/r/orders/<order_id>/track/live")
def track_live(order_id):
    _signed_in()
    view = person().track(order_id)
    if not view.get("order"):
        abort(404)
    return render_template("r/_track_live.html", view=view, order=i18n.as_shown(view["order"]),
                           zone=_zone_of(view["order"]))
