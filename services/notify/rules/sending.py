"""Retries of an outside send: growing delays, then a dead letter an operator can read and resend.

A provider's answer is one of: sent; refused for now (rate limit, outage: retry later); refused for
good (no such number, no subscription: retrying cannot help)."""
from __future__ import annotations

from datetime import datetime, timedelta

SENT, RETRY, REFUSED = "sent", "retry", "refused"


def next_try(attempts: int, delays: tuple[float, ...], now: datetime) -> datetime | None:
    """After `attempts` failed tries, when to try again; None when the send goes to the dead letters."""
    if attempts > len(delays):
        return None
    return now + timedelta(seconds=delays[attempts - 1])


def fallback(channel: str, outcome_code: str, urgent: bool) -> str | None:
    """The channel to try instead when one refuses for good: an urgent WeChat message goes by SMS."""
    if channel == "wechat" and urgent:
        return "sms"
    return None
