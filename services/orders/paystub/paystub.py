"""The stub payment provider: a stand-in for WeChat Pay, with its own database and pages.

It is "outside" Linli: orders talks to it only through services.orders.adapters.payments (the
provider interface), and it answers through notifications to the notify URL that are
signed (SHA256withRSA with its platform key) and encrypted (AES-256-GCM under the
merchant's APIv3 key), retried until acknowledged on WeChat Pay's schedule (compressed by
LINLI_TIME_SCALE in tests). A person chooses pay or decline on its cashier page;
LINLI_PAYMENT_AUTO=1 pays at once. Faults can be injected per payment for tests:
"no_notification", "duplicate" (every notification sent twice), "delay:<seconds>".
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import requests
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from linli import logs
from linli.auth import InvalidToken, verify_access_token
from linli.errors import ApiError, not_found
from linli.ids import iso, new_id
from linli.keys import payment_apiv3_key, paystub_platform_private_key, paystub_platform_public_pem

from . import store, wechatpay

log = logging.getLogger("orders.paystub")

# WeChat Pay's notification retry schedule, seconds (about 24 hours in all)
RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
FAULTS = ("no_notification", "duplicate", "delay")

cashier = Blueprint("paystub", __name__, url_prefix="/api/v1/payments/stub")

# the cashier belongs to the payer: a ticket in the cashier_url opens a session (a cookie) in their browser
TICKET_LIFETIME = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(minutes=30)
COOKIE = "linli_cashier"
_http = requests.Session()


@dataclass(frozen=True)
class Setup:
    """What the stub needs from its host, given by orders' bootstrap (`configure`): its clock, where its cashier
    pages are reached, whether it pays at once (LINLI_PAYMENT_AUTO) and how much its retry schedule is compressed."""
    clock: Callable[[], datetime]
    public_url: str
    auto_pay: bool = False
    time_scale: float = 1.0


_setup: Setup | None = None


def configure(setup: Setup) -> None:
    global _setup
    _setup = setup


def _host() -> Setup:
    if _setup is None:
        raise RuntimeError("the stub payment provider is set up by orders' bootstrap (paystub.configure)")
    return _setup


def _now() -> datetime:
    return _host().clock()


def platform_serial() -> str:
    return hashlib.sha256(paystub_platform_public_pem()).hexdigest()[:40].upper()


def _check_faults(faults: list[str]) -> list[str]:
    for fault in faults:
        if fault.split(":")[0] not in FAULTS:
            raise ApiError(422, "validation_failed", f"fault: unknown fault {fault!r}", {"fault": ["unknown"]})
    return faults


# -- the provider's API (what services.orders.adapters.payments calls) ----------------------------------

def create_payment(mchid: str, out_trade_no: str, amount_fen: int, description: str, notify_url: str,
                   faults: list[str] | None = None, payer: str | None = None) -> dict:
    """'JSAPI/Native order': returns the provider's reference and the cashier page. Idempotent per out_trade_no.

    `payer` is the account the merchant opens the cashier for (WeChat Pay's payer openid): only the accounts
    named so may use the cashier of this payment. The cashier_url is that payer's way in: it holds a ticket
    spent on first use (and gone after TICKET_LIFETIME) that opens a cashier session in the payer's browser."""
    doc = {"_id": new_id("wx"), "out_trade_no": out_trade_no, "mchid": mchid, "amount_fen": amount_fen,
           "description": description, "notify_url": notify_url, "state": "NOTPAY", "payers": [],
           "faults": _check_faults(list(faults or [])), "created_at": _now()}
    if store.add_payment(doc):
        if _host().auto_pay:
            settle(doc["_id"], paid=True)
    else:
        doc = store.payment_by_trade_no(out_trade_no)
    url = f"{_host().public_url}/api/v1/payments/stub/{doc['_id']}"
    if payer is not None:
        store.add_payer(doc["_id"], payer)
        ticket = secrets.token_urlsafe(24)
        store.add_ticket(_hash(ticket), doc["_id"], payer, _now() + TICKET_LIFETIME)
        url += f"/enter/{ticket}"
    return {"provider_ref": doc["_id"], "cashier_url": url}


def query(out_trade_no: str) -> dict | None:
    """'Query order': the payment's state as the provider knows it (used when notifications stop)."""
    doc = store.payment_by_trade_no(out_trade_no)
    if doc is None:
        return None
    return {"out_trade_no": out_trade_no, "transaction_id": doc["_id"], "trade_state": doc["state"],
            "amount_fen": doc["amount_fen"], "mchid": doc["mchid"]}


def close(out_trade_no: str) -> str:
    """'Close order': an unpaid payment can no longer be paid. Returns the state after."""
    store.close_unpaid(out_trade_no, _now())
    doc = store.payment_by_trade_no(out_trade_no)
    return doc["state"] if doc else "NOTFOUND"


def refund(out_refund_no: str, out_trade_no: str, refund_fen: int, reason: str, notify_url: str) -> dict:
    """'Create refund': accepted now, settled by a REFUND.SUCCESS notification. Idempotent per out_refund_no."""
    payment = store.payment_by_trade_no(out_trade_no)
    if payment is None or payment["state"] not in ("SUCCESS", "REFUND"):
        raise ApiError(409, "not_refundable", "This payment was not made, so there is nothing to refund.")
    already = store.refunded_before(out_trade_no, out_refund_no)
    if already + refund_fen > payment["amount_fen"]:
        raise ApiError(409, "refund_too_large", "The refunds would exceed what was paid.")
    doc = {"_id": new_id("rf"), "out_refund_no": out_refund_no, "out_trade_no": out_trade_no,
           "transaction_id": payment["_id"], "refund_fen": refund_fen, "reason": reason, "state": "PROCESSING",
           "notify_url": notify_url, "created_at": _now()}
    earlier = store.add_refund(doc)
    if earlier is not None:
        return earlier
    store.mark_refunded(payment["_id"])
    store.refund_succeeded(doc["_id"], _now())
    _schedule(payment, "REFUND.SUCCESS", "refund", {
        "mchid": payment["mchid"], "out_trade_no": out_trade_no, "transaction_id": payment["_id"],
        "out_refund_no": out_refund_no, "refund_id": doc["_id"], "refund_status": "SUCCESS",
        "success_time": iso(_now()),
        "amount": {"total": payment["amount_fen"], "refund": refund_fen, "currency": "CNY"}},
        notify_url=notify_url)
    return doc


def settle(ref: str, paid: bool) -> dict:
    """The payer's choice on the cashier page; schedules the notification."""
    state = "SUCCESS" if paid else "PAYERROR"
    if not store.settle_unpaid(ref, state, _now()):
        payment = store.payment(ref)
        if payment is None:
            raise not_found("The payment")
        return payment
    payment = store.payment(ref)
    _schedule(payment, "TRANSACTION.SUCCESS" if paid else "TRANSACTION.FAIL", "transaction", {
        "mchid": payment["mchid"], "out_trade_no": payment["out_trade_no"], "transaction_id": ref,
        "trade_state": state, "success_time": iso(_now()) if paid else None,
        "amount": {"total": payment["amount_fen"], "payer_total": payment["amount_fen"], "currency": "CNY"}})
    return payment


def _schedule(payment: dict, event_type: str, original_type: str, resource: dict, notify_url: str | None = None) -> None:
    faults = payment.get("faults", [])
    if "no_notification" in faults:
        return
    delay = next((float(f.split(":")[1]) for f in faults if f.startswith("delay:")), 0.0)
    body = {"id": new_id("ntf"), "create_time": iso(_now()), "resource_type": "encrypt-resource",
            "event_type": event_type, "summary": event_type.lower().replace(".", " "),
            "resource": wechatpay.encrypt_resource(payment_apiv3_key(), resource, original_type)}
    copies = 2 if "duplicate" in faults else 1
    for copy in range(copies):
        store.add_notification({
            "_id": f"{body['id']}#{copy}", "url": notify_url or payment["notify_url"], "body": json.dumps(body),
            "attempts": 0, "next_at": _now() + timedelta(seconds=delay), "delivered": False})


def deliver_due_notifications(limit: int = 50) -> int:
    """Posts due notifications; a 2xx answer with code SUCCESS acknowledges one. Returns how many were delivered."""
    scale = _host().time_scale
    delivered = 0
    key = paystub_platform_private_key()
    serial = platform_serial()
    for note in store.due_notifications(_now(), limit):
        body = note["body"].encode()
        headers = {"Content-Type": "application/json", **wechatpay.sign(key, serial, body, int(_now().timestamp()))}
        ok = False
        try:
            response = _http.post(note["url"], data=body, headers=headers, timeout=10)
            ok = response.status_code // 100 == 2 and response.json().get("code") == "SUCCESS"
        except (requests.RequestException, ValueError) as error:
            logs.log(log, logging.WARNING, "notification not delivered", notification=note["_id"], error=repr(error))
        attempts = note["attempts"] + 1
        if ok:
            store.update_notification(note["_id"], {"delivered": True, "attempts": attempts, "delivered_at": _now()})
            delivered += 1
        elif attempts > len(RETRY_SCHEDULE):
            store.update_notification(note["_id"], {"gave_up": True, "attempts": attempts, "next_at": None})
        else:
            wait = timedelta(seconds=RETRY_SCHEDULE[attempts - 1] * scale)
            store.update_notification(note["_id"], {"attempts": attempts, "next_at": _now() + wait})
    return delivered


# -- the cashier pages a payer sees -----------------------------------------------------------

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>收银台</title>
<style>body{{font:22px/1.5 "Noto Sans CJK SC",system-ui,sans-serif;max-width:32em;margin:1em auto;padding:0 1em;color:#1b1b1b}}
button,a.back{{display:inline-block;font:inherit;font-weight:700;min-height:64px;min-width:64px;padding:.5em 1.2em;
margin:.4em .4em 0 0;border:2px solid #0b4f94;border-radius:.5em;background:#fff;color:#0b4f94;text-decoration:none}}
.pay{{background:#1a6b35;border-color:#1a6b35;color:#fff}}.amount{{font-size:1.6em;font-weight:700}}</style></head>
<body><main><h1>收银台</h1>
<p>{description}</p><p class="amount">¥{amount}</p><p role="status">状态：{state}</p>{actions}
<p><small>这是邻里的模拟收银台，不会真的扣款。 <span lang="en">Linli's stand-in for a payment provider: no money
moves.</span></small></p></main></body></html>"""
_STATES = {"NOTPAY": "待支付", "SUCCESS": "已支付", "PAYERROR": "支付未成功", "CLOSED": "已关闭",
           "REFUND": "已退款（部分或全部）"}


def _back() -> str | None:
    """Where the payer goes afterwards (like a real H5 cashier's redirect_url): only a path of this site."""
    target = request.values.get("redirect_url", "")
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else None


def _page(payment: dict) -> str:
    back = _back()
    query = f"?{urlencode({'redirect_url': back})}" if back else ""
    actions = ""
    if payment["state"] == "NOTPAY":
        ref = html.escape(payment["_id"])
        actions = (f'<form method="post" action="/api/v1/payments/stub/{ref}/pay{html.escape(query)}">'
                   f'<button class="pay">确认支付</button></form>'
                   f'<form method="post" action="/api/v1/payments/stub/{ref}/decline{html.escape(query)}">'
                   f'<button>不付了</button></form>')
    elif back:
        actions = f'<p><a class="back" href="{html.escape(back)}">返回订单</a></p>'
    return _PAGE.format(description=html.escape(payment["description"]), amount=f"{payment['amount_fen'] / 100:.2f}",
                        state=html.escape(_STATES.get(payment["state"], payment["state"])), actions=actions)


def _answer(payment: dict, settled: bool = False):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"transaction_id": payment["_id"], "out_trade_no": payment["out_trade_no"], "state": payment["state"],
                "amount_fen": payment["amount_fen"]}
    if settled and _back():
        return redirect(_back(), code=303)  # back to the order on its own
    return _page(payment), 200, {"Content-Type": "text/html; charset=utf-8"}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


NOT_YOURS = ("Only the person paying for this order can use its cashier. Open the cashier again from your order "
             "page, signed in as yourself.")
NOT_YOURS_PAGE = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>收银台</title>"
                  "<p>只有为这个订单付款的人才能打开这个收银台。请登录自己的账户，从订单页面重新打开收银台。</p>"
                  f"<p lang=\"en\">{NOT_YOURS}</p></html>")


class NotThePayer(Exception):
    pass


def _payer(payment: dict) -> str:
    """The account using the cashier: its cashier session (the cookie) or its token, and one the merchant named."""
    account = None
    sid = request.cookies.get(COOKIE)
    if sid:
        found = store.session(_hash(sid), payment["_id"], _now())
        account = found["account_id"] if found else None
    header = request.headers.get("Authorization", "")
    if account is None and header.startswith("Bearer "):
        try:
            account = verify_access_token(header[7:].strip()).id
        except InvalidToken:
            account = None
    if account is None or account not in payment.get("payers", []):
        logs.log(log, logging.WARNING, "cashier refused: not the payer", payment=payment["_id"])
        raise NotThePayer()
    return account


def _load(ref: str) -> dict:
    payment = store.payment(ref)
    if payment is None:
        raise not_found("The payment")
    _payer(payment)
    return payment


@cashier.get("/<ref>/enter/<ticket>")
def cashier_enter(ref, ticket):
    """The payer's way in: spends the ticket, opens a cashier session in this browser, and shows the cashier."""
    payment = store.payment(ref)
    spent = store.spend_ticket(_hash(ticket), ref, _now()) if payment is not None else None
    if spent is None:
        logs.log(log, logging.WARNING, "cashier refused: ticket unknown, spent or expired", payment=ref)
        raise NotThePayer()
    sid = secrets.token_urlsafe(32)
    store.add_session(_hash(sid), ref, spent["account_id"], _now() + SESSION_LIFETIME)
    back = _back()
    response = redirect(f"/api/v1/payments/stub/{ref}" + (f"?{urlencode({'redirect_url': back})}" if back else ""),
                        code=303)
    response.set_cookie(COOKIE, sid, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True, samesite="Lax",
                        path=f"/api/v1/payments/stub/{ref}", secure=_host().public_url.startswith("https://"))
    return response


@cashier.get("/<ref>")
def cashier_page(ref):
    return _answer(_load(ref))


@cashier.post("/<ref>/pay")
def cashier_pay(ref):
    _load(ref)
    return _answer(settle(ref, paid=True), settled=True)


@cashier.post("/<ref>/decline")
def cashier_decline(ref):
    _load(ref)
    return _answer(settle(ref, paid=False), settled=True)


@cashier.errorhandler(NotThePayer)
def _not_the_payer(_):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"error": {"code": "not_the_payer", "message": NOT_YOURS, "details": {}}}, 403
    return NOT_YOURS_PAGE, 403, {"Content-Type": "text/html; charset=utf-8"}


@cashier.errorhandler(ApiError)
def _error(error: ApiError):
    return error.body(), error.status
