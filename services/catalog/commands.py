"""What people do in catalog, one function per action: each takes the unit of work it runs in and the
person acting, reads through the store, decides with the rules, writes through the store and emits its
events. Refusals are domain errors (linli.domain_errors); nothing here speaks HTTP."""
from __future__ import annotations

from linli.auth import Principal
from linli.contracts import catalog as contract
from linli.domain_errors import Conflict, Forbidden, NotFound, RuleBroken
from linli.ids import new_id
from linli.schemas import geojson_to_point, point_to_geojson
from linli.unit import Unit

from . import store
from .rules import domain, listings, reviews, schedule
from .rules import search as search_rules

# -- reference data (an admin) ---------------------------------------------------------------


def add_category(u: Unit, body: dict) -> dict:
    doc = {"_id": body["id"], "name_zh": body["name_zh"], "name_en": body["name_en"]}
    if not store.add_category(u, doc):
        raise Conflict(f"A category with the id {doc['_id']!r} exists already.")
    return doc


def rename_category(u: Unit, category_id: str, names: dict) -> dict:
    doc = store.rename_category(u, category_id, names)
    if doc is None:
        raise NotFound("The category")
    return doc


def add_community(u: Unit, body: dict) -> dict:
    """A community with its centre, time zone and optional boundary; radius listings reaching it serve it."""
    boundary = _polygon(body["boundary"]) if body["boundary"] else None
    if boundary is not None:
        domain.check_boundary(boundary, body["center"])
    doc = {"_id": body["id"], "name": body["name"], "center": point_to_geojson(body["center"]),
           "boundary": boundary, "timezone": body["timezone"],
           "buildings": domain.check_buildings(body["buildings"]), "committee_phone": body.get("committee_phone")}
    if not store.add_community(u, doc):
        raise Conflict(f"A community with the id {doc['_id']!r} exists already.")
    store.reach_community(u, doc)
    return doc


def change_community(u: Unit, community_id: str, body: dict) -> dict:
    """Renames or moves a community, or changes its boundary or time zone; a move rejoins radius listings."""
    doc = store.community(u, community_id)
    if doc is None:
        raise NotFound("The community")
    changes = {k: v for k, v in body.items() if k not in ("center", "boundary", "buildings")}
    if "buildings" in body:
        changes["buildings"] = domain.check_buildings(body["buildings"])
    center = body.get("center") or geojson_to_point(doc["center"])
    if "center" in body:
        changes["center"] = point_to_geojson(body["center"])
    if "boundary" in body:
        changes["boundary"] = _polygon(body["boundary"]) if body["boundary"] else None
    boundary = changes["boundary"] if "boundary" in body else doc.get("boundary")
    if boundary:
        domain.check_boundary(boundary, center)
    if changes:
        store.change_community(u, community_id, changes)
        if "center" in changes:
            store.reach_community(u, {**doc, **changes})
    return {**doc, **changes}


def _polygon(boundary: dict) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in boundary["coordinates"]]}


def _known_communities(u: Unit, ids: list[str]) -> None:
    unknown = store.unknown_communities(u, ids)
    if unknown:
        raise RuleBroken("community_ids", f"unknown communities: {', '.join(unknown)}")


# -- providers -----------------------------------------------------------------------------

def create_provider(u: Unit, who: Principal, body: dict) -> dict:
    """The signed-in provider's profile, pending until a coordinator verifies it."""
    _known_communities(u, body["community_ids"])
    doc = {"_id": new_id("prv"), "owner_id": who.id, **body, "location": point_to_geojson(body["location"]),
           "status": "pending", "rating": {"average": None, "count": 0}, "created_at": u.now}
    if not store.add_provider(u, doc):
        raise Conflict("You already have a provider profile.")
    return doc


def own_provider(u: Unit, who: Principal) -> dict:
    doc = store.provider_of(u, who.id)
    if doc is None:
        raise NotFound("Your provider profile")
    return doc


