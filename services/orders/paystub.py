"""The stub payment provider: a stand-in for WeChat Pay with its own database and pages.

It is "outside" Linli: orders talks to it only through services.orders.payments, and it
answers only through signed, asynchronous notifications to the public notify URL, retried
until acknowledged on WeChat Pay's schedule (compressed by LINLI_TIME_SCALE in tests).
A person chooses pay or decline on its cashier page; LINLI_PAYMENT_AUTO=1 pays at once.
"""
from __future__ import annotations

import html
import json
import logging
from datetime import timedelta

import requests
from flask import Blueprint, request
from pymongo.database import Database

from linli import db as dbmod
from linli import logs
from linli.config import settings
from linli.errors import ApiError, not_found
from linli.ids import iso, new_id, utcnow
from linli.keys import payment_secret

from .signing import sign

log = logging.getLogger("orders.paystub")

MERCHANT_ID = "1900000109"
# WeChat Pay's notification retry schedule, seconds (about 24 hours in all)
RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)

cashier = Blueprint("paystub", __name__, url_prefix="/api/v1/payments/stub")
_http = requests.Session()


def database() -> Database:
    return dbmod.database("paystub")


def prepare(db: Database) -> None:
    db.notifications.create_index([("delivered", 1), ("next_at", 1)])


def create_payment(out_trade_no: str, amount_fen: int, description: str, notify_url: str) -> dict:
    """The provider's 'create order' call: returns its reference and the cashier page."""
    db = database()
    existing = db.payments.find_one({"out_trade_no": out_trade_no})
    if existing is None:
        existing = {"_id": new_id("wx"), "out_trade_no": out_trade_no, "mchid": MERCHANT_ID,
                    "amount_fen": amount_fen, "description": description, "notify_url": notify_url,
                    "state": "NOTPAY", "created_at": utcnow()}
        db.payments.insert_one(existing)
        if settings().payment_auto:
            settle(existing["_id"], paid=True)
    return {"provider_ref": existing["_id"],
            "cashier_url": f"{settings().public_url}/api/v1/payments/stub/{existing['_id']}"}


def settle(ref: str, paid: bool) -> dict:
    """The payer's choice; schedules the notification."""
    db = database()
    state = "SUCCESS" if paid else "PAYERROR"
    if db.payments.update_one({"_id": ref, "state": "NOTPAY"},
                              {"$set": {"state": state, "settled_at": utcnow()}}).modified_count == 0:
        payment = db.payments.find_one({"_id": ref})
        if payment is None:
            raise not_found("The payment")
        return payment
    payment = db.payments.find_one({"_id": ref})
    body = {
        "id": new_id("ntf"), "create_time": iso(utcnow()),
        "event_type": "TRANSACTION.SUCCESS" if paid else "TRANSACTION.FAIL",
        "resource": {"out_trade_no": payment["out_trade_no"], "transaction_id": ref, "mchid": payment["mchid"],
                     "amount": {"total": payment["amount_fen"], "currency": "CNY"}, "trade_state": state,
                     "success_time": iso(utcnow()) if paid else None},
    }
    db.notifications.insert_one({"_id": body["id"], "payment_ref": ref, "url": payment["notify_url"],
                                 "body": json.dumps(body), "attempts": 0, "next_at": utcnow(), "delivered": False})
    return payment


def deliver_due_notifications(limit: int = 50) -> int:
    """Posts due notifications; a 2xx answer with code SUCCESS acknowledges one. Returns how many were delivered."""
    db = database()
    scale = settings().time_scale
    delivered = 0
    for note in db.notifications.find({"delivered": False, "next_at": {"$lte": utcnow()}}).limit(limit):
        body = note["body"].encode()
        headers = {"Content-Type": "application/json", **sign(payment_secret(), body, int(utcnow().timestamp()))}
        ok = False
        try:
            response = _http.post(note["url"], data=body, headers=headers, timeout=10)
            ok = response.status_code // 100 == 2 and response.json().get("code") == "SUCCESS"
        except (requests.RequestException, ValueError) as error:
            logs.log(log, logging.WARNING, "notification not delivered", notification=note["_id"], error=repr(error))
        attempts = note["attempts"] + 1
        if ok:
            db.notifications.update_one({"_id": note["_id"]}, {"$set": {"delivered": True, "attempts": attempts,
                                                                        "delivered_at": utcnow()}})
            delivered += 1
        elif attempts > len(RETRY_SCHEDULE):
            db.notifications.update_one({"_id": note["_id"]}, {"$set": {"delivered": False, "gave_up": True,
                                                                        "attempts": attempts, "next_at": None}})
        else:
            wait = timedelta(seconds=RETRY_SCHEDULE[attempts - 1] * scale)
            db.notifications.update_one({"_id": note["_id"]}, {"$set": {"attempts": attempts,
                                                                        "next_at": utcnow() + wait}})
    return delivered


# -- the cashier pages a payer sees -----------------------------------------------------------

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>收银台 Cashier</title>
<style>body{{font:20px/1.5 system-ui,sans-serif;max-width:32em;margin:2em auto;padding:0 1em}}
button{{font-size:1.2em;padding:.6em 1.4em;margin:.4em .4em 0 0}}.pay{{background:#1a7f37;color:#fff}}</style></head>
<body><h1>收银台 · Stub cashier</h1>
<p>{description}</p><p><strong>¥{amount}</strong></p><p>状态 Status: {state}</p>{actions}
<p><small>This is Linli's stand-in for a real payment provider. No money moves.</small></p></body></html>"""


def _page(payment: dict) -> str:
    actions = ""
    if payment["state"] == "NOTPAY":
        ref = html.escape(payment["_id"])
        actions = (f'<form method="post" action="/api/v1/payments/stub/{ref}/pay"><button class="pay">支付 Pay</button></form>'
                   f'<form method="post" action="/api/v1/payments/stub/{ref}/decline"><button>取消 Decline</button></form>')
    return _PAGE.format(description=html.escape(payment["description"]), amount=f"{payment['amount_fen'] / 100:.2f}",
                        state=html.escape(payment["state"]), actions=actions)


def _answer(payment: dict):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"transaction_id": payment["_id"], "out_trade_no": payment["out_trade_no"], "state": payment["state"],
                "amount_fen": payment["amount_fen"]}
    return _page(payment), 200, {"Content-Type": "text/html; charset=utf-8"}


def _load(ref: str) -> dict:
    payment = database().payments.find_one({"_id": ref})
    if payment is None:
        raise not_found("The payment")
    return payment


@cashier.get("/<ref>")
def cashier_page(ref):
    return _answer(_load(ref))


@cashier.post("/<ref>/pay")
def cashier_pay(ref):
    _load(ref)
    return _answer(settle(ref, paid=True))


@cashier.post("/<ref>/decline")
def cashier_decline(ref):
    _load(ref)
    return _answer(settle(ref, paid=False))


@cashier.errorhandler(ApiError)
def _error(error: ApiError):
    return error.body(), error.status
