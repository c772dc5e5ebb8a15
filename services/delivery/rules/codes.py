"""How many wrong codes a task takes (no I/O).

The pickup code (6 digits, from the kitchen) and the hand-over code (4 digits, from the resident)
prove the volunteer met them. Unlimited tries would let the one holding the meal guess all 10,000
hand-over codes in about two minutes; after MAX_WRONG_CODES wrong tries of either code, the task's
code entry locks and the coordinator is alerted. A blind guess then succeeds with probability at
most 5 / 10,000 = 0.05 % per task (5 / 1,000,000 for the pickup code), and a lock is itself a signal.
"""
from __future__ import annotations

MAX_WRONG_CODES = 5
KINDS = ("pickup", "handover")

_WRONG = {
    "pickup": "this is not the pickup code for this order; ask the provider's staff again",
    "handover": "this is not the resident's code; ask them to read it from their order",
}


def tries_left(wrong_so_far: int) -> int:
    return max(0, MAX_WRONG_CODES - wrong_so_far)


def locks_now(wrong_so_far: int) -> bool:
    return wrong_so_far >= MAX_WRONG_CODES


def wrong_code(kind: str, wrong_so_far: int) -> str:
    """What the volunteer reads after a wrong code: how many tries remain."""
    left = tries_left(wrong_so_far)
    if left == 0:
        return (f"{_WRONG[kind]}. That was the {MAX_WRONG_CODES}th wrong code, so code entry for this delivery is "
                "now locked; the residents' committee has been told and can unlock it or confirm the hand-over")
    return f"{_WRONG[kind]} ({left} {'try' if left == 1 else 'tries'} left before code entry locks)"


LOCKED = ("Code entry for this delivery is locked after too many wrong codes. Call the residents' committee: "
          "they can unlock it, or confirm the hand-over themselves.")


def escalation_reason(kind: str) -> str:
    which = "pickup" if kind == "pickup" else "hand-over"
    return (f"the {which} code was entered wrong {MAX_WRONG_CODES} times; code entry is locked until a "
            "coordinator unlocks it or confirms the hand-over")
