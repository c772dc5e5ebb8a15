"""Fair holds as rules: how many unpaid orders one account may hold, and how long a hold lasts when
the slot runs low. The refusal names the limit."""
from datetime import timedelta

import pytest

from linli.domain_errors import Conflict
from services.orders.rules import deadlines, holds

LIMITS = holds.HoldLimits(per_slot=1, overall=3)
BASE = timedelta(minutes=15)


def test_a_second_unpaid_order_for_the_same_slot_is_refused_naming_the_limit():
    with pytest.raises(Conflict) as refused:
        holds.check(LIMITS, holds.Held("acc_a", "resident", in_slot=1, overall=1), for_someone_else=False)
    assert refused.value.code == "hold_limit_slot"
    assert refused.value.details["limit"] == 1
    assert "You already have 1 order for this slot that is not paid yet" in refused.value.message
    assert "(1)" in refused.value.message and "Pay for it or cancel it" in refused.value.message


def test_a_fourth_unpaid_order_anywhere_is_refused_naming_the_limit():
    holds.check(LIMITS, holds.Held("acc_a", "resident", in_slot=0, overall=2), for_someone_else=False)
    with pytest.raises(Conflict) as refused:
        holds.check(LIMITS, holds.Held("acc_a", "resident", in_slot=0, overall=3), for_someone_else=False)
    assert refused.value.code == "hold_limit_overall"
    assert refused.value.details["limit"] == 3
    assert "You already have 3 orders that are not paid yet" in refused.value.message and "(3)" in \
        refused.value.message


def test_the_refusal_for_a_resident_someone_orders_for_says_whose_limit_it_is():
    with pytest.raises(Conflict) as refused:
        holds.check(LIMITS, holds.Held("acc_elder", "resident", in_slot=1, overall=1), for_someone_else=True)
    assert refused.value.message.startswith("This resident already has 1 order for this slot")
    assert refused.value.details["account_id"] == "acc_elder"


def test_a_coordinator_ordering_at_the_desk_has_a_larger_but_finite_overall_limit():
    most = LIMITS.overall * holds.STAFF_OVERALL_FACTOR
    holds.check(LIMITS, holds.Held("acc_coord", "coordinator", in_slot=0, overall=most - 1), for_someone_else=False)
    with pytest.raises(Conflict) as refused:
        holds.check(LIMITS, holds.Held("acc_coord", "coordinator", in_slot=0, overall=most), for_someone_else=False)
    assert refused.value.details["limit"] == most


@pytest.mark.parametrize("remaining,capacity,minutes", [
    (30, 40, 15),   # plenty left: the category's own deadline
    (20, 40, 10),   # half left
    (11, 40, 10),
    (10, 40, 5),    # a quarter left
    (0, 40, 5),     # the last portion
    (3, 12, 5),
    (6, 12, 10),
    (7, 12, 15),
    (None, 40, 15),  # an old reservation that did not say
    (5, None, 15),   # a listing that did not say its capacity
])
def test_the_time_to_pay_shrinks_as_the_slot_runs_low(remaining, capacity, minutes):
    assert holds.payment_window(BASE, remaining, capacity) == timedelta(minutes=minutes)


def test_pressure_never_lengthens_a_shorter_category_deadline():
    assert holds.payment_window(timedelta(minutes=3), 1, 40) == timedelta(minutes=3)


def test_the_payment_deadline_is_set_from_what_the_reservation_left_and_its_words_say_the_real_time():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
    order = {"listing": {"category": "charity_meals", "fulfilment": "delivered"},
             "slot": {"capacity": 12}, "reserved": {"remaining": 2}}
    deadline = deadlines.deadline_after("awaiting_payment", order, now)
    assert deadline == {"kind": "payment_expiry", "due_at": now + timedelta(minutes=5), "minutes": 5}
    assert deadlines.payment_expiry_words("charity_meals", deadline["minutes"]) == "not paid within 5 minutes"
    roomy = deadlines.deadline_after("awaiting_payment", {**order, "reserved": {"remaining": 11}}, now)
    assert roomy["due_at"] == now + timedelta(minutes=15)
