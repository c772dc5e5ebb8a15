"""Catalog's request and response shapes."""
from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from linli.config import DEFAULT_TIMEZONE
from linli.schemas import PageArgs, PointSchema, QueryArgs, StrictSchema, fields, page_schema, phone

from .rules.domain import FULFILMENTS, LISTING_STATUSES, PROVIDER_KINDS
from .rules.reviews import DIRECTIONS

_ID = validate.Regexp(r"^[a-z0-9_-]{2,40}$", error="lower-case letters, digits, - and _, 2 to 40 of them")
_TAG = fields.String(validate=validate.Length(1, 30))


# -- reference data ----------------------------------------------------------------------

class CategorySchema(ma.Schema):
    id = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class CategoryIn(StrictSchema):
    id = fields.String(required=True, validate=_ID)
    name_zh = fields.String(required=True, validate=validate.Length(1, 40))
    name_en = fields.String(required=True, validate=validate.Length(1, 80))


class CategoryPatch(StrictSchema):
    name_zh = fields.String(validate=validate.Length(1, 40))
    name_en = fields.String(validate=validate.Length(1, 80))


class PolygonSchema(StrictSchema):
    """A GeoJSON polygon: rings of [lng, lat] positions, the first ring the outline."""
    type = fields.String(required=True, validate=validate.Equal("Polygon"))
    coordinates = fields.List(
        fields.List(fields.Tuple((fields.Float(validate=validate.Range(-180, 180)),
                                  fields.Float(validate=validate.Range(-90, 90)))),
                    validate=validate.Length(4, 500)),
        required=True, validate=validate.Length(1, 10))


class BuildingSchema(StrictSchema):
    """A building of the community and the point its entrance is at: an address is community + building + room,
    and the volunteer is sent to the entrance (nobody types coordinates)."""
    name = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "12"})
    entrance = fields.Nested(PointSchema, required=True)


_BUILDINGS = dict(validate=validate.Length(0, 500), metadata={"description": "its buildings with their entrances"})
_COMMITTEE_PHONE = dict(metadata={"description": "the residents' committee's number, one tap away on every page"})


class CommunityIn(StrictSchema):
    id = fields.String(required=True, validate=_ID)
    name = fields.String(required=True, validate=validate.Length(1, 80))
    center = fields.Nested(PointSchema, required=True)
    boundary = fields.Nested(PolygonSchema, allow_none=True, load_default=None)
    timezone = fields.TimeZone(load_default=DEFAULT_TIMEZONE)
    buildings = fields.List(fields.Nested(BuildingSchema), load_default=list, **_BUILDINGS)
    committee_phone = phone(**_COMMITTEE_PHONE)


class CommunityPatch(StrictSchema):
    name = fields.String(validate=validate.Length(1, 80))
    center = fields.Nested(PointSchema)
    boundary = fields.Nested(PolygonSchema, allow_none=True)
    timezone = fields.TimeZone()
    buildings = fields.List(fields.Nested(BuildingSchema), **_BUILDINGS)
    committee_phone = phone(**_COMMITTEE_PHONE)


class CommunitySchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    center = fields.Nested(PointSchema)
    boundary = fields.Dict(allow_none=True)
    timezone = fields.String()
    buildings = fields.List(fields.Nested(BuildingSchema))
    committee_phone = fields.String(allow_none=True)


# -- providers ---------------------------------------------------------------------------

class ProviderIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 80))
    kind = fields.String(required=True, validate=validate.OneOf(PROVIDER_KINDS))
    contact_name = fields.String(validate=validate.Length(1, 40))
    phone = phone(required=True)
    address = fields.String(required=True, validate=validate.Length(1, 200))
    location = fields.Nested(PointSchema, required=True)
    community_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 20))


class ProviderPatch(StrictSchema):
    """What a provider may change itself; its kind is the committee's to change."""
    name = fields.String(validate=validate.Length(1, 80))
    contact_name = fields.String(validate=validate.Length(1, 40))
    phone = phone()
    address = fields.String(validate=validate.Length(1, 200))
    location = fields.Nested(PointSchema)
    community_ids = fields.List(fields.String(), validate=validate.Length(1, 20))


class SuspendIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 300))


class ProviderArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("pending", "verified", "suspended")))


class ScoreSchema(ma.Schema):
    average = fields.Float(allow_none=True)
    count = fields.Integer()


class ProviderSchema(ma.Schema):
    id = fields.String()
    owner_id = fields.String()
    name = fields.String()
    kind = fields.String()
    contact_name = fields.String()
    phone = fields.String()
    address = fields.String()
    location = fields.Nested(PointSchema)
    community_ids = fields.List(fields.String())
    status = fields.String()
    suspended_reason = fields.String()
    rating = fields.Nested(ScoreSchema)
    created_at = fields.DateTime()


ProviderPage = page_schema(ProviderSchema, "ProviderPage")


# -- listings ----------------------------------------------------------------------------

class SlotSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    start = fields.String(required=True, metadata={"example": "11:00", "description": "local time, HH:MM"})
    end = fields.String(required=True, metadata={"example": "12:30"})
    capacity = fields.Integer(required=True, validate=validate.Range(1, 10_000))
    days = fields.List(fields.Integer(validate=validate.Range(1, 7)), validate=validate.Length(1, 7),
                       load_default=lambda: [1, 2, 3, 4, 5, 6, 7],
                       metadata={"description": "ISO weekdays, Monday = 1; every day when left out"})
    cutoff = fields.String(allow_none=True, load_default=None,
                           metadata={"example": "09:30", "description": "local time orders close; none: slot end"})
    cutoff_days_before = fields.Integer(load_default=0, validate=validate.Range(0, 7))


class ExceptionSchema(StrictSchema):
    date = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$", error="YYYY-MM-DD"))
    slot = fields.String(allow_none=True, load_default=None, metadata={"description": "none: every slot"})
    closed = fields.Boolean(load_default=False)
    extra = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 10_000))

    @ma.validates("date")
    def _real_date(self, value: str, **_kw) -> None:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ma.ValidationError("not a date")


class ShareSchema(StrictSchema):
    funder = fields.String(required=True, validate=validate.Length(1, 80))
    amount_fen = fields.Integer(required=True, validate=validate.Range(0, 10_000_000))


class TierSchema(StrictSchema):
    tag = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,30}$", error="an eligibility tag"))
    resident_pays_fen = fields.Integer(required=True, validate=validate.Range(0, 10_000_000))
    shares = fields.List(fields.Nested(ShareSchema), load_default=list, validate=validate.Length(0, 5))


_PHOTO = fields.URL(schemes={"https", "http"}, require_tld=True, validate=validate.Length(1, 500))


