"""Accounts: sign-up, sign-in, refresh, sign-out, the profile, eligibility tags and family links."""
from __future__ import annotations

import re

from flask import g, request
from flask_smorest import Blueprint
from pymongo.errors import DuplicateKeyError

from linli.auth import Relative, issue_access_token
from linli.config import settings
from linli.errors import ApiError, conflict, forbidden, invalid, not_found
from linli.ids import new_id, utcnow
from linli.schemas import page_of
from linli.web import idempotent, requires

from . import accounts, throttle
from .schemas import (AccountDetail, AccountSchema, FamilyIn, FamilyLinkSchema, LoginIn, LogoutIn, ProfileSchema,
                      RefreshIn, RegisterIn, ResidentArgs, ResidentIn, ResidentPage, StaffIn, TagsIn,
                      TokensSchema)

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and sign-in")

SIGNED_OUT = "Your session has ended; please sign in again."


def _account_out(account: dict, db=None) -> dict:
    out = {**account, "id": account["_id"]}
    if db is not None:
        out["family_of"] = [{"id": r["_id"], "name": r["name"], "tags": r.get("tags", [])}
                            for r in accounts.relatives(db, account["_id"])]
    return out


def _tokens(db, account: dict, refresh: str) -> dict:
    family = tuple(Relative(r["_id"], r["name"], tuple(r.get("tags", ()))) for r in accounts.relatives(db, account["_id"]))
    return {"access_token": issue_access_token(account["_id"], account["role"], account["name"],
                                               tuple(account.get("tags", ())), family=family,
                                               communities=tuple(account.get("communities", ()))),
            "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": settings().access_token_minutes * 60, "account": _account_out(account)}


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterIn)
@blp.response(201, TokensSchema)
def register(body):
    """Creates a resident, provider or volunteer account and signs it in."""
    throttle.sign_up(request.remote_addr or "-")
    db = accounts.database()
    try:
        account = accounts.create(db, body["username"], body["password"], body["name"], body["role"])
    except accounts.UsernameTaken:
        raise conflict("This username is taken; choose another.", username=["taken"])
    return _tokens(db, account, accounts.issue_refresh(db, account["_id"]))


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokensSchema)
def login(body):
    """Signs in with username and password. Repeated failures are slowed down per account and per address."""
    address = request.remote_addr or "-"
    throttle.check_sign_in(body["username"], address)
    db = accounts.database()
    account = accounts.authenticate(db, body["username"], body["password"])
    if account is None:
        throttle.failed_sign_in(body["username"], address)
        raise ApiError(401, "bad_credentials", "The username or the password is wrong.")
    return _tokens(db, account, accounts.issue_refresh(db, account["_id"]))


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshIn)
@blp.response(200, TokensSchema)
def refresh(body):
    """Trades a refresh token for new tokens; each works once, and a reused one ends the whole session."""
    db = accounts.database()
    try:
        account_id, new_refresh = accounts.rotate_refresh(db, body["refresh_token"])
    except accounts.RefreshRefused:
        raise ApiError(401, "unauthenticated", SIGNED_OUT)
    account = db.accounts.find_one({"_id": account_id})
    if account is None:
        raise ApiError(401, "unauthenticated", SIGNED_OUT)
    return _tokens(db, account, new_refresh)


@blp.route("/auth/logout", methods=["POST"])
@blp.arguments(LogoutIn)
@blp.response(204)
def logout(body):
    """Signs out: the refresh token and every token refreshed from it stop working."""
    accounts.revoke_refresh(accounts.database(), body["refresh_token"])


@blp.route("/me")
@requires()
@blp.response(200, AccountDetail)
def me():
    """The signed-in account, its profile, and the elders it may order for."""
    db = accounts.database()
    account = db.accounts.find_one({"_id": g.principal.id})
    if account is None:
        raise ApiError(401, "unauthenticated", "This account no longer exists.")
    return _account_out(account, db)


