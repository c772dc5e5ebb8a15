"""What people do in notify: read their messages, set their preferences, allow one WeChat message, open their
live stream with a one-use ticket."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from linli.auth import Principal
from linli.domain_errors import Forbidden, NotFound, RuleBroken
from linli.unit import Unit

from . import store
from .rules import channels as channel_rules
from .rules.who import board_id, stream_recipients
from .rules.wechat import TEMPLATES


def mark_read(u: Unit, who: Principal, message_ids: list[str] | None) -> int:
    """Marks the person's own messages read (all unread ones when no ids are given)."""
    if message_ids:
        for message_id in message_ids:
            found = store.message(u, message_id)
            if found is None or found["recipient"] != who.id:
                raise NotFound("The message")
    return store.mark_read(u, who.id, message_ids)


def mark_board_read(u: Unit, who: Principal, community_id: str, message_ids: list[str] | None) -> int:
    if not who.watches(community_id):
        raise Forbidden("Only the committee of this community reads its board.")
    board = board_id(community_id)
    if message_ids:
        for message_id in message_ids:
            found = store.message(u, message_id)
            if found is None or found["recipient"] != board:
                raise NotFound("The message")
    return store.mark_read(u, board, message_ids)


def set_preferences(u: Unit, who: Principal, prefs: dict) -> dict:
    """The person's own channels and quiet hours; they win over what the gateway last said."""
    chosen = prefs.get("channels")
    if chosen is not None and channel_rules.IN_APP not in chosen:
        raise RuleBroken("channels", "The in-app inbox cannot be turned off; choose SMS and WeChat as you like.")
    hours = prefs.get("quiet_hours")
    if hours and hours["start"] == hours["end"]:
        raise RuleBroken("quiet_hours", "Quiet hours need an end different from their start.")
    store.set_preferences(u, who.id, prefs)
    return preferences(u, who)


def preferences(u: Unit, who: Principal) -> dict:
    person = store.person(u, who.id) or {}
    return {"channels": list(person.get("channels") or channel_rules.CHANNELS), "quiet_hours": person.get("quiet_hours"),
            "language": person.get("language") or "zh-CN", "wechat_bound": bool(person.get("wechat_openid")),
            "wechat_grants": person.get("wechat_grants") or {}}


def grant_wechat(u: Unit, who: Principal, template_id: str) -> int:
    """The person accepted one subscription in wx.requestSubscribeMessage: one message may follow."""
    if template_id not in {t["id"] for t in TEMPLATES.values()}:
        raise RuleBroken("template_id", "This is not one of Linli's subscription templates.")
    return store.add_wechat_grant(u, who.id, template_id)


# -- stream tickets: the pages keep the person's tokens on their server, so the browser opens its stream with a
# ticket that the pages' server asked for with the person's token: good once, for a minute, never a token in a URL
TICKET_SECONDS = 60
TICKET_STREAM_SECONDS = 15 * 60  # a stream opened by ticket ends after this; the page asks for a new ticket, so a
                                 # person signed out (or disabled) stops hearing within the access token's lifetime


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_stream_ticket(u: Unit, who: Principal, after: int) -> dict:
    """A ticket for the signed-in person's own stream; the stream starts after message number `after` (the
    newest at issue) unless the client says where it stopped, so nothing committed after this is missed."""
    ticket = secrets.token_urlsafe(32)
    store.save_ticket(u, _digest(ticket), who.id, stream_recipients(who.id, who.role, who.communities), after,
                      u.now + timedelta(seconds=TICKET_SECONDS))
    return {"ticket": ticket, "expires_in": TICKET_SECONDS, "after": after}


def redeem_stream_ticket(u: Unit, ticket: str) -> dict | None:
    """The stream a ticket opens (its recipients and where it starts), once; None for an unknown, used or
    expired ticket."""
    found = store.take_ticket(u, _digest(ticket))
    if found is None or found["expires_at"] <= u.now:
        return None
    return {"account_id": found["account_id"], "recipients": found["recipients"], "after": found["after"]}
