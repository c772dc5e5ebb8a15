"""The order saga, orchestrated by orders, top to bottom, each compensation beside its step:

    1. place                 ─► orders.order.placed; catalog reserves a portion
    2. reserved / rejected   ─► awaiting payment  |  rejected: cancelled, nothing to pay
    3. pay                   ─► paid (free orders skip it)
                                 declined: stays awaiting payment; expired: cancelled, portion released
                                 paid after it was cancelled: refunded in full
    4. the provider answers  ─► accepted  |  declined or no answer by the final deadline: cancelled, refunded,
                                 portion released (catalog listens to orders.order.cancelled)
    5. ready ─► picked up ─► delivered ─► completed (delivered meals)
       done ─► confirmed by the resident, or by itself after 3 days (on-site and remote services)
                                 delivery failed: the coordinator is alerted and chooses
                                 redeliver (back on offer, address corrected; or first remade
                                 by the kitchen) or cancel (refund)
    *  a coordinator may cancel a committed order (refund) or refund part of one at any time

Every step is a conditional update of the order plus its events in one transaction; an event
that arrives twice, or after the order has moved past it, changes nothing. Deadlines are data
(domain.DEADLINE_RULES); `fire_deadline` runs them with whatever clock it is given.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli import logs
from linli.auth import Principal, Relative
from linli.db import in_transaction
from linli.errors import ApiError, conflict, invalid
from linli.geo import distance_m
from linli.unit import Unit
from linli.ids import iso, new_id, utcnow

from . import domain, store

log = logging.getLogger("orders.saga")


class OutOfOrder(Exception):
    """An event arrived before the one it follows; the consumer retries it later."""


# -- 1. place ----------------------------------------------------------------------------

def place(db: Database, who: Principal, body: dict, listing: dict, now: datetime,
          on_behalf: Relative | None = None) -> dict:
    """Places an order; `who` may be the resident, a family member with an approved link to them, or a
    coordinator (who gives the resident, `on_behalf`, as the gateway showed it to them)."""
    ordered_by = None
    if body.get("for_resident_id") and body["for_resident_id"] != who.id:
        elder = on_behalf if on_behalf is not None else who.relative(body["for_resident_id"])
        if elder is None:
            raise invalid("for_resident_id", "you have no approved family link to this resident")
        ordered_by = {"role": who.role, "id": who.id, "name": who.name}
        who = Principal(id=elder.id, role="resident", name=elder.name, tags=elder.tags)
    if listing.get("status") != "published":
        raise ApiError(409, "listing_unavailable", "This offer is not available for ordering.")
    address = body["address"]
    if listing.get("service_radius_m"):
        kitchen, home = listing["provider"]["location"], address["location"]
        away = distance_m(kitchen["lng"], kitchen["lat"], home["lng"], home["lat"])
        if away > listing["service_radius_m"]:
            raise invalid("address.location", f"this provider serves addresses within "
                                              f"{listing['service_radius_m'] / 1000:.1f} km of it; yours is "
                                              f"{away / 1000:.1f} km away")
    elif address["community_id"] not in listing["community_ids"]:
        raise invalid("address.community_id", "this provider does not serve your community")
    if body["quantity"] > listing.get("max_quantity", 5):
        raise invalid("quantity", f"at most {listing.get('max_quantity', 5)} per order")
    window = listing.get("slot_window")
    if window is None:
        raise invalid("slot", f"this offer has no slot named {body['slot']!r}")
    if datetime.fromisoformat(window["end"]) <= now:
        raise invalid("slot_date", "this slot is already over; choose a later date")
    if listing.get("closed") or listing.get("cutoff_passed"):
        raise invalid("slot_date", "orders for this slot are closed; choose a later date")
    tier = domain.choose_tier(listing.get("tiers", []), who.tags)
    try:
        amount = domain.amount(listing["price_fen"], body["quantity"], tier)
    except ValueError:
        raise ApiError(409, "listing_unavailable", "This offer's prices are being corrected; please try later.")
    order_id = new_id("ord")
    provider = listing["provider"]
    order = {
        "_id": order_id,
        "resident_id": who.id,
        "resident_name": who.name,
        "ordered_by": ordered_by,
        "listing": {k: listing.get(k) for k in ("id", "version", "title", "price_fen", "unit", "fulfilment",
                                                "category", "timezone")},
        "provider": {**provider, "owner_id": listing["provider_owner_id"]},
        "quantity": body["quantity"],
        "slot": {"date": body["slot_date"].isoformat(), "name": body["slot"],
                 "start": datetime.fromisoformat(window["start"]), "end": datetime.fromisoformat(window["end"])},
        "address": address,
        "notes": body.get("notes", ""),
        "amount": amount,
        "status": "placed",
        "timeline": [domain.timeline_entry(None, "placed", (ordered_by or {}).get("role", who.role),
                                           (ordered_by or {}).get("id", who.id), now,
                                           f"ordered by {ordered_by['name']} for {who.name}" if ordered_by
                                           else "order placed")],
        "codes": domain.new_codes(),
        "payment_attempts": 0,
        "payment": None,
        "refunded_fen": 0,
        "courier": None,
        "deadline": None,
        "escalations": [],
        "created_at": now,
        "updated_at": now,
    }

    def work(session: ClientSession) -> None:
        db.orders.insert_one(order, session=session)
        store.emit(db, session, order_id, "orders.order.placed", {
            "order_id": order_id, "resident_id": who.id, "listing_id": listing["id"],
            "listing_version": listing["version"], "provider_id": provider["id"], "quantity": body["quantity"],
            "slot_date": order["slot"]["date"], "slot": body["slot"], "amount_fen": amount["payable_fen"],
        })

    in_transaction(db, work)
    return order


def _advance(db: Database, session: ClientSession, order_id: str, action: str, reason: str,
             extra: dict | None = None, now: datetime | None = None) -> dict | None:
    """Moves an order on an event: None when the order is already past this step."""
    order = db.orders.find_one({"_id": order_id}, session=session)
    if order is None:
        raise OutOfOrder(f"order {order_id} not found")
    if order["status"] not in domain.sources_of(action):
        target = domain.move_of(action).target
        if order["status"] in domain.TERMINAL or domain.STATES.index(order["status"]) >= domain.STATES.index(target):
            logs.log(log, logging.INFO, "event for a step already passed", order_id=order_id, action=action,
                     status=order["status"])
            return None
        raise OutOfOrder(f"order {order_id} is {order['status']}; cannot {action} yet")
    return store.apply_move(db, session, order, action, domain.SYSTEM, None, reason, now or utcnow(), extra)


def _paid_event(order: dict) -> dict:
    provider, address = order["provider"], order["address"]
    return {
        "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": provider["id"],
        "listing_id": order["listing"]["id"], "fulfilment": order["listing"]["fulfilment"],
        "amount_fen": order["amount"]["payable_fen"],
        "slot_start": iso(order["slot"]["start"]), "slot_end": iso(order["slot"]["end"]),
        "pickup": {"name": provider["name"], "address": provider["address"], "location": provider["location"]},
        "dropoff": {k: address[k] for k in ("community_id", "building", "room", "phone", "contact_name", "location",
                                            "emergency_contact") if k in address},
        "items": [{"title": order["listing"]["title"], "quantity": order["quantity"]}],
        "pickup_code": order["codes"]["pickup_code"], "handover_code": order["codes"]["handover_code"],
    }


def _become_paid(db: Database, session: ClientSession, order: dict, action: str, reason: str, ref: str,
                 now: datetime, extra: dict | None = None) -> dict:
    order = store.apply_move(db, session, order, action, domain.SYSTEM, None, reason, now, extra)
    store.add_ledger(db, session, order, domain.ledger_charges(order), "charge", now, ref)
    store.emit(db, session, order["_id"], "orders.order.paid", _paid_event(order))
    return order


# -- 2. catalog reserves (or not) ------------------------------------------------------------

def on_reservation_confirmed(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    now = utcnow()
    order = _advance(db, session, event["data"]["order_id"], "reservation_confirmed", "a place is reserved", now=now)
    if order is None:
        return
    if order["amount"]["payable_fen"] == 0:
        _become_paid(db, session, order, "free_order", "free order: nothing to pay", f"free:{order['_id']}", now)
        return
    store.emit(db, session, order["_id"], "orders.order.awaiting_payment", {
        "order_id": order["_id"], "resident_id": order["resident_id"], "amount_fen": order["amount"]["payable_fen"],
        "expires_at": iso(order["deadline"]["due_at"])})


def on_reservation_rejected(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    data = event["data"]
    order = _advance(db, session, data["order_id"], "reservation_rejected", data["reason"],
                     {"cancel_reason": data["reason"]})
    if order is not None:
        _emit_cancelled(db, session, order, data["reason"], domain.SYSTEM, held=False)


# -- 3. pay --------------------------------------------------------------------------------

def start_payment(db: Database, order: dict, provider, notify_url: str) -> dict:
    """Creates (or resumes) the payment of an order awaiting payment; returns it with its cashier page."""
    payment = db.payments.find_one({"order_id": order["_id"], "status": "pending"})
    if payment is None:
        attempt = order["payment_attempts"] + 1
        payment = {"_id": f"{order['_id']}-p{attempt}", "order_id": order["_id"],
                   "amount_fen": order["amount"]["payable_fen"], "status": "pending", "provider": "stub",
                   "created_at": utcnow()}

        def work(session: ClientSession) -> None:
            if db.payments.find_one({"_id": payment["_id"]}, session=session) is None:
                db.payments.insert_one(payment, session=session)
                db.orders.update_one({"_id": order["_id"]}, {"$set": {
                    "payment_attempts": attempt, "payment": {"id": payment["_id"], "status": "pending"}}},
                    session=session)

        in_transaction(db, work)
    created = provider.create(payment["_id"], payment["amount_fen"], order["listing"]["title"], notify_url)
    db.payments.update_one({"_id": payment["_id"]}, {"$set": {"provider_ref": created["provider_ref"]}})
    return {**db.payments.find_one({"_id": payment["_id"]}), "cashier_url": created["cashier_url"]}


def on_payment_result(db: Database, payment: dict, succeeded: bool, now: datetime) -> str:
    """The provider's verdict on a payment (from a notification or a query); returns the order's state after."""
    def work(session: ClientSession) -> str:
        order = db.orders.find_one({"_id": payment["order_id"]}, session=session)
        if not succeeded:
            if db.payments.update_one({"_id": payment["_id"], "status": "pending"},
                                      {"$set": {"status": "failed", "failed_at": now}}, session=session).modified_count:
                store.note(db, session, order, domain.SYSTEM, None, "payment declined; you can try again", now,
                           {"payment.status": "failed"} if (order.get("payment") or {}).get("id") == payment["_id"]
                           else None)
            return order["status"]
        if not db.payments.update_one({"_id": payment["_id"], "status": {"$in": ["pending", "failed"]}},
                                      {"$set": {"status": "succeeded", "succeeded_at": now}},
                                      session=session).modified_count:
            return order["status"]  # heard before
        if order["status"] == "awaiting_payment":
            order = _become_paid(db, session, order, "payment_succeeded",
                                 f"paid {domain.yuan(payment['amount_fen'])} yuan", payment["_id"], now,
                                 {"payment": {"id": payment["_id"], "status": "succeeded"}})
            return order["status"]
        # money arrived for an order that can no longer use it (expired, cancelled, paid twice): give it back
        _request_refund(db, session, order, payment, payment["amount_fen"], "paid after the order was closed",
                        domain.SYSTEM, None, scope="payment", now=now)
        return order["status"]

    return in_transaction(db, work)


# -- 4. the provider answers, then cooks or comes -------------------------------------------

def accept(db: Database, who: Principal, order: dict) -> dict:
    return _provider_move(db, who, order, "accept", "orders.order.accepted", "accepted by the provider")


def ready(db: Database, who: Principal, order: dict) -> dict:
    return _provider_move(db, who, order, "ready", "orders.order.ready", "marked ready by the provider")


def done(db: Database, who: Principal, order: dict) -> dict:
    return _provider_move(db, who, order, "done", None, "the provider says the job is done")


def _provider_move(db: Database, who: Principal, order: dict, action: str, event_type: str | None, reason: str) -> dict:
    def work(session: ClientSession) -> dict:
        moved = store.apply_move(db, session, order, action, who.role, who.id, reason, utcnow())
        if event_type:
            store.emit(db, session, order["_id"], event_type,
                       {"order_id": order["_id"], "provider_id": order["provider"]["id"]})
        return moved

    return in_transaction(db, work)


def decline(db: Database, who: Principal, order: dict, reason: str) -> dict:
    def work(session: ClientSession) -> dict:
        store.emit(db, session, order["_id"], "orders.order.declined",
                   {"order_id": order["_id"], "provider_id": order["provider"]["id"], "reason": reason})
        return _cancel_with_compensation(db, session, order, "decline", who.role, who.id,
                                         f"declined by the provider: {reason}", utcnow())

    return in_transaction(db, work)


# -- 5. delivery -----------------------------------------------------------------------------

def on_task_assigned(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    data = event["data"]
    db.orders.update_one({"_id": data["order_id"]},
                         {"$set": {"courier": {"volunteer_id": data["volunteer_id"], "task_id": data["task_id"],
                                               "assigned_at": utcnow()}}}, session=session)


def on_task_picked_up(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    _advance(db, session, event["data"]["order_id"], "picked_up", "picked up by a volunteer")


def on_task_delivered(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    data = event["data"]
    order = _advance(db, session, data["order_id"], "delivered", "handed over to the resident")
    if order is not None:
        _emit_completed(db, session, order, data["volunteer_id"])


def on_task_failed(u: Unit, event: dict) -> None:
    """The meal did not reach the resident: the order waits for the coordinator (see `redeliver`, `cancel`)."""
    db, session = u.db, u.session
    data = event["data"]
    order = db.orders.find_one({"_id": data["order_id"]}, session=session)
    if order is not None and order["status"] not in domain.TERMINAL:
        now = utcnow()
        store.note(db, session, order, domain.SYSTEM, None,
                   f"delivery failed ({data['reason']}); the coordinator decides: deliver again or refund", now,
                   {"delivery_problem": {"reason": data["reason"], "task_id": data["task_id"], "at": now}})


def redeliver(db: Database, who: Principal, order: dict, reason: str, address_fix: dict, remake: bool = False
              ) -> dict:
    """The coordinator's first choice after a failed delivery: the meal goes out again, to a corrected
    address if it was wrong. An order whose meal had left the kitchen is ready again, or with `remake` back
    with the kitchen to make it again (accepted, with REMAKE_TIME to be ready); one whose meal never left
    keeps its state. Delivery puts the task back on offer on orders.order.redelivery_requested (after a
    remake, once the kitchen says it is ready)."""
    problem = order.get("delivery_problem")
    if order["status"] not in domain.REDELIVERABLE:
        raise domain.IllegalTransition("redeliver", order["status"])
    if not problem:
        raise ApiError(409, "no_failed_delivery", "This order has no failed delivery to send out again.",
                       {"current_status": order["status"]})
    action = "remake" if remake else "redeliver"
    if remake and order["status"] not in domain.sources_of(action):
        raise invalid("remake", "the meal never left the kitchen; send it out again as it is")
    now = utcnow()
    attempt = order.get("redeliveries", 0) + 2
    made_again = "; the kitchen makes it again" if remake else ""
    text = f"sent out again by the coordinator (delivery {attempt}{made_again}): {reason}"
    changes = {"delivery_problem": None, "courier": None, "redeliveries": attempt - 1,
               **{f"address.{k}": v for k, v in address_fix.items()}}
    if remake:
        changes["remake"] = {"at": now, "by": who.id, "reason": reason}

    undecided = {"delivery_problem.at": problem["at"]}  # two coordinators deciding at once: one decision

    def work(session: ClientSession) -> None:
        if order["status"] in domain.sources_of(action):
            store.apply_move(db, session, order, action, who.role, who.id, text, now, changes, expect=undecided)
        elif not store.note(db, session, order, who.role, who.id, text, now, changes,
                            expect={"status": order["status"], **undecided}):
            raise conflict("Someone else decided about this delivery just now; load the order again.")
        store.emit(db, session, order["_id"], "orders.order.redelivery_requested", {
            "order_id": order["_id"], "task_id": problem.get("task_id"), "attempt": attempt, "reason": reason,
            "dropoff": address_fix, "community_id": order["address"]["community_id"], "remake": remake})

    in_transaction(db, work)
    return db.orders.find_one({"_id": order["_id"]})  # the address was changed field by field: read it back


def complete(db: Database, who: Principal, order: dict) -> dict:
    def work(session: ClientSession) -> dict:
        moved = store.apply_move(db, session, order, "complete", who.role, who.id, "confirmed by the resident",
                                 utcnow())
        _emit_completed(db, session, moved, None)
        return moved

    return in_transaction(db, work)


def _emit_completed(db: Database, session: ClientSession, order: dict, volunteer_id: str | None) -> None:
    store.emit(db, session, order["_id"], "orders.order.completed", {
        "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": order["provider"]["id"],
        "listing_id": order["listing"]["id"], "volunteer_id": volunteer_id})


# -- compensations ------------------------------------------------------------------------------

def cancel(db: Database, who: Principal, order: dict, reason: str) -> dict:
    """A resident (before the provider accepts) or a coordinator (any time before completion) cancels."""
    action = "revoke" if order["status"] in domain.sources_of("revoke") else "cancel"
    return in_transaction(db, lambda session: _cancel_with_compensation(
        db, session, order, action, who.role, who.id, reason, utcnow()))


def _cancel_with_compensation(db: Database, session: ClientSession, order: dict, action: str, role: str,
                              actor: str | None, reason: str, now: datetime) -> dict:
    held = order["status"] != "placed"  # catalog answered: a portion is held
    settled = {"delivery_problem": None} if order.get("delivery_problem") else {}  # the coordinator chose: refund
    moved = store.apply_move(db, session, order, action, role, actor, reason, now, {"cancel_reason": reason, **settled})
    _emit_cancelled(db, session, moved, reason, role, held)
    if domain.move_of(action).refunds:
        payment = _succeeded_payment(db, session, order)
        if payment is not None:
            _request_refund(db, session, moved, payment, payment["amount_fen"] - _refunds_asked(db, session, order),
                            reason, role, actor, scope="order", now=now)
        elif order["status"] in ("paid", "accepted", "ready", "delivering", "service_done"):
            # a free order: no money moved, but the funders' shares are taken back
            store.add_ledger(db, session, moved, [(p, -fen) for p, fen in domain.ledger_charges(moved)],
                             "reversal", now, f"cancel:{order['_id']}")
    return moved


def _emit_cancelled(db, session, order: dict, reason: str, role: str, held: bool) -> None:
    store.emit(db, session, order["_id"], "orders.order.cancelled",
               {"order_id": order["_id"], "reason": reason, "by_role": role, "reservation_held": held})


def _succeeded_payment(db: Database, session: ClientSession, order: dict) -> dict | None:
    return db.payments.find_one({"order_id": order["_id"], "status": "succeeded"}, session=session)


def _refunds_asked(db: Database, session: ClientSession, order: dict) -> int:
    return sum(r["amount_fen"] for r in db.refunds.find({"order_id": order["_id"], "status": {"$ne": "refused"}},
                                                        session=session))


def _request_refund(db: Database, session: ClientSession, order: dict, payment: dict, amount_fen: int, reason: str,
                    role: str, actor: str | None, scope: str, now: datetime) -> dict | None:
    """Records a refund for `submit_refunds` to send. Callers are guarded by a state move or a check of
    what is left, so a retried step never asks twice. `scope` says what the ledger takes back:
    "order" everything charged, "resident" only the resident's part, "payment" nothing (never charged)."""
    if amount_fen <= 0:
        return None
    number = db.refunds.count_documents({"order_id": order["_id"]}, session=session) + 1
    refund = {"_id": f"{order['_id']}-r{number}", "order_id": order["_id"], "payment_id": payment["_id"],
              "amount_fen": amount_fen, "reason": reason, "scope": scope, "status": "requested",
              "requested_by": {"role": role, "id": actor}, "created_at": now}
    db.refunds.insert_one(refund, session=session)
    store.note(db, session, order, role, actor, f"refund of {domain.yuan(amount_fen)} yuan requested: {reason}", now)
    return refund


