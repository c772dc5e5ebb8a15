"""Orders' request and response shapes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from linli.schemas import PageArgs, PointSchema, QueryArgs, StrictSchema, fields, page_schema, phone

from .rules.moves import STATES

# what an id looks like (new_id: a prefix, "_" and hex; seeded ids: letters, digits, "_" and "-"): nothing
# that could add a path or a parameter to the internal URL it goes into
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}\Z"
ID_WORDS = "an id: letters, digits, - and _ only"
ID = validate.Regexp(ID_PATTERN, error=ID_WORDS)


class EmergencyContactIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    phone = phone(required=True)
    relation = fields.String(load_default="", validate=validate.Length(0, 20))


class AddressIn(StrictSchema):
    community_id = fields.String(required=True, validate=validate.Length(1, 40))
    building = fields.String(required=True, validate=validate.Length(1, 40))
    room = fields.String(required=True, validate=validate.Length(1, 20))
    contact_name = fields.String(required=True, validate=validate.Length(1, 40))
    phone = phone(required=True)
    location = fields.Nested(PointSchema, required=True)
    emergency_contact = fields.Nested(EmergencyContactIn, metadata={
        "description": "who to call if nobody opens the door (from the resident's profile)"})


class OrderIn(StrictSchema):
    listing_id = fields.String(required=True, validate=ID)
    quantity = fields.Integer(required=True, validate=validate.Range(1, 100))
    slot_date = fields.Date(required=True)
    slot = fields.String(required=True, validate=validate.Length(1, 40))
    address = fields.Nested(AddressIn, required=True)
    notes = fields.String(load_default="", validate=validate.Length(0, 500))
    for_resident_id = fields.String(validate=ID, metadata={
        "description": "order for an elder whose family link is approved, or, as a coordinator, for a resident of "
                       "your communities; the order records who placed it"})


class CancelIn(StrictSchema):
    reason = fields.String(load_default="cancelled by the resident", validate=validate.Length(1, 200))


class DeclineIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 200),
                           metadata={"example": "the kitchen is closed today"})


class AddressFixIn(StrictSchema):
    building = fields.String(validate=validate.Length(1, 40))
    room = fields.String(validate=validate.Length(1, 20))
    contact_name = fields.String(validate=validate.Length(1, 40))
    phone = phone()


class RedeliverIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 200),
                           metadata={"example": "the room number was wrong; the resident lives in 302"})
    address = fields.Nested(AddressFixIn, metadata={
        "description": "corrections to the delivery address within the same community, when it was wrong"})
    remake = fields.Boolean(load_default=False, metadata={
        "description": "the meal spoiled or was lost on the way: the kitchen makes it again before it goes out"})


class RefundIn(StrictSchema):
    amount_fen = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class RefundSchema(ma.Schema):
    id = fields.String()
    order_id = fields.String()
    amount_fen = fields.Integer()
    reason = fields.String()
    status = fields.String()


class StatementArgs(QueryArgs):
    party = fields.String(required=True, validate=validate.Length(1, 80),
                          metadata={"description": "a funder's name, or 'resident' for what residents paid"})
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="YYYY-MM"))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class StatementLine(ma.Schema):
    order_id = fields.String()
    kind = fields.String()
    amount_fen = fields.Integer()
    at = fields.AwareDateTime()
    listing_title = fields.String()


class StatementSchema(ma.Schema):
    party = fields.String()
    month = fields.String()
    total_fen = fields.Integer()
    orders = fields.Integer()
    lines = fields.List(fields.Nested(StatementLine))


class ProviderStatementArgs(QueryArgs):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="YYYY-MM"))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class ProviderStatementLine(StatementLine):
    party = fields.String(metadata={"description": "'resident', or the funder who pays a share"})


class PartyTotal(ma.Schema):
    party = fields.String()
    amount_fen = fields.Integer()


class ProviderStatementSchema(ma.Schema):
    month = fields.String()
    total_fen = fields.Integer()
    orders = fields.Integer()
    parties = fields.List(fields.Nested(PartyTotal))
    lines = fields.List(fields.Nested(ProviderStatementLine))


class Actor(ma.Schema):
    role = fields.String()
    id = fields.String(allow_none=True)


class TimelineEntry(ma.Schema):
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String()
    by = fields.Nested(Actor)
    at = fields.AwareDateTime()
    reason = fields.String()


class FunderShare(ma.Schema):
    funder = fields.String()
    amount_fen = fields.Integer()


class AmountSchema(ma.Schema):
    base_price_fen = fields.Integer()
    unit_price_fen = fields.Integer()
    quantity = fields.Integer()
    total_fen = fields.Integer()
    payable_fen = fields.Integer(metadata={"description": "what the resident pays"})
    tier = fields.String(allow_none=True, metadata={"description": "the eligibility tag whose price applied"})
    funders = fields.List(fields.Nested(FunderShare))


class Escalation(ma.Schema):
    kind = fields.String()
    at = fields.AwareDateTime()


class DeadlineOut(ma.Schema):
    kind = fields.String()
    due_at = fields.AwareDateTime()


class ListingBrief(ma.Schema):
    id = fields.String()
    version = fields.Integer()
    title = fields.String()
    price_fen = fields.Integer()
    unit = fields.String()
    fulfilment = fields.String()
    category = fields.String()


class ProviderBrief(ma.Schema):
    id = fields.String()
    name = fields.String()
    address = fields.String()


class SlotOut(ma.Schema):
    date = fields.String()
    name = fields.String()
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()


class AddressOut(ma.Schema):
    community_id = fields.String()
    building = fields.String()
    room = fields.String()
    contact_name = fields.String()
    phone = fields.String()
    location = fields.Nested(PointSchema)


class CourierOut(ma.Schema):
    volunteer_id = fields.String()
    task_id = fields.String()
    assigned_at = fields.AwareDateTime()


class DeliveryProblem(ma.Schema):
    reason = fields.String(metadata={"description": "what the volunteer reported: wrong_address, refused, ..."})
    at = fields.AwareDateTime()


class PaymentBrief(ma.Schema):
    id = fields.String()
    status = fields.String()


class RemakeOut(ma.Schema):
    at = fields.AwareDateTime()
    by = fields.String()
    reason = fields.String()


class OrderSchema(ma.Schema):
    id = fields.String()
    status = fields.String(validate=validate.OneOf(STATES))
    status_text = fields.String()
    resident_id = fields.String()
    ordered_by = fields.Nested(Actor, allow_none=True)
    listing = fields.Nested(ListingBrief)
    provider = fields.Nested(ProviderBrief)
    quantity = fields.Integer()
    slot = fields.Nested(SlotOut)
    address = fields.Nested(AddressOut)
    notes = fields.String()
    amount = fields.Nested(AmountSchema)
    payment = fields.Nested(PaymentBrief, allow_none=True)
    courier = fields.Nested(CourierOut, allow_none=True)
    delivery_problem = fields.Nested(DeliveryProblem, allow_none=True, metadata={
        "description": "a failed delivery waiting for the coordinator: deliver again (redeliver) or cancel and refund"})
    redeliveries = fields.Integer(metadata={"description": "how many times the coordinator sent the meal out again"})
    remake = fields.Nested(RemakeOut, allow_none=True, metadata={
        "description": "the coordinator's last request that the kitchen make the meal again"})
    cancel_reason = fields.String()
    refunded_fen = fields.Integer()
    deadline = fields.Nested(DeadlineOut, allow_none=True)
    escalations = fields.List(fields.Nested(Escalation))
    handover_code = fields.String(metadata={"description": "shown to the resident: give it to the volunteer"})
    pickup_code = fields.String(metadata={"description": "shown to the provider: give it to the volunteer"})
    timeline = fields.List(fields.Nested(TimelineEntry))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class OrderArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATES))
    attention = fields.Boolean(metadata={
        "description": "only open orders that need the coordinator: a missed deadline or a failed delivery"})
    with_deadline = fields.Boolean(metadata={
        "description": "only open orders with a deadline still running (the kitchen's answer, ready, remake), "
                       "soonest due first"})


OrderPage = page_schema(OrderSchema, "OrderPage")


class PaymentSchema(ma.Schema):
    payment_id = fields.String()
    order_id = fields.String()
    status = fields.String()
    amount_fen = fields.Integer()
    cashier_url = fields.String()


class NotifyAck(ma.Schema):
    code = fields.String()
    message = fields.String()
