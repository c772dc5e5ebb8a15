"""Access tokens of disabled accounts are refused at the one door.

Access tokens live 15 minutes and every service verifies them itself, so a disabled account's tokens
could otherwise work until they expire. The gateway keeps the accounts disabled within the last token
lifetime (re-read every 30 seconds, and at once in the process that disabled one) and refuses any
request carrying a token of theirs: refused within a minute everywhere, at once where it was done.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import jwt
from flask import Flask, request

from linli.config import settings
from linli.errors import ApiError

from ..store import accounts as store
from . import gateway

REREAD_SECONDS = 30.0
_lock = threading.Lock()
_cache: dict[str, tuple[float, frozenset[str]]] = {}


def forget_cached() -> None:
    with _lock:
        _cache.clear()


def _disabled() -> frozenset[str]:
    gw = gateway()
    key = gw.db.name
    with _lock:
        cached = _cache.get(key)
    if cached and time.monotonic() - cached[0] < REREAD_SECONDS:
        return cached[1]
    # one token lifetime, plus slack for clocks: older tokens have expired anyway
    since = gw.units.now() - timedelta(minutes=settings().access_token_minutes + 5)
    ids = frozenset(store.disabled_since(gw.db, since))
    with _lock:
        _cache[key] = (time.monotonic(), ids)
    return ids


def _subject() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        # unverified on purpose: only to find whose it claims to be; whoever acts on it verifies it
        sub = jwt.decode(token.strip(), options={"verify_signature": False}).get("sub")
    except jwt.PyJWTError:
        return None
    return sub if isinstance(sub, str) else None


def install(app: Flask) -> None:
    @app.before_request
    def _refuse_disabled_accounts():
        sub = _subject()
        if sub is not None and sub in _disabled():
            raise ApiError(401, "unauthenticated", "This account has been disabled. Please ask an admin.")
