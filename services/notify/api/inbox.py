"""The in-app inbox: each person reads and marks only their own messages; a coordinator also reads the
board of each community it watches over (messages for elders who cannot sign in)."""
from __future__ import annotations

from flask import current_app, g

from linli.errors import ApiError
from linli.web import idempotent, requires

from .. import commands, store
from ..rules.who import board_id
from ..schemas import (InboxQuery, MarkedOut, MarkRead, MessagePage, PreferencesIn, PreferencesOut, UnreadOut,
                       WechatGrantIn, WechatGrantOut)
from . import blp


def _notify():
    return current_app.extensions["notify"]


def _db():
    return _notify().units.db


def _page(recipient: str, query: dict) -> dict:
    per_page, page = query["per_page"], query["page"]
    items, total = store.inbox(_notify().units.read(), recipient, query["unread"], (page - 1) * per_page, per_page)
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route("/messages", methods=["GET"])
@requires()
@blp.arguments(InboxQuery, location="query")
@blp.response(200, MessagePage)
def my_messages(query):
    """My messages, newest first (`unread=true` for the unread ones)."""
    return _page(g.principal.id, query)


@blp.route("/messages/unread-count", methods=["GET"])
@requires()
@blp.response(200, UnreadOut)
def my_unread_count():
    return {"unread": store.unread_count(_notify().units.read(), g.principal.id)}


@blp.route("/messages/read", methods=["POST"])
@requires()
@idempotent(_db)
@blp.arguments(MarkRead)
@blp.response(200, MarkedOut)
def mark_read(body):
    """Marks my messages read: the ones named in `ids`, or every unread one when `ids` is left out."""
    who = g.principal
    return {"marked": _notify().units.run(lambda u: commands.mark_read(u, who, body.get("ids")))}


@blp.route("/boards/<community_id>/messages", methods=["GET"])
@requires("coordinator", "admin")
@blp.arguments(InboxQuery, location="query")
@blp.response(200, MessagePage)
def board_messages(query, community_id):
    """The committee's board of a community: what elders enrolled without a smartphone were told."""
    if not g.principal.watches(community_id):
        raise ApiError(404, "not_found", "The board was not found.")
    return _page(board_id(community_id), query)


@blp.route("/boards/<community_id>/messages/read", methods=["POST"])
@requires("coordinator", "admin")
@idempotent(_db)
@blp.arguments(MarkRead)
@blp.response(200, MarkedOut)
def mark_board_read(body, community_id):
    who = g.principal
    return {"marked": _notify().units.run(lambda u: commands.mark_board_read(u, who, community_id, body.get("ids")))}


@blp.route("/preferences", methods=["GET"])
@requires()
@blp.response(200, PreferencesOut)
def my_preferences():
    return commands.preferences(_notify().units.read(), g.principal)


@blp.route("/preferences", methods=["PUT"])
@requires()
@idempotent(_db)
@blp.arguments(PreferencesIn)
@blp.response(200, PreferencesOut)
def set_my_preferences(body):
    """My channels (the inbox always stays on) and quiet hours (local time; urgent messages still come)."""
    who = g.principal
    return _notify().units.run(lambda u: commands.set_preferences(u, who, body))


@blp.route("/wechat/subscriptions", methods=["POST"])
@requires()
@idempotent(_db)
@blp.arguments(WechatGrantIn)
@blp.response(201, WechatGrantOut)
def wechat_subscription(body):
    """The mini program reports a one-time subscription the person accepted (wx.requestSubscribeMessage)."""
    who = g.principal
    unused = _notify().units.run(lambda u: commands.grant_wechat(u, who, body["template_id"]))
    return {"template_id": body["template_id"], "unused": unused}
