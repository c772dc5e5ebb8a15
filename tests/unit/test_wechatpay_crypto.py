"""The payment notification's signature and encryption, as WeChat Pay v3 does them:
a forged, tampered, stale or undecryptable notification is refused."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.orders.paystub import wechatpay

PLATFORM = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = {"SERIAL1": PLATFORM.public_key()}
APIV3 = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000


def _body(amount: int = 1500) -> bytes:
    resource = wechatpay.encrypt_resource(APIV3, {"out_trade_no": "ord_1-p1", "amount": {"total": amount}},
                                          "transaction")
    return json.dumps({"id": "n1", "event_type": "TRANSACTION.SUCCESS", "resource": resource}).encode()


def test_a_genuine_notification_verifies_and_decrypts():
    body = _body()
    headers = wechatpay.sign(PLATFORM, "SERIAL1", body, NOW)
    assert wechatpay.verify(KEYS, headers, body, NOW + 10) == headers[wechatpay.HEADER_NONCE]
    plain = wechatpay.decrypt_resource(APIV3, json.loads(body)["resource"])
    assert plain["amount"]["total"] == 1500


def test_a_tampered_body_is_refused():
    body = _body()
    headers = wechatpay.sign(PLATFORM, "SERIAL1", body, NOW)
    with pytest.raises(wechatpay.NotificationRejected, match="bad signature"):
        wechatpay.verify(KEYS, headers, body.replace(b"n1", b"n2"), NOW)


@pytest.mark.parametrize("header", [wechatpay.HEADER_TIMESTAMP, wechatpay.HEADER_NONCE])
def test_a_changed_timestamp_or_nonce_breaks_the_signature(header):
    body = _body()
    headers = wechatpay.sign(PLATFORM, "SERIAL1", body, NOW)
    headers[header] = str(NOW + 1) if header == wechatpay.HEADER_TIMESTAMP else "another-nonce"
    with pytest.raises(wechatpay.NotificationRejected, match="bad signature"):
        wechatpay.verify(KEYS, headers, body, NOW)


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_a_stale_or_future_timestamp_is_refused(age):
    body = _body()
    with pytest.raises(wechatpay.NotificationRejected, match="stale"):
        wechatpay.verify(KEYS, wechatpay.sign(PLATFORM, "SERIAL1", body, NOW), body, NOW + age)


def test_a_forged_signature_or_an_unknown_certificate_is_refused():
    body = _body()
    with pytest.raises(wechatpay.NotificationRejected, match="bad signature"):
        wechatpay.verify(KEYS, wechatpay.sign(OTHER, "SERIAL1", body, NOW), body, NOW)
    with pytest.raises(wechatpay.NotificationRejected, match="unknown platform"):
        wechatpay.verify(KEYS, wechatpay.sign(PLATFORM, "SERIAL2", body, NOW), body, NOW)
    with pytest.raises(wechatpay.NotificationRejected, match="missing"):
        wechatpay.verify(KEYS, {}, body, NOW)


def test_a_resource_encrypted_with_another_key_or_altered_cannot_be_read():
    resource = json.loads(_body())["resource"]
    with pytest.raises(wechatpay.NotificationRejected, match="cannot be decrypted"):
        wechatpay.decrypt_resource(b"x" * 32, resource)
    with pytest.raises(wechatpay.NotificationRejected, match="cannot be decrypted"):
        wechatpay.decrypt_resource(APIV3, {**resource, "associated_data": "refund"})
