"""Delivery's request and response shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from linli.schemas import PageArgs, PointSchema, StrictSchema, page_schema

from .domain import FAILURE_REASONS, TASK_STATES, VEHICLES


class VolunteerIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$", error="a phone number"))
    community_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 10))
    vehicle = fields.String(required=True, validate=validate.OneOf(VEHICLES))
    max_tasks = fields.Integer(load_default=1, validate=validate.Range(1, 5))


class VolunteerSchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String()
    community_ids = fields.List(fields.String())
    vehicle = fields.String()
    max_tasks = fields.Integer()
    status = fields.String()
    on_duty = fields.Boolean()
    location = fields.Nested(PointSchema, allow_none=True)
    active_tasks = fields.Integer()
    served_minutes = fields.Integer()


class DutyIn(StrictSchema):
    on_duty = fields.Boolean(required=True)
    location = fields.Nested(PointSchema, metadata={"description": "required when going on duty"})


class CodeIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4,8}$", error="digits only, 4 to 8 of them"))


class FailIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(FAILURE_REASONS))
    note = fields.String(load_default="", validate=validate.Length(0, 500))


class PlaceOut(ma.Schema):
    name = fields.String()
    address = fields.String()
    location = fields.Nested(PointSchema)


class DropOffOut(ma.Schema):
    community_id = fields.String()
    building = fields.String()
    room = fields.String()
    contact_name = fields.String()
    phone = fields.String()
    location = fields.Nested(PointSchema)


class ItemOut(ma.Schema):
    title = fields.String()
    quantity = fields.Integer()


class TaskSchema(ma.Schema):
    id = fields.String()
    order_id = fields.String()
    status = fields.String(validate=validate.OneOf(TASK_STATES))
    pickup = fields.Nested(PlaceOut)
    dropoff = fields.Nested(DropOffOut)
    items = fields.List(fields.Nested(ItemOut))
    slot_start = fields.AwareDateTime()
    slot_end = fields.AwareDateTime()
    volunteer_id = fields.String(allow_none=True)
    assigned_at = fields.AwareDateTime()
    picked_up_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime()
    minutes = fields.Integer()


class OfferSchema(ma.Schema):
    id = fields.String()
    task_id = fields.String()
    order_id = fields.String()
    status = fields.String()
    expires_at = fields.AwareDateTime()
    distance_m = fields.Float()
    pickup = fields.Nested(PlaceOut)
    dropoff = fields.Nested(DropOffOut)
    items = fields.List(fields.Nested(ItemOut))
    slot_end = fields.AwareDateTime()


class TaskArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TASK_STATES))


TaskPage = page_schema(TaskSchema, "TaskPage")
OfferPage = page_schema(OfferSchema, "OfferPage")
