"""What may be ordered, and what an order is made of when it is placed: checked against the
listing as catalog showed it at that moment, built without I/O (the store writes it)."""
from __future__ import annotations

from datetime import datetime

from linli.domain_errors import Conflict, RuleBroken
from linli.geo import distance_m
from linli.ids import digits

from .moves import timeline_entry
from .pricing import amount, choose_tier

DEFAULT_MAX_QUANTITY = 5


def check(listing: dict, body: dict, now: datetime) -> dict:
    """Refuses an order the listing cannot take; returns the slot's window (start and end)."""
    if listing.get("status") != "published":
        raise Conflict("This offer is not available for ordering.", code="listing_unavailable")
    address = body["address"]
    if listing.get("service_radius_m"):
        kitchen, home = listing["provider"]["location"], address["location"]
        away = distance_m(kitchen["lng"], kitchen["lat"], home["lng"], home["lat"])
        if away > listing["service_radius_m"]:
            raise RuleBroken("address.location", f"this provider serves addresses within "
                                                 f"{listing['service_radius_m'] / 1000:.1f} km of it; yours is "
                                                 f"{away / 1000:.1f} km away")
    elif address["community_id"] not in listing["community_ids"]:
        raise RuleBroken("address.community_id", "this provider does not serve your community")
    most = listing.get("max_quantity", DEFAULT_MAX_QUANTITY)
    if body["quantity"] > most:
        raise RuleBroken("quantity", f"at most {most} per order")
    window = listing.get("slot_window")
    if window is None:
        raise RuleBroken("slot", f"this offer has no slot named {body['slot']!r}")
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    if end <= now:
        raise RuleBroken("slot_date", "this slot is already over; choose a later date")
    if listing.get("closed") or listing.get("cutoff_passed"):
        raise RuleBroken("slot_date", "orders for this slot are closed; choose a later date")
    return {"start": start, "end": end}


def new_codes() -> dict:
    """The canteen's pickup code and the resident's 4-digit hand-over code."""
    return {"pickup_code": digits(6), "handover_code": digits(4)}


def new_order(order_id: str, resident, ordered_by: dict | None, body: dict, listing: dict, now: datetime) -> dict:
    """The order document for `resident` (id, name, tags), placed by them or by `ordered_by` on their behalf."""
    window = check(listing, body, now)
    price = amount(listing["price_fen"], body["quantity"], choose_tier(listing.get("tiers", []), resident.tags))
    placer = ordered_by or {"role": resident.role, "id": resident.id}
    return {
        "_id": order_id,
        "resident_id": resident.id,
        "resident_name": resident.name,
        "ordered_by": ordered_by,
        "listing": {k: listing.get(k) for k in ("id", "version", "title", "price_fen", "unit", "fulfilment",
                                                "category", "timezone")},
        "provider": {**listing["provider"], "owner_id": listing["provider_owner_id"]},
        "quantity": body["quantity"],
        "slot": {"date": body["slot_date"].isoformat(), "name": body["slot"], **window,
                 "capacity": listing.get("capacity")},
        "address": body["address"],
        "notes": body.get("notes", ""),
        "amount": price,
        "status": "placed",
        "timeline": [timeline_entry(None, "placed", placer["role"], placer["id"], now,
                                    f"ordered by {ordered_by['name']} for {resident.name}" if ordered_by
                                    else "order placed")],
        "codes": new_codes(),
        "payment_attempts": 0,
        "payment": None,
        "refunded_fen": 0,
        "courier": None,
        "deadline": None,
        "escalations": [],
        "created_at": now,
        "updated_at": now,
    }


def placed_event(order: dict, listing: dict) -> dict:
    return {"order_id": order["_id"], "resident_id": order["resident_id"], "listing_id": listing["id"],
            "listing_version": listing["version"], "provider_id": order["provider"]["id"],
            "quantity": order["quantity"], "slot_date": order["slot"]["date"], "slot": order["slot"]["name"],
            "amount_fen": order["amount"]["payable_fen"]}
