"""The one door forwards only public paths, read one way: dot segments, encoded slashes and dots, backslashes,
double encoding and /internal/ are refused before any service is asked; what is forwarded goes to a URL
built from checked parts."""
from __future__ import annotations

import threading

import pytest
from flask import Flask, Response, request
from werkzeug.serving import make_server

from devstack.net import free_port
from linli.config import reset_settings

LISTING = "lst_0123456789abcdef0123"
TRAVERSALS = [
    f"/api/v1/catalog/%2e%2e/%2e%2e/%2e%2e/internal/v1/listings/{LISTING}",
    f"/api/v1/catalog/%2E%2E/%2E%2E/%2E%2E/internal/v1/listings/{LISTING}",
    f"/api/v1/catalog/../../../internal/v1/listings/{LISTING}",
    f"/api/v1/catalog/..%2F..%2F..%2Finternal/v1/listings/{LISTING}",
    f"/api/v1/catalog/..%2f..%2f..%2finternal%2fv1%2flistings%2f{LISTING}",
    f"/api/v1/catalog/listings%2F{LISTING}",
    f"/api/v1/catalog/..\\..\\..\\internal\\v1\\listings\\{LISTING}",
    f"/api/v1/catalog/..%5C..%5C..%5Cinternal%5Cv1%5Clistings%5C{LISTING}",
    f"/api/v1/catalog/%252e%252e/%252e%252e/%252e%252e/internal/v1/listings/{LISTING}",
    f"/api/v1/catalog/%252E%252E%252F%252E%252E%252Finternal/v1/listings/{LISTING}",
    f"/api/v1/catalog/./listings/{LISTING}",
    f"/api/v1/catalog/listings/{LISTING}/..",
    f"/api/v1/catalog//listings/{LISTING}",
    f"/api/v1/catalog/internal/v1/listings/{LISTING}",
    f"/api/v1/orders/%2e%2e/%2e%2e/internal/v1/anything",
    f"/api/v1/delivery/%2e%2e/%2e%2e/%2e%2e/internal/v1/x",
    f"/api/v1/payments/..%2F..%2F..%2Finternal%2Fv1",
    f"/api/v1/catalog/listings/{LISTING}%00",
    "/api/v1/%2e%2e/api/v1/catalog/listings",
]


