"""Order rules without I/O: the state machine as data, who may move an order, deadlines as
data, prices with eligibility tiers and funder shares, codes, and words for the resident."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from linli.ids import digits

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
    # (an order whose meal never left the kitchen keeps its state; saga.redeliver only notes it)
    Move("redeliver", ("delivering",), "ready", ("coordinator",), ("delivered",)),
    # or, the meal spoiled or lost on the way, have the kitchen make it again before it goes out
    Move("remake", ("delivering",), "accepted", ("coordinator",), ("delivered",)),
    Move("done", ("accepted",), "service_done", ("provider",), VISITS),
    Move("complete", ("service_done",), "completed", ("resident",), VISITS),
    Move("auto_complete", ("service_done",), "completed", (SYSTEM,), VISITS),
)
_BY_ACTION = {m.action: m for m in MOVES}


class IllegalTransition(Exception):
    def __init__(self, action: str, current: str):
        super().__init__(f"cannot {action} an order that is {current}")
        self.action = action
        self.current = current


class NotAllowed(Exception):
    pass


def move_of(action: str) -> Move:
    return _BY_ACTION[action]


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


def timeline_entry(source: str | None, target: str, role: str, actor: str | None, at: datetime, reason: str) -> dict:
    return {"from": source, "to": target, "by": {"role": role, "id": actor}, "at": at, "reason": reason}


# -- deadlines as data ------------------------------------------------------------------------

MEALS = "charity_meals"


@dataclass(frozen=True)
class DeadlineRule:
    payment: timedelta           # unpaid orders are cancelled and their portion released
    answer: timedelta            # the provider should accept or decline; after it the coordinator is alerted
    answer_final: timedelta      # after it the order is cancelled and refunded
    auto_complete: timedelta     # a finished on-site job completes by itself


# a meal the coordinator asked the kitchen to make again (its slot has begun): the time to make it
REMAKE_TIME = timedelta(minutes=45)


# The community's rule (社区通): every request answered within 48 hours; meals cannot wait that long.
DEADLINE_RULES = {
    MEALS: DeadlineRule(timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60), timedelta(days=3)),
    "default": DeadlineRule(timedelta(minutes=15), timedelta(hours=48), timedelta(hours=72), timedelta(days=3)),
}
DEADLINE_WORDS = {
    "payment_expiry": "not paid within {minutes} minutes",
    "provider_answer": "the provider has not answered in time",
    "provider_final": "the provider did not answer before the final deadline",
    "ready_by": "not ready when the slot began",
    "remake_by": f"not made again within {int(REMAKE_TIME.total_seconds() // 60)} minutes",
    "auto_complete": "completed automatically {days} days after the provider finished",
}


def rule_for(category: str) -> DeadlineRule:
    return DEADLINE_RULES.get(category, DEADLINE_RULES["default"])


def deadline_after(status: str, order: dict, now: datetime) -> dict | None:
    """The deadline that watches an order once it reaches `status` (None: nothing to watch)."""
    rule = rule_for(order["listing"]["category"])
    if status == "awaiting_payment":
        return {"kind": "payment_expiry", "due_at": now + rule.payment}
    if status == "paid":
        return {"kind": "provider_answer", "due_at": now + rule.answer, "final_at": now + rule.answer_final}
    if status == "accepted" and order["listing"]["fulfilment"] == "delivered":
        if order.get("remake"):
            return {"kind": "remake_by", "due_at": now + REMAKE_TIME}
        return {"kind": "ready_by", "due_at": order["slot"]["start"]}
    if status == "service_done":
        return {"kind": "auto_complete", "due_at": now + rule.auto_complete}
    return None


# -- prices ---------------------------------------------------------------------------------

def choose_tier(tiers: list[dict], tags: tuple[str, ...]) -> dict | None:
    """The cheapest tier the resident's verified tags qualify for."""
    eligible = [t for t in tiers or [] if t.get("tag") in tags]
    return min(eligible, key=lambda t: t["resident_pays_fen"]) if eligible else None


def amount(price_fen: int, quantity: int, tier: dict | None = None) -> dict:
    """What the order costs, what the resident pays and what each funder owes; the parts add up to the total."""
    total = price_fen * quantity
    if tier is None:
        return {"base_price_fen": price_fen, "unit_price_fen": price_fen, "quantity": quantity, "total_fen": total,
                "payable_fen": total, "tier": None, "funders": []}
    funders = [{"funder": s["funder"], "amount_fen": s["amount_fen"] * quantity} for s in tier.get("shares", [])]
    payable = tier["resident_pays_fen"] * quantity
    if payable + sum(f["amount_fen"] for f in funders) != total:
        raise ValueError(f"tier {tier['tag']} does not add up to the base price")
    return {"base_price_fen": price_fen, "unit_price_fen": tier["resident_pays_fen"], "quantity": quantity,
            "total_fen": total, "payable_fen": payable, "tier": tier["tag"], "funders": funders}


def ledger_charges(order: dict) -> list[tuple[str, int]]:
    """Who owes what for a paid order: the resident, then each funder."""
    charges = [("resident", order["amount"]["payable_fen"])]
    charges += [(f["funder"], f["amount_fen"]) for f in order["amount"].get("funders", [])]
    return [(party, fen) for party, fen in charges if fen]


def new_codes() -> dict:
    """The canteen's pickup code and the resident's 4-digit hand-over code."""
    return {"pickup_code": digits(6), "handover_code": digits(4)}


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


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
