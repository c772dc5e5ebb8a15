"""The payment-provider interface orders depends on, and the stub provider behind it.

A real provider (WeChat Pay, Alipay) would implement PaymentProvider; nothing else in orders
knows which provider it talks to. The bootstrap chooses one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives import serialization

from linli.errors import ApiError
from linli.keys import payment_apiv3_key, paystub_platform_public_pem

from ..paystub import paystub, wechatpay


@dataclass(frozen=True)
class Notice:
    """A verified, decrypted notification."""
    notification_id: str
    kind: str  # "transaction" or "refund"
    mchid: str
    out_trade_no: str
    state: str  # transaction: SUCCESS, PAYERROR, CLOSED; refund: SUCCESS, ABNORMAL
    total_fen: int
    out_refund_no: str | None = None
    refund_fen: int | None = None


class NotificationRejected(Exception):
    """Not a genuine, fresh notification from the provider."""


class ProviderRefused(Exception):
    """The provider said no (a refund it will not make)."""


class PaymentProvider(Protocol):
    def create(self, out_trade_no: str, amount_fen: int, description: str, notify_url: str,
               payer: str | None = None) -> dict: ...
    def read_notification(self, headers: dict[str, str], body: bytes, now: int) -> tuple[str, Notice]: ...
    def query(self, out_trade_no: str) -> dict | None: ...
    def close(self, out_trade_no: str) -> str: ...
    def refund(self, out_refund_no: str, out_trade_no: str, refund_fen: int, reason: str, notify_url: str) -> None: ...


class StubProvider:
    """Talks to services.orders.paystub as a merchant talks to WeChat Pay."""

    def __init__(self, mchid: str):
        self.mchid = mchid

    def create(self, out_trade_no: str, amount_fen: int, description: str, notify_url: str,
               payer: str | None = None) -> dict:
        """`payer`: the account the cashier is opened for; only it (and others opened for before) may use it."""
        return paystub.create_payment(self.mchid, out_trade_no, amount_fen, description, notify_url, payer=payer)

    def read_notification(self, headers: dict[str, str], body: bytes, now: int) -> tuple[str, Notice]:
        key = serialization.load_pem_public_key(paystub_platform_public_pem())
        try:
            nonce = wechatpay.verify({paystub.platform_serial(): key}, headers, body, now)
            envelope = json.loads(body)
            resource = wechatpay.decrypt_resource(payment_apiv3_key(), envelope["resource"])
        except wechatpay.NotificationRejected as error:
            raise NotificationRejected(str(error))
        except (ValueError, KeyError, TypeError):
            raise NotificationRejected("the body is not a payment notification")
        try:
            if envelope["event_type"].startswith("REFUND."):
                notice = Notice(envelope["id"], "refund", resource["mchid"], resource["out_trade_no"],
                                resource["refund_status"], int(resource["amount"]["total"]),
                                resource["out_refund_no"], int(resource["amount"]["refund"]))
            else:
                notice = Notice(envelope["id"], "transaction", resource["mchid"], resource["out_trade_no"],
                                resource["trade_state"], int(resource["amount"]["total"]))
        except (KeyError, TypeError, ValueError):
            raise NotificationRejected("the resource is not a payment or refund")
        return nonce, notice

    def query(self, out_trade_no: str) -> dict | None:
        return paystub.query(out_trade_no)

    def close(self, out_trade_no: str) -> str:
        return paystub.close(out_trade_no)

    def refund(self, out_refund_no: str, out_trade_no: str, refund_fen: int, reason: str, notify_url: str) -> None:
        try:
            paystub.refund(out_refund_no, out_trade_no, refund_fen, reason, notify_url)
        except ApiError as error:  # the stub answers as its HTTP API would
            raise ProviderRefused(error.message)
