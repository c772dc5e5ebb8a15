"""Orders' HTTP routes: thin — each parses with a schema, runs one command (or one read) in a unit
of work, and shapes what the signed-in person may see. Domain errors become the HTTP error shape
in linli.web; the payment notification's refusals are answered here."""
from __future__ import annotations

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from linli.auth import Relative
from linli.errors import ApiError
from linli.web import idempotent, requires

from . import commands, money, store
from .adapters.upstream import Unreachable
from .bootstrap import Orders
from .rules import moves
from .schemas import (CancelIn, DeclineIn, NotifyAck, OrderArgs, OrderIn, OrderPage, OrderSchema, PaymentSchema,
                      ProviderStatementArgs, ProviderStatementSchema, RedeliverIn, RefundIn, RefundSchema, StatementArgs,
                      StatementSchema)

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders", description="Orders and their journey")
payments = Blueprint("payments", __name__, url_prefix="/api/v1/payments", description="Payments")

# the payment notification's refusals: what the provider is answered
NOTIFICATION_STATUS = {"bad_signature": 401, "replayed": 401, "wrong_merchant": 400, "wrong_amount": 400}


def _orders() -> Orders:
    return current_app.extensions["orders"]


def _db():
    return _orders().db


def _run(command, *args):
    """Runs a command as the signed-in person in one unit of work."""
    return _orders().units.run(lambda u: command(u, g.principal, *args))


def _shape(order: dict) -> dict:
    """What this role may see of an order."""
    who = g.principal
    out = {**order, "id": order["_id"], "status_text": moves.status_text(order)}
    codes = out.pop("codes", {})
    if who.role == "resident":
        out["handover_code"] = codes.get("handover_code")
    if who.role == "provider":
        out["pickup_code"] = codes.get("pickup_code")
        if order["status"] in ("placed", "awaiting_payment", "paid", "cancelled"):
            out["address"] = {k: v for k, v in order["address"].items() if k not in ("phone", "room", "location")}
    return out


def _unavailable(error: Unreachable) -> ApiError:
    return ApiError(503, "unavailable", str(error))


