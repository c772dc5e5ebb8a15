"""The offer ladder (no I/O): which rung a task that nobody holds stands on now.

one volunteer at a time, each with a timer  ->  after a few refusals or timeouts, every
eligible volunteer nearby at once (the first to accept wins)  ->  the coordinator's board,
where a person assigns by hand. A task also goes to the board, whatever its rung, once so
little time is left before the slot ends that the meal could not arrive if the ladder went on.
"""
from __future__ import annotations

from datetime import datetime, timedelta

SINGLE = "single"
BROADCAST = "broadcast"
ESCALATE = "escalate"

SINGLE_OFFERS = 3
# How long a volunteer has to answer an offer (LINLI_OFFER_TIMEOUT_SECONDS; the bootstrap reads it).
OFFER_TIMEOUT = timedelta(seconds=90)
BROADCAST_REACH_M = 3_000.0
BROADCAST_MAX_VOLUNTEERS = 20
# Dispatch starts this long before the planned pickup even if the provider has not said "ready":
# the volunteer needs the time to get there.
LEAD_TIME = timedelta(minutes=30)
# The pickup window closes this long before the slot ends (time to carry the meal); the board
# must have the task by then.
CARRY_TIME = timedelta(minutes=30)


def is_candidate(task: dict, now: datetime) -> bool:
    """A task to place now: the meal is ready, or its pickup is within the lead time."""
    if task["status"] == "ready":
        return True
    return task["status"] == "waiting" and task["slot_start"] - LEAD_TIME <= now


def pickup_window_closes(task: dict) -> datetime:
    return task["slot_end"] - CARRY_TIME


def rung(task: dict, now: datetime) -> tuple[str, str]:
    """(rung, why) for a candidate task that has no open offer."""
    if now >= pickup_window_closes(task):
        return ESCALATE, "the pickup window is closing and no volunteer has taken the task"
    climbed = task.get("ladder") or {}
    if climbed.get("singles", 0) < SINGLE_OFFERS:
        return SINGLE, f"offer {climbed.get('singles', 0) + 1} of {SINGLE_OFFERS} to one volunteer"
    if climbed.get("broadcasts", 0) == 0:
        return BROADCAST, f"{SINGLE_OFFERS} volunteers declined or did not answer; asking everyone nearby"
    return ESCALATE, "nobody nearby accepted the open call"


def climbed(task: dict, step: str) -> dict:
    """The task's ladder counters after an offer on `step`."""
    counters = {"singles": 0, "broadcasts": 0, **(task.get("ladder") or {})}
    counters["singles" if step == SINGLE else "broadcasts"] += 1
    return counters
