"""Events the gateway publishes about accounts (routing key = type). Edit only with the gateway.

Notify keeps its read model of people from these: whom to tell, in which language, on which
channels, when not to disturb them, and whose family they are. No service reads the gateway's
database. The gateway emits `gateway.account.registered` when an account is created (sign-up,
an elder enrolled by the committee, a staff account made by an operator) and
`gateway.account.updated` with the whole current picture whenever any of these fields changes
(profile, phone, language, preferences, quiet hours, a family link approved, the account disabled).
Each is written to the gateway's outbox in the transaction of the change and published by its relay
(`python -m linli.relay --service gateway`).
"""
from marshmallow import fields, validate

from .common import Builder, Data, registry

LANGUAGES = ("zh-CN", "en")
CHANNELS = ("in_app", "sms", "wechat")


class QuietHours(Data):
    """Local wall-clock times (Asia/Shanghai unless `time_zone` says otherwise); may wrap midnight."""
    start = fields.String(required=True, validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$"))
    end = fields.String(required=True, validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$"))


class Account(Data):
    account_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(
        ["resident", "provider", "volunteer", "coordinator", "admin"]))
    name = fields.String(required=True)
    language = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGUAGES))
    phone = fields.String(load_default=None, allow_none=True)  # E.164 or local digits; none: no phone at all
    community_id = fields.String(load_default=None, allow_none=True)  # a resident's home community
    communities = fields.List(fields.String(), load_default=list)  # a coordinator's communities
    # approved family links: the elders this account is family of (the token's family_of ids)
    family_of = fields.List(fields.String(), load_default=list)
    # false for an elder the committee enrolled without a smartphone: nobody signs in as them
    signs_in = fields.Boolean(load_default=True)
    wechat_openid = fields.String(load_default=None, allow_none=True)  # bound through the mini program
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), load_default=None, allow_none=True)
    quiet_hours = fields.Nested(QuietHours, load_default=None, allow_none=True)
    time_zone = fields.String(load_default="Asia/Shanghai")
    disabled = fields.Boolean(load_default=False)  # an admin disabled the account: nobody is to be told anything


# One builder per event type the gateway emits (emit sites call these; the type is spelled only here).
account_registered = Builder("gateway.account.registered", Account)
account_updated = Builder("gateway.account.updated", Account)

EVENTS = registry(account_registered, account_updated)
