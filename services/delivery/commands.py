"""What people do in delivery, each in one unit of work: register and verify volunteers, go on duty,
accept or decline an offer, assign by hand, pick up, hand over, report a failure, close a welfare
check, unlock a task's codes, correct hours.

Every move of a task names its move in rules.domain.MOVES, and the store's conditional update
reads the from-states from there: of twenty volunteers accepting the same open call at once, one
moves the task and nineteen find it moved and get a 409. Staff act only within the communities
they watch over (linli.auth.Principal.watches): a task belongs to its drop-off's community, a
volunteer to the communities it serves; anything else looks as if it did not exist (404).
"""
from __future__ import annotations

from datetime import timedelta

from linli.auth import Principal
from linli.contracts import delivery as contract
from linli.domain_errors import Conflict, Forbidden, NotFound, RuleBroken
from linli.ids import iso, new_id
from linli.schemas import point_to_geojson
from linli.unit import Unit, Units

from . import store
from .handlers import dispatch
from .rules import codes, domain, hours, ladder

NO_PROFILE = "Register as a volunteer first."


def _event(builder, task: dict, volunteer_id: str, **more):
    """A task event with its volunteer, made by `builder` (one of linli.contracts.delivery's)."""
    return builder(task_id=task["_id"], order_id=task["order_id"], volunteer_id=volunteer_id, **more)


def _aggregate(task: dict) -> str:
    return f"task:{task['_id']}"


# -- who may see what --------------------------------------------------------------------------

def my_volunteer(u: Unit, who: Principal) -> dict:
    doc = store.volunteer_of_account(u, who.id)
    if doc is None:
        raise Conflict(NO_PROFILE, code="no_volunteer_profile")
    return doc


def seen_task(u: Unit, who: Principal, task_id: str) -> tuple[dict, dict | None]:
    """The task, if `who` may see it: a volunteer the ones they hold or held, staff the ones of the
    communities they watch over; anyone else finds no such task."""
    me = my_volunteer(u, who) if who.role == "volunteer" else None
    task = store.task(u, task_id)
    if task is None:
        raise NotFound("The task")
    if me is not None and task.get("volunteer_id") != me["_id"]:
        raise NotFound("The task")
    if me is None and not who.watches(task["dropoff"]["community_id"]):
        raise NotFound("The task")
    return task, me


def seen_volunteer(u: Unit, who: Principal, volunteer_id: str) -> dict:
    """A volunteer a staff member may see: one serving a community it watches over."""
    doc = store.volunteer(u, volunteer_id)
    if doc is None or not who.watches_any(doc["community_ids"]):
        raise NotFound("The volunteer")
    return doc


def seen_hours_entry(u: Unit, who: Principal, entry_id: str) -> dict:
    entry = store.hours_entry(u, entry_id)
    if entry is None or not who.watches(entry.get("community_id")):
        raise NotFound("The hours entry")
    return entry


def task_board_filter(who: Principal, me: dict | None) -> dict:
    """A volunteer lists their own deliveries; staff the deliveries to the communities they watch over."""
    if me is not None:
        return {"volunteer_id": me["_id"]}
    return who.scope_filter("dropoff.community_id")


# -- volunteers --------------------------------------------------------------------------------

def register(units: Units, who: Principal, body: dict) -> dict:
    def work(u: Unit) -> dict:
        doc = {"_id": new_id("vol"), "account_id": who.id, **body, "status": "pending", "on_duty": False,
               "location": None, "active_tasks": 0, "served_minutes": 0, "created_at": u.now}
        if not store.insert_volunteer(u, doc):
            raise Conflict("You are registered as a volunteer already.")
        return doc

    return units.run(work)


def verify_volunteer(units: Units, who: Principal, volunteer_id: str) -> dict:
    """A coordinator confirms a volunteer of its communities; only verified volunteers get offers."""
    def work(u: Unit) -> dict:
        doc = seen_volunteer(u, who, volunteer_id)
        if store.verify_volunteer(u, volunteer_id, who.id):
            u.emit(contract.volunteer_verified(volunteer_id=volunteer_id, account_id=doc["account_id"]),
                   f"vol:{volunteer_id}")
        return store.volunteer(u, volunteer_id)

    return units.run(work)


