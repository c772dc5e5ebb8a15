"""Provider routes: a provider keeps its profile; a coordinator verifies or suspends it."""
from __future__ import annotations

from flask import g
from pymongo.errors import DuplicateKeyError

from linli.errors import ApiError, conflict, invalid, not_found
from linli.ids import new_id, utcnow
from linli.schemas import geojson_to_point, point_to_geojson
from linli.web import idempotent, requires

from . import domain, store
from .api import STAFF, blp, db, rule
from .reference_api import known_communities
from .schemas import ProviderIn, ProviderPatch, ProviderSchema, SuspendIn


def _provider_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "location": geojson_to_point(doc.get("location")),
            "rating": doc.get("rating") or {"average": None, "count": 0}}


@blp.route("/providers", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ProviderIn)
@blp.response(201, ProviderSchema)
def create_provider(body):
    """Creates the signed-in provider's profile; a coordinator verifies it before it can publish."""
    known_communities(body["community_ids"])
    doc = {"_id": new_id("prv"), "owner_id": g.principal.id, **body, "location": point_to_geojson(body["location"]),
           "status": "pending", "rating": {"average": None, "count": 0}, "created_at": utcnow()}
    try:
        db().providers.insert_one(doc)
    except DuplicateKeyError:
        raise conflict("You already have a provider profile.")
    return _provider_out(doc)


@blp.route("/providers/me")
@requires("provider")
@blp.response(200, ProviderSchema)
def my_provider():
    """The signed-in provider's own profile."""
    doc = db().providers.find_one({"owner_id": g.principal.id})
    if doc is None:
        raise not_found("Your provider profile")
    return _provider_out(doc)


@blp.route("/providers/me", methods=["PATCH"])
@requires("provider")
@idempotent(db)
@blp.arguments(ProviderPatch)
@blp.response(200, ProviderSchema)
def edit_my_provider(body):
    """The provider changes its own name, contact, address, location or communities. Moving carries every
    listing along; a community can be dropped only when no listing still serves it."""
    d = db()
    doc = d.providers.find_one({"owner_id": g.principal.id})
    if doc is None:
        raise not_found("Your provider profile")
    if not body:
        return _provider_out(doc)
    changes = {**body, "updated_at": utcnow()}
    if "location" in body:
        changes["location"] = point_to_geojson(body["location"])
    if "community_ids" in body:
        known_communities(body["community_ids"])
        dropped = set(doc["community_ids"]) - set(body["community_ids"])
        still = d.listings.find_one({"provider_id": doc["_id"], "status": {"$ne": "withdrawn"},
                                     "service_radius_m": {"$in": [None, 0]},
                                     "community_ids": {"$in": sorted(dropped)}}, {"title": 1, "community_ids": 1})
        if still is not None:
            serving = ", ".join(sorted(dropped & set(still["community_ids"])))
            raise invalid("community_ids", f"your listing “{still['title']}” still serves {serving}; "
                                           "change or withdraw it first")
    if not rule(store.edit_provider, d, doc, changes):
        raise conflict("Your profile changed meanwhile; load it again and retry.")
    return _provider_out(d.providers.find_one({"_id": doc["_id"]}))


@blp.route("/providers/<provider_id>")
@blp.response(200, ProviderSchema)
def get_provider(provider_id):
    """A provider's public profile."""
    doc = db().providers.find_one({"_id": provider_id})
    if doc is None:
        raise not_found("The provider")
    return _provider_out(doc)


def _move(provider_id: str, action: str, changes: dict) -> dict:
    d = db()
    doc = d.providers.find_one({"_id": provider_id})
    if doc is None:
        raise not_found("The provider")
    status = rule(domain.provider_move, doc["status"], action)
    if status == doc["status"]:
        return _provider_out(doc)  # asked twice: nothing more to do
    event = None
    if status == "verified":
        event = ("catalog.provider.verified", {"provider_id": provider_id, "owner_id": doc["owner_id"],
                                               "kind": doc["kind"], "name": doc["name"]})
    if not store.move_provider(d, provider_id, doc["status"], {**changes, "status": status}, event):
        raise ApiError(409, "conflict", "The provider changed meanwhile; load it again and retry.")
    return _provider_out(d.providers.find_one({"_id": provider_id}))


@blp.route("/providers/<provider_id>/verify", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.response(200, ProviderSchema)
def verify_provider(provider_id):
    """A coordinator confirms the provider is who it says it is (or lifts a suspension); its listings show again."""
    return _move(provider_id, "verify", {"verified_by": g.principal.id, "verified_at": utcnow(),
                                         "suspended_reason": None})


@blp.route("/providers/<provider_id>/suspend", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(SuspendIn)
@blp.response(200, ProviderSchema)
def suspend_provider(body, provider_id):
    """A coordinator suspends a provider: its listings disappear from search at once and take no orders."""
    return _move(provider_id, "suspend", {"suspended_by": g.principal.id, "suspended_at": utcnow(),
                                          "suspended_reason": body["reason"]})
