"""Order rules without I/O: the state machine as data, who may move an order, amounts, codes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linli.ids import digits

STATES = ("placed", "awaiting_payment", "paid", "accepted", "ready", "delivering", "completed", "cancelled")
TERMINAL = ("completed", "cancelled")
SYSTEM = "system"  # the saga itself, moved by events


@dataclass(frozen=True)
class Move:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    fulfilments: tuple[str, ...] = ("delivered", "on_site", "remote")


# Every transition an order can make; anything else is refused with the current state.
MOVES: tuple[Move, ...] = (
    Move("reservation_confirmed", ("placed",), "awaiting_payment", (SYSTEM,)),
    Move("reservation_rejected", ("placed",), "cancelled", (SYSTEM,)),
    Move("payment_succeeded", ("awaiting_payment",), "paid", (SYSTEM,)),
    Move("free_order", ("awaiting_payment",), "paid", (SYSTEM,)),
    Move("cancel", ("placed", "awaiting_payment"), "cancelled", ("resident", "coordinator")),
    Move("accept", ("paid",), "accepted", ("provider",)),
    Move("ready", ("accepted",), "ready", ("provider",), ("delivered",)),
    Move("picked_up", ("accepted", "ready"), "delivering", (SYSTEM,), ("delivered",)),
    Move("delivered", ("delivering",), "completed", (SYSTEM,), ("delivered",)),
    Move("complete", ("accepted",), "completed", ("resident",), ("on_site", "remote")),
)
_BY_ACTION = {m.action: m for m in MOVES}


class IllegalTransition(Exception):
    def __init__(self, action: str, current: str):
        super().__init__(f"cannot {action} an order that is {current}")
        self.action = action
        self.current = current


class NotAllowed(Exception):
    pass


def next_state(current: str, action: str, role: str, fulfilment: str) -> str:
    """The state after `action`, or IllegalTransition / NotAllowed."""
    move = _BY_ACTION.get(action)
    if move is None:
        raise IllegalTransition(action, current)
    if role not in move.roles:
        raise NotAllowed(action)
    if current not in move.sources or fulfilment not in move.fulfilments:
        raise IllegalTransition(action, current)
    return move.target


def sources_of(action: str) -> tuple[str, ...]:
    return _BY_ACTION[action].sources


def timeline_entry(source: str, target: str, role: str, actor: str | None, at: datetime, reason: str) -> dict:
    return {"from": source, "to": target, "by": {"role": role, "id": actor}, "at": at, "reason": reason}


def amount(price_fen: int, quantity: int) -> dict:
    total = price_fen * quantity
    return {"unit_price_fen": price_fen, "quantity": quantity, "total_fen": total, "payable_fen": total}


def new_codes() -> dict:
    """The canteen's pickup code and the resident's 4-digit hand-over code."""
    return {"pickup_code": digits(6), "handover_code": digits(4)}


READABLE = {
    "placed": "Order received; checking that a place is free",
    "awaiting_payment": "Waiting for your payment",
    "paid": "Paid; waiting for the provider to accept",
    "accepted": "Accepted by the provider",
    "ready": "Ready; a volunteer is on the way to pick it up",
    "delivering": "On its way to you",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
