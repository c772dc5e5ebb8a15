"""Delivery's request and response shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate, validates_schema

from linli.schemas import PageArgs, PointSchema, QueryArgs, StrictSchema, fields, page_schema, phone

from .rules.domain import FAILURE_REASONS, TASK_STATES, VEHICLES, WELFARE_OUTCOMES

HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a time of day as HH:MM")
MONTH = validate.Regexp(r"^[0-9]{4}-(0[1-9]|1[0-2])$", error="a month as YYYY-MM")


class ShiftSchema(StrictSchema):
    weekday = fields.Integer(required=True, validate=validate.Range(0, 6),
                             metadata={"description": "0 is Monday"})
    start = fields.String(required=True, validate=HHMM)
    end = fields.String(required=True, validate=HHMM)

    @validates_schema
    def _ordered(self, data, **_):
        if data["start"] >= data["end"]:
            raise ma.ValidationError("a shift ends after it starts", "end")


class VolunteerIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    phone = phone(required=True)
    community_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 10))
    vehicle = fields.String(required=True, validate=validate.OneOf(VEHICLES))
    max_tasks = fields.Integer(load_default=1, validate=validate.Range(1, 5))
    shifts = fields.List(fields.Nested(ShiftSchema), load_default=list, validate=validate.Length(0, 21),
                         metadata={"description": "optional weekly shifts (Shanghai time); none means any time on duty"})


class ShiftsIn(StrictSchema):
    shifts = fields.List(fields.Nested(ShiftSchema), required=True, validate=validate.Length(0, 21))


class RatingOut(ma.Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True)


class VolunteerSchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String()
    community_ids = fields.List(fields.String())
    vehicle = fields.String()
    max_tasks = fields.Integer()
    shifts = fields.List(fields.Nested(ShiftSchema))
    status = fields.String(metadata={"description": "pending, verified or refused"})
    refused_reason = fields.String(metadata={"description": "the committee's words, while refused"})
    on_duty = fields.Boolean()
    location = fields.Nested(PointSchema, allow_none=True)
    active_tasks = fields.Integer()
    served_minutes = fields.Integer()
    rating = fields.Nested(RatingOut, metadata={"description": "residents' stars, once catalog shows the reviews"})


class VolunteerArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["pending", "verified", "refused"]))


class RefuseIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 300),
                           metadata={"description": "why, in words the volunteer reads on their page"})


class DutyIn(StrictSchema):
    on_duty = fields.Boolean(required=True)
    location = fields.Nested(PointSchema, metadata={"description": "required when going on duty"})


class CodeIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4,8}$", error="digits only, 4 to 8 of them"))


class HandOverIn(StrictSchema):
    code = fields.String(validate=validate.Regexp(r"^[0-9]{4,8}$", error="digits only, 4 to 8 of them"),
                         metadata={"description": "the resident's 4-digit code"})
    override_reason = fields.String(validate=validate.Length(5, 500),
                                    metadata={"description": "coordinator only: why the hand-over stands without the code"})


class FailIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(FAILURE_REASONS),
                           metadata={"description": "nobody_answers starts a welfare check instead of failing"})
    note = fields.String(load_default="", validate=validate.Length(0, 500))


class WelfareIn(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(WELFARE_OUTCOMES))
    note = fields.String(required=True, validate=validate.Length(1, 500))


class AssignIn(StrictSchema):
    volunteer_id = fields.String(required=True, validate=validate.Length(1, 64))


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


class FailureOut(ma.Schema):
    reason = fields.String()
    note = fields.String()
    at = fields.AwareDateTime()


class WelfareOut(ma.Schema):
    started_at = fields.AwareDateTime()
    emergency_contact = fields.Raw(allow_none=True)
    outcome = fields.String()
    note = fields.String()
    closed_at = fields.AwareDateTime()


class AttemptOut(ma.Schema):
    volunteer_id = fields.String(allow_none=True)
    failed_at = fields.AwareDateTime(allow_none=True)
    reason = fields.String(attribute="failure.reason", metadata={"description": "why that delivery failed"})


class CodeLockOut(ma.Schema):
    kind = fields.String(metadata={"description": "pickup or handover: whose code was guessed too often"})
    at = fields.AwareDateTime()


class EscalationOut(ma.Schema):
    reason = fields.String()
    at = fields.AwareDateTime()


class TaskSchema(ma.Schema):
    id = fields.String()
    order_id = fields.String()
    status = fields.String(validate=validate.OneOf(TASK_STATES))
    pickup = fields.Nested(PlaceOut)
    dropoff = fields.Nested(DropOffOut)
    items = fields.List(fields.Nested(ItemOut))
    slot_start = fields.AwareDateTime()
    slot_end = fields.AwareDateTime()
    provider_id = fields.String()
    meal_ready = fields.Boolean()
    ready_at = fields.AwareDateTime()
    volunteer_id = fields.String(allow_none=True)
    assigned_at = fields.AwareDateTime()
    picked_up_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime()
    minutes = fields.Integer()
    batch = fields.List(fields.String(), allow_none=True, metadata={"description": "the trip's tasks, in stop order"})
    escalation = fields.Nested(EscalationOut)
    failure = fields.Nested(FailureOut)
    welfare = fields.Nested(WelfareOut)
    code_lock = fields.Nested(CodeLockOut, allow_none=True, metadata={
        "description": "set while code entry is locked after too many wrong codes; the committee unlocks it"})
    attempts = fields.List(fields.Nested(AttemptOut), metadata={
        "description": "earlier deliveries of this meal that failed before the coordinator sent it out again"})


class WhyOut(ma.Schema):
    rung = fields.String()
    to_pickup_m = fields.Float()
    route_m = fields.Float(metadata={"description": "pickup, then every drop-off in order"})
    travel_s = fields.Float()
    fairness_s = fields.Float()
    affinity_s = fields.Float()
    cost = fields.Float()


class StopOut(ma.Schema):
    task_id = fields.String()
    dropoff = fields.Nested(DropOffOut)
    items = fields.List(fields.Nested(ItemOut))


class OfferSchema(ma.Schema):
    id = fields.String()
    task_id = fields.String(metadata={"description": "the first stop's task"})
    task_ids = fields.List(fields.String(), metadata={"description": "every task of the trip, in stop order"})
    stops = fields.List(fields.Nested(StopOut), metadata={"description": "a batch's drop-offs in visiting order"})
    order_id = fields.String()
    mode = fields.String(metadata={"description": "single: only you; broadcast: the first to accept wins"})
    status = fields.String()
    expires_at = fields.AwareDateTime()
    distance_m = fields.Float()
    why = fields.Nested(WhyOut)
    pickup = fields.Nested(PlaceOut)
    dropoff = fields.Nested(DropOffOut)
    items = fields.List(fields.Nested(ItemOut))
    slot_end = fields.AwareDateTime()


class TaskArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TASK_STATES))


class MonthArgs(QueryArgs):
    class Meta:
        unknown = ma.EXCLUDE

    month = fields.String(required=True, validate=MONTH)
    volunteer_id = fields.String(metadata={"description": "coordinator only: one volunteer"})


class CorrectionIn(StrictSchema):
    minutes = fields.Integer(required=True, validate=validate.Range(0, 24 * 60))
    reason = fields.String(required=True, validate=validate.Length(5, 500))


class CorrectionOut(ma.Schema):
    from_ = fields.Integer(data_key="from", attribute="from")
    to = fields.Integer()
    reason = fields.String()
    by_name = fields.String()
    at = fields.AwareDateTime()


class HoursEntrySchema(ma.Schema):
    id = fields.String()
    volunteer_id = fields.String()
    task_id = fields.String()
    date = fields.String()
    minutes = fields.Integer()
    credited_minutes = fields.Integer()
    corrections = fields.List(fields.Nested(CorrectionOut))


class VolunteerTotal(ma.Schema):
    volunteer_id = fields.String()
    name = fields.String()
    minutes = fields.Integer()
    tasks = fields.Integer()


class MonthSchema(ma.Schema):
    month = fields.String()
    totals = fields.List(fields.Nested(VolunteerTotal))
    entries = fields.List(fields.Nested(HoursEntrySchema))


TaskPage = page_schema(TaskSchema, "TaskPage")
OfferPage = page_schema(OfferSchema, "OfferPage")
VolunteerPage = page_schema(VolunteerSchema, "VolunteerPage")


class TrackingSchema(ma.Schema):
    """What a resident may know of their meal's journey: never the volunteer's phone or position history."""
    order_id = fields.String()
    status = fields.String()
    courier_name = fields.String(allow_none=True)
    assigned_at = fields.AwareDateTime(allow_none=True)
    picked_up_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    deadline = fields.AwareDateTime(allow_none=True)
