"""Slots without I/O: the weekly schedule, order cut-offs, dated exceptions, and what a slot is on a day.

A schedule is kept as the provider thinks of it — local wall-clock times ("11:00") in the
listing's time zone — because a weekly rhythm is a local thing; every instant computed
from it (a slot's window, its cut-off) is UTC, and that is what is stored and compared.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from linli.clock import local_to_utc

from linli.domain_errors import RuleBroken

from .domain import Rejection

ALL_DAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO weekdays, Monday = 1
MAX_RANGE_DAYS = 31
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_hhmm(value: str, field: str) -> time:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise RuleBroken(field, "use 24-hour HH:MM, for example 11:30")
    h, m = value.split(":")
    return time(int(h), int(m))


def days_of(slot: dict) -> tuple[int, ...]:
    """A slot with no days given runs every day (how the first listings were written)."""
    return tuple(slot.get("days") or ALL_DAYS)


def check_slots(slots: list[dict]) -> None:
    names = set()
    for i, slot in enumerate(slots):
        start = parse_hhmm(slot["start"], f"slots.{i}.start")
        end = parse_hhmm(slot["end"], f"slots.{i}.end")
        if end <= start:
            raise RuleBroken(f"slots.{i}.end", "the slot must end after it starts")
        if slot["name"] in names:
            raise RuleBroken(f"slots.{i}.name", f"two slots are named {slot['name']!r}")
        names.add(slot["name"])
        if len(set(days_of(slot))) != len(days_of(slot)):
            raise RuleBroken(f"slots.{i}.days", "name each day once")
        if slot.get("cutoff") is not None:
            cutoff = parse_hhmm(slot["cutoff"], f"slots.{i}.cutoff")
            if slot.get("cutoff_days_before", 0) == 0 and cutoff > start:
                raise RuleBroken(f"slots.{i}.cutoff", "orders must close by the time the slot starts")


def check_exceptions(exceptions: list[dict], slots: list[dict]) -> None:
    names = {s["name"] for s in slots}
    seen = set()
    for i, exc in enumerate(exceptions):
        if exc.get("slot") is not None and exc["slot"] not in names:
            raise RuleBroken(f"exceptions.{i}.slot", f"there is no slot named {exc['slot']!r}")
        if bool(exc.get("closed")) == bool(exc.get("extra")):
            raise RuleBroken(f"exceptions.{i}", "say either closed: true or a number of extra portions")
        key = (exc["date"], exc.get("slot"))
        if key in seen:
            raise RuleBroken(f"exceptions.{i}.date", "one exception per date and slot")
        seen.add(key)


@dataclass(frozen=True)
class SlotDay:
    """One slot on one date: its window and cut-off in UTC, its capacity that day, whether it runs."""
    name: str
    day: date
    start: datetime
    end: datetime
    cutoff_at: datetime
    scheduled: bool     # the weekly schedule has it on this weekday
    closed: bool        # an exception closes it that day
    capacity: int       # with the day's extra portions

    @property
    def runs(self) -> bool:
        return self.scheduled and not self.closed

    def orderable(self, now: datetime) -> bool:
        return self.runs and now < self.cutoff_at and now < self.end


def slot_day(slot: dict, day: date, exceptions: list[dict], tz: str) -> SlotDay:
    start = local_to_utc(day, parse_hhmm(slot["start"], "start"), tz)
    end = local_to_utc(day, parse_hhmm(slot["end"], "end"), tz)
    if slot.get("cutoff") is not None:
        cutoff_day = day - timedelta(days=slot.get("cutoff_days_before", 0))
        cutoff_at = local_to_utc(cutoff_day, parse_hhmm(slot["cutoff"], "cutoff"), tz)
    else:
        cutoff_at = end  # no cut-off: orders are taken until the slot is over
    todays = _exceptions_on(slot, day, exceptions)
    return SlotDay(
        name=slot["name"], day=day, start=start, end=end, cutoff_at=cutoff_at,
        scheduled=day.isoweekday() in days_of(slot),
        closed=any(e.get("closed") for e in todays),
        capacity=slot["capacity"] + sum(e.get("extra") or 0 for e in todays),
    )


def _exceptions_on(slot: dict, day: date, exceptions: list[dict]) -> list[dict]:
    iso_day = day.isoformat()
    return [e for e in exceptions if e["date"] == iso_day and e.get("slot") in (None, slot["name"])]


def listing_slot_day(listing: dict, slot_name: str, day: date) -> SlotDay | None:
    slot = next((s for s in listing.get("slots", []) if s["name"] == slot_name), None)
    if slot is None:
        return None
    return slot_day(slot, day, listing.get("exceptions", []), listing["timezone"])


def slot_availability(listing: dict, slot: dict, day: date, taken: dict, now: datetime) -> dict:
    """What is left of one slot on one day; `taken` maps (date, slot name) to the portions held."""
    sd = listing_slot_day(listing, slot["name"], day)
    left = max(sd.capacity - taken.get((day.isoformat(), slot["name"]), 0), 0) if sd.runs else 0
    return {"name": slot["name"], "start": slot["start"], "end": slot["end"], "starts_at": sd.start,
            "ends_at": sd.end, "cutoff_at": sd.cutoff_at, "capacity": sd.capacity if sd.runs else 0,
            "remaining": left, "closed": not sd.runs, "orderable": sd.orderable(now) and left > 0}


def date_range(first: date, last: date) -> list[date]:
    if last < first:
        raise RuleBroken("to", "the range must end on or after its start")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise RuleBroken("to", f"ask for at most {MAX_RANGE_DAYS} days at a time")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def open_days(slots: list[dict]) -> list[int]:
    """Weekdays on which any slot runs; an offer without slots (advice, errands) is open every day."""
    if not slots:
        return list(ALL_DAYS)
    return sorted({d for s in slots for d in days_of(s)})


def closed_dates(slots: list[dict], exceptions: list[dict]) -> list[str]:
    """Dates on which every slot that would run is closed by an exception (for "open on a date")."""
    out = []
    for iso_day in sorted({e["date"] for e in exceptions if e.get("closed")}):
        day = date.fromisoformat(iso_day)
        running = [s for s in slots if day.isoweekday() in days_of(s)]
        if running and all(any(e.get("closed") for e in _exceptions_on(s, day, exceptions)) for s in running):
            out.append(iso_day)
    return out


def reservation_refusal(listing: dict | None, provider: dict | None, slot_name: str, day: date,
                        quantity: int, now: datetime) -> Rejection | None:
    """Why an order cannot hold capacity at all (before counting portions); None if it may try."""
    if listing is None or listing.get("status") != "published":
        return Rejection("listing_unavailable", "This offer is no longer available.")
    if provider is None or provider.get("status") != "verified":
        return Rejection("provider_unavailable", "This provider is not taking orders at the moment.")
    sd = listing_slot_day(listing, slot_name, day)
    if sd is None:
        return Rejection("unknown_slot", f"There is no {slot_name!r} slot for this offer.")
    when = f"the {slot_name} slot on {day.isoformat()}"
    if not sd.scheduled:
        return Rejection("not_scheduled", f"There is no {slot_name} on {day.strftime('%A')}s; choose another day.")
    if sd.closed:
        return Rejection("closed", f"Sorry, {when} is closed; choose another day.")
    if sd.end <= now:
        return Rejection("slot_closed", f"The {slot_name} slot on {day.isoformat()} is already over.")
    if sd.cutoff_at <= now:
        return Rejection("cutoff_passed", f"Orders for {when} closed at {_local_hhmm(listing, sd.cutoff_at)}.")
    if quantity > sd.capacity:
        return Rejection("too_many", f"At most {sd.capacity} can be ordered for the {slot_name} slot.")
    return None


def _local_hhmm(listing: dict, at: datetime) -> str:
    return at.astimezone(ZoneInfo(listing["timezone"])).strftime("%H:%M")


def sold_out(slot_name: str, day: date, remaining: int, quantity: int) -> Rejection:
    if remaining <= 0:
        return Rejection("sold_out", f"Sorry, the {slot_name} slot on {day.isoformat()} is fully booked.")
    return Rejection("sold_out", f"Sorry, only {remaining} left for the {slot_name} slot on {day.isoformat()}; "
                                 f"you asked for {quantity}.")
