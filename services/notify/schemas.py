"""Notify's HTTP shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Write a time like 21:30.")


class MessageOut(ma.Schema):
    id = ma.fields.String(attribute="_id")
    seq = ma.fields.Integer()
    kind = ma.fields.String()
    urgency = ma.fields.String()
    language = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    refs = ma.fields.Dict()
    channels = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)
    withdrawn_at = ma.fields.DateTime(allow_none=True, metadata={"description": "an offer no longer open"})


class MessagePage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MessageOut))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()


class InboxQuery(ma.Schema):
    unread = ma.fields.Boolean(load_default=False)
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class UnreadOut(ma.Schema):
    unread = ma.fields.Integer()


class MarkRead(ma.Schema):
    ids = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=64)),
                         validate=validate.Length(min=1, max=500), load_default=None)


class MarkedOut(ma.Schema):
    marked = ma.fields.Integer()


class QuietHours(ma.Schema):
    start = ma.fields.String(required=True, validate=CLOCK)
    end = ma.fields.String(required=True, validate=CLOCK)


class PreferencesIn(ma.Schema):
    channels = ma.fields.List(ma.fields.String(validate=validate.OneOf(["in_app", "sms", "wechat"])),
                              validate=validate.Length(min=1, max=3))
    quiet_hours = ma.fields.Nested(QuietHours, allow_none=True)


class PreferencesOut(ma.Schema):
    channels = ma.fields.List(ma.fields.String())
    quiet_hours = ma.fields.Nested(QuietHours, allow_none=True)
    language = ma.fields.String()
    wechat_bound = ma.fields.Boolean()
    wechat_grants = ma.fields.Dict()


class WechatGrantIn(ma.Schema):
    template_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))


class WechatGrantOut(ma.Schema):
    template_id = ma.fields.String()
    unused = ma.fields.Integer()


class StreamQuery(ma.Schema):
    last_event_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=0))
