"""Listing routes: a provider writes its listings; anyone searches and opens them; a coordinator approves
funders' shares; orders reads a snapshot (internal)."""
from __future__ import annotations

from flask import g

from linli.errors import invalid
from linli.schemas import PageArgs, geojson_to_point
from linli.web import current_principal, idempotent, requires

from .. import commands
from ..rules import listings
from ..schemas import (ApprovalIn, AvailabilityArgs, AvailabilitySchema, ListingArgs, ListingPage,
                       ListingIn, ListingPatch, ListingSnapshot, ListingVersionSchema, OwnListingSchema,
                       PendingListingPage, SnapshotArgs)
from . import STAFF, blp, db, internal, units


def listing_out(doc: dict, provider: dict) -> dict:
    brief = {"id": provider.get("_id"), "name": provider.get("name"), "kind": provider.get("kind"),
             "address": provider.get("address"), "location": geojson_to_point(provider.get("location"))}
    return {**doc, "id": doc["_id"], "provider": brief, "provider_owner_id": provider.get("owner_id"),
            "provider_score": doc.get("rating") or {"average": None, "count": 0},
            "distance_m": round(doc["distance_m"], 1) if doc.get("distance_m") is not None else None}


# -- writing listings --------------------------------------------------------------------

@blp.route("/listings", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ListingIn)
@blp.response(201, OwnListingSchema)
def create_listing(body):
    """Creates a listing of the signed-in provider: published at once (the profile must be verified) or a draft.
    Price tiers that give a funder a share wait for a coordinator's approval (`proposed_pricing`); until then
    residents pay the full price."""
    return listing_out(*units().run(lambda u: commands.create_listing(u, g.principal, body)))


@blp.route("/listings/<listing_id>", methods=["PATCH"])
@requires("provider")
@idempotent(db)
@blp.arguments(ListingPatch)
@blp.response(200, OwnListingSchema)
def update_listing(body, listing_id):
    """Changes a listing or moves it (draft → published → paused → withdrawn); every change makes a new
    version, and orders keep the version they bought. New tiers that give a funder a share wait for a
    coordinator's approval (`proposed_pricing`); the tiers in effect, and their price, apply meanwhile."""
    return listing_out(*units().run(lambda u: commands.edit_listing(u, g.principal, listing_id, body)))


@blp.route("/listings/awaiting-approval")
@requires(*STAFF)
@blp.arguments(PageArgs, location="query")
@blp.response(200, PendingListingPage)
def awaiting_approval(args):
    """Listings of your communities whose price tiers (funders' shares) wait for your approval, oldest first."""
    u = units().read()
    docs, numbers = commands.awaiting_approval(u, g.principal, args)
    return {"items": [{**d, "id": d["_id"]} for d in docs], **numbers}


@blp.route("/listings/<listing_id>/pricing/approve", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(ApprovalIn)
@blp.response(200, OwnListingSchema)
def approve_pricing(body, listing_id):
    """A coordinator of one of the listing's communities approves the price and tiers waiting on the version
    it looked at (`version`); they take effect as the listing's next version."""
    return listing_out(*units().run(lambda u: commands.approve_pricing(u, g.principal, listing_id, body["version"])))


# -- reading listings --------------------------------------------------------------------

@blp.route("/listings")
@blp.arguments(ListingArgs, location="query")
@blp.response(200, ListingPage)
def list_listings(args):
    """Search published listings of verified providers: by category, community, near=lng,lat within radius_m,
    q (Chinese or English words of the title, description and tags), price range and open_on a date;
    sorted by distance, rating, price or newest. Each item carries its distance and its provider's score."""
    docs, total, providers = commands.search(units().read(), args)
    return {"items": [listing_out(x, providers.get(x["provider_id"]) or {}) for x in docs],
            "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.route("/listings/<listing_id>")
@blp.response(200, OwnListingSchema)
def get_listing(listing_id):
    """One listing; its provider and the committee also see the price tiers waiting for approval."""
    who = current_principal()
    doc, provider = commands.visible_listing(units().read(), who, listing_id)
    out = listing_out(doc, provider)
    if not listings.insider(doc, provider, who):
        out.pop("proposed_pricing", None)
        out.pop("pricing_approved", None)
    return out


@blp.route("/listings/<listing_id>/versions/<int:version>")
@blp.response(200, ListingVersionSchema)
def get_listing_version(listing_id, version):
    """A listing as it was at one version — what an order of that version bought."""
    kept, provider = commands.listing_version(units().read(), current_principal(), listing_id, version)
    return {**kept, "listing": listing_out(kept["listing"], provider)}


@blp.route("/listings/<listing_id>/availability")
@blp.arguments(AvailabilityArgs, location="query")
@blp.response(200, AvailabilitySchema)
def availability(args, listing_id):
    """What is left in each slot of a listing on a date (date=) or each day of a range (from=, to=; at most 31
    days). Times are shown in the listing's zone (start, end) and as UTC instants (starts_at, ends_at, cutoff_at)."""
    if "date" in args:
        first = last = args["date"]
    elif "from_" in args:
        first, last = args["from_"], args.get("to", args["from_"])
    else:
        raise invalid("date", "give date=, or from= and to=")
    return commands.availability(units().read(), current_principal(), listing_id, first, last)


@internal.route("/listings/<listing_id>")
@internal.arguments(SnapshotArgs, location="query")
@internal.response(200, ListingSnapshot)
def listing_snapshot(args, listing_id):
    """The listing as orders snapshots it when an order is placed (?date=YYYY-MM-DD&slot=NAME).

    Shape: id, version, title, description, category, fulfilment, price_fen, unit, tags, photos,
    community_ids, slots, exceptions, max_quantity, timezone, status;
    tiers: [{tag, resident_pays_fen, shares: [{funder, amount_fen}]}] — the tiers in effect (approved by the
    committee when they give a funder a share): a resident with the tag pays resident_pays_fen and the
    funders the shares, which add up to price_fen;
    provider {id, name, kind, address, location}, provider_owner_id, provider_active (false while the
    provider is suspended: catalog will reject the reservation), provider_score {average, count};
    and, when date and slot name an existing slot: slot_window {start, end, cutoff_at} in UTC,
    scheduled (the weekly schedule runs the slot that weekday), closed (an exception closes it that day),
    cutoff_passed (orders for that day are no longer taken), capacity (that day, with extra portions).
    """
    doc, provider, extra = commands.snapshot(units().read(), listing_id, args.get("date"), args.get("slot"))
    return {**listing_out(doc, provider), **extra}