def refuse_volunteer(units: Units, who: Principal, volunteer_id: str, reason: str) -> dict:
    """A coordinator turns down a volunteer of its communities, with a reason the volunteer reads; a refused
    volunteer gets no offers and cannot go on duty, and may be verified later. Refusing again changes nothing."""
    def work(u: Unit) -> dict:
        if not reason.strip():
            raise RuleBroken("reason", "say why, in words the volunteer will read")
        doc = seen_volunteer(u, who, volunteer_id)
        if doc["status"] == "refused":
            return doc
        if not store.refuse_volunteer(u, volunteer_id, who.id, reason.strip()):
            raise Conflict("This volunteer is carrying a delivery now; refuse them once it is over.",
                           code="volunteer_busy")
        u.emit(contract.volunteer_refused(volunteer_id=volunteer_id, account_id=doc["account_id"],
                                          reason=reason.strip()), f"vol:{volunteer_id}")
        return store.volunteer(u, volunteer_id)

    return units.run(work)


def set_duty(units: Units, who: Principal, body: dict) -> dict:
    def work(u: Unit) -> dict:
        me = my_volunteer(u, who)
        change = {"on_duty": body["on_duty"], "duty_changed_at": u.now}
        if body["on_duty"]:
            if "location" not in body:
                raise RuleBroken("location", "say where you are when you go on duty")
            if me["status"] == "refused":
                raise Conflict("The residents' committee did not accept you as a volunteer, so you cannot go on "
                               "duty; ask them if anything has changed.", code="volunteer_refused",
                               reason=me.get("refused_reason"))
            if me["status"] != "verified":
                raise Conflict("The residents' committee has not verified you yet; you can go on duty after that.",
                               code="volunteer_not_verified")
        if "location" in body:
            change["location"] = point_to_geojson(body["location"])
        return store.update_volunteer(u, me["_id"], change)

    return units.run(work)


def set_shifts(units: Units, who: Principal, shifts: list[dict]) -> dict:
    return units.run(lambda u: store.update_volunteer(u, my_volunteer(u, who)["_id"], {"shifts": shifts}))


# -- offers ----------------------------------------------------------------------------------------

def _closed(offer: dict) -> Conflict:
    return Conflict("This offer is no longer open: it expired, was withdrawn or was taken.", code="offer_closed",
                    offer_status=offer["status"])


def my_offer(u: Unit, me: dict, offer_id: str) -> dict:
    offer = store.offer(u, offer_id)
    if offer is None or offer["volunteer_id"] != me["_id"]:
        raise NotFound("The offer")
    return offer


def accept(units: Units, who: Principal, offer_id: str) -> str:
    """The first valid acceptance of the current offers wins every meal of the trip; returns the first stop's task."""
    def work(u: Unit) -> str:
        me = my_volunteer(u, who)
        offer = my_offer(u, me, offer_id)
        task_ids = offer["task_ids"]
        if me["status"] != "verified":  # refused while the offer was on its way: it expires and goes to another
            raise Conflict("The residents' committee did not accept you as a volunteer, so you cannot take "
                           "deliveries; ask them if anything has changed.", code="volunteer_refused")
        if not store.close_offer(u, offer_id, "accepted", unexpired=True):
            raise _closed(offer)
        if me.get("active_tasks", 0) + len(task_ids) > me["max_tasks"]:
            raise Conflict("You already carry as many deliveries as you said you can; finish one first.")
        if not store.move_tasks(u, task_ids, "accept",
                                {"$set": {"volunteer_id": me["_id"], "assigned_at": u.now, "offer": None,
                                          "batch": task_ids if len(task_ids) > 1 else None,
                                          "assigned_by": {"how": offer["mode"], "offer_id": offer_id}}},
                                where={"offer.round": offer["round"]}):
            raise _closed(offer)
        dispatch.withdraw(u, task_ids, "taken", except_id=offer_id)
        store.change_load(u, me["_id"], len(task_ids))
        for task_id in task_ids:
            task = store.task(u, task_id)
            u.emit(_event(contract.task_assigned, task, me["_id"]), _aggregate(task))
        return task_ids[0]

    return units.run(work)


