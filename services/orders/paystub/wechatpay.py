"""WeChat Pay API v3's notification crypto, as the stub provider uses it and a real one would:

- the signature is SHA256withRSA over "timestamp\\nnonce\\nraw body\\n", base64, made with the
  platform's private key and checked with its public key (named by a serial header);
- the `resource` is encrypted with AEAD_AES_256_GCM under the merchant's 32-byte APIv3 key,
  with a 12-character nonce and an associated-data string.

Pure functions; the replayed-nonce check needs storage and lives with the notify route.
"""
from __future__ import annotations

import base64
import json
import secrets

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_AGE_SECONDS = 300

HEADER_TIMESTAMP = "Wechatpay-Timestamp"
HEADER_NONCE = "Wechatpay-Nonce"
HEADER_SIGNATURE = "Wechatpay-Signature"
HEADER_SERIAL = "Wechatpay-Serial"


class NotificationRejected(Exception):
    pass


def _message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


def sign(private_key, serial: str, body: bytes, now: int) -> dict[str, str]:
    timestamp, nonce = str(now), secrets.token_hex(16)
    signature = private_key.sign(_message(timestamp, nonce, body), padding.PKCS1v15(), hashes.SHA256())
    return {HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce, HEADER_SERIAL: serial,
            HEADER_SIGNATURE: base64.b64encode(signature).decode()}


def verify(public_keys: dict[str, object], headers: dict[str, str], body: bytes, now: int) -> str:
    """Checks freshness and the signature with the key its serial names; returns the nonce."""
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    given = headers.get(HEADER_SIGNATURE, "")
    serial = headers.get(HEADER_SERIAL, "")
    if not (timestamp and nonce and given and serial):
        raise NotificationRejected("missing signature headers")
    if not timestamp.isdigit() or len(nonce) > 64:
        raise NotificationRejected("malformed signature headers")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        raise NotificationRejected("stale timestamp")
    key = public_keys.get(serial)
    if key is None:
        raise NotificationRejected("unknown platform certificate")
    try:
        key.verify(base64.b64decode(given, validate=True), _message(timestamp, nonce, body), padding.PKCS1v15(),
                   hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise NotificationRejected("bad signature")
    return nonce


def encrypt_resource(apiv3_key: bytes, plain: dict, original_type: str) -> dict:
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay sends
    associated = original_type
    ciphertext = AESGCM(apiv3_key).encrypt(nonce.encode(), json.dumps(plain).encode(), associated.encode())
    return {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
            "associated_data": associated, "ciphertext": base64.b64encode(ciphertext).decode()}


def decrypt_resource(apiv3_key: bytes, resource: dict) -> dict:
    try:
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise NotificationRejected("unknown encryption algorithm")
        plain = AESGCM(apiv3_key).decrypt(resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
                                          resource.get("associated_data", "").encode())
        return json.loads(plain)
    except (InvalidTag, KeyError, TypeError, ValueError):
        raise NotificationRejected("the resource cannot be decrypted")
