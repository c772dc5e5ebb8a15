"""The elder's subsidised price goes only to the elder's home (issue 12, item 8): a family member ordering
for an elder at the elder's tier must deliver to the address saved in the elder's profile (carried in the
family member's token from the gateway); any other address is refused with the field named, and nothing is
stored. Two elders, two family members."""
from __future__ import annotations

import pytest

from linli.auth import Principal, Relative, issue_access_token, verify_access_token
from linli.domain_errors import RuleBroken
from services.orders import store
from tests.integration import orders_kit as kit

ZHOU = Relative("acc_zhou", "Grandpa Zhou", ("elder70",), (("lianxi", "1", "2"),))
SUN = Relative("acc_sun", "Granny Sun", ("elder70",), (("pengfei", "", ""),))  # only her community is known
NO_HOME = Relative("acc_qian", "Grandpa Qian", ("elder70",), ())
DAUGHTER = Principal(id="acc_daughter", role="resident", name="Chen Jing", family=(ZHOU, NO_HOME))
SON = Principal(id="acc_son", role="resident", name="Sun Lei", family=(SUN, ZHOU))


def _body(elder: Relative, community="lianxi", building="1", room="2") -> dict:
    body = kit.body(for_elder=elder.id, community=community)
    body["address"].update(building=building, room=room)
    return body


def _listing(community="lianxi"):
    listing = kit.listing(tiers=kit.TIERS, community=community)
    listing["community_ids"] = ["lianxi", "pengfei"]
    return listing


def _refused(who, body) -> RuleBroken:
    before = store.database().orders.count_documents({})
    with pytest.raises(RuleBroken) as refused:
        kit.place(who, body, _listing())
    assert store.database().orders.count_documents({}) == before
    assert refused.value.field == "address"
    return refused.value


def test_family_orders_at_the_elders_price_only_to_the_elders_home(linli_env):
    for who in (DAUGHTER, SON):  # both relatives of Grandpa Zhou, to his home: his price
        order = kit.place(who, _body(ZHOU, building=" 1 ", room="2"), _listing())
        assert order["amount"]["payable_fen"] == 300 and order["resident_id"] == ZHOU.id
    for building, room, community in (("9", "2", "lianxi"), ("1", "901", "lianxi"), ("1", "2", "pengfei")):
        refused = _refused(DAUGHTER, _body(ZHOU, community, building, room))
        assert "Grandpa Zhou's subsidised price is for delivery to their own home" in refused.message
    # Granny Sun's profile names her community only: anywhere in it, but not elsewhere
    assert kit.place(SON, _body(SUN, "pengfei", "5", "501"), _listing())["amount"]["payable_fen"] == 300
    assert "Granny Sun's" in _refused(SON, _body(SUN, "lianxi")).message
    # an elder with no saved address: the family is told what to do
    assert "has no address yet" in _refused(DAUGHTER, _body(NO_HOME)).message


def test_without_a_subsidised_tier_family_may_send_to_any_address(linli_env):
    order = kit.place(DAUGHTER, _body(ZHOU, "lianxi", "9", "901"), kit.listing())
    assert order["amount"]["payable_fen"] == 1500


def test_the_elders_homes_travel_in_the_family_members_token(linli_env):
    from gateway.rules.accounts import homes_of

    assert homes_of({"community_id": "lianxi", "addresses": [
        {"label": "home", "community_id": "lianxi", "building": "1", "room": "2"}]}) == (("lianxi", "1", "2"),)
    assert homes_of({"community_id": "pengfei"}) == (("pengfei", "", ""),)
    assert homes_of({}) == ()
    token = issue_access_token(SON.id, "resident", SON.name, family=SON.family)
    assert verify_access_token(token).family == SON.family
