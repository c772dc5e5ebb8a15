"""Marshmallow building blocks every service's API shares: points, pages, strict input."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import RAISE, fields, validate

MAX_PAGE_SIZE = 50
PHONE = validate.Regexp(r"^\+?[0-9 -]{5,20}$", error="a phone number")


def phone(**kwargs) -> fields.String:
    """A phone number: digits, spaces and dashes, an optional leading +."""
    return fields.String(validate=PHONE, **kwargs)


class StrictSchema(ma.Schema):
    """Input schemas refuse unknown fields: nobody sets a status, a price or an owner by adding a key."""

    class Meta:
        unknown = RAISE


class PointSchema(StrictSchema):
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))


class PageArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(name, (ma.Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "total": fields.Integer(required=True),
    })


def point_to_geojson(point: dict) -> dict:
    return {"type": "Point", "coordinates": [point["lng"], point["lat"]]}


def geojson_to_point(geo: dict | None) -> dict | None:
    if not geo:
        return None
    lng, lat = geo["coordinates"]
    return {"lng": lng, "lat": lat}


def page_of(collection, query: dict, args: dict, sort: list[tuple[str, int]]) -> tuple[list[dict], dict]:
    """One page of a query, newest rules first; returns the documents and the page's numbers (with the total)."""
    total = collection.count_documents(query)
    docs = list(collection.find(query).sort(sort).skip((args["page"] - 1) * args["per_page"]).limit(args["per_page"]))
    return docs, {"page": args["page"], "per_page": args["per_page"], "total": total}