def decline(units: Units, who: Principal, offer_id: str, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> dict:
    """Says no. A single offer passes at once to the next rung; an open call waits for the others."""
    def work(u: Unit) -> dict:
        me = my_volunteer(u, who)
        offer = my_offer(u, me, offer_id)
        if not store.close_offer(u, offer_id, "declined"):
            raise _closed(offer)
        if store.pending_in_round(u, offer["round"]):
            for task_id in offer["task_ids"]:
                store.remember_passed_over(u, task_id, me["_id"])
            return offer
        for task_id in offer["task_ids"]:
            task = store.task(u, task_id)
            if (task.get("offer") or {}).get("round") == offer["round"]:
                dispatch.end_round(u, task, [me["_id"]])
                dispatch.dispatch_task(u, task_id, offer_timeout)
        return offer

    return units.run(work)


# -- tasks -----------------------------------------------------------------------------------------

def assign(units: Units, who: Principal, task_id: str, volunteer_id: str) -> None:
    """The coordinator gives a task nobody holds to a verified volunteer of its community, by hand."""
    def work(u: Unit) -> None:
        task, _ = seen_task(u, who, task_id)
        chosen = store.volunteer(u, volunteer_id)
        if chosen is None or chosen["status"] != "verified":
            raise RuleBroken("volunteer_id", "choose a verified volunteer")
        if task["dropoff"]["community_id"] not in chosen["community_ids"]:
            raise RuleBroken("volunteer_id", f"this volunteer does not serve {task['dropoff']['community_id']}")
        domain.next_state(task["status"], "assign", who.role)
        if not store.move_task(u, task_id, "assign",
                               {"$set": {"volunteer_id": volunteer_id, "assigned_at": u.now, "offer": None,
                                         "assigned_by": {"how": "coordinator", "account_id": who.id}}}):
            raise domain.illegal(store.task(u, task_id), "assign")
        dispatch.withdraw(u, [task_id], "taken")
        store.change_load(u, volunteer_id, +1)
        u.emit(_event(contract.task_assigned, task, volunteer_id), _aggregate(task))

    units.run(work)


def _try_code(u: Unit, task: dict, kind: str, code: str) -> int | None:
    """None when `code` is the task's `kind` code; else the wrong tries so far, after this one (in the
    same transaction: the task locks, and the coordinator is alerted, at the limit)."""
    if task.get("code_lock"):
        raise Conflict(codes.LOCKED, code="code_locked")
    if code == task["codes"][kind]:
        return None
    wrong = store.count_wrong_code(u, task, kind)
    if codes.locks_now(wrong):
        store.lock_codes(u, task["_id"], kind)
        u.emit(contract.task_escalated(task_id=task["_id"], order_id=task["order_id"],
                                       reason=codes.escalation_reason(kind),
                                       community_id=task["dropoff"]["community_id"], slot_end=iso(task["slot_end"])),
               _aggregate(task))
    return wrong


def _refuse_wrong_code(kind: str, wrong: int) -> RuleBroken:
    return RuleBroken("code", codes.wrong_code(kind, wrong))


def pick_up(units: Units, who: Principal, task_id: str, code: str) -> None:
    """With the kitchen's pickup code; a wrong code is counted (and stays counted though it is refused)."""
    def work(u: Unit) -> int | None:
        task, me = seen_task(u, who, task_id)
        domain.next_state(task["status"], "pick_up", who.role)
        wrong = _try_code(u, task, "pickup", code)
        if wrong is not None:
            return wrong
        if not store.move_task(u, task_id, "pick_up", {"$set": {"picked_up_at": u.now}},
                               where={"volunteer_id": me["_id"], "code_lock": None}):
            raise domain.illegal(store.task(u, task_id), "pick_up")
        u.emit(_event(contract.task_picked_up, task, me["_id"]), _aggregate(task))
        return None

    wrong = units.run(work)
    if wrong is not None:
        raise _refuse_wrong_code("pickup", wrong)


def hand_over(units: Units, who: Principal, task_id: str, code: str | None, override_reason: str | None) -> None:
    """With the resident's code; or, for the coordinator only, an override that says why. Credits the minutes."""
    if override_reason is not None and who.role == "volunteer":
        raise Forbidden("Only the coordinator can confirm a hand-over without the resident's code.")
    if code is None:
        if who.role == "volunteer":
            raise RuleBroken("code", "ask the resident for the 4-digit code on their order")
        if not override_reason:
            raise RuleBroken("override_reason", "say why the hand-over is confirmed without the resident's code")

    def work(u: Unit) -> int | None:
        task, _ = seen_task(u, who, task_id)
        domain.next_state(task["status"], "hand_over", who.role)
        if code is not None:
            wrong = _try_code(u, task, "handover", code)
            if wrong is not None:
                return wrong
        holder = task.get("volunteer_id")
        minutes = domain.served_minutes(task.get("assigned_at") or u.now, u.now)
        proof = {"by": "code" if code is not None else "override", "reason": override_reason, "account_id": who.id}
        where = {"volunteer_id": holder, **({"code_lock": None} if code is not None else {})}
        if not holder or not store.move_task(u, task_id, "hand_over",
                                             {"$set": {"delivered_at": u.now, "minutes": minutes, "handover": proof}},
                                             where=where):
            raise domain.illegal(store.task(u, task_id), "hand_over")
        store.change_load(u, holder, -1, minutes)
        store.credit_hours(u, hours.entry(task, holder, minutes, u.now))
        u.emit(_event(contract.task_delivered, task, holder, minutes=minutes), _aggregate(task))
        return None

    wrong = units.run(work)
    if wrong is not None:
        raise _refuse_wrong_code("handover", wrong)


def unlock_codes(units: Units, who: Principal, task_id: str) -> None:
    """The coordinator, having spoken with the volunteer and the resident, lets codes be entered again."""
    def work(u: Unit) -> None:
        task, _ = seen_task(u, who, task_id)
        if not store.unlock_codes(u, task_id, who.id):
            raise Conflict("Code entry for this delivery is not locked.", code="codes_not_locked")

    units.run(work)


def fail(units: Units, who: Principal, task_id: str, reason: str, note: str) -> None:
    """A failed delivery, or, when nobody answers the door, a welfare check the coordinator is alerted to."""
    def work(u: Unit) -> None:
        task, me = seen_task(u, who, task_id)
        failure = {"reason": reason, "note": note, "at": u.now}
        if reason == domain.WELFARE_REASON:
            contact = task["dropoff"].get("emergency_contact")
            if not store.move_task(u, task_id, "report_nobody_answers",
                                   {"$set": {"failure": failure,
                                             "welfare": {"started_at": u.now, "emergency_contact": contact}}},
                                   where={"volunteer_id": me["_id"]}):
                raise domain.illegal(store.task(u, task_id), "report_nobody_answers")
            u.emit(_event(
                contract.task_welfare_check, task, me["_id"], community_id=task["dropoff"]["community_id"], note=note),
                _aggregate(task))
            return
        if not store.move_task(u, task_id, "report_failure", {"$set": {"failed_at": u.now, "failure": failure}},
                               where={"volunteer_id": me["_id"]}):
            raise domain.illegal(store.task(u, task_id), "report_failure")
        store.change_load(u, me["_id"], -1)
        u.emit(_event(contract.task_failed, task, me["_id"], reason=reason), _aggregate(task))

    units.run(work)


def close_welfare_check(units: Units, who: Principal, task_id: str, outcome: str, note: str) -> None:
    """The volunteer (or the coordinator) records what became of the resident; the meal was not handed over,
    but the volunteer's time, waiting at the door and calling family, counts as served."""
    def work(u: Unit) -> None:
        task, _ = seen_task(u, who, task_id)
        holder = task.get("volunteer_id")
        minutes = domain.served_minutes(task.get("assigned_at") or u.now, u.now)
        if not holder or not store.move_task(
                u, task_id, "close_welfare_check",
                {"$set": {"failed_at": u.now, "welfare.outcome": outcome, "welfare.note": note,
                          "welfare.closed_at": u.now, "welfare.closed_by": who.id, "minutes": minutes}}):
            raise domain.illegal(store.task(u, task_id), "close_welfare_check")
        store.change_load(u, holder, -1, minutes)
        store.credit_hours(u, hours.entry(task, holder, minutes, u.now, kind="welfare_check"))
        u.emit(_event(contract.task_failed, task, holder, reason=domain.WELFARE_REASON, welfare_outcome=outcome),
               _aggregate(task))

    units.run(work)


# -- served hours ------------------------------------------------------------------------------------

def month_hours(u: Unit, who: Principal, month: str, volunteer_id: str | None) -> list[dict]:
    """A volunteer sees their own month; staff see the minutes served in the communities they watch over."""
    if who.role == "volunteer":
        return store.hours_of_month(u, month, my_volunteer(u, who)["_id"])
    return store.hours_of_month(u, month, volunteer_id, who.scope_filter("community_id"))


def correct_hours(units: Units, who: Principal, entry_id: str, minutes: int, reason: str) -> dict:
    """A coordinator's correction: the entry keeps every change, who made it and why."""
    def work(u: Unit) -> dict:
        entry = seen_hours_entry(u, who, entry_id)
        correction = {"from": entry["minutes"], "to": minutes, "reason": reason, "by": who.id, "by_name": who.name,
                      "at": u.now}
        if not store.correct_hours(u, entry, minutes, correction):
            raise Conflict("These minutes were corrected by someone else just now; reload and try again.")
        store.change_load(u, entry["volunteer_id"], 0, minutes - entry["minutes"])
        return store.hours_entry(u, entry_id)

    return units.run(work)