def refund_part(db: Database, who: Principal, order: dict, amount_fen: int, reason: str) -> dict:
    """A coordinator gives back part (or the rest) of what the resident paid."""
    def work(session: ClientSession) -> dict:
        current = db.orders.find_one({"_id": order["_id"]}, session=session)
        payment = _succeeded_payment(db, session, current)
        if payment is None:
            raise ApiError(409, "nothing_to_refund", "This order has no payment to refund.",
                           {"current_status": current["status"]})
        left = payment["amount_fen"] - _refunds_asked(db, session, current)
        if amount_fen > left:
            raise invalid("amount_fen", f"at most {domain.yuan(left)} yuan can still be refunded")
        return _request_refund(db, session, current, payment, amount_fen, reason, who.role, who.id,
                               scope="resident", now=utcnow())

    return in_transaction(db, work)


def submit_refunds(db: Database, provider, notify_url: str) -> int:
    """Sends requested refunds to the payment provider (outside any transaction: it is another party)."""
    sent = 0
    for refund in db.refunds.find({"status": "requested"}).sort("created_at", 1).limit(50):
        try:
            provider.refund(refund["_id"], refund["payment_id"], refund["amount_fen"], refund["reason"], notify_url)
        except ApiError as error:
            logs.log(log, logging.ERROR, "refund refused by the provider", refund_id=refund["_id"], error=error.message)
            db.refunds.update_one({"_id": refund["_id"], "status": "requested"},
                                  {"$set": {"status": "refused", "error": error.message}})
            continue
        db.refunds.update_one({"_id": refund["_id"], "status": "requested"},
                              {"$set": {"status": "submitted", "submitted_at": utcnow()}})
        sent += 1
    return sent


