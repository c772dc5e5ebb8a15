"""Catalog's request and response shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from linli.schemas import PageArgs, PointSchema, StrictSchema, page_schema

from .domain import CATEGORY_IDS, FULFILMENTS, LISTING_STATUSES, PROVIDER_KINDS


class CategorySchema(ma.Schema):
    id = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class CommunityIn(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]{2,40}$"))
    name = fields.String(required=True, validate=validate.Length(1, 80))
    center = fields.Nested(PointSchema, required=True)
    timezone = fields.String(load_default="Asia/Shanghai")


class CommunitySchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    center = fields.Nested(PointSchema)
    timezone = fields.String()


class ProviderIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 80))
    kind = fields.String(required=True, validate=validate.OneOf(PROVIDER_KINDS))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$", error="a phone number"))
    address = fields.String(required=True, validate=validate.Length(1, 200))
    location = fields.Nested(PointSchema, required=True)
    community_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 20))


class ProviderSchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    phone = fields.String()
    address = fields.String()
    location = fields.Nested(PointSchema)
    community_ids = fields.List(fields.String())
    status = fields.String()
    created_at = fields.DateTime()


class SlotSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    start = fields.String(required=True, metadata={"example": "11:00"})
    end = fields.String(required=True, metadata={"example": "12:30"})
    capacity = fields.Integer(required=True, validate=validate.Range(1, 10_000))


class ListingIn(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(load_default="", validate=validate.Length(0, 2000))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_IDS))
    fulfilment = fields.String(required=True, validate=validate.OneOf(FULFILMENTS))
    price_fen = fields.Integer(required=True, validate=validate.Range(0, 10_000_000))
    unit = fields.String(load_default="portion", validate=validate.Length(1, 20))
    community_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 20))
    slots = fields.List(fields.Nested(SlotSchema), load_default=list, validate=validate.Length(0, 10))
    max_quantity = fields.Integer(load_default=5, validate=validate.Range(1, 100))


class ListingPatch(StrictSchema):
    title = fields.String(validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(0, 2000))
    price_fen = fields.Integer(validate=validate.Range(0, 10_000_000))
    slots = fields.List(fields.Nested(SlotSchema), validate=validate.Length(0, 10))
    status = fields.String(validate=validate.OneOf(LISTING_STATUSES))


class ProviderBrief(ma.Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    address = fields.String()
    location = fields.Nested(PointSchema)


class ListingSchema(ma.Schema):
    id = fields.String()
    version = fields.Integer()
    title = fields.String()
    description = fields.String()
    category = fields.String()
    fulfilment = fields.String()
    price_fen = fields.Integer()
    unit = fields.String()
    community_ids = fields.List(fields.String())
    slots = fields.List(fields.Nested(SlotSchema))
    max_quantity = fields.Integer()
    timezone = fields.String()
    status = fields.String()
    provider = fields.Nested(ProviderBrief)


class SlotWindow(ma.Schema):
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()


class ListingSnapshot(ListingSchema):
    """What orders keeps of the listing it sold: includes the provider's account, never shown publicly."""
    provider_owner_id = fields.String()
    slot_window = fields.Nested(SlotWindow)


class SnapshotArgs(ma.Schema):
    date = fields.Date()
    slot = fields.String()


class ListingArgs(PageArgs):
    category = fields.String(validate=validate.OneOf(CATEGORY_IDS))
    community = fields.String()


ListingPage = page_schema(ListingSchema, "ListingPage")


class AvailabilityArgs(ma.Schema):
    date = fields.Date(required=True)


class SlotAvailability(ma.Schema):
    name = fields.String()
    start = fields.String()
    end = fields.String()
    capacity = fields.Integer()
    remaining = fields.Integer()


class AvailabilitySchema(ma.Schema):
    listing_id = fields.String()
    date = fields.String()
    slots = fields.List(fields.Nested(SlotAvailability))
