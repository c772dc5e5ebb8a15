"""The event envelope, and the registry of event schemas (linli/contracts, one module per producer).

Producers validate `data` before it enters the outbox; consumers validate it again before
their handler runs. `tests/contract` checks every type published anywhere is registered.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from . import context
from .contracts import REGISTRY
from .ids import iso, new_uuid, utcnow


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
