"""Blind-review rules and scorecard arithmetic, without I/O."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from linli.domain_errors import RuleBroken
from services.catalog.rules import reviews

DONE = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)


def test_reviews_stay_blind_until_both_sides_write_or_seven_days_pass():
    now = DONE + timedelta(days=1)
    assert reviews.visible_from(DONE, {"resident_to_provider"}, now) == DONE + timedelta(days=7)
    assert reviews.visible_from(DONE, {"resident_to_provider", "resident_to_volunteer"}, now) == DONE + timedelta(days=7)
    assert reviews.visible_from(DONE, {"resident_to_provider", "provider_to_resident"}, now) == now
    late = DONE + timedelta(days=9)
    assert reviews.visible_from(DONE, {"resident_to_provider", "provider_to_resident"}, late) == DONE + timedelta(days=7)


def test_each_direction_has_its_author_and_subject():
    parties = reviews.Parties("res", "prv", "vol")
    assert [reviews.subject_of(d, parties) for d in reviews.DIRECTIONS] == ["prv", "vol", "res"]
    assert [reviews.author_role(d) for d in reviews.DIRECTIONS] == ["resident", "resident", "provider"]
    with pytest.raises(RuleBroken) as raised:
        reviews.subject_of("resident_to_volunteer", reviews.Parties("res", "prv", None))
    assert raised.value.field == "direction"


def test_a_scorecard_counts_good_neutral_and_bad_and_how_fast_the_provider_answers():
    now = DONE + timedelta(days=40)
    stars = [(5, 1), (4, 2), (3, 3), (1, 35), (2, 39)]  # (stars, days ago)
    given = [{"stars": s, "created_at": now - timedelta(days=d)} for s, d in stars]
    paid = DONE
    meal_by, repair_by = paid + timedelta(minutes=30), paid + timedelta(hours=48)  # as orders.order.paid says
    orders = [
        {"answer_by": meal_by, "paid_at": paid, "answered_at": paid + timedelta(minutes=20), "completed_at": now},
        {"answer_by": meal_by, "paid_at": paid, "answered_at": paid + timedelta(minutes=40)},
        {"answer_by": repair_by, "paid_at": paid, "answered_at": paid + timedelta(hours=47), "completed_at": now},
        {"answer_by": repair_by, "paid_at": paid},  # not answered yet: not in the answer figures
    ]
    card = reviews.scorecard(given, orders, now)
    assert (card["count"], card["average"], card["good"], card["neutral"], card["bad"]) == (5, 3.0, 2, 1, 2)
    assert card["last_30_days"] == {"count": 3, "average": 4.0, "good": 2, "neutral": 1, "bad": 0}
    assert card["completed_orders"] == 2 and card["answered_orders"] == 3
    assert card["answered_in_time_share"] == 0.667 and card["median_answer_minutes"] == 40.0
    # an answer exactly at the deadline is in time; one noted before orders said its deadline is not judged
    edge = [{"answer_by": meal_by, "paid_at": paid, "answered_at": meal_by},
            {"paid_at": paid, "answered_at": paid + timedelta(hours=9)}]
    judged = reviews.scorecard([], edge, now)
    assert (judged["answered_orders"], judged["answered_in_time_share"]) == (2, 1.0)
    empty = reviews.scorecard([], [], now)
    assert (empty["average"], empty["answered_in_time_share"], empty["median_answer_minutes"]) == (None, None, None)
    assert reviews.score(given) == {"average": 3.0, "count": 5}
