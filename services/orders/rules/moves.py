"""The order state machine as data: every move an order can make, who may make it, and the
sentence that refuses each move from a state it cannot be made from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linli.domain_errors import Forbidden, IllegalMove

STATES = ("placed", "awaiting_payment", "paid", "accepted", "ready", "delivering", "service_done", "completed",
          "cancelled")
TERMINAL = ("completed", "cancelled")
SYSTEM = "system"  # the saga itself, moved by events and deadlines
ALL = ("delivered", "on_site", "remote")
VISITS = ("on_site", "remote")


@dataclass(frozen=True)
class Move:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    fulfilments: tuple[str, ...] = ALL
    refunds: bool = False  # the money paid goes back when this move is made


# Every transition an order can make; anything else is refused with the current state.
MOVES: tuple[Move, ...] = (
    Move("reservation_confirmed", ("placed",), "awaiting_payment", (SYSTEM,)),
    Move("reservation_rejected", ("placed",), "cancelled", (SYSTEM,)),
    Move("payment_succeeded", ("awaiting_payment",), "paid", (SYSTEM,)),
    Move("free_order", ("awaiting_payment",), "paid", (SYSTEM,)),
    Move("payment_expired", ("awaiting_payment",), "cancelled", (SYSTEM,)),
    Move("cancel", ("placed", "awaiting_payment", "paid"), "cancelled", ("resident", "coordinator"), refunds=True),
    Move("accept", ("paid",), "accepted", ("provider",)),
    Move("decline", ("paid",), "cancelled", ("provider",), refunds=True),
    Move("provider_timeout", ("paid",), "cancelled", (SYSTEM,), refunds=True),
    # a coordinator may call off a committed order (a failed delivery among them) and refund it
    Move("revoke", ("accepted", "ready", "delivering", "service_done"), "cancelled", ("coordinator",), refunds=True),
    Move("ready", ("accepted",), "ready", ("provider",), ("delivered",)),
    Move("picked_up", ("accepted", "ready"), "delivering", (SYSTEM,), ("delivered",)),
    Move("delivered", ("delivering",), "completed", (SYSTEM,), ("delivered",)),
    # after a failed delivery the coordinator may send the meal out again: it is back with the kitchen
    # (an order whose meal never left the kitchen keeps its state; commands.redeliver only notes it)
    Move("redeliver", ("delivering",), "ready", ("coordinator",), ("delivered",)),
    # or, the meal spoiled or lost on the way, have the kitchen make it again before it goes out
    Move("remake", ("delivering",), "accepted", ("coordinator",), ("delivered",)),
    Move("done", ("accepted",), "service_done", ("provider",), VISITS),
    Move("complete", ("service_done",), "completed", ("resident",), VISITS),
    Move("auto_complete", ("service_done",), "completed", (SYSTEM,), VISITS),
)
_BY_ACTION = {m.action: m for m in MOVES}

# The refusal of each action, a sentence written for it ("pay" is not a move: paying is the
# provider's notification; the route asks before it opens a cashier).
REFUSALS = {
    "reservation_confirmed": "A place cannot be confirmed for this order now",
    "reservation_rejected": "This order cannot be turned away by the catalog now",
    "payment_succeeded": "This order cannot take a payment now",
    "free_order": "This order cannot be settled as free now",
    "payment_expired": "This order cannot lapse for want of payment now",
    "cancel": "This order cannot be cancelled now",
    "accept": "This order cannot be accepted now",
    "decline": "This order cannot be declined now",
    "provider_timeout": "This order cannot be cancelled for want of an answer now",
    "revoke": "This order cannot be called off now",
    "ready": "This order cannot be marked ready now",
    "picked_up": "This order cannot be picked up now",
    "delivered": "This order cannot be handed over now",
    "redeliver": "This order cannot be sent out again now",
    "remake": "This order cannot go back to the kitchen now",
    "done": "This order cannot be marked done now",
    "complete": "This order cannot be confirmed as completed now",
    "auto_complete": "This order cannot complete by itself now",
    "pay": "This order cannot be paid now",
}
# how each state reads after "cannot ... now:"
AS_IT_IS = {
    "placed": "a place is still being looked for",
    "awaiting_payment": "it is waiting for payment",
    "paid": "it is paid and waiting for the provider",
    "accepted": "the provider has accepted it",
    "ready": "it is ready for pickup",
    "delivering": "it is on its way",
    "service_done": "the provider has finished the job",
    "completed": "it is completed",
    "cancelled": "it is cancelled",
    "missing": "it no longer exists",
}


def refusal(action: str, current: str) -> IllegalMove:
    """The refusal of `action` from `current`, in the action's own sentence, with the current state."""
    opening = REFUSALS.get(action, "This order cannot be moved that way now")
    error = IllegalMove(current, f"{opening}: {AS_IT_IS.get(current, 'it is ' + current)}.")
    error.details["action"] = action
    return error


def move_of(action: str) -> Move:
    return _BY_ACTION[action]


def next_state(current: str, action: str, role: str, fulfilment: str) -> str:
    """The state after `action`; IllegalMove when the table has no such move, Forbidden for the wrong role."""
    move = _BY_ACTION.get(action)
    if move is None:
        raise refusal(action, current)
    if role not in move.roles:
        raise Forbidden("You are not allowed to do this to the order.")
    if current not in move.sources or fulfilment not in move.fulfilments:
        raise refusal(action, current)
    return move.target


def sources_of(action: str) -> tuple[str, ...]:
    return _BY_ACTION[action].sources


def already_past(current: str, action: str) -> bool:
    """True when an order in `current` has gone past what `action` would make of it (a late event)."""
    target = _BY_ACTION[action].target
    return current in TERMINAL or STATES.index(current) >= STATES.index(target)


def timeline_entry(source: str | None, target: str, role: str, actor: str | None, at: datetime, reason: str) -> dict:
    return {"from": source, "to": target, "by": {"role": role, "id": actor}, "at": at, "reason": reason}


READABLE = {
    "placed": "Order received; checking that a place is free",
    "awaiting_payment": "Waiting for your payment",
    "paid": "Paid; waiting for the provider to accept",
    "accepted": "Accepted by the provider",
    "ready": "Ready; a volunteer is on the way to pick it up",
    "delivering": "On its way to you",
    "service_done": "The provider says the job is done; please confirm",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
# shown instead of the state's words while a failed delivery waits for the coordinator's decision
DELIVERY_PROBLEM_TEXT = ("The meal could not be handed over; the residents' committee will arrange "
                         "another delivery or a refund")
REMAKE_TEXT = "The kitchen is making your meal again; a volunteer will bring it"
# orders in these states may have a delivery task that can fail and be sent out again
REDELIVERABLE = ("accepted", "ready", "delivering")


def status_text(order: dict) -> str:
    """What the order's state means to the resident."""
    if order.get("delivery_problem"):
        return DELIVERY_PROBLEM_TEXT
    if order["status"] == "accepted" and order.get("remake"):
        return REMAKE_TEXT
    return READABLE[order["status"]]