@blp.route("/me/profile", methods=["PUT"])
@requires()
@idempotent(accounts.database)
@blp.arguments(ProfileSchema)
@blp.response(200, AccountDetail)
def update_profile(body):
    """Community, addresses, birth year, phone and emergency contact. Eligibility tags are not set here."""
    db = accounts.database()
    db.accounts.update_one({"_id": g.principal.id}, {"$set": {f"profile.{k}": v for k, v in body.items()}})
    account = db.accounts.find_one({"_id": g.principal.id})
    if account is None:
        raise ApiError(401, "unauthenticated", "This account no longer exists.")
    return _account_out(account, db)


# -- staff ------------------------------------------------------------------------------------

@blp.route("/accounts", methods=["POST"])
@requires("admin")
@idempotent(accounts.database)
@blp.arguments(StaffIn)
@blp.response(201, AccountSchema)
def create_staff(body):
    """An admin adds a coordinator or another admin; nobody can give themselves those roles."""
    try:
        return _account_out(accounts.create(accounts.database(), body["username"], body["password"], body["name"],
                                            body["role"], tuple(body.get("community_ids", ()))))
    except accounts.UsernameTaken:
        raise conflict("This username is taken; choose another.", username=["taken"])


@blp.route("/accounts/<account_id>/tags", methods=["PUT"])
@requires("coordinator", "admin")
@idempotent(accounts.database)
@blp.arguments(TagsIn)
@blp.response(200, AccountSchema)
def set_tags(body, account_id):
    """A coordinator sets the eligibility tags of a resident of its communities after checking; they reach
    prices at the next sign-in."""
    db = accounts.database()
    _resident_of_mine(db, account_id)
    db.accounts.update_one({"_id": account_id}, {
        "$set": {"tags": sorted(set(body["tags"]))},
        "$push": {"tag_history": {"tags": sorted(set(body["tags"])), "checked": body["checked"],
                                  "by": g.principal.id, "at": utcnow()}}})
    return _account_out(db.accounts.find_one({"_id": account_id}))


def _resident_of_mine(db, account_id: str) -> dict:
    """A resident the signed-in coordinator looks after (an admin: any); anyone else is not found."""
    account = db.accounts.find_one({"_id": account_id, **_residents_visible_to(g.principal)})
    if account is None:
        raise not_found("The resident")
    return account


def _residents_visible_to(who) -> dict:
    """A coordinator finds the residents who live in its communities (their profile says so); an admin, all."""
    query: dict = {"role": "resident"}
    if who.role == "coordinator":
        query["profile.community_id"] = {"$in": list(who.communities)}
    return query


@blp.route("/accounts")
@requires("coordinator", "admin")
@blp.arguments(ResidentArgs, location="query")
@blp.response(200, ResidentPage)
def find_residents(args):
    """Residents of the coordinator's communities, found by part of their name or of their phone number (`q`),
    to order on their behalf."""
    query = _residents_visible_to(g.principal)
    if "q" in args:
        query.update(_name_or_phone(args["q"]))
    docs, numbers = page_of(accounts.database().accounts, query, args, [("name", 1), ("_id", 1)])
    return {"items": [_account_out(a) for a in docs], **numbers}


def _name_or_phone(q: str) -> dict:
    """Four digits or more (with spaces or dashes if you like) are part of a phone number, however the resident
    spaced it: an elder who calls the committee is found by the number on the screen; anything else, a name."""
    digits = re.sub(r"[\s\-]", "", q)
    if len(digits) >= 4 and digits.lstrip("+").isdigit():
        return {"profile.phone": {"$regex": r"[\s\-]*".join(re.escape(d) for d in digits)}}
    return {"name": {"$regex": re.escape(q), "$options": "i"}}


@blp.route("/accounts/residents", methods=["POST"])
@requires("coordinator", "admin")
@idempotent(accounts.database)
@blp.arguments(ResidentIn)
@blp.response(201, AccountDetail)
def enrol_resident(body):
    """The residents' committee signs up an elder of its communities who has no smartphone. Nobody signs in as
    the elder: the committee orders for them, and so do family members it approves (they ask by username)."""
    if g.principal.role == "coordinator" and body["community_id"] not in g.principal.communities:
        raise invalid("community_id", f"you enrol residents of {', '.join(g.principal.communities)}")
    db = accounts.database()
    if "phone" in body:
        same = db.accounts.find_one({"role": "resident", "profile.community_id": body["community_id"],
                                     "profile.phone": body["phone"]}, {"name": 1})
        if same is not None:
            raise conflict(f"{same['name']} ({same['_id']}) of this community already has this phone number; "
                           "find them by it instead of enrolling them again.", phone=["already enrolled"])
    profile = {k: v for k, v in body.items() if k not in ("name", "username")}
    try:
        account = accounts.enrol(db, body["name"], profile, g.principal.id, body.get("username"))
    except accounts.UsernameTaken:
        raise conflict("This username is taken; choose another.", username=["taken"])
    return _account_out(account, db)


