"""Catalog's listing routes and the blueprints every route module shares: thin — check who asks, hand the
rule to listings/schedule/search, the write to store. Reference data, providers and reviews have their
own route modules."""
from __future__ import annotations

from datetime import date

from flask import g
from flask_smorest import Blueprint

from linli.errors import ApiError, conflict, invalid, not_found
from linli.ids import new_id, utcnow
from linli.schemas import geojson_to_point
from linli.web import current_principal, idempotent, requires

from . import listings, schedule, search, store
from .domain import DEFAULT_TZ, RuleViolation, provider_can_publish
from .schemas import (AvailabilityArgs, AvailabilitySchema, ListingArgs, ListingIn, ListingPage, ListingPatch,
                      ListingSchema, ListingSnapshot, ListingVersionSchema, SnapshotArgs)

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog",
                description="Categories, communities, providers, listings and reviews")
internal = Blueprint("catalog-internal", __name__, url_prefix="/internal/v1",
                     description="Service-to-service reads; the gateway never routes here")
STAFF = ("coordinator", "admin")


def db():
    return store.database()


def rule(fn, *args, **kwargs):
    """Runs a rule; a broken rule answers 422 naming the field to fix."""
    try:
        return fn(*args, **kwargs)
    except RuleViolation as violation:
        raise invalid(violation.field, violation.message)


def listing_out(doc: dict, provider: dict | None = None) -> dict:
    provider = provider or db().providers.find_one({"_id": doc["provider_id"]}) or {}
    brief = {"id": provider.get("_id"), "name": provider.get("name"), "kind": provider.get("kind"),
             "address": provider.get("address"), "location": geojson_to_point(provider.get("location"))}
    return {**doc, "id": doc["_id"], "provider": brief, "provider_owner_id": provider.get("owner_id"),
            "provider_score": doc.get("rating") or {"average": None, "count": 0},
            "distance_m": round(doc["distance_m"], 1) if doc.get("distance_m") is not None else None}


def _own_listing(listing_id: str) -> tuple[dict, dict]:
    """The signed-in provider's listing; someone else's is answered as not found, never changed."""
    d = db()
    doc = d.listings.find_one({"_id": listing_id})
    provider = d.providers.find_one({"owner_id": g.principal.id})
    if doc is None or provider is None or doc["provider_id"] != provider["_id"]:
        raise not_found("The listing")
    return doc, provider


def _refuse_unless_can_publish(provider: dict) -> None:
    if not provider_can_publish(provider):
        if provider["status"] == "suspended":
            raise ApiError(409, "provider_suspended",
                           "Your profile is suspended by the residents' committee; you cannot publish until it is lifted.")
        raise ApiError(409, "provider_not_verified",
                       "Your profile is waiting for the residents' committee to verify it; you can publish after that.")


def _visible_listing(listing_id: str) -> dict:
    """A listing anyone may open; drafts, withdrawn offers and suspended providers' offers only for their owner
    and staff."""
    doc = db().listings.find_one({"_id": listing_id})
    if doc is None:
        raise not_found("The listing")
    if not listings.publicly_visible(doc):
        who = current_principal()
        mine = who is not None and db().providers.find_one({"_id": doc["provider_id"], "owner_id": who.id})
        if not (mine or (who is not None and who.is_(*STAFF))):
            raise not_found("The listing")
    return doc


# -- writing listings --------------------------------------------------------------------

def _service_area(d, change: dict, location: dict) -> dict:
    """A radius listing serves the communities whose centre lies within its radius; naming communities
    instead ends the radius. Either way the listing keeps the time zone of its first community."""
    area: dict = {}
    if "service_radius_m" in change:
        radius = change["service_radius_m"]
        area["community_ids"] = listings.communities_within(location, radius,
                                                            list(d.communities.find({}, {"center": 1})))
        if not area["community_ids"]:
            raise invalid("service_radius_m", f"no community's centre lies within {radius} m of your location; "
                                              "widen the radius or name the communities you serve")
    elif "community_ids" in change:
        area["service_radius_m"] = None
    served = area.get("community_ids") or change.get("community_ids")
    if served:
        first = d.communities.find_one({"_id": served[0]}, {"timezone": 1}) or {}
        area["timezone"] = first.get("timezone", DEFAULT_TZ)
    return area


@blp.route("/listings", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ListingIn)
@blp.response(201, ListingSchema)
def create_listing(body):
    """Creates a listing of the signed-in provider: published at once (the profile must be verified) or a draft."""
    d = db()
    provider = d.providers.find_one({"owner_id": g.principal.id})
    if provider is None:
        raise ApiError(409, "no_provider_profile", "Create your provider profile first.")
    if body["status"] == "published":
        _refuse_unless_can_publish(provider)
    if d.categories.find_one({"_id": body["category"]}) is None:
        raise invalid("category", f"there is no category {body['category']!r}")
    area = _service_area(d, body, provider["location"])
    timezone = area.pop("timezone")
    doc = rule(listings.new_listing, {**body, **area}, listing_id=new_id("lst"), provider=provider,
               timezone=timezone, now=utcnow())
    store.save_listing(d, None, doc, listings.event_for(None, doc), listings.event_data(doc))
    return listing_out(doc, provider)


