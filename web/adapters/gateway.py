"""The one client of Linli's public API (through the gateway), with the signed-in person's tokens.

Pages never call `requests` themselves: they call a method here, get JSON back, or catch ApiProblem
(the API's error code, message and details) and show it as a translated sentence.
"""
from __future__ import annotations

import hashlib
import json as jsonlib
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.cookiejar import DefaultCookiePolicy
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from flask import g, has_app_context, has_request_context, request
from requests.adapters import HTTPAdapter

from linli import pooled

_session = requests.Session()
_session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # one pool for everyone: it keeps no cookie
_session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=32))
TIMEOUT = (2, 10)
# a page that needs several independent reads asks them at once (Person.read_all): a few threads per process,
# shared by its gthread workers; each read still goes through the one pool of connections above
_readers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="web-reads")


@dataclass
class ApiProblem(Exception):
    status: int
    code: str
    message: str
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class SignedOut(Exception):
    """The refresh token no longer works: the person signs in again."""


def _unavailable() -> ApiProblem:
    return ApiProblem(503, "unavailable", "Linli is not answering just now.")


def _answer(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        raise _unavailable()
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        error = error or {}
        raise ApiProblem(response.status_code, error.get("code", "error"), error.get("message", ""),
                         error.get("details") or {})
    return body


FORM_KEY = re.compile(r"[0-9a-f]{32}")


def form_key() -> str:
    """A key for one rendering of a form (a hidden `form_key` field next to the CSRF token)."""
    return uuid.uuid4().hex


def idempotency_key(method: str, path: str, body: Any) -> str:
    """The Idempotency-Key of a change the page asks for. A form sent twice (a double tap, a resent page, a
    browser's retry) carries the same `form_key` and the same fields, so each call it makes gets the same key and
    the API answers the second time with the first answer instead of doing it again; a form changed and sent
    again is another request. Without a form (or with a key that is not one of ours), a key of its own."""
    sent = request.form.get("form_key", "") if has_request_context() and request.method == "POST" else ""
    if not FORM_KEY.fullmatch(sent):
        return str(uuid.uuid4())
    call = jsonlib.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{sent}\n{call}".encode()).hexdigest()


class Gateway:
    """Calls as nobody (sign-in, public reads) or, through `Person`, as the signed-in person."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                params: dict | None = None, request_id: str | None = None, raw: bool = False) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if request_id:
            headers["X-Request-ID"] = request_id
        if method != "GET" and not path.startswith("/api/v1/auth/"):
            headers["Idempotency-Key"] = idempotency_key(method, path, json)
        try:
            response = pooled.request(_session, method, self.base_url + path, json=json, params=params,
                                      headers=headers, timeout=TIMEOUT)
        except requests.RequestException:
            raise _unavailable()
        if raw and response.status_code == 200:  # a download (a spreadsheet): its bytes, as they came
            return response.content
        return _answer(response)

    # -- as nobody ------------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> dict:
        return self.request("POST", "/api/v1/auth/login", json={"username": username, "password": password})

    def sign_up(self, username: str, password: str, name: str, role: str) -> dict:
        return self.request("POST", "/api/v1/auth/register",
                            json={"username": username, "password": password, "name": name, "role": role})

    def refresh(self, refresh_token: str) -> dict:
        return self.request("POST", "/api/v1/auth/refresh", json={"refresh_token": refresh_token})

    def sign_out(self, refresh_token: str) -> None:
        self.request("POST", "/api/v1/auth/logout", json={"refresh_token": refresh_token})

    def categories(self) -> list[dict]:
        return self.request("GET", "/api/v1/catalog/categories")

    def communities(self) -> list[dict]:
        return self.request("GET", "/api/v1/catalog/communities")


@contextmanager
def waited():
    """Adds the time spent waiting for the API to this request's account (g.api_ms), which the page's Server-Timing
    header reports, so that bench/pages.py can tell the API's share of a page from web's own."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if has_app_context():
            g.api_ms = g.get("api_ms", 0.0) + (time.perf_counter() - started) * 1000


class Person:
    """The API as the signed-in person: `access()` gives a fresh access token (refreshing when needed) and
    `renew()` forces a refresh after a 401."""

    def __init__(self, gateway: Gateway, access: Callable[[], str], renew: Callable[[], str],
                 request_id: str | None = None):
        self.gateway, self._access, self._renew, self.request_id = gateway, access, renew, request_id

    def call(self, method: str, path: str, *, json: Any = None, params: dict | None = None, raw: bool = False) -> Any:
        with waited():
            return self._call(method, path, json=json, params=params, raw=raw)

    def _call(self, method: str, path: str, *, json: Any = None, params: dict | None = None, raw: bool = False) -> Any:
        try:
            return self.gateway.request(method, path, token=self._access(), json=json, params=params,
                                        request_id=self.request_id, raw=raw)
        except ApiProblem as problem:
            if problem.status != 401:
                raise
        return self.gateway.request(method, path, token=self._renew(), json=json, params=params,
                                    request_id=self.request_id, raw=raw)

    def read_all(self, *reads: tuple[str, dict]) -> list[Any]:
        """Several GETs (path, params) at once, as this person, answered in order. The token is taken here, in the
        request's own thread (renewing it touches the session); a read refused with 401 (the token ran out
        meanwhile) is asked again here, after a renewal. The first other refusal is raised, as one call's is."""
        token = self._access()

        def one(path: str, params: dict) -> Any:
            return self.gateway.request("GET", path, token=token, request_id=self.request_id,
                                        params={k: v for k, v in params.items() if v not in (None, "")})

        with waited():
            futures = [_readers.submit(one, path, params) for path, params in reads]
            answers = []
            for (path, params), future in zip(reads, futures):
                try:
                    answers.append(future.result())
                except ApiProblem as problem:
                    if problem.status != 401:
                        raise
                    answers.append(self._call("GET", path, params={k: v for k, v in params.items()
                                                                    if v not in (None, "")}))
            return answers

    # everyone
    def me(self) -> dict:
        return self.call("GET", "/api/v1/me")

    def save_profile(self, profile: dict) -> dict:
        return self.call("PUT", "/api/v1/me/profile", json=profile)

    # listings
    def listings(self, **params) -> dict:
        return self.call("GET", "/api/v1/catalog/listings", params={k: v for k, v in params.items() if v not in (None, "")})

    def listing(self, listing_id: str) -> dict:
        return self.call("GET", f"/api/v1/catalog/listings/{listing_id}")

    def availability(self, listing_id: str, first: str, last: str) -> dict:
        return self.call("GET", f"/api/v1/catalog/listings/{listing_id}/availability", params={"from": first, "to": last})

    def provider(self, provider_id: str) -> dict:
        return self.call("GET", f"/api/v1/catalog/providers/{provider_id}")

    def reviews(self, provider_id: str) -> dict:
        return self.call("GET", f"/api/v1/catalog/providers/{provider_id}/reviews")

    def scorecard(self, provider_id: str) -> dict:
        return self.call("GET", f"/api/v1/catalog/providers/{provider_id}/scorecard")

    def review(self, order_id: str, direction: str, stars: int, text: str) -> dict:
        return self.call("POST", "/api/v1/catalog/reviews",
                         json={"order_id": order_id, "direction": direction, "stars": stars, "text": text})

    # orders
    def place(self, order: dict) -> dict:
        return self.call("POST", "/api/v1/orders", json=order)

    def orders(self, **params) -> dict:
        return self.call("GET", "/api/v1/orders", params=params)

    def order(self, order_id: str) -> dict:
        return self.call("GET", f"/api/v1/orders/{order_id}")

    def pay(self, order_id: str) -> dict:
        return self.call("POST", f"/api/v1/orders/{order_id}/pay")

    def complete(self, order_id: str) -> dict:
        """The resident confirms that the provider's on-site (or remote) job was done."""
        return self.call("POST", f"/api/v1/orders/{order_id}/complete")

    def cancel(self, order_id: str, reason: str) -> dict:
        return self.call("POST", f"/api/v1/orders/{order_id}/cancel", json={"reason": reason})

    def track(self, order_id: str) -> dict:
        return self.call("GET", f"/api/v1/track/{order_id}")

    # volunteers (delivery)
    def volunteer(self) -> dict:
        return self.call("GET", "/api/v1/delivery/volunteers/me")

    def register_volunteer(self, body: dict) -> dict:
        return self.call("POST", "/api/v1/delivery/volunteers", json=body)

    def duty(self, on_duty: bool, location: dict | None = None) -> dict:
        body = {"on_duty": on_duty}
        if location is not None:
            body["location"] = location
        return self.call("PUT", "/api/v1/delivery/volunteers/me/duty", json=body)

    def offers(self) -> dict:
        return self.call("GET", "/api/v1/delivery/offers", params={"per_page": 20})

    def accept_offer(self, offer_id: str) -> dict:
        return self.call("POST", f"/api/v1/delivery/offers/{offer_id}/accept")

    def decline_offer(self, offer_id: str) -> dict:
        return self.call("POST", f"/api/v1/delivery/offers/{offer_id}/decline")

    def tasks(self, **params) -> dict:
        return self.call("GET", "/api/v1/delivery/tasks", params={"per_page": 50, **params})

    def task(self, task_id: str) -> dict:
        return self.call("GET", f"/api/v1/delivery/tasks/{task_id}")

    def pick_up(self, task_id: str, code: str) -> dict:
        return self.call("POST", f"/api/v1/delivery/tasks/{task_id}/pickup", json={"code": code})

    def hand_over(self, task_id: str, code: str) -> dict:
        return self.call("POST", f"/api/v1/delivery/tasks/{task_id}/deliver", json={"code": code})

    def fail(self, task_id: str, reason: str, note: str = "") -> dict:
        return self.call("POST", f"/api/v1/delivery/tasks/{task_id}/fail", json={"reason": reason, "note": note})

    def close_welfare_check(self, task_id: str, outcome: str, note: str) -> dict:
        return self.call("POST", f"/api/v1/delivery/tasks/{task_id}/welfare", json={"outcome": outcome, "note": note})

    def hours(self, month: str) -> dict:
        return self.call("GET", "/api/v1/delivery/hours", params={"month": month})

    # providers (catalog, orders)
    def my_provider(self) -> dict:
        return self.call("GET", "/api/v1/catalog/providers/me")

    def create_provider(self, body: dict) -> dict:
        return self.call("POST", "/api/v1/catalog/providers", json=body)

    def edit_provider(self, body: dict) -> dict:
        return self.call("PATCH", "/api/v1/catalog/providers/me", json=body)

    def my_listings(self) -> dict:
        return self.call("GET", "/api/v1/catalog/providers/me/listings", params={"per_page": 50})

    def create_listing(self, body: dict) -> dict:
        return self.call("POST", "/api/v1/catalog/listings", json=body)

    def edit_listing(self, listing_id: str, body: dict) -> dict:
        return self.call("PATCH", f"/api/v1/catalog/listings/{listing_id}", json=body)

    def reply(self, review_id: str, text: str) -> dict:
        return self.call("POST", f"/api/v1/catalog/reviews/{review_id}/reply", json={"text": text})

    def accept_order(self, order_id: str) -> dict:
        return self.call("POST", f"/api/v1/orders/{order_id}/accept")

    def decline_order(self, order_id: str, reason: str) -> dict:
        return self.call("POST", f"/api/v1/orders/{order_id}/decline", json={"reason": reason})

    def ready_order(self, order_id: str) -> dict:
        return self.call("POST", f"/api/v1/orders/{order_id}/ready")

    def done_order(self, order_id: str) -> dict:
        return self.call("POST", f"/api/v1/orders/{order_id}/done")

    def stream_ticket(self) -> dict:
        """A one-use ticket for this person's live stream, for their browser (which holds no token)."""
        return self.call("POST", "/api/v1/notify/stream/tickets", json={})

    def statement(self, month: str) -> dict:
        return self.call("GET", "/api/v1/payments/statements/mine", params={"month": month})

    def statement_csv(self, month: str) -> bytes:
        return self.call("GET", "/api/v1/payments/statements/mine", params={"month": month, "format": "csv"}, raw=True)
    # -- the committee (coordinator) and the admin: one generic call each way, named by the pages --------------
    def get(self, path: str, **params) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v not in (None, "")})

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json=body if body is not None else {})

    def put(self, path: str, body: Any) -> Any:
        return self.call("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, json=body)

    def download(self, path: str, **params) -> tuple[bytes, str, str]:
        """A file the API makes (a CSV with its byte-order mark): its bytes, type and attachment header, as sent."""
        def fetch(token: str) -> requests.Response:
            try:
                return _session.get(self.gateway.base_url + path, params=params, timeout=TIMEOUT,
                                    headers={"Authorization": f"Bearer {token}", "Accept": "text/csv"})
            except requests.RequestException:
                raise _unavailable()

        response = fetch(self._access())
        if response.status_code == 401:
            response = fetch(self._renew())
        if response.status_code >= 400:
            _answer(response)
            raise _unavailable()
        return (response.content, response.headers.get("Content-Type", "text/csv"),
                response.headers.get("Content-Disposition", "attachment"))
