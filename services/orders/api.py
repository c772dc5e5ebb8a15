"""Orders' HTTP routes: who may see and move which order, and the payment notification."""
from __future__ import annotations

import json
import logging

from flask import g, request
from flask_smorest import Blueprint
from pymongo.errors import DuplicateKeyError

from linli import logs
from linli.config import settings
from linli.errors import ApiError, conflict, not_found
from linli.ids import utcnow
from linli.keys import payment_secret
from linli.schemas import page_of
from linli.web import idempotent, requires

from . import catalog_client, domain, paystub, saga, signing, store
from .schemas import CancelIn, NotifyAck, OrderArgs, OrderIn, OrderPage, OrderSchema, PaymentSchema

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders", description="Orders and their journey")
payments = Blueprint("payments", __name__, url_prefix="/api/v1/payments", description="Payments")
log = logging.getLogger("orders.api")


def db():
    return store.database()


def _visible_query(who) -> dict | None:
    if who.role == "resident":
        return {"resident_id": who.id}
    if who.role == "provider":
        return {"provider.owner_id": who.id}
    if who.role in ("coordinator", "admin"):
        return {}
    return None


def _load(order_id: str) -> dict:
    """The order if the signed-in person may see it; 404 otherwise (no hint that it exists)."""
    query = _visible_query(g.principal)
    order = None if query is None else db().orders.find_one({"_id": order_id, **query})
    if order is None:
        raise not_found("The order")
    return order


def _shape(order: dict) -> dict:
    """What this role may see of an order."""
    who = g.principal
    out = {**order, "id": order["_id"], "status_text": domain.READABLE[order["status"]]}
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
@requires("resident")
@idempotent(db)
@blp.arguments(OrderIn)
@blp.response(201, OrderSchema)
def place_order(body):
    """Orders a listing for a slot; the price comes from the listing."""
    listing = catalog_client.listing_snapshot(body["listing_id"], body["slot_date"].isoformat(), body["slot"])
    if listing is None:
        raise ApiError(422, "validation_failed", "listing_id: no such listing", {"listing_id": ["no such listing"]})
    return _shape(saga.place(db(), g.principal, body, listing, utcnow()))


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
    docs, numbers = page_of(db().orders, query, args, [("created_at", -1), ("_id", 1)])
    return {"items": [_shape(o) for o in docs], **numbers}


@blp.route("/<order_id>")
@requires()
@blp.response(200, OrderSchema)
def get_order(order_id):
    """One order with its timeline."""
    return _shape(_load(order_id))


@blp.route("/<order_id>/pay", methods=["POST"])
@requires("resident")
@blp.response(200, PaymentSchema)
def pay(order_id):
    """Starts (or resumes) paying an order: answers with the cashier page to open."""
    order = _load(order_id)
    if order["status"] != "awaiting_payment":
        raise _illegal(domain.IllegalTransition("pay", order["status"]))
    d = db()
    payment = d.payments.find_one({"order_id": order_id, "status": "pending"})
    if payment is None:
        attempt = order["payment_attempts"] + 1
        payment = {"_id": f"{order_id}-p{attempt}", "order_id": order_id, "amount_fen": order["amount"]["payable_fen"],
                   "status": "pending", "provider": "stub", "created_at": utcnow()}
        try:
            d.payments.insert_one(payment)
            d.orders.update_one({"_id": order_id}, {"$set": {"payment_attempts": attempt,
                                                             "payment": {"id": payment["_id"], "status": "pending"}}})
        except DuplicateKeyError:
            payment = d.payments.find_one({"_id": payment["_id"]})
    created = paystub.create_payment(payment["_id"], payment["amount_fen"], order["listing"]["title"],
                                     f"{settings().public_url}/api/v1/payments/notify")
    d.payments.update_one({"_id": payment["_id"]}, {"$set": {"provider_ref": created["provider_ref"]}})
    current = d.payments.find_one({"_id": payment["_id"]})
    return {"payment_id": current["_id"], "order_id": order_id, "status": current["status"],
            "amount_fen": current["amount_fen"], "cashier_url": created["cashier_url"]}


@blp.route("/<order_id>/cancel", methods=["POST"])
@requires("resident", "coordinator")
@blp.arguments(CancelIn)
@blp.response(200, OrderSchema)
def cancel_order(body, order_id):
    """Cancels an order that is not paid yet; its reserved portion is released."""
    return _shape(_move(saga.cancel, db(), g.principal, _load(order_id), body["reason"]))


@blp.route("/<order_id>/accept", methods=["POST"])
@requires("provider")
@blp.response(200, OrderSchema)
def accept_order(order_id):
    """The provider takes the order on."""
    return _shape(_move(saga.accept, db(), g.principal, _load(order_id)))


@blp.route("/<order_id>/ready", methods=["POST"])
@requires("provider")
@blp.response(200, OrderSchema)
def ready_order(order_id):
    """The meal is ready for pickup; delivery offers it to a volunteer."""
    return _shape(_move(saga.ready, db(), g.principal, _load(order_id)))


@blp.route("/<order_id>/complete", methods=["POST"])
@requires("resident")
@blp.response(200, OrderSchema)
def complete_order(order_id):
    """The resident confirms an on-site or remote service was done."""
    return _shape(_move(saga.complete_on_site, db(), g.principal, _load(order_id)))


# -- the payment provider's signed notification ---------------------------------------------

@payments.route("/notify", methods=["POST"])
@payments.response(200, NotifyAck)
def notify():
    """The payment provider's signed callback. Verified before anything changes; duplicates are harmless."""
    raw = request.get_data()
    now = utcnow()
    try:
        nonce = signing.verify(payment_secret(), dict(request.headers), raw, int(now.timestamp()))
    except signing.SignatureRejected as error:
        logs.log(log, logging.WARNING, "payment notification rejected", reason=str(error))
        raise ApiError(401, "bad_signature", f"Notification refused: {error}.")
    if not store.remember_nonce(db(), nonce, now):
        raise ApiError(401, "replayed", "Notification refused: this nonce was used before.")
    try:
        body = json.loads(raw)
        resource = body["resource"]
        payment_id, mchid, total = resource["out_trade_no"], resource["mchid"], int(resource["amount"]["total"])
        state = resource["trade_state"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "bad_request", "Notification refused: the body is not a payment notification.")
    payment = db().payments.find_one({"_id": payment_id})
    if payment is None:
        raise not_found("The payment")
    if mchid != paystub.MERCHANT_ID:
        raise ApiError(400, "wrong_merchant", "Notification refused: it is for another merchant.")
    if total != payment["amount_fen"]:
        logs.log(log, logging.ERROR, "payment amount mismatch", payment_id=payment_id, expected=payment["amount_fen"],
                 got=total)
        raise ApiError(400, "wrong_amount", "Notification refused: the amount does not match the order.")
    if state == "SUCCESS":
        saga.on_payment_succeeded(db(), payment)
    elif payment["status"] == "pending":
        db().payments.update_one({"_id": payment_id, "status": "pending"}, {"$set": {"status": "failed"}})
        db().orders.update_one({"_id": payment["order_id"], "payment.id": payment_id},
                               {"$set": {"payment.status": "failed"}})
    return {"code": "SUCCESS", "message": "OK"}
