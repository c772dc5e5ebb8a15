"""The event envelope and one marshmallow schema per event type: the contract between services.

Producers validate `data` before it enters the outbox; consumers validate it again before
their handler runs. `tests/contract` checks every type published anywhere is registered here.
"""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from . import context
from .ids import iso, new_uuid, utcnow


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE


class Point(_Data):
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))


class OrderPlaced(_Data):
    order_id = fields.String(required=True)
    resident_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    listing_version = fields.Integer(required=True)
    provider_id = fields.String(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    slot_date = fields.String(required=True)
    slot = fields.String(required=True)
    amount_fen = fields.Integer(required=True, validate=validate.Range(min=0))


class OrderRef(_Data):
    order_id = fields.String(required=True)


class OrderCancelled(OrderRef):
    reason = fields.String(required=True)
    by_role = fields.String(required=True)
    reservation_held = fields.Boolean(required=True)


class Place(_Data):
    name = fields.String(required=True)
    address = fields.String(required=True)
    location = fields.Nested(Point, required=True)


class DropOff(_Data):
    community_id = fields.String(required=True)
    building = fields.String(required=True)
    room = fields.String(required=True)
    phone = fields.String(required=True)
    contact_name = fields.String(required=True)
    location = fields.Nested(Point, required=True)


class Item(_Data):
    title = fields.String(required=True)
    quantity = fields.Integer(required=True)


class OrderPaid(OrderRef):
    resident_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    fulfilment = fields.String(required=True, validate=validate.OneOf(["delivered", "on_site", "remote"]))
    amount_fen = fields.Integer(required=True)
    slot_start = fields.String(required=True)
    slot_end = fields.String(required=True)
    pickup = fields.Nested(Place, required=True)
    dropoff = fields.Nested(DropOff, required=True)
    items = fields.List(fields.Nested(Item), required=True)
    pickup_code = fields.String(required=True)
    handover_code = fields.String(required=True)


class OrderAccepted(OrderRef):
    provider_id = fields.String(required=True)


class OrderReady(OrderRef):
    provider_id = fields.String(required=True)


class OrderCompleted(OrderRef):
    resident_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    volunteer_id = fields.String(required=True, allow_none=True)


class ReservationConfirmed(OrderRef):
    listing_id = fields.String(required=True)
    slot_date = fields.String(required=True)
    slot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    remaining = fields.Integer(required=True)


class ReservationRejected(OrderRef):
    code = fields.String(required=True)
    reason = fields.String(required=True)


class ReservationReleased(OrderRef):
    quantity = fields.Integer(required=True)


class TaskRef(_Data):
    task_id = fields.String(required=True)
    order_id = fields.String(required=True)


class TaskOffered(TaskRef):
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    expires_at = fields.String(required=True)
    distance_m = fields.Float(required=True)


class TaskWithVolunteer(TaskRef):
    volunteer_id = fields.String(required=True)


class TaskDelivered(TaskWithVolunteer):
    minutes = fields.Integer(required=True)


class TaskFailed(TaskWithVolunteer):
    reason = fields.String(required=True)


class VolunteerVerified(_Data):
    volunteer_id = fields.String(required=True)
    account_id = fields.String(required=True)


REGISTRY: dict[str, type[Schema]] = {
    "orders.order.placed": OrderPlaced,
    "orders.order.cancelled": OrderCancelled,
    "orders.order.paid": OrderPaid,
    "orders.order.accepted": OrderAccepted,
    "orders.order.ready": OrderReady,
    "orders.order.completed": OrderCompleted,
    "catalog.reservation.confirmed": ReservationConfirmed,
    "catalog.reservation.rejected": ReservationRejected,
    "catalog.reservation.released": ReservationReleased,
    "delivery.task.created": TaskRef,
    "delivery.task.offered": TaskOffered,
    "delivery.task.assigned": TaskWithVolunteer,
    "delivery.task.picked_up": TaskWithVolunteer,
    "delivery.task.delivered": TaskDelivered,
    "delivery.task.failed": TaskFailed,
    "delivery.volunteer.verified": VolunteerVerified,
}

# Test-only types live here too, so the relay and consumers treat them like any other.
REGISTRY["test.thing.happened"] = type("ThingHappened", (_Data,), {"n": fields.Integer(required=True)})


class Envelope(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    type = fields.String(required=True, validate=validate.OneOf(sorted(REGISTRY)))
    version = fields.Integer(required=True, validate=validate.Equal(1))
    occurred_at = fields.String(required=True)
    source = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(required=True, allow_none=True)
    data = fields.Dict(required=True)


class UnknownEventType(ValueError):
    pass


def validate_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    schema = REGISTRY.get(event_type)
    if schema is None:
        raise UnknownEventType(event_type)
    errors = schema().validate(data)
    if errors:
        raise ValidationError(errors)
    return data


def make_envelope(event_type: str, data: dict[str, Any], source: str) -> dict[str, Any]:
    validate_data(event_type, data)
    event_id = new_uuid()
    return {
        "id": event_id,
        "type": event_type,
        "version": 1,
        "occurred_at": iso(utcnow()),
        "source": source,
        "correlation_id": context.correlation_id.get() or event_id,
        "causation_id": context.causation_id.get(),
        "data": data,
    }


def parse_envelope(raw: dict[str, Any]) -> dict[str, Any]:
    """Checks a received envelope and its data; raises ValidationError on anything malformed."""
    errors = Envelope().validate(raw)
    if errors:
        raise ValidationError(errors)
    validate_data(raw["type"], raw["data"])
    return raw
