"""Accounts at the gateway: sign-in done right, throttling in shared storage, sessions that end,
tags only a coordinator sets, family links, and the headers the one door adds."""
from __future__ import annotations

import threading

import pytest

from linli.auth import verify_access_token
from linli.config import reset_settings

PASSWORD = "a-good-password"


COMMUNITIES = ("lianxi", "pengfei")


@pytest.fixture
def catalog_communities(mongo_env, monkeypatch):
    """A stand-in for the catalog's public list of communities (all the gateway asks it)."""
    from flask import Flask
    from werkzeug.serving import make_server

    from devstack.net import free_port

    fake = Flask("catalog-communities")
    fake.get("/api/v1/catalog/communities")(lambda: [{"id": c, "name": c} for c in COMMUNITIES])
    port = free_port()
    server = make_server("127.0.0.1", port, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LINLI_CATALOG_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    yield COMMUNITIES
    server.shutdown()


@pytest.fixture
def gateway(mongo_env, catalog_communities, monkeypatch):
    monkeypatch.setenv("LINLI_SIGNUP_LIMIT", "100 per hour")
    monkeypatch.setenv("LINLI_CORS_ORIGINS", "https://app.linli.example")
    reset_settings()
    from gateway.app import create_app

    return create_app().test_client()


def _register(client, username, role="resident", name=None):
    response = client.post("/api/v1/auth/register", json={"username": username, "password": PASSWORD,
                                                         "name": name or username, "role": role})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _auth(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _staff(role, username):
    from gateway.admin import create_account

    create_account(username, PASSWORD, username, role, ("lianxi",) if role == "coordinator" else ())


def _login(client, username, password=PASSWORD, address="10.0.0.1"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_nobody_raises_their_own_rights(gateway):
    for role in ("coordinator", "admin"):
        refused = gateway.post("/api/v1/auth/register", json={"username": f"x{role}", "password": PASSWORD,
                                                              "name": "X", "role": role})
        assert refused.status_code == 422 and "role" in refused.get_json()["error"]["details"]
    sneaky = gateway.post("/api/v1/auth/register", json={"username": "sneaky", "password": PASSWORD, "name": "S",
                                                         "tags": ["elder70"]})
    assert sneaky.status_code == 422 and "tags" in sneaky.get_json()["error"]["details"]
    injected = gateway.post("/api/v1/auth/login", json={"username": {"$gt": ""}, "password": PASSWORD})
    assert injected.status_code == 422 and "username" in injected.get_json()["error"]["details"]
    resident = _register(gateway, "plain")
    staff = gateway.post("/api/v1/accounts", json={"username": "boss", "password": PASSWORD, "name": "B",
                                                   "role": "admin"}, headers=_auth(resident))
    assert staff.status_code == 403
    _staff("admin", "root1")
    root = _login(gateway, "root1").get_json()
    lonely = gateway.post("/api/v1/accounts", json={"username": "lonely", "password": PASSWORD, "name": "L",
                                                    "role": "coordinator"}, headers=_auth(root))
    assert lonely.status_code == 422 and "community_ids" in lonely.get_json()["error"]["details"]
    made = gateway.post("/api/v1/accounts", json={"username": "lin2", "password": PASSWORD, "name": "L",
                                                  "role": "coordinator", "community_ids": ["lianxi"]},
                        headers=_auth(root))
    assert made.status_code == 201
    assert verify_access_token(_login(gateway, "lin2").get_json()["access_token"]).communities == ("lianxi",)


def test_a_password_guesser_is_slowed_down_but_cannot_lock_the_owner_out(gateway):
    _register(gateway, "wang")
    assert _login(gateway, "wang", address="10.0.0.2").status_code == 200  # the owner's phone, used before
    for _ in range(5):
        assert _login(gateway, "wang", "wrong-password", address="10.6.6.6").status_code == 401
    blocked = _login(gateway, "wang", address="10.6.6.6")  # even the right password waits, from there
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "wait" in blocked.get_json()["error"]["message"]
    assert int(blocked.headers["Retry-After"]) <= 15 * 60, "a slow-down, not a lock"
    assert _login(gateway, "wang", address="10.0.0.2").status_code == 200, "the owner signs in from their phone"
    assert _login(gateway, "wang", address="10.0.0.3").status_code == 200, "and from a place never used before"
    assert _login(gateway, "admin", "wrong-password", address="10.6.6.6").status_code == 401


def test_brute_force_from_one_address_is_stopped_whichever_accounts_it_tries(gateway):
    _register(gateway, "lili")
    for n in range(20):
        assert _login(gateway, f"nobody{n}", "wrong-password", address="10.9.9.9").status_code == 401
    assert _login(gateway, "lili", "wrong-password", address="10.9.9.9").status_code == 429
    assert _login(gateway, "lili", address="10.9.9.9").status_code == 429, "that address tried too many accounts"
    assert _login(gateway, "lili", address="10.0.0.3").status_code == 200


def test_guesses_spread_over_many_addresses_stop_at_the_account_limit_except_for_the_owners_places(gateway):
    _register(gateway, "zhou")
    assert _login(gateway, "zhou", address="10.0.0.2").status_code == 200  # the owner's phone
    for n in range(30):  # a botnet: 3 guesses from each of 10 addresses, under every per-address limit
        assert _login(gateway, "zhou", f"guess-{n}", address=f"198.51.100.{n // 3}").status_code == 401
    assert _login(gateway, "zhou", "guess-31", address="198.51.100.77").status_code == 429
    assert _login(gateway, "zhou", address="198.51.100.78").status_code == 429, "an unknown place waits"
    assert _login(gateway, "zhou", address="10.0.0.2").status_code == 200, "the owner's known place does not"


def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(gateway):
    first = _register(gateway, "zhou")
    second = gateway.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    stolen = gateway.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert stolen.status_code == 401
    after_theft = gateway.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after_theft.status_code == 401, "reuse revokes the whole family"
    fresh = _login(gateway, "zhou").get_json()
    assert gateway.post("/api/v1/auth/logout", json={"refresh_token": fresh["refresh_token"]}).status_code == 204
    assert gateway.post("/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}).status_code == 401


def test_only_a_coordinator_sets_eligibility_tags_and_they_travel_in_the_token(gateway):
    elder = _register(gateway, "grandpa")
    _staff("coordinator", "lin")
    lin = _login(gateway, "lin").get_json()
    body = {"tags": ["elder70", "living_alone"], "checked": "saw his ID card, born 1950"}
    unplaced = gateway.put(f"/api/v1/accounts/{elder['account']['id']}/tags", json=body, headers=_auth(lin))
    assert unplaced.status_code == 404, "a coordinator tags only residents who live in its communities"
    assert gateway.put("/api/v1/me/profile", json={"community_id": "lianxi"}, headers=_auth(elder)).status_code == 200
    assert gateway.put(f"/api/v1/accounts/{elder['account']['id']}/tags", json=body,
                       headers=_auth(elder)).status_code == 403
    bad = gateway.put(f"/api/v1/accounts/{elder['account']['id']}/tags", json={**body, "tags": ["vip"]},
                      headers=_auth(lin))
    assert bad.status_code == 422 and "tags" in bad.get_json()["error"]["details"]
    assert gateway.put(f"/api/v1/accounts/{elder['account']['id']}/tags", json=body,
                       headers=_auth(lin)).status_code == 200
    assert verify_access_token(_login(gateway, "grandpa").get_json()["access_token"]).tags == ("elder70",
                                                                                             "living_alone")
    profile = gateway.put("/api/v1/me/profile", json={"birth_year": 1950, "emergency_contact": {
        "name": "Daughter", "phone": "139 0000 0001"}}, headers=_auth(elder))
    assert profile.status_code == 200 and profile.get_json()["profile"]["birth_year"] == 1950
    assert gateway.put("/api/v1/me/profile", json={"tags": ["elder70"]}, headers=_auth(elder)).status_code == 422


def test_a_family_member_orders_for_an_elder_only_once_the_elder_approves(gateway):
    elder = _register(gateway, "nainai", name="Grandma Chen")
    daughter = _register(gateway, "xiaochen", name="Chen Jing")
    link = gateway.post("/api/v1/me/family", json={"elder_username": "nainai", "relation": "daughter"},
                        headers=_auth(daughter)).get_json()
    assert verify_access_token(_login(gateway, "xiaochen").get_json()["access_token"]).family == ()
    assert gateway.post(f"/api/v1/family/{link['id']}/approve", headers=_auth(daughter)).status_code == 403
    assert gateway.post(f"/api/v1/family/{link['id']}/approve", headers=_auth(elder)).get_json()["status"] == "approved"
    family = verify_access_token(_login(gateway, "xiaochen").get_json()["access_token"]).family
    assert [(r.id, r.name) for r in family] == [(elder["account"]["id"], "Grandma Chen")]


def test_the_committee_enrols_an_elder_without_a_smartphone_and_approves_the_family(gateway):
    from gateway.admin import create_account

    _staff("coordinator", "lin")
    create_account("wang", PASSWORD, "wang", "coordinator", ("pengfei",))
    lin, wang = _login(gateway, "lin").get_json(), _login(gateway, "wang").get_json()
    elder = {"name": "Grandpa Zhao", "community_id": "lianxi", "phone": "021 5888-1234", "birth_year": 1941,
             "addresses": [{"label": "home", "community_id": "lianxi", "building": "7", "room": "302"}]}
    retry = {**_auth(lin), "Idempotency-Key": "enrol-zhao-1"}
    made = gateway.post("/api/v1/accounts/residents", json=elder, headers=retry)
    assert made.status_code == 201, made.get_json()
    zhao = made.get_json()
    assert (zhao["role"], zhao["profile"]["community_id"], zhao["profile"]["birth_year"]) == ("resident", "lianxi", 1941)
    assert gateway.post("/api/v1/accounts/residents", json=elder, headers=retry).get_json()["id"] == zhao["id"]
    again = gateway.post("/api/v1/accounts/residents", json=elder, headers=_auth(lin))
    assert again.status_code == 409 and "phone" in again.get_json()["error"]["details"]
    assert [a["id"] for a in gateway.get("/api/v1/accounts?q=58881234", headers=_auth(lin)).get_json()["items"]] == [
        zhao["id"]]
    assert _login(gateway, zhao["username"], password="").status_code in (401, 422)
    assert _login(gateway, zhao["username"], password="anything at all").status_code == 401, "nobody signs in as him"

    moved = gateway.put(f"/api/v1/accounts/{zhao['id']}/profile", headers=_auth(lin), json={
        "addresses": [{"label": "home", "community_id": "lianxi", "building": "7", "room": "101"}]})
    assert moved.status_code == 200 and moved.get_json()["profile"]["addresses"][0]["room"] == "101"
    assert moved.get_json()["profile"]["phone"] == "021 5888-1234", "what was not sent stays"
    away = gateway.put(f"/api/v1/accounts/{zhao['id']}/profile", json={"community_id": "pengfei"}, headers=_auth(lin))
    assert away.status_code == 422 and "community_id" in away.get_json()["error"]["details"]
    assert gateway.put(f"/api/v1/accounts/{zhao['id']}/profile", json={"phone": "021 5888 7777"},
                       headers=_auth(wang)).status_code == 404, "another community's committee cannot"

    elsewhere = gateway.post("/api/v1/accounts/residents", json={**elder, "phone": "021 5888 9999"}, headers=_auth(wang))
    assert elsewhere.status_code == 422 and "you enrol residents of pengfei" in \
        elsewhere.get_json()["error"]["details"]["community_id"][0]
    nameless = gateway.post("/api/v1/accounts/residents", json={"community_id": "lianxi"}, headers=_auth(lin))
    assert nameless.status_code == 422 and "name" in nameless.get_json()["error"]["details"]
    resident = _register(gateway, "zhao_son", name="Zhao Ming")
    gateway.put("/api/v1/me/profile", json={"community_id": "lianxi"}, headers=_auth(resident))
    own = gateway.put(f"/api/v1/accounts/{resident['account']['id']}/profile", json={"birth_year": 1980},
                      headers=_auth(lin))
    assert own.status_code == 403, "a resident who signs in keeps their own profile"
    assert gateway.post("/api/v1/accounts/residents", json=elder, headers=_auth(resident)).status_code == 403

    link = gateway.post("/api/v1/me/family", json={"elder_username": zhao["username"], "relation": "son"},
                        headers=_auth(resident)).get_json()
    assert gateway.post(f"/api/v1/family/{link['id']}/approve", headers=_auth(wang)).status_code == 404, \
        "only a coordinator of the elder's community approves"
    assert gateway.post(f"/api/v1/family/{link['id']}/approve", headers=_auth(lin)).get_json()["status"] == "approved"
    family = verify_access_token(_login(gateway, "zhao_son").get_json()["access_token"]).family
    assert [(r.id, r.name) for r in family] == [(zhao["id"], "Grandpa Zhao")]
    # his home, as the committee last saved it, is where his subsidised meals may go (orders checks it)
    assert family[0].homes == (("lianxi", "7", "101"),)


def test_the_door_adds_security_headers_cors_for_allowed_origins_and_refuses_big_bodies(gateway):
    page = gateway.get("/")
    assert page.headers["X-Content-Type-Options"] == "nosniff" and "frame-ancestors 'none'" in \
        page.headers["Content-Security-Policy"]
    allowed = gateway.get("/api/v1/me", headers={"Origin": "https://app.linli.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.linli.example"
    other = gateway.get("/api/v1/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = gateway.options("/api/v1/orders", headers={"Origin": "https://app.linli.example",
                                                           "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]
    huge = gateway.post("/api/v1/orders", data=b"x" * (300 * 1024), headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "body_too_large"


def test_interactive_docs_are_served_without_any_outside_network(gateway):
    page = gateway.get("/docs")
    assert page.status_code == 200 and 'id="swagger-ui"' in page.get_data(as_text=True)
    assert "script-src" not in page.headers["Content-Security-Policy"] or "'unsafe-inline'" not in \
        page.headers["Content-Security-Policy"].split("script-src")[1]
    bundle = gateway.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.get_data()) > 100_000
    assert gateway.get("/docs/assets/../../etc/passwd").status_code == 404
    assert gateway.get("/docs/assets/index.html").status_code == 404
    assert "openapi.json" in gateway.get("/docs/init.js").get_data(as_text=True)
    listing = gateway.get("/docs/list").get_data(as_text=True)
    assert "/api/v1/auth/login" in listing


def test_behind_a_trusted_proxy_the_address_throttled_is_the_clients_and_a_forged_one_is_ignored(
        mongo_env, catalog_communities, monkeypatch):
    monkeypatch.setenv("LINLI_SIGNUP_LIMIT", "100 per hour")
    monkeypatch.setenv("LINLI_TRUSTED_PROXIES", "1")
    reset_settings()
    from gateway.app import create_app

    behind = create_app().test_client()

    def login(username, password, client_address, forged=None):
        chain = f"{forged}, {client_address}" if forged else client_address
        return behind.post("/api/v1/auth/login", json={"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": "10.0.0.254"}, headers={"X-Forwarded-For": chain})

    _register(behind, "zhou")
    for n in range(20):  # one client behind the proxy, claiming a new address each time
        login(f"nobody{n}", "wrong-password", "203.0.113.7", forged=f"198.51.100.{n}")
    assert login("zhou", PASSWORD, "203.0.113.7").status_code == 429, "the address the proxy saw is throttled"
    assert login("zhou", PASSWORD, "203.0.113.8").status_code == 200, "another client behind the same proxy is not"


def test_an_admin_disables_a_staff_account_and_its_sessions_and_tokens_stop_at_once(gateway):
    _staff("admin", "root1")
    _staff("admin", "root2")
    _staff("coordinator", "lin")
    from gateway.admin import create_account

    create_account("wang", PASSWORD, "wang", "coordinator", ("pengfei",))
    root1, lin, wang = (_login(gateway, u).get_json() for u in ("root1", "lin", "wang"))
    lin_id = lin["account"]["id"]
    reason = {"reason": "moved to another district"}
    assert gateway.post(f"/api/v1/accounts/{lin_id}/disable", json=reason, headers=_auth(wang)).status_code == 403
    assert gateway.get("/api/v1/me", headers=_auth(lin)).status_code == 200, "a coordinator cannot disable another"
    bad = gateway.post(f"/api/v1/accounts/{lin_id}/disable", json={}, headers=_auth(root1))
    assert bad.status_code == 422 and "reason" in bad.get_json()["error"]["details"]
    myself = gateway.post(f"/api/v1/accounts/{root1['account']['id']}/disable", json=reason, headers=_auth(root1))
    assert myself.status_code == 409 and "another admin" in myself.get_json()["error"]["message"]
    assert gateway.post("/api/v1/accounts/acc_nobody/disable", json=reason, headers=_auth(root1)).status_code == 404

    done = gateway.post(f"/api/v1/accounts/{lin_id}/disable", json=reason, headers=_auth(root1))
    assert done.status_code == 200 and done.get_json()["id"] == lin_id
    assert gateway.post(f"/api/v1/accounts/{lin_id}/disable", json=reason, headers=_auth(root1)).status_code == 200
    shut = gateway.get("/api/v1/me", headers=_auth(lin))
    assert shut.status_code == 401 and "disabled" in shut.get_json()["error"]["message"]
    proxied = gateway.get("/api/v1/delivery/tasks", headers=_auth(lin))
    assert proxied.status_code == 401, "its access token goes no further than the door"
    assert gateway.post("/api/v1/auth/refresh", json={"refresh_token": lin["refresh_token"]}).status_code == 401
    again = _login(gateway, "lin")
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "account_disabled"
    assert _login(gateway, "lin", "wrong-password").status_code == 401, "nothing told to someone guessing"
    assert gateway.get("/api/v1/me", headers=_auth(wang)).status_code == 200, "the other coordinator works on"
    assert gateway.get("/api/v1/me", headers=_auth(_login(gateway, "root2").get_json())).status_code == 200


def test_an_admin_finds_coordinators_by_name_to_disable_one_and_a_coordinator_finds_only_residents(gateway):
    _staff("admin", "root1")
    _staff("coordinator", "lin")
    from gateway.admin import create_account

    create_account("wang", PASSWORD, "Wang Director", "coordinator", ("pengfei",))
    root1, lin = _login(gateway, "root1").get_json(), _login(gateway, "lin").get_json()
    _register(gateway, "lin_resident", name="Lin the resident")
    found = gateway.get("/api/v1/accounts?q=wang&role=coordinator", headers=_auth(root1))
    assert found.status_code == 200 and [a["username"] for a in found.get_json()["items"]] == ["wang"]
    staff = gateway.get("/api/v1/accounts?q=lin&role=coordinator", headers=_auth(root1)).get_json()["items"]
    assert [a["username"] for a in staff] == ["lin"], "the coordinator, not the resident named Lin"
    assert [a["role"] for a in gateway.get("/api/v1/accounts?q=lin", headers=_auth(root1)).get_json()["items"]] == [
        "resident"], "residents by default"
    refused = gateway.get("/api/v1/accounts?q=wang&role=coordinator", headers=_auth(lin))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert gateway.get("/api/v1/accounts?role=nobody", headers=_auth(root1)).status_code == 422


def test_a_resident_names_only_communities_linli_serves_in_their_profile(gateway):
    first, second = _register(gateway, "chen1"), _register(gateway, "chen2")
    for who in (first, second):
        nowhere = gateway.put("/api/v1/me/profile", json={"community_id": "atlantis"}, headers=_auth(who))
        assert nowhere.status_code == 422 and "community_id" in nowhere.get_json()["error"]["details"]
        address = {"label": "home", "community_id": "atlantis", "building": "1", "room": "101"}
        hidden = gateway.put("/api/v1/me/profile", json={"community_id": "lianxi", "addresses": [address]},
                             headers=_auth(who))
        assert hidden.status_code == 422 and "addresses.0.community_id" in hidden.get_json()["error"]["details"]
        assert gateway.get("/api/v1/me", headers=_auth(who)).get_json()["profile"] == {}, "nothing changed"
    moved = gateway.put("/api/v1/me/profile", json={"community_id": "pengfei", "addresses": [
        {"label": "home", "community_id": "pengfei", "building": "3", "room": "502"}]}, headers=_auth(second))
    assert moved.status_code == 200 and moved.get_json()["profile"]["community_id"] == "pengfei"
    assert gateway.get("/api/v1/me", headers=_auth(first)).get_json()["profile"] == {}
