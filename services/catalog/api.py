"""Catalog's HTTP routes: thin — check who asks, hand the rule to domain, the write to store."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from pymongo.errors import DuplicateKeyError

from linli.errors import ApiError, conflict, forbidden, invalid, not_found
from linli.ids import new_id, utcnow
from linli.schemas import geojson_to_point, page_of, point_to_geojson
from linli.web import idempotent, requires

from . import domain, store
from .schemas import (AvailabilityArgs, AvailabilitySchema, CategorySchema, CommunityIn, CommunitySchema,
                      ListingArgs, ListingIn, ListingPage, ListingPatch, ListingSchema, ListingSnapshot,
                      ProviderIn, ProviderSchema, SnapshotArgs)

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog", description="Categories, providers and listings")
internal = Blueprint("catalog-internal", __name__, url_prefix="/internal/v1",
                     description="Service-to-service reads; the gateway never routes here")


def db():
    return store.database()


def _provider_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "location": geojson_to_point(doc.get("location"))}


def _listing_out(doc: dict, provider: dict | None = None) -> dict:
    provider = provider or db().providers.find_one({"_id": doc["provider_id"]}) or {}
    brief = {"id": provider.get("_id"), "name": provider.get("name"), "kind": provider.get("kind"),
             "address": provider.get("address"), "location": geojson_to_point(provider.get("location"))}
    return {**doc, "id": doc["_id"], "provider": brief, "provider_owner_id": provider.get("owner_id")}


def _rule(fn, *args):
    try:
        return fn(*args)
    except domain.RuleViolation as violation:
        raise invalid(violation.field, violation.message)


# -- reference data ----------------------------------------------------------------------

@blp.route("/categories")
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """The kinds of service on offer."""
    return [{"id": c["_id"], **c} for c in db().categories.find().sort("_id")]


@blp.route("/communities")
@blp.response(200, CommunitySchema(many=True))
def list_communities():
    """The communities Linli serves."""
    return [{"id": c["_id"], **c, "center": geojson_to_point(c["center"])} for c in db().communities.find().sort("_id")]


@blp.route("/communities", methods=["POST"])
@requires("admin")
@blp.arguments(CommunityIn)
@blp.response(201, CommunitySchema)
def create_community(body):
    """Adds a community (admin)."""
    doc = {"_id": body["id"], "name": body["name"], "center": point_to_geojson(body["center"]),
           "timezone": body["timezone"]}
    try:
        db().communities.insert_one(doc)
    except DuplicateKeyError:
        raise conflict(f"A community with the id {body['id']!r} exists already.")
    return {**doc, "id": doc["_id"], "center": body["center"]}


# -- providers ---------------------------------------------------------------------------

@blp.route("/providers", methods=["POST"])
@requires("provider")
@blp.arguments(ProviderIn)
@blp.response(201, ProviderSchema)
def create_provider(body):
    """Creates the signed-in provider's profile; a coordinator verifies it before it can publish."""
    known = {c["_id"] for c in db().communities.find({"_id": {"$in": body["community_ids"]}}, {"_id": 1})}
    unknown = sorted(set(body["community_ids"]) - known)
    if unknown:
        raise invalid("community_ids", f"unknown communities: {', '.join(unknown)}")
    doc = {"_id": new_id("prv"), "owner_id": g.principal.id, **body, "location": point_to_geojson(body["location"]),
           "status": "pending", "created_at": utcnow()}
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


@blp.route("/providers/<provider_id>")
@blp.response(200, ProviderSchema)
def get_provider(provider_id):
    """A provider's public profile."""
    doc = db().providers.find_one({"_id": provider_id})
    if doc is None:
        raise not_found("The provider")
    return _provider_out(doc)


@blp.route("/providers/<provider_id>/verify", methods=["POST"])
@requires("coordinator", "admin")
@blp.response(200, ProviderSchema)
def verify_provider(provider_id):
    """A coordinator confirms the provider is who it says it is."""
    d = db()
    if d.providers.update_one({"_id": provider_id}, {"$set": {"status": "verified", "verified_by": g.principal.id,
                                                              "verified_at": utcnow()}}).matched_count == 0:
        raise not_found("The provider")
    return _provider_out(d.providers.find_one({"_id": provider_id}))


# -- listings ----------------------------------------------------------------------------

