"""Events catalog publishes (routing key = type). Edit only with the catalog service."""
from marshmallow import fields

from .common import OrderRef


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


EVENTS = {
    "catalog.reservation.confirmed": ReservationConfirmed,
    "catalog.reservation.rejected": ReservationRejected,
    "catalog.reservation.released": ReservationReleased,
}
