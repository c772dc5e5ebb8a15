"""Fair holds: an unpaid order holds portions that others could pay for, so one person may hold only
a few at once, and a slot running out gives less time to pay.

- Limits: unpaid orders (placed, or reserved and awaiting payment) one person may hold for one
  listing, date and slot (the orders for them), and in all (the orders for them and those they placed
  for someone else). A family member who orders for an elder uses up the elder's limits and their
  own overall one, so no account can hoard through someone else's. A coordinator places orders at
  the desk for many residents, so its own overall limit is `STAFF_OVERALL_FACTOR` times a resident's;
  each resident's limits still apply.
- Pressure: the time to pay is the category's payment deadline, shortened when little of the slot
  is left (`PRESSURE`, as data). It is set once, when catalog confirms the reservation; paying again
  or reopening the cashier never moves it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from linli.domain_errors import Conflict

UNPAID = ("placed", "awaiting_payment")

# a coordinator's own overall limit is this many times a resident's (it orders for many at the desk)
STAFF_OVERALL_FACTOR = 10


@dataclass(frozen=True)
class HoldLimits:
    per_slot: int = 1   # unpaid orders per person for one listing, date and slot
    overall: int = 3    # unpaid orders per person in all


# (at most this share of the slot's capacity is still free after the reservation, minutes to pay);
# the first row that matches wins; none: the category's own payment deadline.
PRESSURE = (
    (0.25, 5),
    (0.50, 10),
)


@dataclass(frozen=True)
class Held:
    """What one account holds unpaid now: in the slot being ordered, and in all."""
    account_id: str
    role: str
    in_slot: int
    overall: int


def check(limits: HoldLimits, held: Held, for_someone_else: bool) -> None:
    """Refuses one more unpaid order when `held` is at a limit; the refusal names the limit."""
    overall = limits.overall * (STAFF_OVERALL_FACTOR if held.role in ("coordinator", "admin") else 1)
    whose = "This resident already has" if for_someone_else else "You already have"
    if held.in_slot >= limits.per_slot:
        raise Conflict(f"{whose} {_orders(held.in_slot)} for this slot that {_is(held.in_slot)} not paid yet, the "
                       f"most one person may hold ({limits.per_slot}). Pay for it or cancel it, then order again.",
                       code="hold_limit_slot", limit=limits.per_slot, held=held.in_slot, account_id=held.account_id)
    if held.overall >= overall:
        raise Conflict(f"{whose} {_orders(held.overall)} that {_is(held.overall)} not paid yet, the most one "
                       f"person may hold at once ({overall}). Pay for one or cancel one, then order again.",
                       code="hold_limit_overall", limit=overall, held=held.overall, account_id=held.account_id)


def _orders(n: int) -> str:
    return "1 order" if n == 1 else f"{n} orders"


def _is(n: int) -> str:
    return "is" if n == 1 else "are"


def payment_window(base: timedelta, remaining: int | None, capacity: int | None) -> timedelta:
    """The time to pay once a portion is reserved: shorter when little of the slot is left."""
    if remaining is None or not capacity or capacity <= 0:
        return base
    free = max(remaining, 0) / capacity
    for share, minutes in PRESSURE:
        if free <= share:
            return min(base, timedelta(minutes=minutes))
    return base
