"""Shared building blocks of event schemas."""
from marshmallow import EXCLUDE, Schema, fields, validate


class Data(Schema):
    """An event's data: consumers ignore fields they do not know, so producers may add fields."""

    class Meta:
        unknown = EXCLUDE


class Point(Data):
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))


class OrderRef(Data):
    order_id = fields.String(required=True)
