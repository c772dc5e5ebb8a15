"""Hostile input against the running system, under gunicorn as `make run` serves it: an overlong URL or
header is answered in the JSON error shape whether the app refuses it (within gunicorn's reading limits) or
gunicorn does (past them), and the gateway passes a service's refusal through unchanged."""
from __future__ import annotations

import json

import requests

from devstack.client import Client
from tests.e2e.conftest import PASSWORD

SERVICES = ("gateway", "catalog", "orders", "delivery")


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_an_overlong_url_is_answered_in_json_by_every_process(stack):
    for service in SERVICES:
        base = stack.url(service)
        by_the_app = requests.get(f"{base}/api/v1/{'a' * 5_000}", timeout=10)
        assert "5,0" in _error(by_the_app, 414, "uri_too_long")["message"]
        by_gunicorn = requests.get(f"{base}/api/v1/{'a' * 10_000}", timeout=10)
        _error(by_gunicorn, 414, "uri_too_long")
        long_query = requests.get(f"{base}/healthz?q={'b' * 10_000}", timeout=10)
        _error(long_query, 414, "uri_too_long")


def test_an_overlong_header_is_answered_in_json_by_every_process(stack):
    for service in SERVICES:
        base = stack.url(service)
        by_the_app = requests.get(f"{base}/healthz", headers={"X-Padding": "b" * 10_000}, timeout=10)
        assert "X-Padding" in _error(by_the_app, 431, "headers_too_large")["message"]
        by_gunicorn = requests.get(f"{base}/healthz", headers={"X-Padding": "b" * 20_000}, timeout=10)
        _error(by_gunicorn, 431, "headers_too_large")
        assert requests.get(f"{base}/healthz", timeout=10).json()["status"] == "alive"


def test_hostile_bodies_through_the_gateway_are_refused_and_change_nothing(stack):
    api = Client(stack.url())
    resident = api.register("hostile_resident", PASSWORD, "Tester", "resident")
    headers = {"Authorization": f"Bearer {resident.token}", "Content-Type": "application/json"}
    url = f"{stack.url()}/api/v1/orders"
    deep = requests.post(url, data="[" * 1000 + "]" * 1000, headers=headers, timeout=10)
    assert "nested too deeply" in _error(deep, 400, "bad_request")["message"]
    order = {"listing_id": "lst_x", "quantity": 1.9, "slot_date": "2030-01-01", "slot": "lunch",
             "address": {"community_id": "lianxi", "building": "1", "room": "1", "contact_name": "王\ud800",
                         "phone": "139 1234 5678", "location": {"lng": 121.5, "lat": 31.2}}}
    surrogate = requests.post(url, data=json.dumps(order), headers=headers, timeout=10)
    assert "address" in _error(surrogate, 422, "validation_failed")["details"]
    order["address"]["contact_name"] = "王阿姨"
    fraction = requests.post(url, data=json.dumps(order), headers=headers, timeout=10)
    assert "quantity" in _error(fraction, 422, "validation_failed")["details"]
    plain = requests.post(url, data=json.dumps({**order, "quantity": 1}),
                          headers={**headers, "Content-Type": "text/plain"}, timeout=10)
    _error(plain, 415, "unsupported_media_type")
    sign_up = requests.post(f"{stack.url()}/api/v1/auth/register", headers={"Content-Type": "application/json"},
                            data=json.dumps({"username": "mallory2", "password": "p\ud800ssword1", "name": "M"}),
                            timeout=10)
    assert "password" in _error(sign_up, 422, "validation_failed")["details"]
    assert resident.get("/api/v1/orders")["total"] == 0
    assert api.request("POST", "/api/v1/auth/login", json={"username": "mallory2", "password": "p"}).status_code == 401