def edit_own_provider(u: Unit, who: Principal, body: dict) -> dict:
    """A provider changes its own name, contact, address, location or communities. Moving carries every
    listing along; a community can be dropped only when no listing still serves it."""
    doc = own_provider(u, who)
    if not body:
        return doc
    changes = {**body, "updated_at": u.now}
    if "location" in body:
        changes["location"] = point_to_geojson(body["location"])
    if "community_ids" in body:
        _known_communities(u, body["community_ids"])
        dropped = set(doc["community_ids"]) - set(body["community_ids"])
        still = store.listing_serving(u, doc["_id"], sorted(dropped)) if dropped else None
        if still is not None:
            serving = ", ".join(sorted(dropped & set(still["community_ids"])))
            raise RuleBroken("community_ids", f"your listing “{still['title']}” still serves {serving}; "
                                              "change or withdraw it first")
    centres = store.community_centres(u) if "location" in changes else []
    if not store.edit_provider(u, doc, changes, centres):
        raise Conflict("Your profile changed meanwhile; load it again and retry.")
    return {**doc, **changes}


# a coordinator acts on the providers serving one of its communities; each refusal for its action
_OUT_OF_SCOPE = {"verify": "You can verify only providers that serve a community you look after.",
                 "suspend": "You can suspend only providers that serve a community you look after."}


def verify_provider(u: Unit, who: Principal, provider_id: str) -> dict:
    """A coordinator confirms the provider is who it says it is (or lifts a suspension); its listings show again."""
    return _move_provider(u, who, provider_id, "verify", {"verified_by": who.id, "verified_at": u.now,
                                                          "suspended_reason": None})


def suspend_provider(u: Unit, who: Principal, provider_id: str, reason: str) -> dict:
    """A coordinator suspends a provider: its listings disappear from search at once and take no orders."""
    return _move_provider(u, who, provider_id, "suspend", {"suspended_by": who.id, "suspended_at": u.now,
                                                           "suspended_reason": reason})


def _move_provider(u: Unit, who: Principal, provider_id: str, action: str, changes: dict) -> dict:
    doc = store.provider(u, provider_id)
    if doc is None:
        raise NotFound("The provider")
    domain.check_watches(who, doc.get("community_ids"), _OUT_OF_SCOPE[action])
    status = domain.provider_move(doc["status"], action)
    if status == doc["status"]:
        return doc  # asked twice: nothing more to do
    if not store.move_provider(u, provider_id, doc["status"], {**changes, "status": status}):
        raise Conflict("The provider changed meanwhile; load it again and retry.")
    if status == "verified":
        u.emit(contract.provider_verified(provider_id=provider_id, owner_id=doc["owner_id"], kind=doc["kind"],
                                          name=doc["name"]), f"provider:{provider_id}")
    return {**doc, **changes, "status": status}


# -- listings ------------------------------------------------------------------------------

def _refuse_unless_can_publish(provider: dict) -> None:
    if not domain.provider_can_publish(provider):
        if provider["status"] == "suspended":
            raise Conflict("Your profile is suspended by the residents' committee; you cannot publish until it "
                           "is lifted.", code="provider_suspended")
        raise Conflict("Your profile is waiting for the residents' committee to verify it; you can publish "
                       "after that.", code="provider_not_verified")


def _service_area(u: Unit, change: dict, location: dict) -> dict:
    """A radius listing serves the communities whose centre lies within its radius; naming communities
    instead ends the radius. Either way the listing keeps the time zone of its first community."""
    area: dict = {}
    if "service_radius_m" in change:
        radius = change["service_radius_m"]
        area["community_ids"] = listings.communities_within(location, radius, store.community_centres(u))
        if not area["community_ids"]:
            raise RuleBroken("service_radius_m", f"no community's centre lies within {radius} m of your location; "
                                                 "widen the radius or name the communities you serve")
    elif "community_ids" in change:
        area["service_radius_m"] = None
    served = area.get("community_ids") or change.get("community_ids")
    if served:
        first = store.community(u, served[0])
        if first is None:
            raise RuleBroken("community_ids", f"unknown communities: {served[0]}")
        area["timezone"] = first["timezone"]
    return area


def own_listing(u: Unit, who: Principal, listing_id: str) -> tuple[dict, dict]:
    """The signed-in provider's listing and profile; someone else's is answered as not found, never changed."""
    doc = store.listing(u, listing_id)
    provider = store.provider_of(u, who.id)
    if doc is None or provider is None or doc["provider_id"] != provider["_id"]:
        raise NotFound("The listing")
    return doc, provider


