"""Listing rules, without I/O: status moves, price tiers and their approval, whole-listing checks, edits as
new versions, and the fields search reads (tokens, open days) derived from what the provider wrote."""
from __future__ import annotations

from datetime import datetime

from linli.domain_errors import Conflict, IllegalMove, RuleBroken
from linli.geo import distance_m

from . import schedule, tokens
from .domain import LISTING_MOVES


def check_status_move(current: str, wanted: str) -> None:
    if wanted != current and wanted not in LISTING_MOVES[current]:
        allowed = ", ".join(LISTING_MOVES[current]) or "nothing (it is final)"
        raise RuleBroken("status", f"a {current} listing can move to {allowed}, not {wanted}")


def check_tiers(price_fen: int, tiers: list[dict]) -> None:
    """Each tier: what the resident pays plus the funders' shares is exactly the base price."""
    tags = set()
    for i, tier in enumerate(tiers):
        if tier["tag"] in tags:
            raise RuleBroken(f"tiers.{i}.tag", f"two tiers are for {tier['tag']!r}")
        tags.add(tier["tag"])
        funders = [s["funder"] for s in tier["shares"]]
        if len(set(funders)) != len(funders):
            raise RuleBroken(f"tiers.{i}.shares", "name each funder once")
        paid = tier["resident_pays_fen"] + sum(s["amount_fen"] for s in tier["shares"])
        if paid != price_fen:
            raise RuleBroken(
                f"tiers.{i}.shares",
                f"the resident's {tier['resident_pays_fen']} fen and the shares add up to {paid} fen, "
                f"not the price of {price_fen} fen")


def check_communities(communities: list[str], provider_communities: list[str]) -> None:
    outside = sorted(set(communities) - set(provider_communities))
    if outside:
        raise RuleBroken("community_ids", f"your profile does not serve {', '.join(outside)}")


def check_listing(listing: dict, provider_communities: list[str]) -> None:
    """Every rule a whole listing keeps, at creation and after every edit."""
    if listing["fulfilment"] == "delivered" and not listing["slots"]:
        raise RuleBroken("slots", "a delivered listing needs at least one slot with a capacity")
    schedule.check_slots(listing["slots"])
    schedule.check_exceptions(listing.get("exceptions", []), listing["slots"])
    check_tiers(listing["price_fen"], listing.get("tiers", []))
    if not listing.get("service_radius_m"):  # a radius listing's communities follow from its radius
        check_communities(listing["community_ids"], provider_communities)


def derived(listing: dict) -> dict:
    """The fields search reads, recomputed from the listing on every write."""
    return {
        "search_tokens": tokens.index_tokens(listing["title"], listing.get("description", ""),
                                             " ".join(listing.get("tags", []))),
        "open_days": schedule.open_days(listing["slots"]),
        "closed_dates": schedule.closed_dates(listing["slots"], listing.get("exceptions", [])),
    }


def new_listing(body: dict, *, listing_id: str, provider: dict, timezone: str, now: datetime) -> dict:
    listing = {"_id": listing_id, "provider_id": provider["_id"], "version": 1, "status": "published",
               "tiers": [], "tags": [], "photos": [], "exceptions": [], **body,
               "timezone": timezone, "location": provider["location"],
               "provider_active": provider.get("status") == "verified",
               "rating": provider.get("rating", {"average": None, "count": 0}),
               "created_at": now, "updated_at": now}
    check_listing(listing, provider["community_ids"])
    listing = {**listing, **pricing_in_effect(None, body["price_fen"], listing["tiers"], now)}
    return {**listing, **derived(listing)}


def edited(listing: dict, patch: dict, provider_communities: list[str], now: datetime) -> dict:
    """The next version of a listing after a provider's edit; the old one is kept by the caller.
    A price or tiers asked for are checked as a whole, then wait for approval if they give a funder a share."""
    if "status" in patch:
        check_status_move(listing["status"], patch["status"])
    if listing["status"] == "withdrawn":
        raise RuleBroken("status", "a withdrawn listing cannot be changed")
    after = {**listing, **patch, "version": listing["version"] + 1, "updated_at": now}
    if "price_fen" in patch or "tiers" in patch:
        asked = listing.get("proposed_pricing") or listing  # the provider edits what it last asked for
        price, tiers = patch.get("price_fen", asked["price_fen"]), patch.get("tiers", asked["tiers"])
        check_listing({**after, "price_fen": price, "tiers": tiers}, provider_communities)
        after.update(pricing_in_effect(listing, price, tiers, now))
    check_listing(after, provider_communities)
    return {**after, **derived(after)}


