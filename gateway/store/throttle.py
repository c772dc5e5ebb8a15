"""The sign-in and sign-up counters, shared by every gateway worker and copy.

The counters live in MongoDB (limits' MongoDB storage): limits kept in one gunicorn
worker's memory would be N times looser with N workers. The moving-window strategy is
used; limits' sliding-window-counter hits an internal error in the embedded server
(SecantusDB 0.7.0b3), and a moving window is the stricter of the two anyway.
"""
from __future__ import annotations

import math
import time

from limits.storage import MongoDBStorage
from limits.strategies import MovingWindowRateLimiter

from linli.config import settings


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


def full(limit, *keys: str) -> bool:
    return not limiter().test(limit, *keys)


def hit(limit, *keys: str) -> bool:
    """Counts one; False when the counter was full already."""
    return limiter().hit(limit, *keys)


def seconds_until_free(limit, *keys: str) -> int:
    reset_at = limiter().get_window_stats(limit, *keys).reset_time
    return max(1, math.ceil(reset_at - time.time()))
