"""What events and timers do to delivery: `events` (one handler per subscribed event type) and
`dispatch` (the dispatcher's rounds: read -> decide without I/O -> write)."""
from __future__ import annotations

from datetime import timedelta
from functools import partial

from ..rules import ladder
from . import dispatch, events
from .events import (on_order_cancelled, on_order_paid, on_order_ready, on_redelivery_requested,  # noqa: F401
                     on_review_posted)


def table(offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> dict:
    """The consumer's handlers, each `handler(unit, envelope)`, with the configured offer timeout."""
    return {event_type: partial(handler, offer_timeout=offer_timeout) for event_type, handler in events.BY_TYPE.items()}


HANDLERS = table()
