"""Notify's HTTP shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from linli.schemas import QueryArgs, StrictSchema, fields

CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Write a time like 21:30.")


class MessageOut(ma.Schema):
    id = fields.String(attribute="_id")
    seq = fields.Integer()
    kind = fields.String()
    urgency = fields.String()
    language = fields.String()
    title = fields.String()
    body = fields.String()
    refs = fields.Dict()
    channels = fields.List(fields.String())
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True, metadata={"description": "an offer no longer open"})


class MessagePage(ma.Schema):
    items = fields.List(fields.Nested(MessageOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class InboxQuery(QueryArgs):
    unread = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class UnreadOut(ma.Schema):
    unread = fields.Integer()


class MarkRead(StrictSchema):
    ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                         validate=validate.Length(min=1, max=500), load_default=None)


class MarkedOut(ma.Schema):
    marked = fields.Integer()


class QuietHours(StrictSchema):
    start = fields.String(required=True, validate=CLOCK)
    end = fields.String(required=True, validate=CLOCK)


class PreferencesIn(StrictSchema):
    channels = fields.List(fields.String(validate=validate.OneOf(["in_app", "sms", "wechat"])),
                              validate=validate.Length(min=1, max=3))
    quiet_hours = fields.Nested(QuietHours, allow_none=True)


class PreferencesOut(ma.Schema):
    channels = fields.List(fields.String())
    quiet_hours = fields.Nested(QuietHours, allow_none=True)
    language = fields.String()
    wechat_bound = fields.Boolean()
    wechat_grants = fields.Dict()


class WechatGrantIn(StrictSchema):
    template_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class WechatGrantOut(ma.Schema):
    template_id = fields.String()
    unused = fields.Integer()


class StreamTicketOut(ma.Schema):
    ticket = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds it can still be used"})
    after = fields.Integer(metadata={"description": "the stream starts after this message number"})
