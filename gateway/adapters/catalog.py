"""What the gateway asks the catalog: the communities Linli serves (kept for a minute)."""
from __future__ import annotations

import threading
import time

from . import services

_TTL = 60.0
_cache: dict[str, tuple[float, frozenset[str]]] = {}
_lock = threading.Lock()


def community_ids() -> frozenset[str]:
    """The ids of every community (Unavailable when the catalog does not answer)."""
    base = services.url("catalog", ())
    with _lock:
        cached = _cache.get(base)
    if cached and time.monotonic() - cached[0] < _TTL:
        return cached[1]
    answer = services.call("catalog", "GET", ("api", "v1", "catalog", "communities"), timeout=3)
    body = answer.json()
    if answer.status != 200 or not isinstance(body, list):
        raise services.Unavailable("catalog", RuntimeError(f"communities answered {answer.status}"))
    ids = frozenset(c["id"] for c in body if isinstance(c, dict) and "id" in c)
    with _lock:
        _cache[base] = (time.monotonic(), ids)
    return ids


def serves(community_id: str) -> bool:
    """Whether Linli serves this community; a community added in the last minute is asked about again."""
    if community_id in community_ids():
        return True
    with _lock:
        _cache.pop(services.url("catalog", ()), None)
    return community_id in community_ids()
