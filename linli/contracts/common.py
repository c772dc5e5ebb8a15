"""Shared building blocks of event schemas."""
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate


class Data(Schema):
    """An event's data: consumers ignore fields they do not know, so producers may add fields."""

    class Meta:
        unknown = EXCLUDE


class Point(Data):
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))


class OrderRef(Data):
    order_id = fields.String(required=True)


@dataclass(frozen=True)
class Event:
    """An event to emit: its type and its data, already checked against the type's schema."""
    type: str
    data: dict[str, Any]


class Builder:
    """Builds one event type: `task_offered(task_id=..., ...)` checks the data against the type's schema and
    returns an `Event` that `Unit.emit` takes. Each producer's contracts module names one builder per type it
    emits; emit sites call the builder and never spell the type (tests/contract checks both)."""

    def __init__(self, event_type: str, schema: type[Schema]):
        self.type = event_type
        self.schema = schema

    def __call__(self, **data: Any) -> Event:
        errors = self.schema().validate(data)
        if errors:
            raise ValidationError({self.type: errors})
        return Event(self.type, data)

    def __repr__(self) -> str:
        return f"<builder of {self.type}>"


def registry(*builders: Builder) -> dict[str, type[Schema]]:
    """A producer's EVENTS table (type -> schema), made from its builders so each type is spelled once."""
    table = {b.type: b.schema for b in builders}
    assert len(table) == len(builders), "two builders of one event type"
    return table
