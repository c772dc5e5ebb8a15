"""The order saga, orchestrated by orders, top to bottom, each compensation beside its step:

    1. place                 ─► orders.order.placed; catalog reserves a portion       (commands.place)
    2. reserved / rejected   ─► awaiting payment  |  rejected: cancelled, nothing to pay
    3. pay                   ─► paid (free orders skip it)                              (money)
                                 declined: stays awaiting payment; expired: cancelled, portion released
                                 paid after it was cancelled: refunded in full
    4. the provider answers  ─► accepted  |  declined or no answer by the final deadline: cancelled, refunded,
                                 portion released (catalog listens to orders.order.cancelled)
    5. ready ─► picked up ─► delivered ─► completed (delivered meals)
       done ─► confirmed by the resident, or by itself after 3 days (on-site and remote services)
                                 delivery failed: the coordinator is alerted and chooses
                                 redeliver (back on offer, address corrected; or first remade
                                 by the kitchen) or cancel (refund)                     (commands)
    *  a coordinator may cancel a committed order (refund) or refund part of one at any time

This module is what events and timers do: each handler gets the Unit the consumer runs it in;
the deadline watcher runs each firing in a unit of its own. Every step is a conditional update of
the order plus its events in one transaction; an event that arrives twice, or after the order has
moved past it, changes nothing. Deadlines are data (rules.deadlines); the clock is the unit's.
"""
from __future__ import annotations

import logging

from linli import logs
from linli.contracts import orders as contract
from linli.ids import iso
from linli.unit import Unit, Units

from . import money, store
from .adapters.payments import PaymentProvider
from .rules import deadlines, moves

log = logging.getLogger("orders.saga")


class OutOfOrder(Exception):
    """An event arrived before the one it follows; the consumer retries it later."""


def _advance(u: Unit, order_id: str, action: str, reason: str, extra: dict | None = None) -> dict | None:
    """Moves an order on an event: None when the order is already past this step."""
    order = store.order(u, order_id)
    if order is None:
        raise OutOfOrder(f"order {order_id} not found")
    if order["status"] not in moves.sources_of(action):
        if moves.already_past(order["status"], action):
            logs.log(log, logging.INFO, "event for a step already passed", order_id=order_id, action=action,
                     status=order["status"])
            return None
        raise OutOfOrder(f"order {order_id} is {order['status']}; cannot {action} yet")
    return store.apply_move(u, order, action, moves.SYSTEM, None, reason, extra)


# -- 2. catalog reserves (or not) ------------------------------------------------------------

def on_reservation_confirmed(u: Unit, event: dict) -> None:
    # what is left of the slot decides how long the resident has to pay (rules.holds.PRESSURE)
    order = _advance(u, event["data"]["order_id"], "reservation_confirmed", "a place is reserved",
                     {"reserved": {"remaining": event["data"]["remaining"], "at": u.now}})
    if order is None:
        return
    if order["amount"]["payable_fen"] == 0:
        money.become_paid(u, order, "free_order", "free order: nothing to pay", f"free:{order['_id']}")
        return
    store.emit(u, order["_id"], contract.order_awaiting_payment(
        order_id=order["_id"], resident_id=order["resident_id"], amount_fen=order["amount"]["payable_fen"],
        expires_at=iso(order["deadline"]["due_at"])))


def on_reservation_rejected(u: Unit, event: dict) -> None:
    data = event["data"]
    order = _advance(u, data["order_id"], "reservation_rejected", data["reason"], {"cancel_reason": data["reason"]})
    if order is not None:
        emit_cancelled(u, order, data["reason"], moves.SYSTEM, held=False)


# -- 3. pay: money.on_payment_result (a notification or the reconciler) ------------------------
# -- 4. the provider answers, then cooks or comes: commands.accept / decline / ready / done ----

# -- 5. delivery -----------------------------------------------------------------------------

def on_task_assigned(u: Unit, event: dict) -> None:
    data = event["data"]
    store.set_courier(u, data["order_id"], {"volunteer_id": data["volunteer_id"], "task_id": data["task_id"],
                                            "assigned_at": u.now})


def on_task_picked_up(u: Unit, event: dict) -> None:
    _advance(u, event["data"]["order_id"], "picked_up", "picked up by a volunteer")


def on_task_delivered(u: Unit, event: dict) -> None:
    data = event["data"]
    order = _advance(u, data["order_id"], "delivered", "handed over to the resident")
    if order is not None:
        emit_completed(u, order, data["volunteer_id"])


def on_task_failed(u: Unit, event: dict) -> None:
    """The meal did not reach the resident: the order waits for the coordinator (commands.redeliver, .cancel)."""
    data = event["data"]
    order = store.order(u, data["order_id"])
    if order is not None and order["status"] not in moves.TERMINAL:
        store.note(u, order, moves.SYSTEM, None,
                   f"delivery failed ({data['reason']}); the coordinator decides: deliver again or refund",
                   {"delivery_problem": {"reason": data["reason"], "task_id": data["task_id"], "at": u.now}})


