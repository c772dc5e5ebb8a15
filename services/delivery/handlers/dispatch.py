"""The dispatcher: every few seconds (and at once when a meal is ready or an offer is declined)
it ends lapsed offers, then moves every task nobody holds one rung along the offer ladder.

Single offers of a round are planned together: tasks that can travel together are batched
(batching.py), then one exact assignment of trips to volunteers (costs.py, assignment.py), so
two trips never chase the same volunteer. Each offer records its cost terms: why this
volunteer. Read -> decide without I/O (`plan`) -> write (`carry_out`); the unit's `now` is the
round's instant, so that tests walk the ladder in seconds on an injected clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linli import logs
from linli.contracts import delivery as contract
from linli.ids import iso, new_id
from linli.unit import Unit, Units

from .. import store
from ..rules import assignment, batching, costs, domain, ladder

log = logging.getLogger("delivery.dispatch")

# With more trips than volunteers, an exact assignment alone would pick the easiest trips and
# leave the far ones for ever; the matrix holds only the most urgent trips (soonest slot end),
# at most this many per volunteer, which also keeps it small.
URGENT_TRIPS_PER_VOLUNTEER = 2


@dataclass
class Step:
    tasks: list[dict]  # in stop order; one task unless batched
    rung: str
    why: str
    offers: list[tuple[costs.VolunteerView, costs.Terms]] = field(default_factory=list)


class TaskMovedOn(Exception):
    """A task of a batch was taken or changed meanwhile: the whole batch's offer is not made."""


def _point(place: dict) -> tuple[float, float]:
    return place["location"]["lng"], place["location"]["lat"]


def job(tasks: list[dict]) -> tuple[costs.Job, list[dict]]:
    """The trip for `tasks` (same pickup), and the tasks in the order the volunteer drops them off."""
    pickup = _point(tasks[0]["pickup"])
    ordered = [tasks[i] for i in batching.stop_order(pickup, [_point(t["dropoff"]) for t in tasks])]
    return costs.Job(
        id=ordered[0]["_id"], pickup=pickup, stops=tuple(_point(t["dropoff"]) for t in ordered),
        community_id=ordered[0]["dropoff"]["community_id"],
        resident_ids=frozenset(t["resident_id"] for t in ordered if t.get("resident_id")),
        passed_over=frozenset(v for t in ordered for v in t.get("passed_over") or ())), ordered


def volunteer_views(u: Unit, tasks: list[dict]) -> list[costs.VolunteerView]:
    """Everyone who could take one of `tasks` now, with their room, today's count and the residents they know."""
    docs = store.available_volunteers(u, sorted({t["dropoff"]["community_id"] for t in tasks}))
    docs = [d for d in docs if domain.on_shift(d.get("shifts") or [], u.now)]
    ids = [d["_id"] for d in docs]
    pending = store.pending_offer_counts(u, ids)
    done = store.delivered_since(u, ids, domain.local_day_start(u.now))
    served = store.residents_served(u, ids, sorted({t["resident_id"] for t in tasks if t.get("resident_id")}))
    return [costs.VolunteerView(
        id=d["_id"], location=tuple(d["location"]["coordinates"]), vehicle=d["vehicle"],
        community_ids=frozenset(d["community_ids"]),
        room=d["max_tasks"] - d.get("active_tasks", 0) - pending.get(d["_id"], 0),
        done_today=done.get(d["_id"], 0), served_residents=frozenset(served.get(d["_id"], ())),
        account_id=d.get("account_id")) for d in docs]


def plan(tasks: list[dict], volunteers: list[costs.VolunteerView], now: datetime, batch: bool = True) -> list[Step]:
    """The round's decisions for tasks nobody holds (no I/O): who gets an offer, who goes to the board."""
    steps, singles, broadcasts = [], [], []
    for task in tasks:
        rung, why = ladder.rung(task, now)
        if rung == ladder.ESCALATE:
            steps.append(Step([task], rung, why))
        else:
            (singles if rung == ladder.SINGLE else broadcasts).append((task, why))
    offered: set[str] = set()
    if singles and volunteers:
        why_of = {t["_id"]: why for t, why in singles}
        # A batch is never bigger than the roomiest volunteer could carry.
        largest = min(batching.BATCH_MAX, max(v.room for v in volunteers)) if batch else 1
        groups = sorted(batching.group([t for t, _ in singles], max(1, largest)),
                        key=lambda g: min(t["slot_end"] for t in g))
        trips = [job(g) for g in groups[:URGENT_TRIPS_PER_VOLUNTEER * len(volunteers)]]
        matrix = costs.cost_matrix([j for j, _ in trips], volunteers)
        for i, k in assignment.assign(matrix.cost, assignment.local(matrix.allowed, matrix.to_pickup_m)):
            trip, ordered = trips[i]
            steps.append(Step(ordered, ladder.SINGLE, why_of[ordered[0]["_id"]],
                              [(volunteers[k], costs.terms(trip, volunteers[k]))]))
            offered.add(volunteers[k].id)
    for task, why in broadcasts:
        trip, _ = job([task])
        near = sorted(((v, costs.terms(trip, v)) for v in volunteers if v.id not in offered and costs.eligible(trip, v)),
                      key=lambda pair: pair[1].total)
        near = [(v, t) for v, t in near if t.to_pickup_m <= ladder.BROADCAST_REACH_M][:ladder.BROADCAST_MAX_VOLUNTEERS]
        if near:
            steps.append(Step([task], ladder.BROADCAST, why, near))
        else:
            steps.append(Step([task], ladder.ESCALATE, "no eligible volunteer is near enough for an open call"))
    return steps


