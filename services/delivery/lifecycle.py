"""What people do to a delivery task, each in one transaction: accept or decline an offer,
assign by hand, pick up, hand over, report a failure, close a welfare check, correct hours.

Every move is a conditional update on the state it expects (store.move_task): of twenty
volunteers accepting the same open call at once, one moves the task and nineteen find it
moved and get a 409.
"""
from __future__ import annotations

from datetime import datetime

from pymongo.database import Database

from linli.auth import Principal
from linli.db import in_transaction
from linli.errors import ApiError, conflict, invalid, not_found

from . import dispatch, domain, hours, store


def _closed(offer: dict) -> ApiError:
    return ApiError(409, "offer_closed", "This offer is no longer open: it expired, was withdrawn or was taken.",
                    {"offer_status": offer["status"]})


def _illegal(task: dict, doing: str) -> ApiError:
    return ApiError(409, "illegal_transition", f"This delivery is {task['status']}; it cannot be {doing} now.",
                    {"current_status": task["status"]})


def _event(task: dict, volunteer_id: str, **more) -> dict:
    return {"task_id": task["_id"], "order_id": task["order_id"], "volunteer_id": volunteer_id, **more}


def my_offer(db: Database, volunteer_id: str, offer_id: str) -> dict:
    offer = store.offer(db, offer_id)
    if offer is None or offer["volunteer_id"] != volunteer_id:
        raise not_found("The offer")
    return offer


def accept(db: Database, me: dict, offer_id: str, now: datetime) -> str:
    """The first valid acceptance of the current offers wins every meal of the trip; returns the first stop's task."""
    offer = my_offer(db, me["_id"], offer_id)
    task_ids = offer["task_ids"]

    def work(session):
        if not store.close_offer(db, session, offer_id, "accepted", now, unexpired=True):
            raise _closed(offer)
        holder = store.volunteer(db, me["_id"], session)
        if holder.get("active_tasks", 0) + len(task_ids) > holder["max_tasks"]:
            raise conflict("You already carry as many deliveries as you said you can; finish one first.")
        if not store.move_tasks(db, session, task_ids, "offered",
                                {"$set": {"status": "assigned", "volunteer_id": me["_id"], "assigned_at": now,
                                          "offer": None, "batch": task_ids if len(task_ids) > 1 else None,
                                          "assigned_by": {"how": offer["mode"], "offer_id": offer_id}}},
                                where={"offer.round": offer["round"]}):
            raise _closed(offer)
        store.withdraw_offers(db, session, task_ids, now, except_id=offer_id)
        store.change_load(db, session, me["_id"], len(task_ids))
        for task_id in task_ids:
            store.emit(db, session, task_id, "delivery.task.assigned",
                       _event(store.task(db, task_id, session), me["_id"]))
        return task_ids[0]

    return in_transaction(db, work)


def decline(db: Database, me: dict, offer_id: str, now: datetime) -> None:
    """Says no. A single offer passes at once to the next rung; an open call waits for the others."""
    offer = my_offer(db, me["_id"], offer_id)

    def work(session):
        if not store.close_offer(db, session, offer_id, "declined", now):
            raise _closed(offer)
        if store.pending_in_round(db, session, offer["round"]):
            for task_id in offer["task_ids"]:
                store.remember_passed_over(db, session, task_id, me["_id"])
            return
        for task_id in offer["task_ids"]:
            task = store.task(db, task_id, session)
            if (task.get("offer") or {}).get("round") == offer["round"]:
                dispatch.end_round(db, session, task, [me["_id"]])
                dispatch.dispatch_task(db, session, task_id, now)

    in_transaction(db, work)


def assign(db: Database, who: Principal, task: dict, volunteer_id: str, now: datetime) -> None:
    """The coordinator gives a task nobody holds to a verified volunteer of its community, by hand."""
    chosen = store.volunteer(db, volunteer_id)
    if chosen is None or chosen["status"] != "verified":
        raise invalid("volunteer_id", "choose a verified volunteer")
    if task["dropoff"]["community_id"] not in chosen["community_ids"]:
        raise invalid("volunteer_id", f"this volunteer does not serve {task['dropoff']['community_id']}")

    def work(session):
        if not store.move_task(db, session, task["_id"], domain.UNHELD_STATES,
                               {"$set": {"status": "assigned", "volunteer_id": volunteer_id, "assigned_at": now,
                                         "offer": None, "assigned_by": {"how": "coordinator", "account_id": who.id}}}):
            raise _illegal(task, "assigned")
        store.withdraw_offers(db, session, [task["_id"]], now)
        store.change_load(db, session, volunteer_id, +1)
        store.emit(db, session, task["_id"], "delivery.task.assigned", _event(task, volunteer_id))

    in_transaction(db, work)


