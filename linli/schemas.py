"""Marshmallow building blocks every service's API shares: strict fields, points, pages, strict input.

Every service's schemas take their fields from here (`from linli.schemas import fields`), never from
marshmallow directly, so each new field is strict: a whole number is a JSON integer (1.9 and "2" are
refused, never truncated or converted), a boolean is true or false, a number is never text, and text
holds no NUL character and no lone surrogate. Query strings are text by nature: `QueryArgs` turns
"2" into 2 and "true" into True exactly as strictly, before the same fields check them.
tests/unit/test_strict_input.py holds every schema to this."""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import SimpleNamespace
from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import RAISE, validate
from marshmallow import fields as ma_fields

MAX_PAGE_SIZE = 50
INT64 = (-(2 ** 63), 2 ** 63 - 1)  # what MongoDB stores as a whole number
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be stored or shown, or None when it can."""
    bad = _BAD_TEXT.search(value)
    if bad is None:
        return None
    if bad.group() == "\x00":
        return "contains the NUL character (\\u0000); remove it"
    return "contains a broken character (a lone surrogate such as \\ud800); send valid Unicode text"


class CleanText:
    """Mixed into every text field: NUL and lone surrogates are refused (MongoDB and UTF-8 cannot take them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            raise ma.ValidationError(problem)
        return value


class String(CleanText, ma_fields.String):
    pass


class Url(CleanText, ma_fields.Url):
    pass


class Email(CleanText, ma_fields.Email):
    pass


class Integer(ma_fields.Integer):
    """A JSON whole number within 64 bits: 1.9, 1.0, "2" and true are refused, never truncated or converted."""
    default_error_messages = {"invalid": "a whole number, such as 3 (not a fraction, not text)",
                              "too_large": "a whole number this large cannot be stored"}

    def __init__(self, **kwargs):
        kwargs["strict"] = True
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        if not INT64[0] <= value <= INT64[1]:
            raise self.make_error("too_large")
        return value


class Float(ma_fields.Float):
    """A JSON number (whole or not): "1.5" and true are refused; NaN and infinity too."""
    default_error_messages = {"invalid": "a number, such as 121.5 (not text)"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, int) and abs(value) > 2 ** 63:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Boolean(ma_fields.Boolean):
    """JSON true or false; 1, "true" and "yes" are refused."""
    default_error_messages = {"invalid": "true or false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


@lru_cache(maxsize=1)
def tz_names() -> frozenset[str]:
    return frozenset(available_timezones())


class TimeZone(String):
    """A name from the tz database, such as Asia/Shanghai; checked against the names, never opened as given."""
    default_error_messages = {"zone": "an IANA time zone, for example Asia/Shanghai"}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value not in tz_names():
            raise self.make_error("zone")
        return value


# The one place services take fields from: marshmallow's, with the strict ones above in their place.
fields = SimpleNamespace(**{name: getattr(ma_fields, name) for name in ma_fields.__all__})
fields.String = fields.Str = String
fields.Url = fields.URL = Url
fields.Email = Email
fields.Integer = fields.Int = Integer
fields.Float = Float
fields.Boolean = fields.Bool = Boolean
fields.TimeZone = TimeZone

PHONE = validate.Regexp(r"^\+?[0-9 -]{5,20}$", error="a phone number")


def phone(**kwargs) -> String:
    """A phone number: digits, spaces and dashes, an optional leading +."""
    return String(validate=PHONE, **kwargs)


class StrictSchema(ma.Schema):
    """Input schemas refuse unknown fields: nobody sets a status, a price or an owner by adding a key."""

    class Meta:
        unknown = RAISE


_WHOLE = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"-?[0-9]{1,19}(\.[0-9]{1,19})?")
_BOOLEANS = {"true": True, "false": False}


def _from_text(field: ma_fields.Field | None, value):
    """One query-string value as the field's JSON type, when the text says exactly that; else left as text
    for the field to refuse ("2.5" for a whole number, "yes" for a boolean)."""
    if isinstance(value, list):
        inner = field.inner if isinstance(field, ma_fields.List) else None
        return [_from_text(inner, v) for v in value]
    if not isinstance(value, str):
        return value
    if isinstance(field, ma_fields.Integer) and _WHOLE.fullmatch(value):
        return int(value)
    if isinstance(field, ma_fields.Float) and _NUMBER.fullmatch(value):
        return float(value)
    if isinstance(field, ma_fields.Boolean) and value in _BOOLEANS:
        return _BOOLEANS[value]
    return value


class QueryArgs(ma.Schema):
    """Arguments from the query string: typed as strictly as JSON (see _from_text), then checked by the same
    strict fields. Every schema of query arguments derives from this one."""

    @ma.pre_load
    def _typed(self, data, **_kwargs):
        if not isinstance(data, Mapping):
            return data
        by_key = {field.data_key or name: field for name, field in self.load_fields.items()}
        return {key: _from_text(by_key.get(key), data[key]) for key in data}


class PointSchema(StrictSchema):
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))


class PageArgs(QueryArgs):
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
