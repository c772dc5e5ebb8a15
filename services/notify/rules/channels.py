"""Which channels carry a notice to one person, and when.

- The in-app inbox (and its live stream) carries everything to anyone who signs in; it never
  disturbs, so quiet hours do not hold it back.
- Besides it, one outside channel at most: WeChat when the person allowed it, has bound WeChat
  and holds an unused one-time subscription for the template; otherwise SMS when the person
  allowed it and has a phone. "quiet" notices use no outside channel.
- An urgent notice goes out at once; a person without a WeChat subscription gets it by SMS (unless
  they turned SMS off). A normal notice waits for the end of the person's quiet hours.
- The committee's board is an inbox only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .who import QUIET, URGENT

IN_APP, SMS, WECHAT = "in_app", "sms", "wechat"
CHANNELS = (IN_APP, SMS, WECHAT)
OUTSIDE = (WECHAT, SMS)
DEFAULT_TIME_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Route:
    channel: str
    not_before: datetime | None = None  # None: at once


def allowed(person: dict | None) -> tuple[str, ...]:
    chosen = (person or {}).get("channels")
    return CHANNELS if chosen is None else tuple(c for c in CHANNELS if c in chosen or c == IN_APP)


def wechat_ready(person: dict | None, template_id: str) -> bool:
    person = person or {}
    return bool(person.get("wechat_openid")) and (person.get("wechat_grants") or {}).get(template_id, 0) > 0


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(person: dict | None, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if `now` (UTC) falls inside them; else None."""
    hours = (person or {}).get("quiet_hours")
    if not hours:
        return None
    zone = ZoneInfo((person or {}).get("time_zone") or DEFAULT_TIME_ZONE)
    local = now.astimezone(zone)
    start, end = _clock(hours["start"]), _clock(hours["end"])
    at = local.time().replace(second=0, microsecond=0)
    if start == end:
        return None
    inside = start <= at < end if start < end else (at >= start or at < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, zone)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(now.tzinfo)


def routes(person: dict | None, urgency: str, now: datetime, *, wechat_template: str, board: bool = False,
           signs_in: bool = True) -> list[Route]:
    """The channels that carry one notice to one recipient, each with the earliest time to send it."""
    if (person or {}).get("disabled"):  # an admin disabled the account: it is told nothing
        return []
    if board:
        return [Route(IN_APP)]
    chosen = allowed(person)
    out = [Route(IN_APP)] if signs_in else []
    if urgency == QUIET and signs_in:
        return out
    phone = bool((person or {}).get("phone"))
    outside = None
    if WECHAT in chosen and wechat_ready(person, wechat_template) and signs_in:
        outside = WECHAT
    elif SMS in chosen and phone and (urgency == URGENT or SMS in ((person or {}).get("channels") or ()) or not signs_in):
        # SMS costs money and interrupts: urgent notices fall back to it; others only for those who chose it,
        # and for an elder who reads nothing else
        outside = SMS
    if outside:
        out.append(Route(outside, None if urgency == URGENT else quiet_until(person, now)))
    return out
