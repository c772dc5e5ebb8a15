"""Pages for everyone: sign up, sign in, sign out, language, elder mode, profile, what needs my attention."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import i18n, store
from ..adapters.gateway import ApiProblem
from ..sessions import gateway, person, signed_in
from . import common

bp = Blueprint("everyone", __name__)
ELDER_AGE = 70


def elder_mode() -> bool:
    """On when the person switched it on; by default for elders (the committee's elder70 tag, or 70 and over)."""
    chosen = g.get("preferences", {}).get("elder")
    if chosen is not None:
        return bool(chosen)
    if not g.get("account"):
        return bool(session.get("elder"))
    try:
        detail = common.me()
    except ApiProblem:
        return False
    born = (detail.get("profile") or {}).get("birth_year")
    return "elder70" in (detail.get("tags") or []) or bool(born and date.today().year - born >= ELDER_AGE)


def committee_phone() -> str:
    """The number a resident (or a volunteer, a provider) calls: their community's committee; for a resident with
    none on file yet, the city's hotline. Staff are the committee: they get no call button (see staff_phones)."""
    account = g.get("account")
    if account and account["role"] in ("coordinator", "admin"):
        return ""
    try:
        community = common.home_community() if account else None
    except ApiProblem:
        community = None
    return (community or {}).get("committee_phone") or common.CITY_HOTLINE


def staff_phones() -> list[tuple[str, str]]:
    """A coordinator's own committees' numbers (the ones residents are given), for the header; an admin's none."""
    account = g.get("account")
    if not account or account["role"] != "coordinator":
        return []
    try:
        every, mine = common.communities(), common.me().get("communities") or []
    except ApiProblem:
        return []
    return [(every[c]["name"], every[c]["committee_phone"]) for c in mine
            if c in every and every[c].get("committee_phone")][:3]


def _safe_next(target: str | None) -> str:
    return target if common.local_path(target) else url_for("resident.home")


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    error = None
    if request.method == "POST":
        try:
            signed_in(gateway().sign_in(request.form.get("username", "").strip(), request.form.get("password", "")))
            return redirect(_safe_next(request.args.get("next")))
        except ApiProblem as problem:
            error = i18n.problem_text(problem)
    return render_template("signin.html", error=error), 200 if error is None else 400


@bp.route("/signup", methods=["GET", "POST"])
def sign_up():
    error = None
    if request.method == "POST":
        role = request.form.get("role", "resident")
        try:
            signed_in(gateway().sign_up(request.form.get("username", "").strip(), request.form.get("password", ""),
                                        request.form.get("name", "").strip(),
                                        role if role in ("resident", "provider", "volunteer") else "resident"))
            return redirect(url_for({"volunteer": "volunteer.register", "provider": "provider.profile"}.get(
                role, "everyone.profile")))
        except ApiProblem as problem:
            error = i18n.problem_text(problem)
    return render_template("signup.html", error=error), 200 if error is None else 400


@bp.post("/signout")
def sign_out():
    tokens = store.sign_out(store.database(), session.sid)
    if tokens:
        try:
            gateway().sign_out(tokens["refresh"])
        except ApiProblem:
            pass  # already revoked or the gateway is away: this browser forgets the tokens either way
    session.clear()
    return redirect(url_for("everyone.sign_in"))


@bp.post("/prefs")
def preferences():
    values = {}
    if request.form.get("lang") in i18n.LANGUAGES:
        values["lang"] = request.form["lang"]
    if request.form.get("elder") in ("on", "off"):
        values["elder"] = request.form["elder"] == "on"
    if g.account:
        store.set_preference(store.database(), g.account["id"], **values)
    else:
        session.update(values)
    return redirect(_safe_next(request.form.get("back")))


@bp.route("/me", methods=["GET", "POST"])
def profile():
    if not g.account:
        raise _sign_in_first()
    error = None
    if request.method == "POST":
        form = request.form
        address = {"label": "home", "community_id": form.get("community_id", ""), "building": form.get("building", "").strip(),
                   "room": form.get("room", "").strip()}
        body = {"community_id": address["community_id"], "addresses": [address]}
        if form.get("phone", "").strip():
            body["phone"] = form["phone"].strip()
        if form.get("birth_year", "").strip():
            year = unicodedata.normalize("NFKC", form["birth_year"]).strip()  # "１９４８" from a Chinese keyboard
            if not re.fullmatch(r"[0-9]{4}", year):  # "²" passed isdigit and broke int()
                error = _("Please write the year of birth as four digits, for example 1948.")
            else:
                body["birth_year"] = int(year)
        if form.get("contact_name", "").strip() or form.get("contact_phone", "").strip():
            body["emergency_contact"] = {"name": form.get("contact_name", "").strip(),
                                         "phone": form.get("contact_phone", "").strip(),
                                         "relation": form.get("contact_relation", "").strip()}
        if error is None:
            try:
                person().save_profile(body)
                flash(_("Your profile is saved."))
                return redirect(url_for("resident.home"))
            except ApiProblem as problem:
                error = i18n.problem_text(problem)
    detail = common.me()
    return render_template("profile.html", detail=detail, profile=detail.get("profile") or {},
                           communities=common.communities(), error=error), 200 if error is None else 400


def _sign_in_first():
    from ..adapters.gateway import SignedOut

    return SignedOut()


@bp.post("/live/ticket")
def live_ticket():
    """The browser's way into the person's live stream (static/live.js): a one-use ticket, asked for here with
    the person's token, which never leaves this server. JSON for the script; without it the page polls."""
    if not g.account:
        return jsonify({"error": "signed_out"}), 401, {"Cache-Control": "no-store"}
    try:
        ticket = person().stream_ticket()
    except ApiProblem as problem:
        return jsonify({"error": problem.code}), 503 if problem.status >= 500 else problem.status
    return (jsonify({"stream": "/api/v1/notify/stream?" + urlencode({"ticket": ticket["ticket"]}),
                     "after": ticket["after"]}), 200, {"Cache-Control": "no-store"})


@bp.get("/attention")
def attention():
    """What needs me: orders to pay, orders to review, orders with a problem."""
    if not g.account:
        raise _sign_in_first()
    if g.account["role"] in ("volunteer", "provider"):  # what needs them is on their own main page
        return redirect(url_for(f"{g.account['role']}.home"))
    items = person().orders(per_page=50).get("items", [])
    to_pay = [o for o in items if o["status"] == "awaiting_payment"]
    problems = [o for o in items if o.get("delivery_problem")]
    to_confirm = [o for o in items if o["status"] == "service_done"]
    to_review = [o for o in items if o["status"] == "completed"][:5]
    staff = g.account["role"] in ("coordinator", "admin")  # staff read the states about the resident
    return render_template("attention.html", to_pay=to_pay, problems=problems, to_confirm=to_confirm,
                           to_review=to_review, zone=common.zone(), STATUS=i18n.STAFF_STATUS if staff else i18n.STATUS)
