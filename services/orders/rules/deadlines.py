"""Deadlines as data: how long each step may take per category, which deadline watches an order
in each state, and what happens when one passes. The kinds whose passing alerts the coordinator
(orders.order.deadline_missed) are the event contract's: one list, so the watcher can never fire
a kind the contract refuses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from linli.contracts.orders import MISSED_DEADLINE_KINDS

from .holds import payment_window

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

# What each kind does when it passes: the order moves (and is cancelled or completed), or the
# coordinator is alerted (ESCALATES, the contract's kinds) and the order keeps its state.
CANCELS = ("payment_expiry", "provider_final")
COMPLETES = ("auto_complete",)
ESCALATES = tuple(MISSED_DEADLINE_KINDS)
KINDS = CANCELS + ESCALATES + COMPLETES

DEADLINE_WORDS = {
    "payment_expiry": "not paid within {minutes} minutes",
    "provider_answer": "the provider has not answered in time",
    "provider_final": "the provider did not answer before the final deadline",
    "ready_by": "not ready when the slot began",
    "remake_by": f"not made again within {int(REMAKE_TIME.total_seconds() // 60)} minutes",
    "auto_complete": "completed automatically {days} days after the provider finished",
}

# a deadline whose firing failed (a broken order) is tried again after this, doubling up to the cap
RETRY_FIRST = timedelta(seconds=5)
RETRY_CAP = timedelta(minutes=10)


def rule_for(category: str) -> DeadlineRule:
    return DEADLINE_RULES.get(category, DEADLINE_RULES["default"])


def deadline_after(status: str, order: dict, now: datetime) -> dict | None:
    """The deadline that watches an order once it reaches `status` (None: nothing to watch)."""
    rule = rule_for(order["listing"]["category"])
    if status == "awaiting_payment":
        # shorter when little of the slot is left (rules.holds.PRESSURE); set once, never renewed
        window = payment_window(rule.payment, (order.get("reserved") or {}).get("remaining"),
                                order["slot"].get("capacity"))
        return {"kind": "payment_expiry", "due_at": now + window, "minutes": int(window.total_seconds() // 60)}
    if status == "paid":
        return {"kind": "provider_answer", "due_at": now + rule.answer, "final_at": now + rule.answer_final}
    if status == "accepted" and order["listing"]["fulfilment"] == "delivered":
        if order.get("remake"):
            return {"kind": "remake_by", "due_at": now + REMAKE_TIME}
        return {"kind": "ready_by", "due_at": order["slot"]["start"]}
    if status == "service_done":
        return {"kind": "auto_complete", "due_at": now + rule.auto_complete}
    return None


def after_escalation(deadline: dict) -> dict | None:
    """What watches the order once an escalating deadline passed: the final answer deadline, or nothing."""
    return {"kind": "provider_final", "due_at": deadline["final_at"]} if deadline["kind"] == "provider_answer" else None


def escalation_words(kind: str) -> str:
    return f"{DEADLINE_WORDS[kind]}; the coordinator is alerted"


def payment_expiry_words(category: str, minutes: int | None = None) -> str:
    """Why an unpaid order was cancelled: the time it had to pay (its own, when pressure shortened it)."""
    if minutes is None:
        minutes = int(rule_for(category).payment.total_seconds() // 60)
    return DEADLINE_WORDS["payment_expiry"].format(minutes=minutes)


def auto_complete_words(category: str) -> str:
    return DEADLINE_WORDS["auto_complete"].format(days=rule_for(category).auto_complete.days)


def retry_after(failures: int) -> timedelta:
    """How long a deadline that failed to fire `failures` times waits before the next try."""
    doublings = min(max(failures - 1, 0), 16)  # the cap is reached long before; no overflow however many
    return min(RETRY_FIRST * 2 ** doublings, RETRY_CAP)
