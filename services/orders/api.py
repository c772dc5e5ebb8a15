"""Orders' HTTP routes: who may see and move which order, and the payment notification."""
from __future__ import annotations

import json
import logging

from flask import Response, g, request
from flask_smorest import Blueprint
from pymongo.errors import DuplicateKeyError

from linli import logs
from linli.config import settings
from linli.auth import Relative
from linli.errors import ApiError, conflict, invalid, not_found
from linli.ids import utcnow
from linli.schemas import page_of
from linli.web import idempotent, requires

from . import domain, payments as pay_provider, saga, store, upstream
from .schemas import (CancelIn, DeclineIn, NotifyAck, OrderArgs, OrderIn, OrderPage, OrderSchema, PaymentSchema,
                      RedeliverIn, RefundIn, RefundSchema, StatementArgs, StatementSchema)

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders", description="Orders and their journey")
payments = Blueprint("payments", __name__, url_prefix="/api/v1/payments", description="Payments")
log = logging.getLogger("orders.api")


def db():
    return store.database()


def _visible_query(who) -> dict | None:
    if who.role == "resident":
        return {"$or": [{"resident_id": who.id}, {"ordered_by.id": who.id}]}
    if who.role == "provider":
        return {"provider.owner_id": who.id}
    if who.role == "coordinator":
        return {"address.community_id": {"$in": list(who.communities)}}
    if who.role == "admin":
        return {}
    return None


def _load(order_id: str) -> dict:
    """The order if the signed-in person may see it; 404 otherwise (no hint that it exists)."""
    query = _visible_query(g.principal)
    order = None if query is None else db().orders.find_one({"_id": order_id, **query})
    if order is None:
        raise not_found("The order")
    return order


def _status_text(order: dict) -> str:
    if order.get("delivery_problem"):
        return domain.DELIVERY_PROBLEM_TEXT
    if order["status"] == "accepted" and order.get("remake"):
        return domain.REMAKE_TEXT
    return domain.READABLE[order["status"]]


def _shape(order: dict) -> dict:
    """What this role may see of an order."""
    who = g.principal
    out = {**order, "id": order["_id"], "status_text": _status_text(order)}
    codes = out.pop("codes", {})
    if who.role == "resident":
        out["handover_code"] = codes.get("handover_code")
    if who.role == "provider":
        out["pickup_code"] = codes.get("pickup_code")
        if order["status"] in ("placed", "awaiting_payment", "paid", "cancelled"):
            out["address"] = {k: v for k, v in order["address"].items() if k not in ("phone", "room", "location")}
    return out


def _illegal(error: domain.IllegalTransition) -> ApiError:
    return ApiError(409, "illegal_transition",
                    f"This order is {domain.READABLE[error.current].lower()}; it cannot be {error.action.replace('_', ' ')}ed now."
                    if error.current in domain.READABLE else str(error),
                    {"current_status": error.current, "action": error.action})


def _move(fn, *args):
    try:
        return fn(*args)
    except domain.IllegalTransition as error:
        raise _illegal(error)
    except domain.NotAllowed:
        raise ApiError(403, "forbidden", "You are not allowed to do this to the order.")


