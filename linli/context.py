"""Request and correlation ids of the work in hand, for logs and for the events it causes."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
causation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("causation_id", default=None)


@contextmanager
def bound(*, request: str | None = None, correlation: str | None = None, causation: str | None = None):
    tokens = [
        (request_id, request_id.set(request)),
        (correlation_id, correlation_id.set(correlation)),
        (causation_id, causation_id.set(causation)),
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