def pick_up(db: Database, me: dict, task: dict, code: str, now: datetime) -> None:
    if code != task["codes"]["pickup"]:
        raise invalid("code", "this is not the pickup code for this order; ask the provider's staff again")

    def work(session):
        if not store.move_task(db, session, task["_id"], "assigned",
                               {"$set": {"status": "picked_up", "picked_up_at": now}}, where={"volunteer_id": me["_id"]}):
            raise _illegal(task, "picked up")
        store.emit(db, session, task["_id"], "delivery.task.picked_up", _event(task, me["_id"]))

    in_transaction(db, work)


def hand_over(db: Database, who: Principal, task: dict, code: str | None, override_reason: str | None,
              now: datetime) -> None:
    """With the resident's code; or, for the coordinator only, an override that says why. Credits the minutes."""
    if code is not None and code != task["codes"]["handover"]:
        raise invalid("code", "this is not the resident's code; ask them to read it from their order")
    if code is None:
        if who.role == "volunteer":
            raise invalid("code", "ask the resident for the 4-digit code on their order")
        if not override_reason:
            raise invalid("override_reason", "say why the hand-over is confirmed without the resident's code")
    holder = task.get("volunteer_id")
    minutes = domain.served_minutes(task.get("assigned_at") or now, now)
    proof = {"by": "code" if code is not None else "override", "reason": override_reason, "account_id": who.id}

    def work(session):
        if not holder or not store.move_task(db, session, task["_id"], ("picked_up", "welfare_check"),
                                             {"$set": {"status": "delivered", "delivered_at": now, "minutes": minutes,
                                                       "handover": proof}}, where={"volunteer_id": holder}):
            raise _illegal(task, "handed over")
        store.change_load(db, session, holder, -1, minutes)
        store.credit_hours(db, session, hours.entry(task, holder, minutes, now))
        store.emit(db, session, task["_id"], "delivery.task.delivered", _event(task, holder, minutes=minutes))

    in_transaction(db, work)


def fail(db: Database, me: dict, task: dict, reason: str, note: str, now: datetime) -> None:
    """A failed delivery, or, when nobody answers the door, a welfare check the coordinator is alerted to."""
    failure = {"reason": reason, "note": note, "at": now}

    def work(session):
        if reason == domain.WELFARE_REASON:
            contact = task["dropoff"].get("emergency_contact")
            if not store.move_task(db, session, task["_id"], ("assigned", "picked_up"),
                                   {"$set": {"status": "welfare_check", "failure": failure,
                                             "welfare": {"started_at": now, "emergency_contact": contact}}},
                                   where={"volunteer_id": me["_id"]}):
                raise _illegal(task, "reported")
            store.emit(db, session, task["_id"], "delivery.task.welfare_check", _event(
                task, me["_id"], community_id=task["dropoff"]["community_id"], note=note, emergency_contact=contact))
            return
        if not store.move_task(db, session, task["_id"], ("assigned", "picked_up"),
                               {"$set": {"status": "failed", "failed_at": now, "failure": failure}},
                               where={"volunteer_id": me["_id"]}):
            raise _illegal(task, "reported as failed")
        store.change_load(db, session, me["_id"], -1)
        store.emit(db, session, task["_id"], "delivery.task.failed", _event(task, me["_id"], reason=reason))

    in_transaction(db, work)


def close_welfare_check(db: Database, who: Principal, task: dict, outcome: str, note: str, now: datetime) -> None:
    """The volunteer (or the coordinator) records what became of the resident; the meal was not handed over,
    but the volunteer's time, waiting at the door and calling family, counts as served."""
    holder = task.get("volunteer_id")
    minutes = domain.served_minutes(task.get("assigned_at") or now, now)

    def work(session):
        if not holder or not store.move_task(
                db, session, task["_id"], "welfare_check",
                {"$set": {"status": "failed", "failed_at": now, "welfare.outcome": outcome, "welfare.note": note,
                          "welfare.closed_at": now, "welfare.closed_by": who.id, "minutes": minutes}}):
            raise _illegal(task, "closed as a welfare check")
        store.change_load(db, session, holder, -1, minutes)
        store.credit_hours(db, session, hours.entry(task, holder, minutes, now, kind="welfare_check"))
        store.emit(db, session, task["_id"], "delivery.task.failed",
                   _event(task, holder, reason=domain.WELFARE_REASON, welfare_outcome=outcome))

    in_transaction(db, work)


def correct_hours(db: Database, who: Principal, entry: dict, minutes: int, reason: str, now: datetime) -> None:
    """A coordinator's correction: the entry keeps every change, who made it and why."""
    correction = {"from": entry["minutes"], "to": minutes, "reason": reason, "by": who.id, "by_name": who.name,
                  "at": now}

    def work(session):
        if not store.correct_hours(db, session, entry, minutes, correction):
            raise conflict("These minutes were corrected by someone else just now; reload and try again.")
        store.change_load(db, session, entry["volunteer_id"], 0, minutes - entry["minutes"])

    in_transaction(db, work)
