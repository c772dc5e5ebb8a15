"""Delivery rules without I/O: task states, what a volunteer may see, shifts, served minutes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from linli.clock import local_today

from linli.domain_errors import Forbidden, IllegalMove

TASK_STATES = ("waiting", "ready", "offered", "escalated", "assigned", "picked_up", "welfare_check", "delivered",
               "failed", "cancelled")
# Nobody holds these yet: a coordinator may assign them by hand, a cancellation just closes them.
UNHELD_STATES = ("waiting", "ready", "offered", "escalated")
# The volunteer is at work on these: the address is theirs to see, a cancellation frees them.
HELD_STATES = ("assigned", "picked_up", "welfare_check")
FINISHED_STATES = ("delivered", "failed", "cancelled")
SYSTEM = "system"  # the dispatcher, and events from orders
STAFF = ("coordinator", "admin")


@dataclass(frozen=True)
class Move:
    """One move of the task machine: `action` from any of `sources` to `target`, by one of `roles`.
    `refused` is the sentence a person reads when the task is in another state."""
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    refused: str


# The ten-state task machine, as data: every change of a task's state names its move here, and
# the store's conditional update reads the from-states from this table (store.move_task).
MOVES: tuple[Move, ...] = (
    Move("meal_ready", ("waiting",), "ready", (SYSTEM,),
         "The kitchen's word that the meal is ready only moves a delivery that is waiting for it."),
    Move("offer", ("waiting", "ready"), "offered", (SYSTEM,),
         "Only a delivery nobody holds and nobody is being asked about can be offered to volunteers."),
    Move("escalate", ("waiting", "ready"), "escalated", (SYSTEM,),
         "Only a delivery nobody holds can go to the coordinator's board."),
    # an offer lapsed, was declined by all, or its trip was broken up: back on the ladder
    Move("offer_ended", ("offered",), "waiting", (SYSTEM,),
         "This delivery is not on offer, so there is no offer to end."),
    Move("offer_ended_meal_ready", ("offered",), "ready", (SYSTEM,),
         "This delivery is not on offer, so there is no offer to end."),
    Move("accept", ("offered",), "assigned", ("volunteer",),
         "This delivery is no longer on offer; someone else took it or it was withdrawn."),
    Move("assign", UNHELD_STATES, "assigned", STAFF,
         "This delivery is already held by a volunteer or closed; only a delivery nobody holds can be "
         "given to a volunteer by hand."),
    Move("pick_up", ("assigned",), "picked_up", ("volunteer",),
         "This meal cannot be picked up now: the delivery is not waiting for its volunteer at the kitchen."),
    Move("hand_over", ("picked_up", "welfare_check"), "delivered", ("volunteer",) + STAFF,
         "This meal cannot be handed over now: it has not been picked up, or the delivery is already closed."),
    Move("report_failure", ("assigned", "picked_up"), "failed", ("volunteer",),
         "Only a delivery you are carrying out can be reported as failed; this one is not under way."),
    Move("report_nobody_answers", ("assigned", "picked_up"), "welfare_check", ("volunteer",),
         "A welfare check starts only from a delivery under way; this one is not."),
    Move("close_welfare_check", ("welfare_check",), "failed", ("volunteer",) + STAFF,
         "There is no open welfare check on this delivery to close."),
    Move("cancel", UNHELD_STATES + HELD_STATES, "cancelled", (SYSTEM,),
         "This delivery is finished already; there is nothing left to cancel."),
    # the coordinator sends a failed delivery out again (orders.order.redelivery_requested)
    Move("send_out_again", ("failed",), "waiting", (SYSTEM,),
         "Only a failed delivery can be sent out again."),
    Move("send_out_again_meal_ready", ("failed",), "ready", (SYSTEM,),
         "Only a failed delivery can be sent out again."),
)
_BY_ACTION = {m.action: m for m in MOVES}


def move_of(action: str) -> Move:
    return _BY_ACTION[action]


def sources_of(action: str) -> tuple[str, ...]:
    return _BY_ACTION[action].sources


def next_state(current: str, action: str, role: str) -> str:
    """The state after `action` by `role` from `current`; Forbidden for a role the move does not list,
    IllegalMove (with the move's own sentence) from a state it does not start from."""
    move = _BY_ACTION.get(action)
    if move is None:
        raise IllegalMove(current, "Nothing can be done to a delivery that way.")
    if role not in move.roles:
        raise Forbidden("You are not allowed to do this to a delivery.")
    if current not in move.sources:
        raise IllegalMove(current, move.refused)
    return move.target


def illegal(task: dict, action: str) -> IllegalMove:
    """The refusal of `action` on `task` as it stands (the move lost a race, or never could start)."""
    return IllegalMove(task["status"], _BY_ACTION[action].refused)


def back_on_ladder(meal_ready: bool) -> str:
    """The move that ends a task's offers: back to ready when its meal is, else to waiting."""
    return "offer_ended_meal_ready" if meal_ready else "offer_ended"
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