@blp.route("", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(_db)
@blp.arguments(OrderIn)
@blp.response(201, OrderSchema)
def place_order(body):
    """Orders a listing for a slot; the price comes from the listing. A family member with an approved link,
    or a coordinator for a resident of its communities, orders on the resident's behalf (`for_resident_id`)."""
    orders, who = _orders(), g.principal
    on_behalf = None
    try:
        if who.role == "coordinator":
            commands.check_coordinator_order(who, body)
            account = orders.upstream.resident_for_coordinator(body["for_resident_id"],
                                                               request.headers["Authorization"])
            if account is None:
                raise ApiError(422, "validation_failed", "for_resident_id: no resident of your communities has this "
                               "account id", {"for_resident_id": ["no resident of your communities has this account id"]})
            on_behalf = Relative(account["id"], account["name"], tuple(account.get("tags", ())))
        listing = orders.upstream.listing_snapshot(body["listing_id"], body["slot_date"].isoformat(), body["slot"])
    except Unreachable as error:
        raise _unavailable(error)
    if listing is None:
        raise ApiError(422, "validation_failed", "listing_id: no such listing", {"listing_id": ["no such listing"]})
    return _shape(_run(commands.place, body, listing, on_behalf, orders.holds))


@blp.route("")
@requires()
@blp.arguments(OrderArgs, location="query")
@blp.response(200, OrderPage)
def list_orders(args):
    """The orders the signed-in person may see, newest first."""
    query = store.visible_to(g.principal)
    if query is None:
        raise ApiError(403, "forbidden", "Volunteers see their deliveries under /api/v1/delivery/tasks.")
    if "status" in args:
        query["status"] = args["status"]
    if args.get("attention"):
        query["$and"] = [{"$or": [{"escalations.0": {"$exists": True}}, {"delivery_problem.at": {"$exists": True}}]}]
        query["status"] = {"$nin": list(moves.TERMINAL)}
    if args.get("with_deadline"):
        query["deadline.due_at"] = {"$exists": True}
        query["status"] = {"$nin": list(moves.TERMINAL)}
    docs, total = store.orders_page(_db(), query, args["page"], args["per_page"],
                                    soonest_due=bool(args.get("with_deadline")))
    return {"items": [_shape(o) for o in docs], "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.route("/<order_id>")
@requires()
@blp.response(200, OrderSchema)
def get_order(order_id):
    """One order with its timeline."""
    return _shape(commands.visible_order(_orders().units.read(), g.principal, order_id))


@blp.route("/<order_id>/pay", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(_db)
@blp.response(200, PaymentSchema)
def pay(order_id):
    """Starts (or resumes) paying an order: answers with the cashier page to open. A coordinator may open it
    for an order a coordinator placed on a resident's behalf (to hand to the resident, or to pay at the desk)."""
    orders = _orders()
    payment = commands.pay(orders.units, orders.provider, orders.notify_url, g.principal, order_id)
    return {"payment_id": payment["_id"], "order_id": order_id, "status": payment["status"],
            "amount_fen": payment["amount_fen"], "cashier_url": payment["cashier_url"]}


@blp.route("/<order_id>/cancel", methods=["POST"])
@requires("resident", "coordinator")
@idempotent(_db)
@blp.arguments(CancelIn)
@blp.response(200, OrderSchema)
def cancel_order(body, order_id):
    """Cancels an order: a resident until the provider accepts, a coordinator until it is completed.
    A held portion is released and anything paid is refunded."""
    return _shape(_run(commands.cancel, order_id, body["reason"]))


@blp.route("/<order_id>/accept", methods=["POST"])
@requires("provider")
@idempotent(_db)
@blp.response(200, OrderSchema)
def accept_order(order_id):
    """The provider takes the order on."""
    return _shape(_run(commands.accept, order_id))


@blp.route("/<order_id>/decline", methods=["POST"])
@requires("provider")
@idempotent(_db)
@blp.arguments(DeclineIn)
@blp.response(200, OrderSchema)
def decline_order(body, order_id):
    """The provider cannot take the order: it is cancelled, the portion released and the payment refunded."""
    return _shape(_run(commands.decline, order_id, body["reason"]))


@blp.route("/<order_id>/ready", methods=["POST"])
@requires("provider")
@idempotent(_db)
@blp.response(200, OrderSchema)
def ready_order(order_id):
    """The meal is ready for pickup; delivery offers it to a volunteer."""
    return _shape(_run(commands.ready, order_id))


@blp.route("/<order_id>/done", methods=["POST"])
@requires("provider")
@idempotent(_db)
@blp.response(200, OrderSchema)
def done_order(order_id):
    """The provider finished an on-site or remote job; the resident confirms (or it completes in 3 days)."""
    return _shape(_run(commands.done, order_id))


@blp.route("/<order_id>/complete", methods=["POST"])
@requires("resident")
@idempotent(_db)
@blp.response(200, OrderSchema)
def complete_order(order_id):
    """The resident confirms an on-site or remote service was done."""
    return _shape(_run(commands.complete, order_id))


@blp.route("/<order_id>/redeliver", methods=["POST"])
@requires("coordinator")
@idempotent(_db)
@blp.arguments(RedeliverIn)
@blp.response(200, OrderSchema)
def redeliver_order(body, order_id):
    """After a failed delivery, the coordinator sends the meal out again, correcting the building, room or
    phone when they were wrong; delivery offers it to volunteers again. With `remake`, the kitchen first makes
    a meal that spoiled or was lost on the way. (The other choice is to cancel: refund.)"""
    return _shape(_run(commands.redeliver, order_id, body["reason"], body.get("address", {}), body["remake"]))


@blp.route("/<order_id>/refund", methods=["POST"])
@requires("coordinator", "admin")
@idempotent(_db)
@blp.arguments(RefundIn)
@blp.response(200, RefundSchema)
def refund_order(body, order_id):
    """A coordinator gives back part or all of what the resident paid."""
    refund = _run(commands.refund, order_id, body["amount_fen"], body["reason"])
    return {**refund, "id": refund["_id"]}


# -- the payment provider's signed notification ---------------------------------------------

@payments.route("/notify", methods=["POST"])
@payments.response(200, NotifyAck)
def notify():
    """The payment provider's signed, encrypted callback. Verified before anything changes; duplicates are harmless."""
    orders = _orders()
    try:
        money.take_notification(orders.units, orders.provider, orders.mchid, dict(request.headers),
                                request.get_data())
    except money.NotificationRefused as refused:
        raise ApiError(NOTIFICATION_STATUS[refused.code], refused.code, refused.message)
    return {"code": "SUCCESS", "message": "OK"}


# -- the funder ledger ---------------------------------------------------------------------------

@payments.route("/statements/mine")
@requires("provider")
@payments.arguments(ProviderStatementArgs, location="query")
@payments.response(200, ProviderStatementSchema)
def provider_statement(args):
    """The signed-in provider's monthly statement: every ledger line of its own orders (residents' payments,
    funders' shares, refunds taken back), the total per party and in all. Add format=csv for a spreadsheet."""
    body = money.provider_statement(_orders().units, g.principal, args["month"])
    if args.get("format") == "csv":
        return Response(money.provider_statement_csv(body), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=statement-{args['month']}.csv"})
    return body


@payments.route("/statements")
@requires("coordinator", "admin")
@payments.arguments(StatementArgs, location="query")
@payments.response(200, StatementSchema)
def statement(args):
    """A funder's (or the residents') monthly statement: every line of the orders in the communities you
    watch over (an admin: all), and a total that sums them. Add format=csv for a spreadsheet."""
    body = money.statement(_orders().units, g.principal, args["party"], args["month"])
    if args.get("format") == "csv":
        return Response(money.statement_csv(body), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={args['party']}-{args['month']}.csv"})
    return body