@pytest.fixture
def door(mongo_env, monkeypatch):
    """The gateway in front of one stand-in service that answers every path with what it was asked."""
    seen: list[str] = []
    upstream = Flask("upstream")

    @upstream.route("/api/v1/notify/stream")
    def stream():
        seen.append(request.full_path)
        after = int(request.headers.get("Last-Event-ID", "0"))
        events = "".join(f"id: {n}\ndata: message {n}\n\n" for n in range(after + 1, after + 3))
        return Response(events, mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})

    @upstream.route("/", defaults={"anything": ""}, methods=["GET", "POST"])
    @upstream.route("/<path:anything>", methods=["GET", "POST"])
    def echo(anything):
        seen.append(request.environ.get("RAW_URI") or request.full_path)
        answer = {"path": request.path, "args": request.args.to_dict(flat=False)}
        if anything == "signin":  # the pages' session cookie, as web sets it when asked over plain HTTP
            return answer, 200, {"Set-Cookie": "linli_session=abc; HttpOnly; Path=/; SameSite=Lax"}
        return answer

    port = free_port()
    server = make_server("127.0.0.1", port, upstream, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for service in ("CATALOG", "ORDERS", "DELIVERY", "NOTIFY", "WEB"):
        monkeypatch.setenv(f"LINLI_{service}_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    from gateway.app import create_app

    yield create_app().test_client(), seen
    server.shutdown()


@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_path_that_could_be_read_two_ways_is_not_found_and_reaches_no_service(door, path):
    client, seen = door
    for method in ("GET", "POST"):
        response = client.open(path, method=method)
        # refused before any route: not found, or (a NUL or a lone surrogate in it) the path named as invalid
        assert response.status_code in (400, 404, 422), (path, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] in ("not_found", "bad_request", "validation_failed") and error["message"]
        assert "details" in error
    assert seen == [], f"{path} reached a service as {seen}"


def test_public_paths_reach_their_service_built_from_parts_with_every_query_value(door):
    client, seen = door
    answer = client.get(f"/api/v1/catalog/listings/{LISTING}/availability?date=2026-12-01&tag=a&tag=b")
    assert answer.status_code == 200
    assert answer.get_json() == {"path": f"/api/v1/catalog/listings/{LISTING}/availability",
                                 "args": {"date": ["2026-12-01"], "tag": ["a", "b"]}}
    assert client.get("/api/v1/orders").get_json()["path"] == "/api/v1/orders"
    assert client.get("/api/v1/catalog/listings/").get_json()["path"] == "/api/v1/catalog/listings"
    chinese = client.get("/api/v1/catalog/listings?q=%E5%8D%88%E9%A5%AD")
    assert chinese.get_json()["args"] == {"q": ["午饭"]}, "encoded query values are fine: only the path is strict"
    assert len(seen) == 4


def test_the_tracking_view_asks_about_an_order_id_and_nothing_else(door):
    client, seen = door
    from tests.integration import orders_kit as kit

    headers = kit.token(kit.RESIDENT)
    for order_id in ("ord_X%3Fdate%3D2030-01-01%26x%3D", "ord_X%23frag", "%2e%2e", "ord%20X", "x" * 65):
        refused = client.get(f"/api/v1/track/{order_id}", headers=headers)
        assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found", order_id
    assert seen == []
    view = client.get("/api/v1/track/ord_0123456789abcdef0123", headers=headers)
    assert view.status_code == 200
    assert sorted(seen) == ["/api/v1/delivery/tracking/ord_0123456789abcdef0123",
                            "/api/v1/orders/ord_0123456789abcdef0123"]


def test_a_persons_messages_and_live_stream_go_through_the_door_and_resume_where_they_left_off(door):
    client, seen = door
    assert client.get("/api/v1/notify/messages?unread=true").get_json() == {
        "path": "/api/v1/notify/messages", "args": {"unread": ["true"]}}
    stream = client.get("/api/v1/notify/stream", headers={"Last-Event-ID": "41"})
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    assert stream.headers["Cache-Control"] == "no-cache"
    assert stream.get_data(as_text=True) == "id: 42\ndata: message 42\n\nid: 43\ndata: message 43\n\n"
    assert client.get("/api/v1/notify/%2e%2e/internal/x").status_code == 404
    assert seen == ["/api/v1/notify/messages?unread=true", "/api/v1/notify/stream?"]


def test_a_page_form_goes_to_the_pages_but_text_nothing_can_store_does_not(door):
    client, seen = door
    form = client.post("/signup", data={"name": "王阿姨", "username": "wang"})
    assert form.status_code == 200 and form.get_json()["path"] == "/signup"
    refused = client.post("/signup", data={"name": "王\x00阿姨"})
    assert refused.status_code == 422
    # a person reads it: a page in both languages naming the field (the API's paths keep the JSON error shape)
    assert refused.mimetype == "text/html" and "(name)" in refused.get_data(as_text=True)
    assert client.post("/api/v1/auth/register", data={"name": "王阿姨"}).status_code == 415  # the API takes JSON only
    assert len(seen) == 1, seen  # only the good form reached the pages


@pytest.mark.parametrize("method, path, body, status, says", [
    ("POST", "/signin", "username=wang&room=a%00b", 422, "(room)"),
    ("POST", "/me", "building=%ED%A0%80", 400, ""),
    ("POST", "/me", "x=" + "a" * (300 * 1024), 413, "太长"),
    ("PUT", "/me", None, 405, "按钮"),
    ("GET", "/r/orders/..%2fx", None, 404, "没有这个页面"),
])
def test_a_page_the_door_refuses_is_a_page_a_person_reads_in_both_languages_not_json(door, method, path, body,
                                                                                         status, says):
    client, seen = door
    answer = client.open(path, method=method, data=body, content_type="application/x-www-form-urlencoded")
    text = answer.get_data(as_text=True)
    assert answer.status_code == status and answer.mimetype == "text/html", (answer.status_code, text[:300])
    assert says in text and "请" in text and "Please" in text and 'href="tel:' in text and 'href="/"' in text, text
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Cache-Control"] == "no-store"
    assert seen == [], "refused before the pages were asked"
    api = client.post("/api/v1/orders", data=body or "x", content_type="application/x-www-form-urlencoded")
    assert api.mimetype == "application/json" and api.get_json()["error"], "the API keeps its error shape"


def test_the_pages_session_cookie_is_secure_when_the_person_came_over_https(door):
    client, _ = door
    secure = client.get("/signin", base_url="https://linli.example").headers.getlist("Set-Cookie")
    assert secure == ["linli_session=abc; HttpOnly; Path=/; SameSite=Lax; Secure"]
    plain = client.get("/signin").headers.getlist("Set-Cookie")
    assert plain == ["linli_session=abc; HttpOnly; Path=/; SameSite=Lax"], "over plain HTTP (make run) it must still work"
