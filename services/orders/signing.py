"""Payment notifications: HMAC-SHA256 over "timestamp\\nnonce\\nraw body\\n", as the stub provider signs them.

Pure functions: the replayed-nonce check needs storage and lives with the notify route.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

MAX_AGE_SECONDS = 300

HEADER_TIMESTAMP = "Linli-Pay-Timestamp"
HEADER_NONCE = "Linli-Pay-Nonce"
HEADER_SIGNATURE = "Linli-Pay-Signature"


class SignatureRejected(Exception):
    pass


def signature(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, now: int) -> dict[str, str]:
    timestamp, nonce = str(now), secrets.token_hex(16)
    return {HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signature(secret, timestamp, nonce, body)}


def verify(secret: bytes, headers: dict[str, str], body: bytes, now: int) -> str:
    """Checks the signature and freshness; returns the nonce for the caller's replay check."""
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    given = headers.get(HEADER_SIGNATURE, "")
    if not (timestamp and nonce and given):
        raise SignatureRejected("missing signature headers")
    if not timestamp.isdigit() or len(nonce) > 64:
        raise SignatureRejected("malformed signature headers")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        raise SignatureRejected("stale timestamp")
    if not hmac.compare_digest(signature(secret, timestamp, nonce, body), given):
        raise SignatureRejected("bad signature")
    return nonce