def on_refund_succeeded(db: Database, refund_id: str, amount_fen: int, now: datetime) -> bool:
    """The provider confirms a refund: the order and the ledger show it, and orders.order.refunded goes out."""
    def work(session: ClientSession) -> bool:
        refund = db.refunds.find_one({"_id": refund_id}, session=session)
        if refund is None or refund["amount_fen"] != amount_fen:
            return False
        if not db.refunds.update_one({"_id": refund_id, "status": {"$in": ["requested", "submitted"]}},
                                     {"$set": {"status": "succeeded", "succeeded_at": now}},
                                     session=session).modified_count:
            return True  # heard before
        order = db.orders.find_one({"_id": refund["order_id"]}, session=session)
        total = order.get("refunded_fen", 0) + amount_fen
        store.note(db, session, order, domain.SYSTEM, None, f"refunded {domain.yuan(amount_fen)} yuan", now,
                   {"refunded_fen": total})
        reversal = {"order": [(party, -fen) for party, fen in domain.ledger_charges(order)],
                    "resident": [("resident", -amount_fen)], "payment": []}[refund["scope"]]
        store.add_ledger(db, session, order, reversal, "reversal", now, refund_id)
        store.emit(db, session, order["_id"], "orders.order.refunded", {
            "order_id": order["_id"], "refund_id": refund_id, "amount_fen": amount_fen, "refunded_total_fen": total})
        return True

    return in_transaction(db, work)


