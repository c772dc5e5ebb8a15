"""The provider's listing form, read into the API's body: slots with capacity and cut-off, dated exceptions written
one a line, price tiers with who pays the rest; every mistake comes back as its own sentence naming the row, and
nothing half-read is sent."""
from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import MultiDict

from web.pages.provider import parse_listing

COMMUNITIES = {"hexin": {"id": "hexin"}, "hewai": {"id": "hewai"}}


@pytest.fixture(autouse=True)
def _request():
    app = Flask("forms")
    Babel(app)
    with app.test_request_context():
        yield


def form(**fields) -> MultiDict:
    base = {"title": "爱心午餐", "price": "15", "unit": "份", "status": "published", "community_ids": ["hexin"],
            "slot0_name": "lunch", "slot0_start": "11:00", "slot0_end": "12:30", "slot0_capacity": "20",
            "slot0_cutoff": "09:30"}
    base.update(fields)
    return MultiDict([(k, v) for k, vs in base.items() for v in (vs if isinstance(vs, list) else [vs])])


def test_a_full_form_becomes_the_listing_the_api_takes():
    body, problems = parse_listing(form(exceptions="2030-10-01 lunch closed\n\n2030-10-02 +10\n2030-10-03 closed",
                                        tier0_tag="elder70", tier0_pays="3", tier0_funder="镇政府", tier0_share="12",
                                        community_ids=["hexin", "hewai", "nowhere"]), COMMUNITIES)
    assert problems == []
    assert body == {
        "title": "爱心午餐", "description": "", "unit": "份", "status": "published", "price_fen": 1500,
        "community_ids": ["hexin", "hewai"],
        "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 20, "cutoff": "09:30"}],
        "exceptions": [{"date": "2030-10-01", "slot": "lunch", "closed": True},
                       {"date": "2030-10-02", "slot": None, "extra": 10},
                       {"date": "2030-10-03", "slot": None, "closed": True}],
        "tiers": [{"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "镇政府", "amount_fen": 1200}]}]}


def test_prices_in_yuan_keep_their_fen():
    assert parse_listing(form(price="3.50"), COMMUNITIES)[0]["price_fen"] == 350
    assert parse_listing(form(price="0"), COMMUNITIES)[0]["price_fen"] == 0
    assert parse_listing(form(price="0.01"), COMMUNITIES)[0]["price_fen"] == 1


@pytest.mark.parametrize("fields, says", [
    ({"title": "  "}, "title"),
    ({"price": "fifteen"}, "price in yuan"),
    ({"price": "-1"}, "price in yuan"),
    ({"price": "inf"}, "price in yuan"),
    ({"price": "nan"}, "price in yuan"),
    ({"community_ids": ["nowhere"]}, "community"),
    ({"slot0_capacity": "lots"}, "Time slot 1"),
    ({"slot0_capacity": "²"}, "Time slot 1"),  # a digit to str.isdigit, not to int()
    ({"slot0_end": "10:00"}, "Time slot 1"),  # ends before it starts
    ({"slot0_start": "25:00"}, "Time slot 1"),
    ({"slot0_cutoff": "soon"}, "Time slot 1"),
    ({"exceptions": "2030-10-01 lunch closed\ntomorrow closed"}, "Exception line 2"),
    ({"exceptions": "2030-10-01 +0"}, "Exception line 1"),
    ({"exceptions": "2030-10-01 lunch"}, "Exception line 1"),
    ({"tier0_tag": "vip", "tier0_pays": "3"}, "Price tier 1"),
    ({"tier0_tag": "elder70", "tier0_pays": "three"}, "Price tier 1"),
    ({"tier0_tag": "elder70", "tier0_pays": "1e400"}, "Price tier 1"),
    ({"tier0_tag": "elder70", "tier0_pays": "3", "tier0_share": "12"}, "Price tier 1"),  # a share with no funder
])
def test_each_mistake_is_a_sentence_that_names_where_it_is(fields, says):
    _, problems = parse_listing(form(**fields), COMMUNITIES)
    assert len(problems) == 1 and says in problems[0], problems


def test_empty_rows_are_left_out_and_an_unknown_state_is_published():
    body, problems = parse_listing(form(status="deleted", slot0_name="", slot0_start="", slot0_end="",
                                        slot0_capacity="", slot0_cutoff=""), COMMUNITIES)
    assert problems == [] and body["slots"] == [] and body["tiers"] == [] and body["status"] == "published"
