"""The gateway's request and response shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from linli.schemas import PageArgs, StrictSchema, fields, page_schema, phone

from .rules.accounts import ELIGIBILITY_TAGS, SELF_SERVICE_ROLES, USERNAME, USERNAME_HINT


class RegisterIn(StrictSchema):
    username = fields.String(required=True, validate=validate.Regexp(USERNAME, error=USERNAME_HINT))
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 128))
    name = fields.String(required=True, validate=validate.Length(1, 40))
    role = fields.String(load_default="resident", validate=validate.OneOf(
        SELF_SERVICE_ROLES, error="one of resident, provider, volunteer; coordinators are added by an admin"))


class LoginIn(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(1, 40))
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 128))


class RefreshIn(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(10, 200))


class AccountSchema(ma.Schema):
    id = fields.String()
    username = fields.String()
    name = fields.String()
    role = fields.String()
    tags = fields.List(fields.String())
    communities = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class TokensSchema(ma.Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    account = fields.Nested(AccountSchema)


class ContactSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    phone = phone(required=True)
    relation = fields.String(load_default="", validate=validate.Length(0, 20))


class AddressSchema(StrictSchema):
    label = fields.String(load_default="home", validate=validate.Length(1, 20))
    community_id = fields.String(required=True, validate=validate.Length(1, 40))
    building = fields.String(required=True, validate=validate.Length(1, 40))
    room = fields.String(required=True, validate=validate.Length(1, 20))


HH_MM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time of day as HH:MM, e.g. 22:00")


class QuietHoursSchema(StrictSchema):
    start = fields.String(required=True, validate=HH_MM)
    end = fields.String(required=True, validate=HH_MM)


class ProfileSchema(StrictSchema):
    community_id = fields.String(validate=validate.Length(1, 40))
    addresses = fields.List(fields.Nested(AddressSchema), validate=validate.Length(0, 5))
    birth_year = fields.Integer(validate=validate.Range(1900, 2026))
    phone = phone()
    emergency_contact = fields.Nested(ContactSchema)
    # how this person is told what needs them (notify learns these from the gateway's account events)
    language = fields.String(validate=validate.OneOf(("zh-CN", "en")),
                             metadata={"description": "the language of messages: zh-CN or en"})
    channels = fields.List(fields.String(validate=validate.OneOf(("in_app", "sms", "wechat"))),
                           validate=validate.Length(0, 3),
                           metadata={"description": "the channels messages may use besides the app"})
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True,
                                metadata={"description": "local times when only urgent messages go out, e.g. "
                                                         "22:00 to 07:00"})


class ResidentIn(ProfileSchema):
    """An elder the committee signs up: a name, the community they live in, and what an order needs."""
    name = fields.String(required=True, validate=validate.Length(1, 40))
    community_id = fields.String(required=True, validate=validate.Length(1, 40))
    username = fields.String(validate=validate.Regexp(USERNAME, error=USERNAME_HINT),
                             metadata={"description": "what family members ask for a link with; "
                                                      "the account id when not given"})


class RelativeSchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    tags = fields.List(fields.String())


class AccountDetail(AccountSchema):
    profile = fields.Nested(ProfileSchema)
    family_of = fields.List(fields.Nested(RelativeSchema))


class ResidentArgs(PageArgs):
    q = fields.String(validate=validate.Length(1, 40), metadata={"description": "part of the name, or four digits or more of the phone number"})
    role = fields.String(load_default="resident", validate=validate.OneOf(
        ("resident", "provider", "volunteer", "coordinator", "admin")),
        metadata={"description": "admin only: accounts of another role (to find a coordinator to disable)"})


ResidentPage = page_schema(AccountSchema, "ResidentPage")


class LogoutIn(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(10, 200))


class StaffIn(StrictSchema):
    username = fields.String(required=True, validate=validate.Regexp(USERNAME, error=USERNAME_HINT))
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 128))
    name = fields.String(required=True, validate=validate.Length(1, 40))
    role = fields.String(required=True, validate=validate.OneOf(("coordinator", "admin")))
    community_ids = fields.List(fields.String(validate=validate.Length(1, 40)), validate=validate.Length(0, 50),
                                metadata={"description": "the communities a coordinator watches over"})

    @ma.validates_schema
    def _coordinators_have_communities(self, data, **_):
        if data.get("role") == "coordinator" and not data.get("community_ids"):
            raise ma.ValidationError("a coordinator watches over at least one community", "community_ids")


class TagsIn(StrictSchema):
    tags = fields.List(fields.String(validate=validate.OneOf(ELIGIBILITY_TAGS)), required=True,
                       validate=validate.Length(0, len(ELIGIBILITY_TAGS)))
    checked = fields.String(required=True, validate=validate.Length(3, 200),
                            metadata={"description": "what the coordinator checked, for the record"})


class FamilyIn(StrictSchema):
    elder_username = fields.String(required=True, validate=validate.Length(3, 40))
    relation = fields.String(required=True, validate=validate.Length(1, 20), metadata={"example": "daughter"})


class FamilyLinkSchema(ma.Schema):
    id = fields.String()
    member_id = fields.String()
    member_name = fields.String()
    elder_id = fields.String()
    elder_name = fields.String()
    relation = fields.String()
    status = fields.String()


class DisableIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(3, 200),
                           metadata={"description": "why, for the record (a coordinator who left, a lost phone)"})