# -- deadlines ------------------------------------------------------------------------------------

def fire_deadline(db: Database, order_id: str, now: datetime) -> str | None:
    """Fires an order's due deadline, once; returns its kind (None if nothing was due)."""
    def work(session: ClientSession) -> str | None:
        order = db.orders.find_one({"_id": order_id}, session=session)
        deadline = (order or {}).get("deadline")
        if not deadline or deadline["due_at"] > now:
            return None
        kind = deadline["kind"]
        if kind == "payment_expiry":
            minutes = int(domain.rule_for(order["listing"]["category"]).payment.total_seconds() // 60)
            reason = domain.DEADLINE_WORDS[kind].format(minutes=minutes)
            moved = store.apply_move(db, session, order, "payment_expired", domain.SYSTEM, None, reason, now,
                                     {"cancel_reason": reason})
            _emit_cancelled(db, session, moved, reason, domain.SYSTEM, held=True)
        elif kind in ("provider_answer", "ready_by", "remake_by"):
            next_deadline = ({"kind": "provider_final", "due_at": deadline["final_at"]}
                             if kind == "provider_answer" else None)
            store.note(db, session, order, domain.SYSTEM, None,
                       f"{domain.DEADLINE_WORDS[kind]}; the coordinator is alerted", now,
                       {"deadline": next_deadline})
            db.orders.update_one({"_id": order_id}, {"$push": {"escalations": {"kind": kind, "at": now}}},
                                 session=session)
            store.emit(db, session, order_id, "orders.order.deadline_missed", {
                "order_id": order_id, "kind": kind, "due_at": iso(deadline["due_at"]),
                "provider_id": order["provider"]["id"], "community_id": order["address"]["community_id"]})
        elif kind == "provider_final":
            _cancel_with_compensation(db, session, order, "provider_timeout", domain.SYSTEM, None,
                                      domain.DEADLINE_WORDS[kind], now)
        elif kind == "auto_complete":
            days = domain.rule_for(order["listing"]["category"]).auto_complete.days
            moved = store.apply_move(db, session, order, "auto_complete", domain.SYSTEM, None,
                                     domain.DEADLINE_WORDS[kind].format(days=days), now)
            _emit_completed(db, session, moved, None)
        return kind

    return in_transaction(db, work)


def fire_due_deadlines(db: Database, now: datetime, provider=None) -> list[tuple[str, str]]:
    """The watcher's round: every due deadline, fired once. Returns (order id, kind) of those fired."""
    fired = []
    for order in db.orders.find({"deadline.due_at": {"$lte": now}}, {"_id": 1, "payment": 1}).limit(200):
        kind = fire_deadline(db, order["_id"], now)
        if kind is None:
            continue
        fired.append((order["_id"], kind))
        if kind == "payment_expiry" and provider is not None and (order.get("payment") or {}).get("id"):
            # close the cashier so nobody pays for an order that is gone; a payment that slipped in is refunded
            provider.close(order["payment"]["id"])
    return fired


def reconcile_payments(db: Database, provider, older_than: datetime, now: datetime) -> int:
    """Asks the provider about payments pending too long (notifications may have stopped)."""
    settled = 0
    for payment in db.payments.find({"status": "pending", "created_at": {"$lte": older_than}}).limit(100):
        answer = provider.query(payment["_id"])
        if answer is None or answer["amount_fen"] != payment["amount_fen"]:
            continue
        if answer["trade_state"] in ("SUCCESS", "REFUND"):
            on_payment_result(db, payment, True, now)
            settled += 1
        elif answer["trade_state"] in ("PAYERROR", "CLOSED"):
            on_payment_result(db, payment, False, now)
            settled += 1
    return settled