def create_listing(u: Unit, who: Principal, body: dict) -> tuple[dict, dict]:
    """A listing of the signed-in provider: published at once (the profile must be verified) or a draft.
    Tiers giving a funder a share wait for a coordinator's approval."""
    provider = store.provider_of(u, who.id)
    if provider is None:
        raise Conflict("Create your provider profile first.", code="no_provider_profile")
    if body["status"] == "published":
        _refuse_unless_can_publish(provider)
    if store.category(u, body["category"]) is None:
        raise RuleBroken("category", f"there is no category {body['category']!r}")
    area = _service_area(u, body, provider["location"])
    timezone = area.pop("timezone")
    doc = listings.new_listing({**body, **area}, listing_id=new_id("lst"), provider=provider, timezone=timezone,
                               now=u.now)
    _save(u, None, doc)
    return doc, provider


def edit_listing(u: Unit, who: Principal, listing_id: str, body: dict) -> tuple[dict, dict]:
    """Changes a listing or moves it (draft → published → paused → withdrawn); every change makes a new
    version, and orders keep the version they bought."""
    doc, provider = own_listing(u, who, listing_id)
    if not body:
        return doc, provider
    if body.get("status") == "published" and doc["status"] != "published":
        _refuse_unless_can_publish(provider)
    body = {**body, **_service_area(u, body, doc["location"])}
    after = listings.edited(doc, body, provider["community_ids"], u.now)
    _save(u, doc, after)
    return after, provider


def approve_pricing(u: Unit, who: Principal, listing_id: str, version: int) -> tuple[dict, dict]:
    """A coordinator of one of the listing's communities approves the price and tiers waiting on the version
    it looked at: they take effect as the listing's next version."""
    doc = store.listing(u, listing_id)
    if doc is None:
        raise NotFound("The listing")
    domain.check_watches(who, doc.get("community_ids"),
                         "You can approve prices only of listings that serve a community you look after.")
    after = listings.approved(doc, version, who.id, u.now)
    _save(u, doc, after)
    return after, store.provider(u, doc["provider_id"]) or {}


_LISTING_EVENTS = {"published": contract.listing_published, "updated": contract.listing_updated,
                   "withdrawn": contract.listing_withdrawn}


def _save(u: Unit, before: dict | None, after: dict) -> None:
    if not store.save_listing(u, before, after):
        raise Conflict("The listing changed meanwhile; load it again and retry.")
    u.emit(_LISTING_EVENTS[listings.event_for(before, after)](**listings.event_data(after)),
           f"listing:{after['_id']}")


# -- reviews -------------------------------------------------------------------------------

def post_review(u: Unit, who: Principal, body: dict) -> dict:
    """Reviews the other side of a completed order, once per order and direction; blind until both the
    resident and the provider have written, or 7 days after completion."""
    author = reviews.author_role(body["direction"])
    if who.role != author:
        raise Forbidden(f"Only the order's {author} writes this review.")
    order = store.order_facts(u, body["order_id"])
    if order is None or "resident_id" not in order:  # no such order, or not paid yet: catalog knows an order's
        raise NotFound("The order")                      # parties from its payment
    parties = reviews.Parties(order["resident_id"], order["provider_id"], order.get("volunteer_id"))
    # someone else's order reads as no order at all, whatever its state (nothing learnt of it by trying)
    if who.role == "resident" and who.id != parties.resident_id:
        raise NotFound("The order")
    if who.role == "provider" and (store.provider(u, parties.provider_id) or {}).get("owner_id") != who.id:
        raise NotFound("The order")
    if not order.get("completed_at"):
        raise Conflict("An order can be reviewed once it is completed.", code="not_completed")
    subject = reviews.subject_of(body["direction"], parties)
    review = {"_id": f"{body['order_id']}:{body['direction']}", **body, "author_id": who.id, "subject_id": subject,
              "provider_id": parties.provider_id, "created_at": u.now, "reply": None, "counted": False,
              "visible_from": order["completed_at"] + reviews.REVEAL_AFTER}
    shown_from = store.add_review(u, review, order["completed_at"])
    if shown_from is None:
        raise Conflict("You have already reviewed this order.", code="already_reviewed")
    u.emit(contract.review_posted(
        order_id=body["order_id"], review_id=review["_id"], direction=body["direction"], author_id=who.id,
        subject_id=subject, stars=body["stars"], tags=body["tags"], visible_from=shown_from.isoformat()),
        f"review:{body['order_id']}")
    store.count_revealed(u)
    return {**review, "visible_from": min(review["visible_from"], shown_from)}