class ListingIn(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(load_default="", validate=validate.Length(0, 2000))
    category = fields.String(required=True)
    fulfilment = fields.String(required=True, validate=validate.OneOf(FULFILMENTS))
    price_fen = fields.Integer(required=True, validate=validate.Range(0, 10_000_000))
    tiers = fields.List(fields.Nested(TierSchema), load_default=list, validate=validate.Length(0, 10))
    unit = fields.String(load_default="portion", validate=validate.Length(1, 20))
    tags = fields.List(_TAG, load_default=list, validate=validate.Length(0, 20))
    photos = fields.List(_PHOTO, load_default=list, validate=validate.Length(0, 9),
                         metadata={"description": "URLs of photos; checked for shape, never fetched"})
    community_ids = fields.List(fields.String(), validate=validate.Length(1, 20), metadata={
        "description": "the communities served; or give service_radius_m instead"})
    service_radius_m = fields.Integer(validate=validate.Range(100, 50_000), metadata={
        "description": "serve every address within this distance of your location, instead of named communities"})
    slots = fields.List(fields.Nested(SlotSchema), load_default=list, validate=validate.Length(0, 10))
    exceptions = fields.List(fields.Nested(ExceptionSchema), load_default=list, validate=validate.Length(0, 200))
    max_quantity = fields.Integer(load_default=5, validate=validate.Range(1, 100))
    status = fields.String(load_default="published", validate=validate.OneOf(("draft", "published")))

    @ma.validates_schema
    def _communities_or_radius(self, data, **_):
        _one_service_area(data, required=True)


def _one_service_area(data: dict, required: bool) -> None:
    if "community_ids" in data and "service_radius_m" in data:
        raise ma.ValidationError("give community_ids or service_radius_m, not both", "service_radius_m")
    if required and "community_ids" not in data and "service_radius_m" not in data:
        raise ma.ValidationError("name the communities you serve, or give service_radius_m", "community_ids")


class ListingPatch(StrictSchema):
    title = fields.String(validate=validate.Length(1, 120))
    description = fields.String(validate=validate.Length(0, 2000))
    price_fen = fields.Integer(validate=validate.Range(0, 10_000_000))
    tiers = fields.List(fields.Nested(TierSchema), validate=validate.Length(0, 10))
    unit = fields.String(validate=validate.Length(1, 20))
    tags = fields.List(_TAG, validate=validate.Length(0, 20))
    photos = fields.List(_PHOTO, validate=validate.Length(0, 9))
    community_ids = fields.List(fields.String(), validate=validate.Length(1, 20))
    service_radius_m = fields.Integer(validate=validate.Range(100, 50_000))
    slots = fields.List(fields.Nested(SlotSchema), validate=validate.Length(0, 10))
    exceptions = fields.List(fields.Nested(ExceptionSchema), validate=validate.Length(0, 200))
    max_quantity = fields.Integer(validate=validate.Range(1, 100))
    status = fields.String(validate=validate.OneOf(LISTING_STATUSES))

    @ma.validates_schema
    def _communities_or_radius(self, data, **_):
        _one_service_area(data, required=False)


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
    tiers = fields.List(fields.Nested(TierSchema))
    unit = fields.String()
    tags = fields.List(fields.String())
    photos = fields.List(fields.String())
    community_ids = fields.List(fields.String(), metadata={
        "description": "the communities served (with service_radius_m: those whose centre lies within it)"})
    service_radius_m = fields.Integer(allow_none=True)
    slots = fields.List(fields.Nested(SlotSchema))
    exceptions = fields.List(fields.Nested(ExceptionSchema))
    max_quantity = fields.Integer()
    timezone = fields.String()
    status = fields.String()
    provider = fields.Nested(ProviderBrief)
    provider_score = fields.Nested(ScoreSchema)
    distance_m = fields.Float(allow_none=True, metadata={"description": "from near=, when the search gave one"})


class ProposedPricing(ma.Schema):
    price_fen = fields.Integer()
    tiers = fields.List(fields.Nested(TierSchema))
    proposed_at = fields.AwareDateTime()


class PricingApproval(ma.Schema):
    by = fields.String(metadata={"description": "the coordinator who approved"})
    at = fields.AwareDateTime()
    version = fields.Integer(metadata={"description": "the version that put them in effect"})


class OwnListingSchema(ListingSchema):
    """A listing as its provider and the committee see it: with the price and tiers waiting for approval."""
    proposed_pricing = fields.Nested(ProposedPricing, allow_none=True, metadata={
        "description": "tiers giving a funder a share (and their price) waiting for a coordinator's approval; "
                       "price_fen and tiers are those in effect meanwhile"})
    pricing_approved = fields.Nested(PricingApproval, allow_none=True)


class ApprovalIn(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "the listing's version you looked at; refused if it changed since"})


class PendingListing(ma.Schema):
    id = fields.String()
    version = fields.Integer()
    title = fields.String()
    provider_id = fields.String()
    community_ids = fields.List(fields.String())
    price_fen = fields.Integer()
    tiers = fields.List(fields.Nested(TierSchema))
    proposed_pricing = fields.Nested(ProposedPricing)


