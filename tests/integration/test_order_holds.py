"""Fair holds on the embedded Mongo server (issue 12, item 4): how many unpaid orders a resident, and
whoever orders for them, may hold; orders placed at once by one account are decided one after the
other; the time to pay is set once, shorter when the slot runs low, and paying never renews it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from linli.auth import Principal, Relative
from linli.domain_errors import Conflict
from services.orders import commands, saga, store
from services.orders.rules import holds
from services.orders.app import create_app
from tests.integration import orders_kit as kit

ELDER_A = Principal(id="acc_elder_a", role="resident", name="Grandpa Zhou", tags=("elder70",))
ELDER_B = Principal(id="acc_elder_b", role="resident", name="Granny Sun", tags=("elder70",))
DAUGHTER_A = Principal(id="acc_daughter_a", role="resident", name="Chen Jing",
                       family=(Relative(ELDER_A.id, ELDER_A.name, ELDER_A.tags),))
SON_B = Principal(id="acc_son_b", role="resident", name="Sun Lei",
                  family=(Relative(ELDER_A.id, ELDER_A.name, ELDER_A.tags), Relative(ELDER_B.id, ELDER_B.name,
                                                                                      ELDER_B.tags)))
NEIGHBOUR = Principal(id="acc_neighbour", role="resident", name="Li")


@pytest.fixture
def limits(linli_env):
    return kit.orders().holds  # what the bootstrap read: 1 per slot, 3 in all by default


def _place(who, limits, day_offset=0, for_elder=None, capacity=None):
    body = kit.body(for_elder=for_elder)
    body["slot_date"] = date.today() + timedelta(days=day_offset)
    listing = {**kit.listing(), **({"capacity": capacity} if capacity else {})}
    return kit.units().run(lambda u: commands.place(u, who, body, listing, None, limits))


def _refusal(who, limits, **kw) -> Conflict:
    before = store.database().orders.count_documents({})
    with pytest.raises(Conflict) as refused:
        _place(who, limits, **kw)
    assert store.database().orders.count_documents({}) == before, "a refused order is not stored"
    return refused.value


def test_the_defaults_are_one_unpaid_order_per_slot_and_three_in_all(limits):
    assert (limits.per_slot, limits.overall) == (1, 3)


def test_one_unpaid_order_per_slot_and_three_in_all_then_paying_or_cancelling_frees_a_place(limits):
    first = _place(kit.RESIDENT, limits)
    refused = _refusal(kit.RESIDENT, limits)
    assert refused.code == "hold_limit_slot" and refused.details["limit"] == 1
    assert "for this slot" in refused.message and "(1)" in refused.message
    _place(NEIGHBOUR, limits)  # another resident is not held back by the first one's order
    _place(kit.RESIDENT, limits, day_offset=1)
    _place(kit.RESIDENT, limits, day_offset=2)
    refused = _refusal(kit.RESIDENT, limits, day_offset=3)
    assert refused.code == "hold_limit_overall" and refused.details["limit"] == 3 and "(3)" in refused.message
    # catalog rejects the first (slot full): it is cancelled and no longer holds anything
    kit.event("catalog.reservation.rejected", {"order_id": first["_id"], "code": "full", "reason": "fully booked"},
              saga.on_reservation_rejected)
    _place(kit.RESIDENT, limits, day_offset=3)
    # a paid order holds nothing unpaid: the resident may order that slot again once it is paid
    second = store.database().orders.find_one({"resident_id": kit.RESIDENT.id, "slot.date": (
        date.today() + timedelta(days=1)).isoformat()})
    store.database().orders.update_one({"_id": second["_id"]}, {"$set": {"status": "paid"}})
    _place(kit.RESIDENT, limits, day_offset=1)


def test_many_orders_of_one_account_placed_at_once_are_decided_one_after_the_other(limits):
    def attempt(_):
        try:
            return _place(kit.RESIDENT, limits)["_id"]
        except Conflict as refused:
            return refused.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    placed = [o for o in outcomes if o.startswith("ord")]
    assert len(placed) == 1 and outcomes.count("hold_limit_slot") == 7, outcomes
    assert store.database().orders.count_documents({"resident_id": kit.RESIDENT.id}) == 1


def test_family_ordering_for_an_elder_uses_the_elders_limits_and_their_own(limits):
    """Two elders, two family members: no account hoards through someone else's."""
    _place(DAUGHTER_A, limits, for_elder=ELDER_A.id)
    refused = _refusal(SON_B, limits, for_elder=ELDER_A.id)  # the same elder, the same slot, another relative
    assert refused.code == "hold_limit_slot" and refused.details["account_id"] == ELDER_A.id
    assert refused.message.startswith("This resident already has 1 order for this slot")
    _place(DAUGHTER_A, limits)  # her own lunch in that slot is hers, not the elder's
    _place(SON_B, limits, for_elder=ELDER_B.id)  # the other elder
    _place(SON_B, limits, for_elder=ELDER_A.id, day_offset=1)
    _place(SON_B, limits, for_elder=ELDER_B.id, day_offset=1)
    refused = _refusal(SON_B, limits, for_elder=ELDER_B.id, day_offset=2)  # his fourth unpaid order in all
    assert refused.code == "hold_limit_overall" and refused.details["account_id"] == SON_B.id
    assert refused.message.startswith("You already have 3 orders that are not paid yet")
    # the elder herself orders another day: her own limits count the orders placed for her
    _place(ELDER_B, limits, day_offset=2)


