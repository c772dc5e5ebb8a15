"""Money: paying an order through the payment provider, the provider's notifications (checked
here before anything changes), refunds, the funder ledger and its statements, and the reconciler
that asks the provider when notifications stop.

The provider is another party: no call to it happens inside a transaction. A refund is recorded
in the order's transaction and sent by a timer (`submit_refunds`); the provider confirms it with a
notification (`on_refund_succeeded`)."""
from __future__ import annotations

import logging
from datetime import datetime

from linli import logs
from linli.auth import Principal
from linli.contracts import orders as contract
from linli.domain_errors import Conflict, NotFound, RuleBroken
from linli.ids import iso
from linli.spreadsheet import csv_text as spreadsheet
from linli.unit import Unit, Units

from . import store
from .adapters.payments import NotificationRejected, PaymentProvider, ProviderRefused
from .rules import moves, pricing

log = logging.getLogger("orders.money")


class NotificationRefused(Exception):
    """A payment notification that changes nothing; `code` says why (the route answers with it)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- paying ------------------------------------------------------------------------------------

def paid_event(order: dict) -> dict:
    """What everyone hears of a paid order: no address, phone, contact or code."""
    return {
        "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": order["provider"]["id"],
        "listing_id": order["listing"]["id"], "fulfilment": order["listing"]["fulfilment"],
        "amount_fen": order["amount"]["payable_fen"],
        "slot_start": iso(order["slot"]["start"]), "slot_end": iso(order["slot"]["end"]),
        "dropoff": {"community_id": order["address"]["community_id"]},
        "items": [{"title": order["listing"]["title"], "quantity": order["quantity"]}],
        "answer_by": iso(order["deadline"]["due_at"]),  # the provider_answer deadline set on the paid move
    }


def delivery_event(order: dict) -> dict:
    """What delivery alone hears of a paid meal to carry: the kitchen, the resident's door and both codes."""
    provider, address = order["provider"], order["address"]
    return {
        "order_id": order["_id"], "resident_id": order["resident_id"], "provider_id": provider["id"],
        "slot_start": iso(order["slot"]["start"]), "slot_end": iso(order["slot"]["end"]),
        "pickup": {"name": provider["name"], "address": provider["address"], "location": provider["location"]},
        "dropoff": {k: address[k] for k in ("community_id", "building", "room", "phone", "contact_name", "location",
                                            "emergency_contact") if k in address},
        "items": [{"title": order["listing"]["title"], "quantity": order["quantity"]}],
        "pickup_code": order["codes"]["pickup_code"], "handover_code": order["codes"]["handover_code"],
        "answer_by": iso(order["deadline"]["due_at"]),  # the provider_answer deadline set on the paid move
    }


def become_paid(u: Unit, order: dict, action: str, reason: str, ref: str, extra: dict | None = None) -> dict:
    """The order is paid (or free): the ledger charges each party, and orders.order.paid goes out; a meal to
    carry also goes to delivery (orders.delivery.requested), with what only delivery needs."""
    order = store.apply_move(u, order, action, moves.SYSTEM, None, reason, extra)
    store.add_ledger(u, order, pricing.ledger_charges(order), "charge", ref)
    store.emit(u, order["_id"], contract.order_paid(**paid_event(order)))
    if order["listing"]["fulfilment"] == "delivered":
        store.emit(u, order["_id"], contract.delivery_requested(**delivery_event(order)))
    return order


def start_payment(units: Units, provider: PaymentProvider, notify_url: str, order: dict,
                  payer: str | None = None) -> dict:
    """Creates (or resumes) the payment of an order awaiting payment; returns it with its cashier page, which
    only `payer` (the account that asked, already allowed to pay this order) may use."""
    if order["status"] != "awaiting_payment":
        raise moves.refusal("pay", order["status"])
    payment = store.pending_payment(units.db, order["_id"])
    if payment is None:
        attempt = order["payment_attempts"] + 1
        payment = {"_id": f"{order['_id']}-p{attempt}", "order_id": order["_id"],
                   "amount_fen": order["amount"]["payable_fen"], "status": "pending", "provider": "stub",
                   "created_at": units.now()}
        units.run(lambda u: store.start_payment_attempt(u, order["_id"], payment, attempt))
    created = provider.create(payment["_id"], payment["amount_fen"], order["listing"]["title"], notify_url,
                              payer=payer)
    store.set_provider_ref(units.db, payment["_id"], created["provider_ref"])
    return {**store.payment(units.db, payment["_id"]), "cashier_url": created["cashier_url"]}


