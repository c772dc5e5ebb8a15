"""The one door, on the running system (gunicorn, raw request lines as an attacker sends them): no path,
however encoded, reaches a service's internal routes; and a disabled coordinator is shut out."""
from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import requests

from devstack.client import Client
from tests.e2e.conftest import PASSWORD, community, lunch, verified_canteen

HOME = {"lng": 121.5588, "lat": 31.1765}


def _raw_get(base: str, target: str) -> tuple[int, bytes]:
    """GET with the request target exactly as written (no client-side normalising of dots or escapes)."""
    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_no_encoding_of_a_path_reaches_the_internal_listing_snapshot(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "door", HOME, "D")
    canteen = verified_canteen(api, coordinator, "door_canteen", "Door canteen", HOME, "door")
    listing = lunch(canteen, "Door lunch", "door", capacity=5)["id"]
    assert requests.get(f"{stack.url('catalog')}/internal/v1/listings/{listing}", timeout=5).status_code == 200, \
        "the snapshot exists behind the door"
    for target in (f"/api/v1/catalog/%2e%2e/%2e%2e/%2e%2e/internal/v1/listings/{listing}",
                   f"/api/v1/catalog/../../../internal/v1/listings/{listing}",
                   f"/api/v1/catalog/..%2F..%2F..%2Finternal/v1/listings/{listing}",
                   f"/api/v1/catalog/..%2f..%2f..%2finternal%2fv1%2flistings%2f{listing}",
                   f"/api/v1/catalog/..\\..\\..\\internal\\v1\\listings\\{listing}",
                   f"/api/v1/catalog/%252e%252e/%252e%252e/%252e%252e/internal/v1/listings/{listing}",
                   f"/api/v1/catalog/internal/v1/listings/{listing}",
                   f"/internal/v1/listings/{listing}"):
        status, body = _raw_get(stack.url(), target)
        assert status in (400, 404), (target, status)
        assert b"provider_owner_id" not in body and listing.encode() not in body, target
        assert set(json.loads(body)["error"]) == {"code", "message", "details"}, target
    status, body = _raw_get(stack.url(), f"/api/v1/catalog/listings/{listing}")
    assert status == 200 and json.loads(body)["id"] == listing, "the public path still works"


def test_a_disabled_coordinator_can_neither_sign_in_nor_refresh_nor_use_a_token_it_still_holds(stack, staff):
    admin, _ = staff
    api = Client(stack.url())
    admin.post("/api/v1/accounts", {"username": "leaving_coord", "password": PASSWORD, "name": "Leaving",
                                    "role": "coordinator", "community_ids": ["lianxi"]}, expect=201)
    tokens = api.request("POST", "/api/v1/auth/login", json={"username": "leaving_coord", "password": PASSWORD}).json()
    leaving = api.as_(tokens["access_token"])
    assert leaving.request("GET", "/api/v1/delivery/tasks").status_code == 200
    account_id = tokens["account"]["id"]
    disabled = admin.request("POST", f"/api/v1/accounts/{account_id}/disable", json={"reason": "moved away"})
    assert disabled.status_code == 200, disabled.text
    refused = leaving.request("GET", "/api/v1/delivery/tasks")  # 2 workers: each re-reads within 30 s
    for _ in range(70):
        if refused.status_code == 401:
            break
        time.sleep(1)
        refused = leaving.request("GET", "/api/v1/delivery/tasks")
    assert refused.status_code == 401 and "disabled" in refused.json()["error"]["message"]
    assert api.request("POST", "/api/v1/auth/refresh",
                       json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert api.request("POST", "/api/v1/auth/login",
                       json={"username": "leaving_coord", "password": PASSWORD}).status_code == 403
