"""Delivery rules without I/O: task states, what a volunteer may see, shifts, served minutes."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from linli.clock import local_today

TASK_STATES = ("waiting", "ready", "offered", "escalated", "assigned", "picked_up", "welfare_check", "delivered",
               "failed", "cancelled")
# Nobody holds these yet: a coordinator may assign them by hand, a cancellation just closes them.
UNHELD_STATES = ("waiting", "ready", "offered", "escalated")
# The volunteer is at work on these: the address is theirs to see, a cancellation frees them.
HELD_STATES = ("assigned", "picked_up", "welfare_check")
VEHICLES = ("foot", "bike", "e_bike")
FAILURE_REASONS = ("wrong_address", "refused", "unsafe", "nobody_answers", "meal_damaged")
# "Nobody answers" is not a failed parcel: an elder who does not open the door is a person to check on.
WELFARE_REASON = "nobody_answers"
WELFARE_OUTCOMES = ("resident_safe", "family_reached", "emergency_services_called", "not_reached")
MAX_CREDITED_MINUTES = 180
ADDRESS_VISIBLE_AFTER_DELIVERY = timedelta(hours=1)
# The communities Linli serves keep Shanghai time; a volunteer's "today" and "this month" are local.
TIMEZONE = "Asia/Shanghai"


def address_visible(task: dict, volunteer_id: str | None, role: str, now: datetime) -> bool:
    """The resident's address and phone: for the coordinator, and for the assigned volunteer
    from acceptance until an hour after hand-over."""
    if role in ("coordinator", "admin"):
        return True
    if role != "volunteer" or volunteer_id is None or task.get("volunteer_id") != volunteer_id:
        return False
    if task["status"] in HELD_STATES:
        return True
    delivered_at = task.get("delivered_at")
    return task["status"] == "delivered" and delivered_at is not None and now - delivered_at <= ADDRESS_VISIBLE_AFTER_DELIVERY


def masked_dropoff(dropoff: dict) -> dict:
    return {"community_id": dropoff["community_id"], "building": dropoff["building"]}


def served_minutes(assigned_at: datetime, delivered_at: datetime) -> int:
    minutes = int((delivered_at - assigned_at).total_seconds() // 60)
    return max(1, min(MAX_CREDITED_MINUTES, minutes))


def on_shift(shifts: list[dict], now: datetime, tz: str = TIMEZONE) -> bool:
    """No shifts means "whenever I am on duty"; with shifts, only inside one of them (local weekday and time)."""
    if not shifts:
        return True
    local = now.astimezone(ZoneInfo(tz))
    at = local.time().replace(tzinfo=None)
    return any(s["weekday"] == local.weekday() and time.fromisoformat(s["start"]) <= at < time.fromisoformat(s["end"])
               for s in shifts)


def local_date(at: datetime) -> str:
    return local_today(at, TIMEZONE).isoformat()


def local_day_start(now: datetime) -> datetime:
    return datetime.combine(local_today(now, TIMEZONE), time(0), ZoneInfo(TIMEZONE))


def rating(stars: list[int]) -> dict:
    return {"count": len(stars), "average": round(sum(stars) / len(stars), 2) if stars else None}