def on_payment_result(units: Units, payment: dict, succeeded: bool) -> str:
    """The provider's verdict on a payment (from a notification or a query); returns the order's state after."""
    def work(u: Unit) -> str:
        order = store.order(u, payment["order_id"])
        if not succeeded:
            if store.mark_payment_failed(u, payment["_id"]):
                current = (order.get("payment") or {}).get("id") == payment["_id"]
                store.note(u, order, moves.SYSTEM, None, "payment declined; you can try again",
                           {"payment.status": "failed"} if current else None)
            return order["status"]
        if not store.mark_payment_succeeded(u, payment["_id"]):
            return order["status"]  # heard before
        if order["status"] == "awaiting_payment":
            order = become_paid(u, order, "payment_succeeded", f"paid {pricing.yuan(payment['amount_fen'])} yuan",
                                payment["_id"], {"payment": {"id": payment["_id"], "status": "succeeded"}})
            return order["status"]
        # money arrived for an order that can no longer use it (expired, cancelled, paid twice): give it back
        request_refund(u, order, payment, payment["amount_fen"], "paid after the order was closed", moves.SYSTEM,
                       None, scope="payment")
        return order["status"]

    return units.run(work)


def take_notification(units: Units, provider: PaymentProvider, mchid: str, headers: dict[str, str],
                      raw: bytes) -> None:
    """The provider's signed, encrypted callback: verified, never replayed, for this merchant and the
    payment's own amount, before anything changes. A duplicate changes nothing."""
    now = units.now()
    try:
        nonce, notice = provider.read_notification(headers, raw, int(now.timestamp()))
    except NotificationRejected as error:
        logs.log(log, logging.WARNING, "payment notification rejected", reason=str(error))
        raise NotificationRefused("bad_signature", f"Notification refused: {error}.")
    if not store.remember_nonce(units.db, nonce, now):
        raise NotificationRefused("replayed", "Notification refused: this nonce was used before.")
    if notice.mchid != mchid:
        raise NotificationRefused("wrong_merchant", "Notification refused: it is for another merchant.")
    payment = store.payment(units.db, notice.out_trade_no)
    if payment is None:
        raise NotFound("The payment")
    if notice.total_fen != payment["amount_fen"]:
        logs.log(log, logging.ERROR, "payment amount mismatch", payment_id=payment["_id"],
                 expected=payment["amount_fen"], got=notice.total_fen)
        raise NotificationRefused("wrong_amount", "Notification refused: the amount does not match the order.")
    if notice.kind == "refund":
        if notice.state == "SUCCESS" and not on_refund_succeeded(units, notice.out_refund_no, notice.refund_fen):
            raise NotificationRefused("wrong_amount", "Notification refused: no such refund for that amount.")
    elif notice.state in ("SUCCESS", "PAYERROR", "CLOSED"):
        on_payment_result(units, payment, notice.state == "SUCCESS")


def reconcile_payments(units: Units, provider: PaymentProvider, older_than: datetime) -> int:
    """Asks the provider about payments pending too long (notifications may have stopped)."""
    settled = 0
    for payment in store.stale_pending_payments(units.db, older_than):
        answer = provider.query(payment["_id"])
        if answer is None or answer["amount_fen"] != payment["amount_fen"]:
            continue
        if answer["trade_state"] in ("SUCCESS", "REFUND"):
            on_payment_result(units, payment, True)
            settled += 1
        elif answer["trade_state"] in ("PAYERROR", "CLOSED"):
            on_payment_result(units, payment, False)
            settled += 1
    return settled


# -- refunds -----------------------------------------------------------------------------------

def request_refund(u: Unit, order: dict, payment: dict, amount_fen: int, reason: str, role: str,
                   actor: str | None, scope: str) -> dict | None:
    """Records a refund for `submit_refunds` to send. Callers are guarded by a state move or a check of
    what is left, so a retried step never asks twice. `scope` says what the ledger takes back
    (pricing.reversal)."""
    if amount_fen <= 0:
        return None
    number = store.refund_count(u, order["_id"]) + 1
    refund = {"_id": f"{order['_id']}-r{number}", "order_id": order["_id"], "payment_id": payment["_id"],
              "amount_fen": amount_fen, "reason": reason, "scope": scope, "status": "requested",
              "requested_by": {"role": role, "id": actor}, "created_at": u.now}
    store.add_refund(u, refund)
    store.note(u, order, role, actor, f"refund of {pricing.yuan(amount_fen)} yuan requested: {reason}")
    return refund


def refund_all(u: Unit, order: dict, moved: dict, reason: str, role: str, actor: str | None) -> None:
    """The compensation of a move that refunds: what is left of the payment goes back; for a free order
    (no money moved) the funders' shares are taken back from the ledger."""
    payment = store.succeeded_payment(u, order["_id"])
    if payment is not None:
        request_refund(u, moved, payment, payment["amount_fen"] - store.refunds_asked(u, order["_id"]), reason,
                       role, actor, scope="order")
    elif order["status"] in ("paid", "accepted", "ready", "delivering", "service_done"):
        store.add_ledger(u, moved, pricing.reversal(moved, "order", 0), "reversal", f"cancel:{order['_id']}")