def test_a_coordinator_orders_for_many_residents_but_not_without_limit(limits):
    most = limits.overall * holds.STAFF_OVERALL_FACTOR
    for i in range(most):
        resident = Relative(f"acc_r{i}", f"R{i}")
        kit.units().run(lambda u: commands.place(u, kit.COORDINATOR, kit.body(for_elder=resident.id),
                                                 kit.listing(), resident, limits))
    with pytest.raises(Conflict) as refused:
        extra = Relative("acc_rx", "RX")
        kit.units().run(lambda u: commands.place(u, kit.COORDINATOR, kit.body(for_elder=extra.id), kit.listing(),
                                                 extra, limits))
    assert refused.value.code == "hold_limit_overall" and refused.value.details["limit"] == most


@pytest.mark.parametrize("remaining,minutes", [(10, 15), (6, 10), (3, 5), (0, 5)])
def test_the_time_to_pay_is_set_once_from_what_is_left_and_paying_never_renews_it(linli_env, limits, remaining,
                                                                                  minutes):
    client = create_app().test_client()
    order = _place(kit.RESIDENT, limits, capacity=12)
    kit.event("catalog.reservation.confirmed", {"order_id": order["_id"], "listing_id": "lst_1",
                                                "slot_date": date.today().isoformat(), "slot": "lunch",
                                                "quantity": 1, "remaining": remaining}, saga.on_reservation_confirmed)
    held = store.database().orders.find_one({"_id": order["_id"]})
    due = held["deadline"]["due_at"]
    reserved_at = held["reserved"]["at"]
    assert held["deadline"]["kind"] == "payment_expiry"
    assert abs((due - reserved_at) - timedelta(minutes=minutes)) < timedelta(seconds=1)
    for _ in range(3):  # opening the cashier again and again
        assert client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(kit.RESIDENT)).status_code == 200
    assert store.database().orders.find_one({"_id": order["_id"]})["deadline"]["due_at"] == due
    # when it passes, the order is cancelled with the time it really had
    fired = saga.fire_due_deadlines(kit.units(due + timedelta(seconds=1)))
    assert fired == [(order["_id"], "payment_expiry")]
    gone = store.database().orders.find_one({"_id": order["_id"]})
    assert gone["status"] == "cancelled" and gone["cancel_reason"] == f"not paid within {minutes} minutes"