# -- funders' shares wait for the committee ------------------------------------------------
#
# A funder's share is money someone else pays (the town, a sponsor), so it is the residents'
# committee's deal, not the provider's: tiers that give any funder a share take effect only once a
# coordinator of one of the listing's communities approves them. Until then the listing keeps the
# tiers in effect and the price they add up to; tiers with no funder's share apply at once.

def funded(tiers: list[dict]) -> bool:
    return any(share["amount_fen"] > 0 for tier in tiers for share in tier.get("shares", ()))


def pricing_in_effect(before: dict | None, price_fen: int, tiers: list[dict], now: datetime) -> dict:
    """The price and tiers a listing applies after a provider asked for `price_fen` and `tiers` (already
    checked to add up), and what waits for approval (`proposed_pricing`, None when nothing waits)."""
    if not funded(tiers) or (before is not None and (before["price_fen"], before["tiers"]) == (price_fen, tiers)):
        return {"price_fen": price_fen, "tiers": tiers, "proposed_pricing": None}
    # the price stays while the funded tiers in effect add up to it; other tiers in effect only while it holds
    price = before["price_fen"] if before is not None and funded(before["tiers"]) else price_fen
    kept = before["tiers"] if before is not None and before["price_fen"] == price else []
    return {"price_fen": price, "tiers": kept,
            "proposed_pricing": {"price_fen": price_fen, "tiers": tiers, "proposed_at": now}}


def approved(listing: dict, version: int, coordinator_id: str, now: datetime) -> dict:
    """The next version of a listing once a coordinator approves the price and tiers waiting on the version
    it saw; refused when nothing waits or the listing changed since."""
    proposal = listing.get("proposed_pricing")
    if listing["status"] == "withdrawn":
        raise IllegalMove("withdrawn", "A withdrawn listing's prices can no longer be approved.")
    if not proposal:
        raise Conflict("No price tiers of this listing are waiting for approval.", code="nothing_to_approve")
    if version != listing["version"]:
        raise Conflict(f"The listing changed since version {version}; it is at version {listing['version']} now. "
                       "Look at what waits again before approving it.", code="listing_changed",
                       version=listing["version"])
    after = {**listing, "price_fen": proposal["price_fen"], "tiers": proposal["tiers"], "proposed_pricing": None,
             "pricing_approved": {"by": coordinator_id, "at": now, "version": listing["version"] + 1},
             "version": listing["version"] + 1, "updated_at": now}
    return {**after, **derived(after)}


def communities_within(location: dict, radius_m: int, communities: list[dict]) -> list[str]:
    """The communities a radius listing serves: those whose centre lies within its radius (GeoJSON points)."""
    (lng, lat) = location["coordinates"]
    return sorted(c["_id"] for c in communities
                  if distance_m(lng, lat, *c["center"]["coordinates"]) <= radius_m)


def radius_area_after_move(listing: dict, location: dict, communities: list[dict]) -> list[str]:
    """A radius listing's communities once its provider has moved to `location`; a move that would leave it
    serving no community is refused, as a radius reaching no community is when a listing is written."""
    served = communities_within(location, listing["service_radius_m"], communities)
    if not served:
        raise RuleBroken("location", f"from there your listing “{listing['title']}” would reach no community "
                                        f"within its {listing['service_radius_m']} m; widen its radius first")
    return served


def publicly_visible(listing: dict) -> bool:
    """What anyone may open: offers on sale or paused, of a provider in good standing."""
    return listing.get("status") in ("published", "paused") and listing.get("provider_active", False)


def visible_to(listing: dict, provider: dict, who) -> bool:
    """Whether `who` (a linli.auth.Principal, or None when nobody signed in) may open a listing: anyone one
    publicly visible; otherwise its provider, and the staff of the communities it serves."""
    return publicly_visible(listing) or insider(listing, provider, who)


def insider(listing: dict, provider: dict, who) -> bool:
    """Its provider, or the staff of a community it serves: they also see what waits for approval."""
    if who is None:
        return False
    return provider.get("owner_id") == who.id or (who.is_staff and who.watches_any(listing.get("community_ids")))


def event_for(before: dict | None, after: dict) -> str:
    """Which event an edit is: publishing, withdrawing, or any other change ("published", "withdrawn", "updated")."""
    if after["status"] == "withdrawn":
        return "withdrawn"
    if after["status"] == "published" and (before is None or before["status"] != "published"):
        return "published"
    return "updated"


def event_data(listing: dict) -> dict:
    return {"listing_id": listing["_id"], "provider_id": listing["provider_id"], "version": listing["version"],
            "status": listing["status"], "category": listing["category"], "title": listing["title"],
            "price_fen": listing["price_fen"], "community_ids": listing["community_ids"]}
