"""Catalog rules, without I/O: provider kinds, listing checks, slot times, reservation answers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from linli.clock import local_to_utc

CATEGORIES = (
    ("charity_meals", "助餐", "Charity meals"),
    ("housekeeping", "家政", "Housekeeping"),
    ("appliance_repair", "家电维修", "Appliance repair"),
    ("home_repair", "房屋维修", "Home repair and renovation"),
    ("health_consultation", "健康咨询", "Health consultation"),
    ("errands", "跑腿", "Errands"),
    ("community_resources", "社区资源", "Community resources"),
)
CATEGORY_IDS = tuple(c[0] for c in CATEGORIES)
PROVIDER_KINDS = ("merchant", "hospital_canteen", "craftsman", "volunteer_expert")
FULFILMENTS = ("delivered", "on_site", "remote")
LISTING_STATUSES = ("draft", "published", "paused", "withdrawn")
DEFAULT_TZ = "Asia/Shanghai"
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class RuleViolation(ValueError):
    """A rule broken by the input; `field` names what to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse_hhmm(value: str, field: str) -> time:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise RuleViolation(field, "use 24-hour HH:MM, for example 11:30")
    h, m = value.split(":")
    return time(int(h), int(m))


def check_slots(slots: list[dict]) -> None:
    names = set()
    for i, slot in enumerate(slots):
        start = parse_hhmm(slot["start"], f"slots.{i}.start")
        end = parse_hhmm(slot["end"], f"slots.{i}.end")
        if end <= start:
            raise RuleViolation(f"slots.{i}.end", "the slot must end after it starts")
        if slot["name"] in names:
            raise RuleViolation(f"slots.{i}.name", f"two slots are named {slot['name']!r}")
        names.add(slot["name"])


def check_listing(fulfilment: str, slots: list[dict], communities: list[str], provider_communities: list[str]) -> None:
    if fulfilment == "delivered" and not slots:
        raise RuleViolation("slots", "a delivered listing needs at least one slot with a capacity")
    check_slots(slots)
    outside = sorted(set(communities) - set(provider_communities))
    if outside:
        raise RuleViolation("community_ids", f"your profile does not serve {', '.join(outside)}")


def slot_window_utc(day: date, slot: dict, tz: str = DEFAULT_TZ) -> tuple[datetime, datetime]:
    """A slot's start and end on a day, from the community's local time to UTC."""
    return (local_to_utc(day, parse_hhmm(slot["start"], "start"), tz),
            local_to_utc(day, parse_hhmm(slot["end"], "end"), tz))


@dataclass(frozen=True)
class Rejection:
    code: str
    reason: str


def reservation_refusal(listing: dict | None, provider: dict | None, slot_name: str, day: date,
                        quantity: int, now: datetime) -> Rejection | None:
    """Why an order cannot hold capacity at all (before counting portions); None if it may try."""
    if listing is None or listing.get("status") != "published":
        return Rejection("listing_unavailable", "This offer is no longer available.")
    if provider is None or provider.get("status") != "verified":
        return Rejection("provider_unavailable", "This provider is not taking orders at the moment.")
    slot = next((s for s in listing.get("slots", []) if s["name"] == slot_name), None)
    if slot is None:
        return Rejection("unknown_slot", f"There is no {slot_name!r} slot for this offer.")
    _start, end = slot_window_utc(day, slot, listing.get("timezone", DEFAULT_TZ))
    if end <= now:
        return Rejection("slot_closed", f"The {slot_name} slot on {day.isoformat()} is already over.")
    if quantity > slot["capacity"]:
        return Rejection("too_many", f"At most {slot['capacity']} can be ordered for the {slot_name} slot.")
    return None


def sold_out(slot_name: str, day: date, remaining: int, quantity: int) -> Rejection:
    if remaining <= 0:
        return Rejection("sold_out", f"Sorry, the {slot_name} slot on {day.isoformat()} is fully booked.")
    return Rejection("sold_out", f"Sorry, only {remaining} left for the {slot_name} slot on {day.isoformat()}; "
                                 f"you asked for {quantity}.")