@blp.route("/listings/<listing_id>", methods=["PATCH"])
@requires("provider")
@idempotent(db)
@blp.arguments(ListingPatch)
@blp.response(200, ListingSchema)
def update_listing(body, listing_id):
    """Changes a listing or moves it (draft → published → paused → withdrawn); every change makes a new
    version, and orders keep the version they bought."""
    doc, provider = _own_listing(listing_id)
    if not body:
        return listing_out(doc, provider)
    if body.get("status") == "published" and doc["status"] != "published":
        _refuse_unless_can_publish(provider)
    body = {**body, **_service_area(db(), body, doc["location"])}
    after = rule(listings.edited, doc, body, provider["community_ids"], utcnow())
    if not store.save_listing(db(), doc, after, listings.event_for(doc, after), listings.event_data(after)):
        raise conflict("The listing changed meanwhile; load it again and retry.")
    return listing_out(after, provider)


# -- reading listings --------------------------------------------------------------------

@blp.route("/listings")
@blp.arguments(ListingArgs, location="query")
@blp.response(200, ListingPage)
def list_listings(args):
    """Search published listings of verified providers: by category, community, near=lng,lat within radius_m,
    q (Chinese or English words of the title, description and tags), price range and open_on a date;
    sorted by distance, rating, price or newest. Each item carries its distance and its provider's score."""
    plan = rule(search.plan, args)
    docs, total = store.search_listings(db(), plan, args["page"], args["per_page"])
    providers = {p["_id"]: p for p in db().providers.find({"_id": {"$in": list({x["provider_id"] for x in docs})}})}
    return {"items": [listing_out(x, providers.get(x["provider_id"])) for x in docs],
            "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.route("/listings/<listing_id>")
@blp.response(200, ListingSchema)
def get_listing(listing_id):
    """One listing."""
    return listing_out(_visible_listing(listing_id))


@blp.route("/listings/<listing_id>/versions/<int:version>")
@blp.response(200, ListingVersionSchema)
def get_listing_version(listing_id, version):
    """A listing as it was at one version — what an order of that version bought."""
    _visible_listing(listing_id)
    kept = store.listing_version(db(), listing_id, version)
    if kept is None:
        raise not_found(f"Version {version} of the listing")
    return {**kept, "listing": listing_out(kept["listing"])}


@blp.route("/listings/<listing_id>/availability")
@blp.arguments(AvailabilityArgs, location="query")
@blp.response(200, AvailabilitySchema)
def availability(args, listing_id):
    """What is left in each slot of a listing on a date (date=) or each day of a range (from=, to=; at most 31
    days). Times are shown in the listing's zone (start, end) and as UTC instants (starts_at, ends_at, cutoff_at)."""
    doc = _visible_listing(listing_id)
    if "date" in args:
        first = last = args["date"]
    elif "from_" in args:
        first, last = args["from_"], args.get("to", args["from_"])
    else:
        raise invalid("date", "give date=, or from= and to=")
    days = rule(schedule.date_range, first, last)
    taken = store.taken_by_slot(db(), listing_id, days)
    now = utcnow()
    out_days = [{"date": day.isoformat(), "slots": [_slot_availability(doc, slot, day, taken, now)
                                                    for slot in doc.get("slots", [])]} for day in days]
    return {"listing_id": listing_id, "timezone": doc.get("timezone", DEFAULT_TZ), "date": days[0].isoformat(),
            "slots": out_days[0]["slots"], "days": out_days}


def _slot_availability(doc: dict, slot: dict, day: date, taken: dict, now) -> dict:
    sd = schedule.listing_slot_day(doc, slot["name"], day)
    left = max(sd.capacity - taken.get((day.isoformat(), slot["name"]), 0), 0) if sd.runs else 0
    return {"name": slot["name"], "start": slot["start"], "end": slot["end"], "starts_at": sd.start,
            "ends_at": sd.end, "cutoff_at": sd.cutoff_at, "capacity": sd.capacity if sd.runs else 0,
            "remaining": left, "closed": not sd.runs, "orderable": sd.orderable(now) and left > 0}


@internal.route("/listings/<listing_id>")
@internal.arguments(SnapshotArgs, location="query")
@internal.response(200, ListingSnapshot)
def listing_snapshot(args, listing_id):
    """The listing as orders snapshots it when an order is placed (?date=YYYY-MM-DD&slot=NAME).

    Shape: id, version, title, description, category, fulfilment, price_fen, unit, tags, photos,
    community_ids, slots, exceptions, max_quantity, timezone, status;
    tiers: [{tag, resident_pays_fen, shares: [{funder, amount_fen}]}] — a resident with the tag pays
    resident_pays_fen and the funders the shares, which add up to price_fen;
    provider {id, name, kind, address, location}, provider_owner_id, provider_active (false while the
    provider is suspended: catalog will reject the reservation), provider_score {average, count};
    and, when date and slot name an existing slot: slot_window {start, end, cutoff_at} in UTC,
    scheduled (the weekly schedule runs the slot that weekday), closed (an exception closes it that day),
    cutoff_passed (orders for that day are no longer taken), capacity (that day, with extra portions).
    """
    doc = db().listings.find_one({"_id": listing_id})
    if doc is None:
        raise not_found("The listing")
    out = listing_out(doc)
    out["provider_active"] = doc.get("provider_active", False)
    sd = schedule.listing_slot_day(doc, args["slot"], args["date"]) if "slot" in args and "date" in args else None
    if sd is not None:
        out["slot_window"] = {"start": sd.start, "end": sd.end, "cutoff_at": sd.cutoff_at}
        out.update(scheduled=sd.scheduled, closed=sd.closed, cutoff_passed=utcnow() >= sd.cutoff_at,
                   capacity=sd.capacity)
    return out
