"""The administrator's pages: categories, communities (with their buildings and entrance coordinates) and staff
(add a coordinator or an admin, disable an account). Thin: every change is one API call, refused in words."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import i18n
from ..adapters.gateway import ApiProblem, SignedOut
from ..sessions import account, gateway, person
from . import common

bp = Blueprint("admin", __name__, url_prefix="/a")
SHORT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@bp.before_app_request
def _admins_home():
    who = account()
    if request.path == "/" and who and who.get("role") == "admin":
        return redirect(url_for("admin.home"))
    return None


@bp.before_request
def _admin_only():
    if not g.get("account"):
        raise SignedOut()
    if g.account["role"] != "admin":
        abort(404)


def _fresh_communities() -> list[dict]:
    common.forget_communities()
    return list(common.communities().values())


def _point(prefix: str) -> dict | None:
    """A point from two fields (longitude, latitude), or None when either is not a number in range."""
    try:
        lng, lat = float(request.form.get(f"{prefix}lng", "")), float(request.form.get(f"{prefix}lat", ""))
    except ValueError:
        return None
    return {"lng": lng, "lat": lat} if -180 <= lng <= 180 and -90 <= lat <= 90 else None


def _done(message: str, anchor: str = ""):
    flash(message)
    return redirect(url_for("admin.home") + anchor, code=303)


@bp.get("/")
def home():
    q, role = request.args.get("q", "").strip(), request.args.get("role", "coordinator")
    role = role if role in i18n.ROLES and role != "system" else "coordinator"
    found = person().get("/api/v1/accounts", q=q, role=role, per_page=30).get("items", []) if q else None
    return render_template("a/home.html", categories=gateway().categories(), communities=_fresh_communities(),
                           q=q, role=role, found=found)


@bp.post("/categories")
def add_category():
    form = request.form
    body = {"id": form.get("id", "").strip(), "name_zh": form.get("name_zh", "").strip(),
            "name_en": form.get("name_en", "").strip()}
    if not SHORT_NAME.match(body["id"]):
        return _done(_("Please write the short name in small letters and digits, for example meals."), "#categories")
    try:
        person().post("/api/v1/catalog/categories", body)
    except ApiProblem as problem:
        return _done(i18n.problem_text(problem), "#categories")
    return _done(_("The category %(name)s is added.", name=body["name_zh"]), "#categories")


@bp.post("/communities")
def add_community():
    form = request.form
    center = _point("")
    body = {"id": form.get("id", "").strip(), "name": form.get("name", "").strip(), "center": center}
    if form.get("committee_phone", "").strip():
        body["committee_phone"] = form["committee_phone"].strip()
    if not SHORT_NAME.match(body["id"]):
        return _done(_("Please write the short name in small letters and digits, for example lianxi."), "#communities")
    if center is None:
        return _done(_("Please write the longitude and the latitude as numbers, for example 121.5588 and 31.1765."),
                     "#communities")
    try:
        person().post("/api/v1/catalog/communities", body)
    except ApiProblem as problem:
        return _done(i18n.problem_text(problem), "#communities")
    common.forget_communities()
    return _done(_("The community %(name)s is added.", name=body["name"]), "#communities")


@bp.post("/communities/<community_id>/buildings")
def add_building(community_id):
    known = {c["id"]: c for c in _fresh_communities()}
    community = known.get(community_id)
    if community is None:
        abort(404)
    name, entrance = request.form.get("building", "").strip(), _point("")
    anchor = f"#community-{community_id}"
    if not name or len(name) > 40:
        return _done(_("Please write the building's name or number."), anchor)
    if entrance is None:
        return _done(_("Please write the longitude and the latitude as numbers, for example 121.5588 and 31.1765."),
                     anchor)
    buildings = [b for b in community.get("buildings") or [] if b["name"] != name]
    buildings.append({"name": name, "entrance": entrance})
    try:
        person().patch(f"/api/v1/catalog/communities/{community_id}", {"buildings": buildings})
    except ApiProblem as problem:
        return _done(i18n.problem_text(problem), anchor)
    common.forget_communities()
    return _done(_("Building %(building)s of %(community)s is saved.", building=name, community=community["name"]),
                 anchor)


@bp.post("/staff")
def add_staff():
    form = request.form
    body = {"username": form.get("username", "").strip(), "password": form.get("password", ""),
            "name": form.get("name", "").strip(), "role": form.get("role", "coordinator"),
            "community_ids": form.getlist("community_ids")}
    if body["role"] not in ("coordinator", "admin"):
        body["role"] = "coordinator"
    if body["role"] == "coordinator" and not body["community_ids"]:
        return _done(_("Please choose the communities the coordinator watches over."), "#staff")
    try:
        made = person().post("/api/v1/accounts", body)
    except ApiProblem as problem:
        return _done(i18n.problem_text(problem), "#staff")
    return _done(_("%(name)s can sign in now as %(username)s.", name=made["name"], username=made["username"]), "#staff")


@bp.post("/accounts/<account_id>/disable")
def disable(account_id):
    reason = request.form.get("reason", "").strip()
    if len(reason) < 3:
        return _done(_("Please say why you disable the account (a few words)."), "#staff")
    try:
        gone = person().post(f"/api/v1/accounts/{account_id}/disable", {"reason": reason[:200]})
    except ApiProblem as problem:
        return _done(i18n.problem_text(problem), "#staff")
    return _done(_("The account of %(name)s is disabled; it is signed out everywhere.", name=gone["name"]), "#staff")