PendingListingPage = page_schema(PendingListing, "PendingListingPage")
OwnListingPage = page_schema(OwnListingSchema, "OwnListingPage")


class SlotWindow(ma.Schema):
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    cutoff_at = fields.AwareDateTime()


class ListingSnapshot(ListingSchema):
    """What orders keeps of the listing it sold: includes the provider's account, never shown publicly."""
    provider_owner_id = fields.String()
    provider_active = fields.Boolean()
    slot_window = fields.Nested(SlotWindow)
    scheduled = fields.Boolean()
    closed = fields.Boolean()
    cutoff_passed = fields.Boolean()
    capacity = fields.Integer()


class SnapshotArgs(QueryArgs):
    date = fields.Date()
    slot = fields.String()


SORTS = ("newest", "distance", "rating", "price", "price_desc")


class ListingArgs(PageArgs):
    category = fields.String()
    community = fields.String()
    near = fields.String(metadata={"example": "121.5588,31.1765", "description": "lng,lat"})
    radius_m = fields.Integer(load_default=5000, validate=validate.Range(50, 50_000))
    q = fields.String(validate=validate.Length(1, 100))
    min_price = fields.Integer(validate=validate.Range(0, 10_000_000))
    max_price = fields.Integer(validate=validate.Range(0, 10_000_000))
    open_on = fields.Date()
    sort = fields.String(validate=validate.OneOf(SORTS))


ListingPage = page_schema(ListingSchema, "ListingPage")


class ListingVersionSchema(ma.Schema):
    listing_id = fields.String()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    listing = fields.Nested(ListingSchema)


# -- availability ------------------------------------------------------------------------

class AvailabilityArgs(QueryArgs):
    date = fields.Date()
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class SlotAvailability(ma.Schema):
    name = fields.String()
    start = fields.String(metadata={"description": "local time in the listing's zone"})
    end = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    cutoff_at = fields.AwareDateTime()
    capacity = fields.Integer()
    remaining = fields.Integer()
    closed = fields.Boolean()
    orderable = fields.Boolean()


class DayAvailability(ma.Schema):
    date = fields.String()
    slots = fields.List(fields.Nested(SlotAvailability))


class AvailabilitySchema(ma.Schema):
    listing_id = fields.String()
    timezone = fields.String()
    date = fields.String(metadata={"description": "the first day asked for"})
    slots = fields.List(fields.Nested(SlotAvailability), metadata={"description": "the first day's slots"})
    days = fields.List(fields.Nested(DayAvailability))


# -- reviews -----------------------------------------------------------------------------

class ReviewIn(StrictSchema):
    order_id = fields.String(required=True, validate=validate.Length(1, 64))
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    stars = fields.Integer(required=True, validate=validate.Range(1, 5))
    text = fields.String(load_default="", validate=validate.Length(0, 1000))
    tags = fields.List(_TAG, load_default=list, validate=validate.Length(0, 10))


class ReplyIn(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, 1000))


class ReplySchema(ma.Schema):
    text = fields.String()
    at = fields.AwareDateTime()


class ReviewSchema(ma.Schema):
    id = fields.String()
    order_id = fields.String()
    direction = fields.String()
    subject_id = fields.String()
    stars = fields.Integer()
    text = fields.String()
    tags = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    visible_from = fields.AwareDateTime(metadata={"description": "blind until then"})
    reply = fields.Nested(ReplySchema, allow_none=True)


ReviewPage = page_schema(ReviewSchema, "ReviewPage")


class StarCounts(ma.Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True)
    good = fields.Integer(metadata={"description": "4 or 5 stars"})
    neutral = fields.Integer(metadata={"description": "3 stars"})
    bad = fields.Integer(metadata={"description": "1 or 2 stars"})


class ScorecardSchema(StarCounts):
    provider_id = fields.String()
    last_30_days = fields.Nested(StarCounts)
    completed_orders = fields.Integer()
    answered_orders = fields.Integer()
    answered_in_time_share = fields.Float(allow_none=True)
    median_answer_minutes = fields.Float(allow_none=True)
