"""Throttling of sign-in and sign-up, shared by every gateway worker and copy.

The counters live in MongoDB (limits' MongoDB storage): limits kept in one gunicorn
worker's memory would be N times looser with N workers. The moving-window strategy is
used; limits' sliding-window-counter hits an internal error in the embedded server
(SecantusDB 0.7.0b3), and a moving window is the stricter of the two anyway.
"""
from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MongoDBStorage
from limits.strategies import MovingWindowRateLimiter

from linli.config import settings
from linli.errors import ApiError

FAILED_SIGN_INS_PER_ACCOUNT = parse("5 per 15 minutes")
FAILED_SIGN_INS_PER_ADDRESS = parse("20 per 15 minutes")



class _Storage(MongoDBStorage):
    """limits' MongoDB storage closes its client in __del__; pymongo's close() starts a thread, and doing
    that from a garbage-collection pass can deadlock the process (seen in the test suite). Storages are
    kept for the life of the process instead (one per database), so nothing needs closing."""

    def __del__(self) -> None:
        pass


_limiters: dict[tuple[str, str], MovingWindowRateLimiter] = {}


def limiter() -> MovingWindowRateLimiter:
    cfg = settings()
    key = (cfg.mongo_url, cfg.db_name("gateway"))
    if key not in _limiters:
        _limiters[key] = MovingWindowRateLimiter(_Storage(
            cfg.mongo_url, database_name=key[1], counter_collection_name="rate_counters",
            window_collection_name="rate_windows", serverSelectionTimeoutMS=5000))
    return _limiters[key]


def _refuse(item, *keys: str) -> ApiError:
    reset_at = limiter().get_window_stats(item, *keys).reset_time
    wait = max(1, math.ceil(reset_at - time.time()))
    return ApiError(429, "rate_limited",
                    f"Too many attempts. Please wait {math.ceil(wait / 60)} minute(s) and try again.",
                    {"retry_after_seconds": wait}, headers={"Retry-After": str(wait)})


def check_sign_in(username: str, address: str) -> None:
    """Refuses before the password is even checked once either counter is full."""
    if not limiter().test(FAILED_SIGN_INS_PER_ACCOUNT, "sign-in-account", username.lower()):
        raise _refuse(FAILED_SIGN_INS_PER_ACCOUNT, "sign-in-account", username.lower())
    if not limiter().test(FAILED_SIGN_INS_PER_ADDRESS, "sign-in-address", address):
        raise _refuse(FAILED_SIGN_INS_PER_ADDRESS, "sign-in-address", address)


def failed_sign_in(username: str, address: str) -> None:
    limiter().hit(FAILED_SIGN_INS_PER_ACCOUNT, "sign-in-account", username.lower())
    limiter().hit(FAILED_SIGN_INS_PER_ADDRESS, "sign-in-address", address)


def sign_up(address: str) -> None:
    per_address = parse(settings().signup_limit)
    if not limiter().hit(per_address, "sign-up-address", address):
        raise _refuse(per_address, "sign-up-address", address)