@blp.route("/listings", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ListingIn)
@blp.response(201, ListingSchema)
def create_listing(body):
    """Publishes a listing of the signed-in provider (its profile must be verified)."""
    provider = db().providers.find_one({"owner_id": g.principal.id})
    if provider is None:
        raise ApiError(409, "no_provider_profile", "Create your provider profile first.")
    if provider["status"] != "verified":
        raise ApiError(409, "provider_not_verified",
                       "Your profile is waiting for the residents' committee to verify it; you can publish after that.")
    _rule(domain.check_listing, body["fulfilment"], body["slots"], body["community_ids"], provider["community_ids"])
    doc = {"_id": new_id("lst"), "provider_id": provider["_id"], "version": 1, "status": "published",
           "timezone": domain.DEFAULT_TZ, "created_at": utcnow(), "updated_at": utcnow(), **body}
    db().listings.insert_one(doc)
    return _listing_out(doc, provider)


@blp.route("/listings/<listing_id>", methods=["PATCH"])
@requires("provider")
@blp.arguments(ListingPatch)
@blp.response(200, ListingSchema)
def update_listing(body, listing_id):
    """Changes a listing; every change makes a new version (orders keep the version they bought)."""
    d = db()
    doc = d.listings.find_one({"_id": listing_id})
    provider = d.providers.find_one({"owner_id": g.principal.id})
    if doc is None or provider is None or doc["provider_id"] != provider["_id"]:
        raise not_found("The listing")
    if "slots" in body:
        _rule(domain.check_slots, body["slots"])
    if not body:
        return _listing_out(doc, provider)
    updated = d.listings.update_one({"_id": listing_id, "version": doc["version"]},
                                    {"$set": {**body, "updated_at": utcnow()}, "$inc": {"version": 1}})
    if updated.modified_count == 0:
        raise conflict("The listing changed meanwhile; load it again and retry.")
    return _listing_out(d.listings.find_one({"_id": listing_id}), provider)


@blp.route("/listings")
@blp.arguments(ListingArgs, location="query")
@blp.response(200, ListingPage)
def list_listings(args):
    """Published listings of verified providers, newest first."""
    d = db()
    verified = [p["_id"] for p in d.providers.find({"status": "verified"}, {"_id": 1})]
    query = {"status": "published", "provider_id": {"$in": verified}}
    if "category" in args:
        query["category"] = args["category"]
    if "community" in args:
        query["community_ids"] = args["community"]
    docs, numbers = page_of(d.listings, query, args, [("created_at", -1), ("_id", 1)])
    providers = {p["_id"]: p for p in d.providers.find({"_id": {"$in": [x["provider_id"] for x in docs]}})}
    return {"items": [_listing_out(x, providers.get(x["provider_id"])) for x in docs], **numbers}


@blp.route("/listings/<listing_id>")
@blp.response(200, ListingSchema)
def get_listing(listing_id):
    """One listing."""
    doc = db().listings.find_one({"_id": listing_id})
    if doc is None:
        raise not_found("The listing")
    return _listing_out(doc)


@blp.route("/listings/<listing_id>/availability")
@blp.arguments(AvailabilityArgs, location="query")
@blp.response(200, AvailabilitySchema)
def availability(args, listing_id):
    """What is left in each slot of a listing on a date."""
    doc = db().listings.find_one({"_id": listing_id})
    if doc is None:
        raise not_found("The listing")
    left = store.remaining_by_slot(db(), listing_id, args["date"])
    return {"listing_id": listing_id, "date": args["date"].isoformat(),
            "slots": [{**s, "remaining": left.get(s["name"], s["capacity"])} for s in doc.get("slots", [])]}


@internal.route("/listings/<listing_id>")
@internal.arguments(SnapshotArgs, location="query")
@internal.response(200, ListingSnapshot)
def listing_snapshot(args, listing_id):
    """The listing as orders snapshots it when an order is placed, with the slot's window in UTC."""
    doc = db().listings.find_one({"_id": listing_id})
    if doc is None:
        raise not_found("The listing")
    out = _listing_out(doc)
    slot = next((s for s in doc.get("slots", []) if s["name"] == args.get("slot")), None)
    if slot is not None and "date" in args:
        start, end = domain.slot_window_utc(args["date"], slot, doc.get("timezone", domain.DEFAULT_TZ))
        out["slot_window"] = {"start": start, "end": end}
    return out