def carry_out(u: Unit, step: Step, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> bool:
    """Writes one step: the tasks' conditional moves, the offers and their events. False if a task moved on."""
    now = u.now
    if step.rung == ladder.ESCALATE:
        [task] = step.tasks
        if not store.escalate(u, task, step.why):
            return False
        u.emit(contract.task_escalated(task_id=task["_id"], order_id=task["order_id"], reason=step.why,
                                       community_id=task["dropoff"]["community_id"], slot_end=iso(task["slot_end"])),
               f"task:{task['_id']}")
        return True
    round_id, expires_at = new_id("rnd"), now + offer_timeout
    task_ids = [t["_id"] for t in step.tasks]
    offers = [{"_id": new_id("off"), "task_id": task_ids[0], "task_ids": task_ids,
               "order_ids": [t["order_id"] for t in step.tasks], "order_id": step.tasks[0]["order_id"],
               "round": round_id, "mode": step.rung, "volunteer_id": volunteer.id, "status": "pending",
               "account_id": volunteer.account_id, "expires_at": expires_at, "distance_m": round(terms.to_pickup_m, 1), "created_at": now,
               "why": {"rung": step.why, **terms.as_dict()}} for volunteer, terms in step.offers]
    summary = {"round": round_id, "mode": step.rung, "expires_at": expires_at, "task_ids": task_ids,
               "volunteer_ids": [o["volunteer_id"] for o in offers]}
    for n, task in enumerate(step.tasks):
        if not store.put_on_offer(u, task, summary, ladder.climbed(task, step.rung)):
            if n:
                raise TaskMovedOn(task["_id"])
            return False
    store.insert_offers(u, offers)
    for task in step.tasks:
        for offer in offers:
            u.emit(contract.task_offered(
                task_id=task["_id"], order_id=task["order_id"], offer_id=offer["_id"], mode=step.rung,
                volunteer_id=offer["volunteer_id"], account_id=offer["account_id"], expires_at=iso(expires_at), distance_m=offer["distance_m"],
                batch_size=len(task_ids)), f"task:{task['_id']}")
    return True


def withdraw(u: Unit, task_ids: list[str], reason: str, except_id: str | None = None) -> None:
    """Withdraws the open offers of `task_ids` and tells each volunteer who held one (delivery.offer.withdrawn):
    `taken` when another volunteer accepted or a coordinator assigned it, `cancelled` when the order was."""
    for offer in store.withdraw_offers(u, task_ids, except_id=except_id):
        u.emit(contract.offer_withdrawn(
            offer_id=offer["_id"], task_id=offer["task_id"], order_id=offer["order_id"],
            volunteer_id=offer["volunteer_id"],
            account_id=offer.get("account_id") or store.volunteer(u, offer["volunteer_id"])["account_id"],
            reason=reason),
            f"task:{offer['task_id']}")


def end_round(u: Unit, task: dict, passed_over: list[str]) -> bool:
    """Nobody took the task's offers: back to the ladder, without the volunteers who passed it by."""
    return store.end_round(u, task, passed_over)


def lapse(u: Unit, task: dict) -> bool:
    store.close_round(u, task["offer"]["round"], "expired")
    return end_round(u, task, task["offer"]["volunteer_ids"])


def dispatch_task(u: Unit, task_id: str, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> Step | None:
    """One task, inside the caller's transaction: when its meal turns ready or its offer is declined."""
    task = store.task(u, task_id)
    if task is None or task.get("offer") is not None or not ladder.is_candidate(task, u.now):
        return None
    steps = plan([task], volunteer_views(u, [task]), u.now)
    for step in steps:
        carry_out(u, step, offer_timeout)
    return steps[0] if steps else None


def _commit(units: Units, now: datetime, step: Step, offer_timeout: timedelta) -> bool:
    try:
        return units.run(lambda u: carry_out(_at(u, now), step, offer_timeout))
    except TaskMovedOn:
        return False  # the rest of the batch goes round again next time


def _at(u: Unit, now: datetime) -> Unit:
    """The round's instant for every transaction of the round."""
    return Unit(u.db, u.session, now, u.source)


def dispatch_round(units: Units, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> list[Step]:
    """Ends lapsed offers, then plans every open task at once; each step commits on its own."""
    reader = units.read()
    now = reader.now
    for task in store.lapsed_offers(reader):
        units.run(lambda u, t=task: lapse(_at(u, now), t))
    tasks = [t for t in store.candidate_tasks(reader, now + ladder.LEAD_TIME) if ladder.is_candidate(t, now)]
    if not tasks:
        return []
    done = [step for step in plan(tasks, volunteer_views(reader, tasks), now)
            if _commit(units, now, step, offer_timeout)]
    if done:
        logs.log(log, logging.INFO, "dispatch round", offers=sum(len(s.offers) for s in done),
                 batched=sum(len(s.tasks) for s in done if len(s.tasks) > 1),
                 escalated=sum(1 for s in done if s.rung == ladder.ESCALATE))
    return done
