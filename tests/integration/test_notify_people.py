"""Notify learns people from the gateway the real way: an account change at the gateway writes its event into
the gateway's outbox in the same transaction, the gateway's relay publishes it to the broker, and notify's
worker keeps its read model from it. Nobody publishes an account event by hand here."""
from __future__ import annotations

import pytest

from gateway import bootstrap as gateway_bootstrap
from linli.relay import Relay
from tests.conftest import eventually
from tests.integration.notify_kit import NotifyWorld
from tests.integration.test_gateway_accounts import PASSWORD, _auth, _register, _staff, catalog_communities, gateway  # noqa: F401


@pytest.fixture
def mongo_env(linli_env):
    """The gateway's fixtures run on the database alone elsewhere; here its relay and notify need the broker too,
    so they share this test's one namespace on both."""
    return linli_env


def _person(world: NotifyWorld, account_id: str) -> dict | None:
    return world.db.people.find_one({"_id": account_id})


def _relay() -> int:
    return Relay("gateway", db=gateway_bootstrap.database()).run_once()


def test_a_sign_up_and_its_profile_reach_notify_through_the_gateways_outbox_and_relay(gateway, linli_env):
    world = NotifyWorld()
    try:
        grandma = _register(gateway, "nainai", name="奶奶")
        son = _register(gateway, "son_en", name="Wang Jr")
        other = _register(gateway, "stranger", name="路人")
        changed = gateway.put("/api/v1/me/profile", headers=_auth(son), json={
            "language": "en", "phone": "139 1234 5678", "community_id": "lianxi",
            "channels": ["sms"], "quiet_hours": {"start": "22:00", "end": "07:00"}})
        assert changed.status_code == 200, changed.get_json()
        link = gateway.post("/api/v1/me/family", json={"elder_username": "nainai", "relation": "son"},
                            headers=_auth(son)).get_json()
        assert gateway.post(f"/api/v1/family/{link['id']}/approve", headers=_auth(grandma)).status_code == 200

        # what the gateway wrote for notify carries what notify needs and nothing more
        outbox = list(gateway_bootstrap.database().outbox.find({"envelope.data.account_id": son["account"]["id"]})
                      .sort("seq", 1))
        assert [e["type"] for e in outbox] == ["gateway.account.registered", "gateway.account.updated",
                                               "gateway.account.updated"]
        assert not {"addresses", "birth_year", "emergency_contact", "tags", "username", "password_hash"} \
            & set(outbox[-1]["envelope"]["data"])
        assert _relay() >= 5  # three sign-ups, the profile, the approved link

        son_id = son["account"]["id"]
        eventually(lambda: (_person(world, son_id) or {}).get("family_of") == [grandma["account"]["id"]],
                   timeout=10, what="notify to learn the son's profile and family link")
        learned = _person(world, son_id)
        assert (learned["language"], learned["phone"], learned["community_id"]) == ("en", "139 1234 5678", "lianxi")
        assert learned["gateway_prefs"] == {"channels": ["sms"], "quiet_hours": {"start": "22:00", "end": "07:00"}}
        assert _person(world, grandma["account"]["id"])["language"] == "zh-CN"
        assert _person(world, other["account"]["id"])["family_of"] == []

        # a changed profile arrives again: the next change wins
        gateway.put("/api/v1/me/profile", headers=_auth(son), json={"language": "zh-CN", "phone": "138 0000 0000"})
        assert _relay() == 1
        eventually(lambda: _person(world, son_id)["phone"] == "138 0000 0000", timeout=10, what="the new phone")
        assert _person(world, son_id)["language"] == "zh-CN"
    finally:
        world.close()


def test_a_bad_language_or_quiet_hours_is_refused_with_the_field_named_and_publishes_nothing(gateway, linli_env):
    son = _register(gateway, "son_bad", name="Wang Jr")
    before = gateway_bootstrap.database().outbox.count_documents({})
    for body, field in (({"language": "fr"}, "language"), ({"quiet_hours": {"start": "25:00", "end": "07:00"}},
                                                            "quiet_hours"), ({"channels": ["fax"]}, "channels")):
        refused = gateway.put("/api/v1/me/profile", headers=_auth(son), json=body)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["details"], refused.get_json()
    assert gateway_bootstrap.database().outbox.count_documents({}) == before


def test_staff_made_by_an_operator_and_a_disabled_account_are_told_to_notify(gateway, linli_env):
    _staff("coordinator", "lin_coord")
    _staff("admin", "root_admin")
    volunteer = _register(gateway, "xiaozhang", role="volunteer", name="小张")
    admin = gateway.post("/api/v1/auth/login", json={"username": "root_admin", "password": PASSWORD}).get_json()
    assert gateway.post(f"/api/v1/accounts/{volunteer['account']['id']}/disable", headers=_auth(admin),
                        json={"reason": "left the neighbourhood"}).status_code == 200
    db = gateway_bootstrap.database()
    coordinator = db.accounts.find_one({"username": "lin_coord"})
    [staff] = [e["envelope"]["data"] for e in db.outbox.find({"envelope.data.account_id": coordinator["_id"]})]
    assert staff["role"] == "coordinator" and staff["communities"] == ["lianxi"]
    told = [e["envelope"]["data"] for e in db.outbox.find({"envelope.data.account_id": volunteer["account"]["id"]})
            .sort("seq", 1)]
    assert [t["disabled"] for t in told] == [False, True]
