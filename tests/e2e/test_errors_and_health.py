"""What a person sees when something is wrong: one error shape, the field named, nothing changed."""
from __future__ import annotations

import requests

from devstack.client import Client
from tests.e2e.conftest import PASSWORD


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_every_process_is_alive_and_ready(stack):
    for service in ("gateway", "catalog", "orders", "delivery"):
        assert requests.get(f"{stack.url(service)}/healthz", timeout=5).json()["status"] == "alive"
        ready = requests.get(f"{stack.url(service)}/readyz", timeout=5).json()
        assert ready["checks"] == {"mongo": "ok", "rabbitmq": "ok"}, service


def test_signing_in_wrongly_and_calling_without_a_token(stack):
    api = Client(stack.url())
    assert _error(api.request("POST", "/api/v1/orders", json={}), 401)["code"] == "unauthenticated"
    bad = api.request("POST", "/api/v1/auth/login", json={"username": "nobody", "password": "whatever1"})
    assert "wrong" in _error(bad, 401)["message"]
    forged = api.as_("not.a.token").request("GET", "/api/v1/me")
    assert _error(forged, 401)["code"] == "unauthenticated"


def test_bad_input_names_the_field_and_changes_nothing(stack):
    api = Client(stack.url())
    resident = api.register("errors_resident", PASSWORD, "Tester", "resident")
    bad = resident.request("POST", "/api/v1/orders", json={"listing_id": "lst_x", "quantity": 0,
                                                          "slot_date": "tomorrow", "slot": "lunch"})
    error = _error(bad, 422)
    assert {"quantity", "slot_date", "address"} <= set(error["details"])
    assert "quantity" in error["message"]
    sneaky = resident.request("POST", "/api/v1/auth/register", json={
        "username": "mallory", "password": PASSWORD, "name": "M", "role": "coordinator"})
    assert "role" in _error(sneaky, 422)["details"]
    extra = resident.request("POST", "/api/v1/orders", json={
        "listing_id": "lst_x", "quantity": 1, "slot_date": "2030-01-01", "slot": "lunch", "status": "paid",
        "address": {"community_id": "c", "building": "1", "room": "1", "contact_name": "a", "phone": "12345",
                    "location": {"lng": 1, "lat": 1}}})
    assert "status" in _error(extra, 422)["details"]
    assert resident.get("/api/v1/orders")["total"] == 0
    greedy = resident.request("GET", "/api/v1/orders?per_page=100000")
    assert "per_page" in _error(greedy, 422)["details"]
    greedy_search = resident.request("GET", "/api/v1/catalog/listings?per_page=5000")
    assert "per_page" in _error(greedy_search, 422)["details"]
    assert _error(resident.request("GET", "/api/v1/orders/ord_missing"), 404)["code"] == "not_found"


def test_a_resident_cannot_act_as_a_provider_or_coordinator(stack):
    resident = Client(stack.url()).register("errors_resident2", PASSWORD, "Tester", "resident")
    assert _error(resident.request("POST", "/api/v1/catalog/providers/prv_x/verify"), 403)["code"] == "forbidden"
    assert _error(resident.request("POST", "/api/v1/orders/ord_x/accept"), 403)["code"] == "forbidden"


def test_request_ids_are_minted_or_passed_on(stack):
    given = requests.get(f"{stack.url()}/api/v1/catalog/categories", headers={"X-Request-ID": "trace-me-123"})
    assert given.headers["X-Request-ID"] == "trace-me-123"
    minted = requests.get(f"{stack.url()}/api/v1/catalog/categories")
    assert len(minted.headers["X-Request-ID"]) >= 16


def test_sign_in_throttling_holds_across_two_gunicorn_workers(stack):
    """The stack runs the gateway with two workers: a limit kept in one worker's memory would let 10 through."""
    api = Client(stack.url())
    api.register("throttled_one", PASSWORD, "T", "resident")
    statuses = []
    for _ in range(8):
        # a new connection each time, so the attempts spread over both workers
        statuses.append(requests.post(f"{stack.url()}/api/v1/auth/login",
                                      json={"username": "throttled_one", "password": "wrong-password"},
                                      headers={"Connection": "close"}).status_code)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3
