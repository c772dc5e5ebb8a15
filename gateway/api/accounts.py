"""What staff do with accounts (add staff, disable an account, set eligibility tags, find and enrol residents)
and family links."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from linli.errors import ApiError
from linli.web import idempotent, requires

from .. import commands
from ..schemas import (AccountDetail, AccountSchema, DisableIn, FamilyIn, FamilyLinkSchema, ProfileSchema,
                       ResidentArgs, ResidentIn, ResidentPage, StaffIn, TagsIn)
from ..store import accounts as store
from . import database, units
from .auth import account_out
from .revoked import forget_cached

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts the committee and admins keep")


@blp.route("/accounts", methods=["POST"])
@requires("admin")
@idempotent(database)
@blp.arguments(StaffIn)
@blp.response(201, AccountSchema)
def create_staff(body):
    """An admin adds a coordinator or another admin; nobody can give themselves those roles."""
    return account_out(commands.create_staff(units(), body["username"], body["password"], body["name"], body["role"],
                                             tuple(body.get("community_ids", ()))))


@blp.route("/accounts/<account_id>/disable", methods=["POST"])
@requires("admin")
@idempotent(database)
@blp.arguments(DisableIn)
@blp.response(200, AccountSchema)
def disable_account(body, account_id):
    """An admin disables an account (a coordinator who left, say): it cannot sign in or refresh any more, its
    sessions end at once, and its access tokens are refused at the gateway within a minute."""
    account = commands.disable_account(units(), g.principal, account_id, body["reason"])
    forget_cached()
    return account_out(account)


@blp.route("/accounts/<account_id>/tags", methods=["PUT"])
@requires("coordinator", "admin")
@idempotent(database)
@blp.arguments(TagsIn)
@blp.response(200, AccountSchema)
def set_tags(body, account_id):
    """A coordinator sets the eligibility tags of a resident of its communities after checking; they reach
    prices at the next sign-in."""
    return account_out(commands.set_tags(units(), g.principal, account_id, body["tags"], body["checked"]))


@blp.route("/accounts")
@requires("coordinator", "admin")
@blp.arguments(ResidentArgs, location="query")
@blp.response(200, ResidentPage)
def find_residents(args):
    """Residents of the coordinator's communities, found by part of their name or of their phone number (`q`),
    to order on their behalf. An admin may ask for another role (`role=coordinator`) to find staff."""
    if args["role"] != "resident" and g.principal.role != "admin":
        raise ApiError(403, "forbidden", "Only an administrator looks up accounts other than residents.")
    docs, numbers = store.residents_page(units().read(), g.principal, args)
    return {"items": [account_out(a) for a in docs], **numbers}


@blp.route("/accounts/residents", methods=["POST"])
@requires("coordinator", "admin")
@idempotent(database)
@blp.arguments(ResidentIn)
@blp.response(201, AccountDetail)
def enrol_resident(body):
    """The residents' committee signs up an elder of its communities who has no smartphone. Nobody signs in as
    the elder: the committee orders for them, and so do family members it approves (they ask by username)."""
    profile = {k: v for k, v in body.items() if k not in ("name", "username")}
    return account_out(*commands.enrol(units(), g.principal, body["name"], profile, body.get("username")))


@blp.route("/accounts/<account_id>/profile", methods=["PUT"])
@requires("coordinator", "admin")
@idempotent(database)
@blp.arguments(ProfileSchema)
@blp.response(200, AccountDetail)
def update_enrolled_profile(body, account_id):
    """The committee keeps the profile of an elder it enrolled (nobody signs in as them to do it): a new room,
    phone or emergency contact, or a move to another of its communities. Other residents keep their own."""
    return account_out(*commands.update_enrolled_profile(units(), g.principal, account_id, body))


@blp.route("/accounts/<account_id>")
@requires("coordinator", "admin")
@blp.response(200, AccountDetail)
def get_resident(account_id):
    """One resident of the coordinator's communities, with the profile an order on their behalf needs."""
    return account_out(commands.resident(units(), g.principal, account_id))


# -- family links -------------------------------------------------------------------------------

def _link_out(link: dict) -> dict:
    return {**link, "id": link["_id"]}


@blp.route("/me/family", methods=["POST"])
@requires("resident")
@idempotent(database)
@blp.arguments(FamilyIn)
@blp.response(201, FamilyLinkSchema)
def ask_family_link(body):
    """Asks to order for an elder; the elder (or a coordinator) approves before it counts."""
    return _link_out(commands.ask_family_link(units(), g.principal, body["elder_username"], body["relation"]))


@blp.route("/me/family")
@requires("resident")
@blp.response(200, FamilyLinkSchema(many=True))
def my_family_links():
    """Links I asked for, and links others asked to me."""
    return [_link_out(x) for x in store.links_of(units().read(), g.principal.id)]


@blp.route("/family/<link_id>/approve", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(database)
@blp.response(200, FamilyLinkSchema)
def approve_family_link(link_id):
    """The elder, or a coordinator of the elder's community, approves a family member ordering for them."""
    return _link_out(commands.approve_family_link(units(), g.principal, link_id))
