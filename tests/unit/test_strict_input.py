"""The strict fields every schema takes (linli.schemas) and the depth check every JSON body passes
(linli.web), on their own: what they take, what they refuse, and that a refusal names the field."""
from __future__ import annotations

import marshmallow as ma
import pytest

from linli.schemas import PageArgs, QueryArgs, StrictSchema, fields
from linli.web import MAX_JSON_DEPTH, json_depth_exceeds


class Sample(StrictSchema):
    count = fields.Integer()
    share = fields.Float()
    flag = fields.Boolean()
    name = fields.String()
    zone = fields.TimeZone()
    days = fields.List(fields.Integer())


class SampleArgs(QueryArgs):
    count = fields.Integer()
    share = fields.Float()
    flag = fields.Boolean()
    days = fields.List(fields.Integer())


def refused(schema: ma.Schema, data) -> dict:
    with pytest.raises(ma.ValidationError) as caught:
        schema.load(data)
    return caught.value.messages


@pytest.mark.parametrize("value", [1.9, 2.99, 2.0, "2", "1", " 3", True, False, None, [1], 2 ** 63, -(2 ** 63) - 1])
def test_a_whole_number_is_a_json_integer_and_nothing_else(value):
    assert "count" in refused(Sample(), {"count": value})


def test_whole_numbers_and_numbers_that_are_taken():
    assert Sample().load({"count": 2 ** 63 - 1, "share": 3, "days": [1, 7]}) == {
        "count": 2 ** 63 - 1, "share": 3.0, "days": [1, 7]}
    assert Sample().load({"share": 121.5})["share"] == 121.5


@pytest.mark.parametrize("value", ["31.2", "1e3", True, False, float("nan"), float("inf"), 10 ** 400])
def test_a_number_is_never_text_a_boolean_nan_or_infinite(value):
    assert "share" in refused(Sample(), {"share": value})


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "yes", "on", None, 1.0])
def test_a_boolean_is_true_or_false(value):
    assert "flag" in refused(Sample(), {"flag": value})
    assert Sample().load({"flag": False}) == {"flag": False}


@pytest.mark.parametrize("value", ["\ud800", "王\udfff", "a\x00b", "\x00"])
def test_text_with_a_nul_or_a_lone_surrogate_is_refused(value):
    message = refused(Sample(), {"name": value})["name"][0]
    assert ("NUL" if "\x00" in value else "surrogate") in message


@pytest.mark.parametrize("value", ["A" * 300, "Mars/Olympus_Mons", "../../etc/passwd", "asia/shanghai", "", "\x00"])
def test_a_time_zone_is_a_tz_database_name(value):
    assert "zone" in refused(Sample(), {"zone": value})
    assert Sample().load({"zone": "Asia/Shanghai"}) == {"zone": "Asia/Shanghai"}


def test_query_text_is_typed_as_strictly_as_json():
    args = SampleArgs()
    assert args.load({"count": "12", "share": "-3.5", "flag": "true", "days": ["1", "2"]}) == {
        "count": 12, "share": -3.5, "flag": True, "days": [1, 2]}
    assert args.load({"flag": "false"}) == {"flag": False}
    for name, value in (("count", "2.5"), ("count", "１２"), ("count", "1_000"), ("count", " 3"), ("count", ""),
                        ("count", "9" * 30), ("share", "1e3"), ("share", "nan"), ("flag", "1"), ("flag", "True"),
                        ("flag", "yes"), ("days", ["1", "x"])):
        assert name in refused(args, {name: value}), (name, value)


def test_pages_ignore_unknown_parameters_but_type_theirs():
    assert PageArgs().load({"page": "3", "utm_source": "wechat"}) == {"page": 3, "per_page": 20}
    assert "page" in refused(PageArgs(), {"page": "3.0"})


def test_the_depth_of_json_is_measured_before_decoding():
    assert not json_depth_exceeds("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert json_depth_exceeds("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert json_depth_exceeds('{"a":' * 1000 + "1" + "}" * 1000)
    assert not json_depth_exceeds('{"a": "' + "[" * 1000 + '"}')  # brackets inside a string are text
    assert not json_depth_exceeds('["\\"[[[[", ' * 10 + "1" + "]" * 10)  # escaped quotes do not end it
    assert not json_depth_exceeds("[]" * 100_000)  # wide is fine