@blp.route("/accounts/<account_id>/profile", methods=["PUT"])
@requires("coordinator", "admin")
@idempotent(accounts.database)
@blp.arguments(ProfileSchema)
@blp.response(200, AccountDetail)
def update_enrolled_profile(body, account_id):
    """The committee keeps the profile of an elder it enrolled (nobody signs in as them to do it): a new room,
    phone or emergency contact, or a move to another of its communities. Other residents keep their own."""
    db = accounts.database()
    who = g.principal
    if not _resident_of_mine(db, account_id).get("enrolled_by"):
        raise forbidden("This resident keeps their own profile.")
    if who.role == "coordinator" and "community_id" in body and body["community_id"] not in who.communities:
        raise invalid("community_id", f"you look after {', '.join(who.communities)}; the committee of the new "
                                      "community takes the resident over")
    db.accounts.update_one({"_id": account_id}, {"$set": {f"profile.{k}": v for k, v in body.items()}})
    return _account_out(db.accounts.find_one({"_id": account_id}), db)


@blp.route("/accounts/<account_id>")
@requires("coordinator", "admin")
@blp.response(200, AccountDetail)
def get_resident(account_id):
    """One resident of the coordinator's communities, with the profile an order on their behalf needs."""
    return _account_out(_resident_of_mine(accounts.database(), account_id))


# -- family links -------------------------------------------------------------------------------

def _link_out(link: dict) -> dict:
    return {**link, "id": link["_id"]}


@blp.route("/me/family", methods=["POST"])
@requires("resident")
@idempotent(accounts.database)
@blp.arguments(FamilyIn)
@blp.response(201, FamilyLinkSchema)
def ask_family_link(body):
    """Asks to order for an elder; the elder (or a coordinator) approves before it counts."""
    db = accounts.database()
    elder = db.accounts.find_one({"username": body["elder_username"], "role": "resident"})
    if elder is None or elder["_id"] == g.principal.id:
        raise not_found("That resident")
    link = {"_id": new_id("fam"), "member_id": g.principal.id, "member_name": g.principal.name,
            "elder_id": elder["_id"], "elder_name": elder["name"], "relation": body["relation"],
            "status": "pending", "created_at": utcnow()}
    try:
        db.family_links.insert_one(link)
    except DuplicateKeyError:
        raise conflict("You asked for this link already.")
    return _link_out(link)


@blp.route("/me/family")
@requires("resident")
@blp.response(200, FamilyLinkSchema(many=True))
def my_family_links():
    """Links I asked for, and links others asked to me."""
    db = accounts.database()
    me_ = g.principal.id
    return [_link_out(x) for x in db.family_links.find({"$or": [{"member_id": me_}, {"elder_id": me_}]})]


@blp.route("/family/<link_id>/approve", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(accounts.database)
@blp.response(200, FamilyLinkSchema)
def approve_family_link(link_id):
    """The elder, or a coordinator of the elder's community, approves a family member ordering for them."""
    db = accounts.database()
    link = db.family_links.find_one({"_id": link_id})
    if link is not None and link["member_id"] == g.principal.id:
        raise forbidden("The elder or a coordinator approves this, not the one who asked.")
    if link is None or not (link["elder_id"] == g.principal.id if g.principal.role == "resident" else
                            db.accounts.find_one({"_id": link["elder_id"], **_residents_visible_to(g.principal)})):
        raise not_found("The link")
    db.family_links.update_one({"_id": link_id, "status": "pending"},
                               {"$set": {"status": "approved", "approved_by": g.principal.id, "approved_at": utcnow()}})
    return _link_out(db.family_links.find_one({"_id": link_id}))
