"""A small HTTP client for the gateway, used by the demo seed, the end-to-end tests and the benchmarks."""
from __future__ import annotations

import base64
import json
import time
import uuid

import requests


class ApiFailure(AssertionError):
    pass


class Client:
    def __init__(self, base_url: str, token: str | None = None, signed_in_as: tuple[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = requests.Session()
        # who signed in (username, password): an access token lasts 15 minutes, and a client kept longer (a
        # test package's staff on a slow machine) signs in again shortly before its token expires
        self.signed_in_as = signed_in_as

    def as_(self, token: str) -> "Client":
        return Client(self.base_url, token)

    def request(self, method: str, path: str, *, expect: int | tuple[int, ...] | None = None, idempotency_key=None,
                **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.signed_in_as and self.token and _expires_within(self.token, seconds=60):
            self.token = self.login(*self.signed_in_as).token
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = self.session.request(method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs)
        wanted = (expect,) if isinstance(expect, int) else expect
        if wanted is not None and response.status_code not in wanted:
            raise ApiFailure(f"{method} {path} -> {response.status_code} (wanted {wanted}): {response.text[:500]}")
        return response

    def get(self, path: str, expect=200, **kw) -> dict:
        return self.request("GET", path, expect=expect, **kw).json()

    def post(self, path: str, json: dict | None = None, expect=(200, 201), **kw) -> dict:
        return self.request("POST", path, json=json if json is not None else {}, expect=expect, **kw).json()

    def put(self, path: str, json: dict, expect=200, **kw) -> dict:
        return self.request("PUT", path, json=json, expect=expect, **kw).json()

    def register(self, username: str, password: str, name: str, role: str) -> "Client":
        body = self.post("/api/v1/auth/register", {"username": username, "password": password, "name": name,
                                                   "role": role}, expect=201)
        return self.as_(body["access_token"])

    def login(self, username: str, password: str) -> "Client":
        body = Client(self.base_url).post("/api/v1/auth/login", {"username": username, "password": password},
                                          expect=200)
        return Client(self.base_url, body["access_token"], signed_in_as=(username, password))


def _expires_within(token: str, seconds: int) -> bool:
    """Whether the access token's `exp` is near (read, not verified: the gateway verifies it)."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        return claims["exp"] - time.time() < seconds
    except (IndexError, ValueError, KeyError, TypeError):
        return False


def new_key() -> str:
    return str(uuid.uuid4())