@blp.route("", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(db)
@blp.arguments(OrderIn)
@blp.response(201, OrderSchema)
def place_order(body):
    """Orders a listing for a slot; the price comes from the listing. A family member with an approved link,
    or a coordinator for a resident of its communities, orders on the resident's behalf (`for_resident_id`)."""
    on_behalf = _resident_for_coordinator(body) if g.principal.role == "coordinator" else None
    listing = upstream.listing_snapshot(body["listing_id"], body["slot_date"].isoformat(), body["slot"])
    if listing is None:
        raise ApiError(422, "validation_failed", "listing_id: no such listing", {"listing_id": ["no such listing"]})
    return _shape(saga.place(db(), g.principal, body, listing, utcnow(), on_behalf))


def _resident_for_coordinator(body: dict) -> Relative:
    if not body.get("for_resident_id"):
        raise invalid("for_resident_id", "a coordinator orders for a resident: give the resident's account id")
    if body["address"]["community_id"] not in g.principal.communities:
        raise invalid("address.community_id", "you can order only for addresses in your own communities")
    account = upstream.resident_for_coordinator(body["for_resident_id"], request.headers["Authorization"])
    if account is None:
        raise invalid("for_resident_id", "no resident of your communities has this account id")
    return Relative(account["id"], account["name"], tuple(account.get("tags", ())))


@blp.route("")
@requires()
@blp.arguments(OrderArgs, location="query")
@blp.response(200, OrderPage)
def list_orders(args):
    """The orders the signed-in person may see, newest first."""
    query = _visible_query(g.principal)
    if query is None:
        raise ApiError(403, "forbidden", "Volunteers see their deliveries under /api/v1/delivery/tasks.")
    if "status" in args:
        query["status"] = args["status"]
    if args.get("attention"):
        query["$and"] = [{"$or": [{"escalations.0": {"$exists": True}}, {"delivery_problem.at": {"$exists": True}}]}]
        query["status"] = {"$nin": list(domain.TERMINAL)}
    docs, numbers = page_of(db().orders, query, args, [("created_at", -1), ("_id", 1)])
    return {"items": [_shape(o) for o in docs], **numbers}


@blp.route("/<order_id>")
@requires()
@blp.response(200, OrderSchema)
def get_order(order_id):
    """One order with its timeline."""
    return _shape(_load(order_id))


@blp.route("/<order_id>/pay", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(db)
@blp.response(200, PaymentSchema)
def pay(order_id):
    """Starts (or resumes) paying an order: answers with the cashier page to open. A coordinator may open it
    for an order a coordinator placed on a resident's behalf (to hand to the resident, or to pay at the desk)."""
    order = _load(order_id)
    if g.principal.role == "coordinator" and (order.get("ordered_by") or {}).get("role") != "coordinator":
        raise ApiError(403, "forbidden", "The resident pays for an order they placed themselves.")
    if order["status"] != "awaiting_payment":
        raise _illegal(domain.IllegalTransition("pay", order["status"]))
    payment = saga.start_payment(db(), order, pay_provider.provider(), pay_provider.notify_url())
    return {"payment_id": payment["_id"], "order_id": order_id, "status": payment["status"],
            "amount_fen": payment["amount_fen"], "cashier_url": payment["cashier_url"]}


@blp.route("/<order_id>/cancel", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(db)
@blp.arguments(CancelIn)
@blp.response(200, OrderSchema)
def cancel_order(body, order_id):
    """Cancels an order: a resident until the provider accepts, a coordinator until it is completed.
    A held portion is released and anything paid is refunded."""
    return _shape(_move(saga.cancel, db(), g.principal, _load(order_id), body["reason"]))


@blp.route("/<order_id>/accept", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.response(200, OrderSchema)
def accept_order(order_id):
    """The provider takes the order on."""
    return _shape(_move(saga.accept, db(), g.principal, _load(order_id)))


@blp.route("/<order_id>/decline", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(DeclineIn)
@blp.response(200, OrderSchema)
def decline_order(body, order_id):
    """The provider cannot take the order: it is cancelled, the portion released and the payment refunded."""
    return _shape(_move(saga.decline, db(), g.principal, _load(order_id), body["reason"]))


@blp.route("/<order_id>/ready", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.response(200, OrderSchema)
def ready_order(order_id):
    """The meal is ready for pickup; delivery offers it to a volunteer."""
    return _shape(_move(saga.ready, db(), g.principal, _load(order_id)))


@blp.route("/<order_id>/done", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.response(200, OrderSchema)
def done_order(order_id):
    """The provider finished an on-site or remote job; the resident confirms (or it completes in 3 days)."""
    return _shape(_move(saga.done, db(), g.principal, _load(order_id)))


@blp.route("/<order_id>/complete", methods=["POST"])
@requires("resident")
@idempotent(db)
@blp.response(200, OrderSchema)
def complete_order(order_id):
    """The resident confirms an on-site or remote service was done."""
    return _shape(_move(saga.complete, db(), g.principal, _load(order_id)))


@blp.route("/<order_id>/redeliver", methods=["POST"])
@requires("coordinator")
@idempotent(db)
@blp.arguments(RedeliverIn)
@blp.response(200, OrderSchema)
def redeliver_order(body, order_id):
    """After a failed delivery, the coordinator sends the meal out again, correcting the building, room or
    phone when they were wrong; delivery offers it to volunteers again. With `remake`, the kitchen first makes
    a meal that spoiled or was lost on the way. (The other choice is to cancel: refund.)"""
    return _shape(_move(saga.redeliver, db(), g.principal, _load(order_id), body["reason"], body.get("address", {}),
                        body["remake"]))


@blp.route("/<order_id>/refund", methods=["POST"])
@requires("coordinator", "admin")
@idempotent(db)
@blp.arguments(RefundIn)
@blp.response(200, RefundSchema)
def refund_order(body, order_id):
    """A coordinator gives back part or all of what the resident paid."""
    refund = saga.refund_part(db(), g.principal, _load(order_id), body["amount_fen"], body["reason"])
    return {**refund, "id": refund["_id"]}


# -- the payment provider's signed notification ---------------------------------------------

@payments.route("/notify", methods=["POST"])
@payments.response(200, NotifyAck)
def notify():
    """The payment provider's signed, encrypted callback. Verified before anything changes; duplicates are harmless."""
    raw = request.get_data()
    now = utcnow()
    try:
        nonce, notice = pay_provider.provider().read_notification(dict(request.headers), raw, int(now.timestamp()))
    except pay_provider.NotificationRejected as error:
        logs.log(log, logging.WARNING, "payment notification rejected", reason=str(error))
        raise ApiError(401, "bad_signature", f"Notification refused: {error}.")
    if not store.remember_nonce(db(), nonce, now):
        raise ApiError(401, "replayed", "Notification refused: this nonce was used before.")
    if notice.mchid != settings().payment_mchid:
        raise ApiError(400, "wrong_merchant", "Notification refused: it is for another merchant.")
    payment = db().payments.find_one({"_id": notice.out_trade_no})
    if payment is None:
        raise not_found("The payment")
    if notice.total_fen != payment["amount_fen"]:
        logs.log(log, logging.ERROR, "payment amount mismatch", payment_id=payment["_id"],
                 expected=payment["amount_fen"], got=notice.total_fen)
        raise ApiError(400, "wrong_amount", "Notification refused: the amount does not match the order.")
    if notice.kind == "refund":
        if notice.state == "SUCCESS" and not saga.on_refund_succeeded(db(), notice.out_refund_no, notice.refund_fen, now):
            raise ApiError(400, "wrong_amount", "Notification refused: no such refund for that amount.")
    elif notice.state in ("SUCCESS", "PAYERROR", "CLOSED"):
        saga.on_payment_result(db(), payment, notice.state == "SUCCESS", now)
    return {"code": "SUCCESS", "message": "OK"}


# -- the funder ledger ---------------------------------------------------------------------------

@payments.route("/statements")
@requires("coordinator", "admin")
@payments.arguments(StatementArgs, location="query")
@payments.response(200, StatementSchema)
def statement(args):
    """A funder's (or the residents') monthly statement: every line, and a total that sums them.
    Add format=csv for a spreadsheet."""
    lines = list(db().ledger.find({"party": args["party"], "month": args["month"]}).sort([("at", 1), ("_id", 1)]))
    body = {"party": args["party"], "month": args["month"], "total_fen": sum(x["amount_fen"] for x in lines),
            "orders": len({x["order_id"] for x in lines}),
            "lines": [{"order_id": x["order_id"], "kind": x["kind"], "amount_fen": x["amount_fen"], "at": x["at"],
                       "listing_title": x["listing_title"]} for x in lines]}
    if args.get("format") == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["order_id", "kind", "amount_yuan", "at", "listing"])
        for x in body["lines"]:
            writer.writerow([x["order_id"], x["kind"], domain.yuan(x["amount_fen"]), x["at"].isoformat(),
                             x["listing_title"]])
        writer.writerow(["total", "", domain.yuan(body["total_fen"]), "", ""])
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={args['party']}-{args['month']}.csv"})
    return body
