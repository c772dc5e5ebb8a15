"""Delivery rules without I/O: task states, what a volunteer may see, served minutes."""
from __future__ import annotations

from datetime import datetime, timedelta

TASK_STATES = ("waiting", "ready", "offered", "assigned", "picked_up", "delivered", "failed", "cancelled")
OPEN_STATES = ("waiting", "ready", "offered")
VEHICLES = ("foot", "bike", "e_bike")
FAILURE_REASONS = ("wrong_address", "refused", "unsafe", "nobody_answers", "meal_damaged")
MAX_CREDITED_MINUTES = 180
ADDRESS_VISIBLE_AFTER_DELIVERY = timedelta(hours=1)


def address_visible(task: dict, volunteer_id: str | None, role: str, now: datetime) -> bool:
    """The resident's address and phone: for the coordinator, and for the assigned volunteer
    from acceptance until an hour after hand-over."""
    if role in ("coordinator", "admin"):
        return True
    if role != "volunteer" or volunteer_id is None or task.get("volunteer_id") != volunteer_id:
        return False
    if task["status"] in ("assigned", "picked_up"):
        return True
    delivered_at = task.get("delivered_at")
    return task["status"] == "delivered" and delivered_at is not None and now - delivered_at <= ADDRESS_VISIBLE_AFTER_DELIVERY


def masked_dropoff(dropoff: dict) -> dict:
    return {"community_id": dropoff["community_id"], "building": dropoff["building"]}


def served_minutes(assigned_at: datetime, delivered_at: datetime) -> int:
    minutes = int((delivered_at - assigned_at).total_seconds() // 60)
    return max(1, min(MAX_CREDITED_MINUTES, minutes))
