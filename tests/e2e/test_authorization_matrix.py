"""Every role against every other party's objects and every privileged route, through the gateway:
all refused (401 without a token, 403 for the wrong role, 404 for another's object), nothing changed."""
from __future__ import annotations

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, community, lunch, tomorrow_in_shanghai, verified_profile

HOME = {"lng": 121.5588, "lat": 31.1765}


def _world(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "matrix", HOME, "M")
    who = {name: api.register(f"mx_{name}", PASSWORD, name, role) for name, role in (
        ("resident_a", "resident"), ("resident_b", "resident"), ("provider_1", "provider"),
        ("provider_2", "provider"), ("volunteer", "volunteer"))}
    profiles = {name: verified_profile(who[name], coordinator, name, HOME, "matrix", kind="merchant")
                for name in ("provider_1", "provider_2")}
    listing = lunch(who["provider_1"], "Matrix lunch", "matrix", 9, price_fen=800)
    volunteer = who["volunteer"].post("/api/v1/delivery/volunteers", {
        "name": "V", "phone": "138 0000 0011", "community_ids": ["matrix"], "vehicle": "bike"}, expect=201)
    day = tomorrow_in_shanghai()
    order = who["resident_a"].post("/api/v1/orders", {
        "listing_id": listing["id"], "quantity": 1, "slot_date": day, "slot": "lunch",
        "address": {"community_id": "matrix", "building": "1", "room": "1", "contact_name": "A",
                    "phone": "139 0000 0000", "location": HOME}}, expect=201)
    eventually(lambda: who["resident_a"].get(f"/api/v1/orders/{order['id']}")["status"] == "awaiting_payment",
               what="the reservation")
    return api, who, admin, coordinator, profiles, listing, volunteer, order


def test_nobody_reaches_what_is_not_theirs(stack, staff):
    api, who, admin, coordinator, profiles, listing, volunteer, order = _world(stack, staff)
    o, l = order["id"], listing["id"]
    everyone = {**who, "coordinator": coordinator, "admin": admin}
    # (method, path, body, the only roles/parties allowed; everyone else must be refused)
    routes = [
        ("GET", f"/api/v1/orders/{o}", None, {"resident_a", "coordinator", "admin", "provider_1"}),
        ("POST", f"/api/v1/orders/{o}/pay", {}, {"resident_a"}),
        ("POST", f"/api/v1/orders/{o}/cancel", {"reason": "x"}, {"resident_a", "coordinator"}),
        ("POST", f"/api/v1/orders/{o}/accept", {}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/decline", {"reason": "x"}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/ready", {}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/done", {}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/complete", {}, {"resident_a"}),
        ("POST", f"/api/v1/orders/{o}/refund", {"amount_fen": 1, "reason": "x"}, {"coordinator", "admin"}),
        ("GET", "/api/v1/payments/statements?party=town&month=2026-11", None, {"coordinator", "admin"}),
        ("PATCH", f"/api/v1/catalog/listings/{l}", {"title": "Hijacked"}, {"provider_1"}),
        ("POST", f"/api/v1/catalog/providers/{profiles['provider_2']['id']}/verify", {}, {"coordinator", "admin"}),
        ("POST", "/api/v1/catalog/communities", {"id": "evil", "name": "E", "center": HOME}, {"admin"}),
        ("POST", "/api/v1/catalog/listings", {"title": "x"}, {"provider_1", "provider_2"}),
        ("POST", f"/api/v1/delivery/volunteers/{volunteer['id']}/verify", {}, {"coordinator", "admin"}),
        ("GET", "/api/v1/delivery/tasks", None, {"volunteer", "coordinator", "admin"}),
        ("GET", "/api/v1/delivery/offers", None, {"volunteer"}),
        ("PUT", f"/api/v1/accounts/{who['resident_b'].get('/api/v1/me')['id']}/tags",
         {"tags": ["elder70"], "checked": "nothing"}, {"coordinator", "admin"}),
        ("POST", "/api/v1/accounts", {"username": "evil_admin", "password": PASSWORD, "name": "E", "role": "admin"},
         {"admin"}),
        ("GET", "/api/v1/accounts?q=a", None, {"coordinator", "admin"}),
        ("POST", "/api/v1/accounts/residents", {"name": "Elder", "community_id": "lianxi"}, {"coordinator", "admin"}),
        ("PUT", f"/api/v1/accounts/{who['resident_b'].get('/api/v1/me')['id']}/profile", {"birth_year": 1950},
         {"coordinator", "admin"}),
        ("GET", f"/api/v1/accounts/{who['resident_b'].get('/api/v1/me')['id']}", None, {"coordinator", "admin"}),
        ("POST", f"/api/v1/orders/{o}/redeliver", {"reason": "x"}, {"coordinator"}),
        ("PATCH", "/api/v1/catalog/providers/me", {"name": "Hijacked"}, {"provider_1", "provider_2"}),
    ]
    refusals = 0
    for method, path, body, allowed in routes:
        anonymous = api.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path, "anonymous", anonymous.status_code)
        refusals += 1
        for name, client in everyone.items():
            if name in allowed:
                continue
            response = client.request(method, path, json=body)
            assert response.status_code in (403, 404), (method, path, name, response.status_code, response.text)
            assert set(response.json()) == {"error"}
            refusals += 1
    # nothing changed
    assert who["resident_a"].get(f"/api/v1/orders/{o}")["status"] == "awaiting_payment"
    assert api.get(f"/api/v1/catalog/listings/{l}")["title"] == "Matrix lunch"
    assert api.get(f"/api/v1/catalog/providers/{profiles['provider_2']['id']}")["status"] == "verified"
    assert who["volunteer"].get("/api/v1/delivery/volunteers/me")["status"] == "pending"
    assert "evil" not in [c["id"] for c in api.get("/api/v1/catalog/communities")]
    assert who["resident_b"].get("/api/v1/me")["tags"] == []
    assert admin.request("POST", "/api/v1/auth/login", json={"username": "evil_admin",
                                                              "password": PASSWORD}).status_code == 401
    print(f"authorization matrix: {len(routes)} routes x {len(everyone) + 1} callers, {refusals} refusals checked")
    assert refusals >= 100
