"""The gateway's request and response shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from linli.schemas import StrictSchema

from .accounts import SELF_SERVICE_ROLES


class RegisterIn(StrictSchema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.+-]{3,40}$", error="3 to 40 letters, digits or . _ + -"))
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
    created_at = fields.AwareDateTime()


class TokensSchema(ma.Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    account = fields.Nested(AccountSchema)