def refund_part(u: Unit, who: Principal, order_id: str, amount_fen: int, reason: str) -> dict:
    """A coordinator gives back part (or the rest) of what the resident paid."""
    current = store.order(u, order_id)
    payment = store.succeeded_payment(u, order_id)
    if payment is None:
        raise Conflict("This order has no payment to refund.", code="nothing_to_refund",
                       current_status=current["status"])
    left = payment["amount_fen"] - store.refunds_asked(u, order_id)
    if amount_fen > left:
        raise RuleBroken("amount_fen", f"at most {pricing.yuan(left)} yuan can still be refunded")
    return request_refund(u, current, payment, amount_fen, reason, who.role, who.id, scope="resident")


def submit_refunds(units: Units, provider: PaymentProvider, notify_url: str) -> int:
    """Sends requested refunds to the payment provider (outside any transaction: it is another party)."""
    sent = 0
    for refund in store.requested_refunds(units.db):
        try:
            provider.refund(refund["_id"], refund["payment_id"], refund["amount_fen"], refund["reason"], notify_url)
        except ProviderRefused as error:
            logs.log(log, logging.ERROR, "refund refused by the provider", refund_id=refund["_id"], error=str(error))
            store.refund_refused(units.db, refund["_id"], str(error))
            continue
        store.refund_submitted(units.db, refund["_id"], units.now())
        sent += 1
    return sent


def on_refund_succeeded(units: Units, refund_id: str, amount_fen: int) -> bool:
    """The provider confirms a refund: the order and the ledger show it, and orders.order.refunded goes out."""
    def work(u: Unit) -> bool:
        refund = store.refund(u, refund_id)
        if refund is None or refund["amount_fen"] != amount_fen:
            return False
        if not store.mark_refund_succeeded(u, refund_id):
            return True  # heard before
        order = store.order(u, refund["order_id"])
        total = order.get("refunded_fen", 0) + amount_fen
        store.note(u, order, moves.SYSTEM, None, f"refunded {pricing.yuan(amount_fen)} yuan", {"refunded_fen": total})
        store.add_ledger(u, order, pricing.reversal(order, refund["scope"], amount_fen), "reversal", refund_id)
        store.emit(u, order["_id"], contract.order_refunded(order_id=order["_id"], refund_id=refund_id,
                                                            amount_fen=amount_fen, refunded_total_fen=total))
        return True

    return units.run(work)


# -- the funder ledger -------------------------------------------------------------------------

def statement(units: Units, who: Principal, party: str, month: str) -> dict:
    """A party's monthly statement: every line of the orders `who` watches over, and a total that sums them."""
    lines = store.ledger_lines(units.db, party, month, who.scope_filter("community_id"))
    return {"party": party, "month": month, "total_fen": sum(x["amount_fen"] for x in lines),
            "orders": len({x["order_id"] for x in lines}),
            "lines": [{"order_id": x["order_id"], "kind": x["kind"], "amount_fen": x["amount_fen"], "at": x["at"],
                       "listing_title": x["listing_title"]} for x in lines]}


def provider_statement(units: Units, who: Principal, month: str) -> dict:
    """A provider's monthly statement: every ledger line of its own orders (what residents and each funder are
    charged for them, and what refunds took back), the total per party, and the total."""
    lines = store.provider_ledger_lines(units.db, store.visible_to(who), month)
    parties: dict[str, int] = {}
    for x in lines:
        parties[x["party"]] = parties.get(x["party"], 0) + x["amount_fen"]
    return {"month": month, "total_fen": sum(parties.values()), "orders": len({x["order_id"] for x in lines}),
            "parties": [{"party": p, "amount_fen": fen} for p, fen in sorted(parties.items())],
            "lines": [{"order_id": x["order_id"], "party": x["party"], "kind": x["kind"], "amount_fen": x["amount_fen"],
                       "at": x["at"], "listing_title": x["listing_title"]} for x in lines]}


def provider_statement_csv(body: dict) -> str:
    """The provider's statement as a spreadsheet (Excel and WPS read it with Chinese intact)."""
    rows = [[x["order_id"], x["party"], x["kind"], pricing.yuan(x["amount_fen"]), x["at"].isoformat(),
             x["listing_title"]] for x in body["lines"]]
    return spreadsheet(["order_id", "party", "kind", "amount_yuan", "at", "listing"],
                       rows + [["total", "", "", pricing.yuan(body["total_fen"]), "", ""]])


def statement_csv(body: dict) -> str:
    """The statement as a spreadsheet: opens in Excel and WPS with Chinese titles intact, and a listing title
    can never run as a formula."""
    rows = [[x["order_id"], x["kind"], pricing.yuan(x["amount_fen"]), x["at"].isoformat(), x["listing_title"]]
            for x in body["lines"]]
    return spreadsheet(["order_id", "kind", "amount_yuan", "at", "listing"],
                       rows + [["total", "", pricing.yuan(body["total_fen"]), "", ""]])
