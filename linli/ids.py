"""Identifiers and time: strings for ids, UTC for every timestamp."""
from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime, timezone


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def new_uuid() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def monotonic_seq() -> int:
    """Orders outbox entries of one aggregate: a later write of the same aggregate starts after the earlier committed."""
    return time.time_ns()


def digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))