def emit_completed(u: Unit, order: dict, volunteer_id: str | None) -> None:
    store.emit(u, order["_id"], contract.order_completed(
        order_id=order["_id"], resident_id=order["resident_id"], provider_id=order["provider"]["id"],
        listing_id=order["listing"]["id"], volunteer_id=volunteer_id))


# -- compensations ------------------------------------------------------------------------------

def cancel_with_compensation(u: Unit, order: dict, action: str, role: str, actor: str | None, reason: str) -> dict:
    """Cancels by `action`; the portion is released (catalog hears orders.order.cancelled) and, for a move
    that refunds, the money goes back (money.refund_all)."""
    held = order["status"] != "placed"  # catalog answered: a portion is held
    settled = {"delivery_problem": None} if order.get("delivery_problem") else {}  # the coordinator chose: refund
    moved = store.apply_move(u, order, action, role, actor, reason, {"cancel_reason": reason, **settled})
    emit_cancelled(u, moved, reason, role, held)
    if moves.move_of(action).refunds:
        money.refund_all(u, order, moved, reason, role, actor)
    return moved


def emit_cancelled(u: Unit, order: dict, reason: str, role: str, held: bool) -> None:
    store.emit(u, order["_id"], contract.order_cancelled(order_id=order["_id"], reason=reason, by_role=role,
                                                         reservation_held=held))


# -- deadlines ------------------------------------------------------------------------------------

def fire_deadline(u: Unit, order_id: str) -> str | None:
    """Fires an order's due deadline, once; returns its kind (None if nothing was due)."""
    order = store.order(u, order_id)
    deadline = (order or {}).get("deadline")
    if not deadline or deadline["due_at"] > u.now:
        return None
    kind = deadline["kind"]
    if kind == "payment_expiry":
        reason = deadlines.payment_expiry_words(order["listing"]["category"], deadline.get("minutes"))
        moved = store.apply_move(u, order, "payment_expired", moves.SYSTEM, None, reason, {"cancel_reason": reason})
        emit_cancelled(u, moved, reason, moves.SYSTEM, held=True)
    elif kind in deadlines.ESCALATES:
        store.note(u, order, moves.SYSTEM, None, deadlines.escalation_words(kind),
                   {"deadline": deadlines.after_escalation(deadline)})
        store.record_escalation(u, order_id, kind)
        store.emit(u, order_id, contract.order_deadline_missed(
            order_id=order_id, kind=kind, due_at=iso(deadline["due_at"]), provider_id=order["provider"]["id"],
            community_id=order["address"]["community_id"]))
    elif kind == "provider_final":
        cancel_with_compensation(u, order, "provider_timeout", moves.SYSTEM, None, deadlines.DEADLINE_WORDS[kind])
    elif kind == "auto_complete":
        moved = store.apply_move(u, order, "auto_complete", moves.SYSTEM, None,
                                 deadlines.auto_complete_words(order["listing"]["category"]))
        emit_completed(u, moved, None)
    else:
        raise ValueError(f"order {order_id} has a deadline of unknown kind {kind!r}")
    return kind


class Round(list):
    """The watcher's round: (order id, kind) of each deadline fired, and in `failed` those that could not
    be (each logged, counted on its deadline, and tried again later)."""

    def __init__(self):
        super().__init__()
        self.failed: list[tuple[str, str]] = []


def fire_due_deadlines(units: Units, provider: PaymentProvider | None = None) -> Round:
    """The watcher's round: every due deadline, fired once, each in its own unit. One order that cannot
    be fired does not stop the round: it is logged, its failures counted, and it is tried again later."""
    fired = Round()
    now = units.now()
    for due in store.due_deadlines(units.db, now):
        try:
            kind = units.run(lambda u: fire_deadline(u, due["_id"]))
        except Exception as error:  # noqa: BLE001 - one broken order must not stop the others
            failures = store.deadline_failed(units.db, due["_id"], due["deadline"], repr(error), now)
            logs.log(log, logging.ERROR, "deadline could not be fired; tried again later", order_id=due["_id"],
                     kind=due["deadline"].get("kind"), failures=failures, error=repr(error))
            fired.failed.append((due["_id"], due["deadline"].get("kind")))
            continue
        if kind is None:
            continue
        fired.append((due["_id"], kind))
        if kind == "payment_expiry" and provider is not None and (due.get("payment") or {}).get("id"):
            # close the cashier so nobody pays for an order that is gone; a payment that slipped in is refunded
            try:
                provider.close(due["payment"]["id"])
            except Exception as error:  # noqa: BLE001 - the order is cancelled either way
                logs.log(log, logging.WARNING, "cashier not closed; a late payment will be refunded",
                         order_id=due["_id"], error=repr(error))
    return fired