def reply_to_review(u: Unit, who: Principal, review_id: str, text: str) -> dict:
    """The reviewed provider answers a resident's review, once."""
    review = store.review(u, review_id)
    if (review is None or review["direction"] != "resident_to_provider"
            or (store.provider(u, review["subject_id"]) or {}).get("owner_id") != who.id):
        raise NotFound("The review")
    reply = {"text": text, "at": u.now}
    if not store.reply_once(u, review_id, reply):
        raise Conflict("You have already replied to this review.", code="already_replied")
    return {**review, "reply": reply}


# -- what people read (outside a transaction: `units.read()`) ------------------------------------

def search(u: Unit, args: dict) -> tuple[list[dict], int, dict[str, dict]]:
    """A page of published listings of providers in good standing, its total, and their providers by id."""
    plan = search_rules.plan(args)
    docs, total = store.search_listings(u, plan, args["page"], args["per_page"])
    return docs, total, store.providers_by_id(u, list({x["provider_id"] for x in docs}))


def visible_listing(u: Unit, who: Principal | None, listing_id: str) -> tuple[dict, dict]:
    """A listing anyone may open, with its provider; drafts, withdrawn offers and suspended providers' offers
    only for their owner and the staff of the communities they serve."""
    doc = store.listing(u, listing_id)
    provider = store.provider(u, doc["provider_id"]) if doc else None
    if doc is None or not listings.visible_to(doc, provider or {}, who):
        raise NotFound("The listing")
    return doc, provider or {}


def listing_version(u: Unit, who: Principal | None, listing_id: str, version: int) -> tuple[dict, dict]:
    """A listing as it was at one version — what an order of that version bought."""
    _, provider = visible_listing(u, who, listing_id)
    kept = store.listing_version(u, listing_id, version)
    if kept is None:
        raise NotFound(f"Version {version} of the listing")
    return kept, provider


def availability(u: Unit, who: Principal | None, listing_id: str, first, last) -> dict:
    """What is left in each slot of a listing on each day from `first` to `last`."""
    doc, _ = visible_listing(u, who, listing_id)
    days = schedule.date_range(first, last)
    taken = store.taken_by_slot(u, listing_id, days)
    out_days = [{"date": day.isoformat(), "slots": [schedule.slot_availability(doc, slot, day, taken, u.now)
                                                    for slot in doc.get("slots", [])]} for day in days]
    return {"listing_id": listing_id, "timezone": doc["timezone"], "date": days[0].isoformat(),
            "slots": out_days[0]["slots"], "days": out_days}


def snapshot(u: Unit, listing_id: str, day, slot: str | None) -> tuple[dict, dict, dict]:
    """The listing as orders snapshots it when an order is placed, its provider, and its slot on `day`."""
    doc = store.listing(u, listing_id)
    if doc is None:
        raise NotFound("The listing")
    provider = store.provider(u, doc["provider_id"]) or {}
    sd = schedule.listing_slot_day(doc, slot, day) if slot is not None and day is not None else None
    extra = {"provider_active": doc.get("provider_active", False)}
    if sd is not None:
        extra.update(slot_window={"start": sd.start, "end": sd.end, "cutoff_at": sd.cutoff_at},
                     scheduled=sd.scheduled, closed=sd.closed, cutoff_passed=u.now >= sd.cutoff_at,
                     capacity=sd.capacity)
    return doc, provider, extra


def awaiting_approval(u: Unit, who: Principal, page: dict) -> tuple[list[dict], dict]:
    """The listings of the staff member's communities whose price tiers wait for approval, oldest first."""
    return store.listings_awaiting_approval(u, who.scope_filter("community_ids"), page)


def providers(u: Unit, who: Principal, status: str | None, page: dict) -> tuple[list[dict], dict]:
    """The providers serving the staff member's communities (all of them for an admin), oldest first."""
    return store.providers_in(u, who.scope_filter("community_ids"), status, page)


def shown_reviews(u: Unit, provider_id: str, page: dict) -> tuple[list[dict], dict]:
    return store.shown_reviews_page(u, provider_id, page)


def scorecard(u: Unit, provider_id: str) -> dict:
    """A provider's record: stars overall and over 30 days, completed orders, answers in time."""
    if store.provider(u, provider_id) is None:
        raise NotFound("The provider")
    return {"provider_id": provider_id,
            **reviews.scorecard(store.shown_stars(u, provider_id), store.orders_of(u, provider_id), u.now)}
