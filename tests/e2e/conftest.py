"""The whole system started once for the end-to-end tests, as `make run` starts it."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from devstack.client import Client
from devstack.net import free_port
from devstack.stack import Stack
from devstack.cleanup import remove_namespace
from tests.conftest import configured_as, new_namespace

PASSWORD = "journey-pass-1"


def _png() -> bytes:
    """One pale pixel as a PNG (the map stretches it over its tile)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xe8\xf0\xe0")) + chunk(b"IEND", b""))


@pytest.fixture(scope="package")
def tile_server():
    """A tiny XYZ tile server on this machine (there is no internet here): any /z/x/y.png answers a PNG, and the
    paths asked for are kept, so a test can see which tiles the committee's map fetched."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []
    picture = _png()

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            parts = self.path.strip("/").removesuffix(".png").split("/")
            if len(parts) != 3 or not all(p.isdigit() for p in parts):
                self.send_error(404)
                return
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(picture)))
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.asked = asked
    server.template = f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture(scope="package")
def stack(infra, tmp_path_factory, tile_server):
    namespace = new_namespace()
    var_dir = tmp_path_factory.mktemp("stack") / "var"
    # the committee's map over tiles, as a town with a tile server configures it (the unit tests draw it without)
    stack = Stack(namespace=namespace, mongo_url=infra.mongo_url, amqp_url=infra.amqp_url, var_dir=var_dir,
                  ports={s: free_port() for s in ("gateway", "catalog", "orders", "delivery", "web")},
                  extra_env={"LINLI_TIME_SCALE": "0.01", "LINLI_RETRY_DELAYS": "0.3,1,2", "LINLI_WEB_WORKERS": "2",
                             "LINLI_MAP_TILES_URL": tile_server.template})
    stack.start()
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()
        remove_namespace(infra.mongo_url, infra.amqp_url, namespace, stack.env)


@pytest.fixture(scope="package")
def staff(stack):
    """An admin and a coordinator, created the way an operator does (python -m gateway.admin)."""
    with configured_as(stack.env):
        from gateway.admin import create_account

        create_account("admin1", PASSWORD, "Admin", "admin")
        create_account("coord1", PASSWORD, "林主任", "coordinator", ("lianxi", "matrix", "race", "cat-e2e", "door"))
    api = Client(stack.url())
    return api.login("admin1", PASSWORD), api.login("coord1", PASSWORD)




def tomorrow_in_shanghai() -> str:
    return (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date().isoformat()


def community(admin: Client, community_id: str, center: dict, name: str = "莲溪社区") -> None:
    """The community, added by the admin unless an earlier test of the package did."""
    admin.request("POST", "/api/v1/catalog/communities", json={"id": community_id, "name": name, "center": center},
                  expect=(201, 409))


def verified_profile(provider: Client, coordinator: Client, name: str, location: dict, community: str,
                     kind: str = "hospital_canteen") -> dict:
    """The provider's profile, created and verified by the coordinator so that it can publish."""
    profile = provider.post("/api/v1/catalog/providers", {
        "name": name, "kind": kind, "phone": "021-5888 0001", "address": "1 Road", "location": location,
        "community_ids": [community]}, expect=201)
    coordinator.post(f"/api/v1/catalog/providers/{profile['id']}/verify", expect=200)
    return profile


def verified_canteen(api: Client, coordinator: Client, username: str, name: str, location: dict,
                     community: str) -> Client:
    """A hospital canteen signed up, with a profile the coordinator has verified."""
    canteen = api.register(username, PASSWORD, name, "provider")
    verified_profile(canteen, coordinator, name, location, community)
    return canteen


def lunch(provider: Client, title: str, community: str, capacity: int, price_fen: int = 1500, **more) -> dict:
    """A published charity lunch, 11:00-12:30 every day."""
    return provider.post("/api/v1/catalog/listings", {
        "title": title, "category": "charity_meals", "fulfilment": "delivered", "price_fen": price_fen,
        "community_ids": [community], "slots": [{"name": "lunch", "start": "11:00", "end": "12:30",
                                                 "capacity": capacity}], **more}, expect=201)


def pay_at_cashier(stack, payment: dict) -> None:
    """The payer's browser opens the stub cashier from the link it was given (its ticket opens a cashier session
    in that browser alone) and pays."""
    browser = Client(stack.url())
    path = payment["cashier_url"].split(str(stack.ports["gateway"]), 1)[1]
    browser.request("GET", path, expect=200)
    browser.request("POST", path.split("/enter/")[0] + "/pay", expect=200)


def place_retrying(who: Client, body: dict, tries: int = 6):
    """Places an order as a person does when told "please try again in a minute" (503: a service slow to answer
    on a machine under load) or when the connection drops before an answer (gunicorn closing a kept-alive
    connection just as the request goes out): again, with the same Idempotency-Key, so it is placed at most once. Returns the
    answer that was not a 503: 201 placed, or a refusal."""
    import time

    from devstack.client import new_key

    key = new_key()
    for _ in range(tries):
        try:
            answer = who.request("POST", "/api/v1/orders", json=body, idempotency_key=key)
        except requests.ConnectionError as lost:  # a kept-alive connection the server closed as we sent: the
            answer = lost                          # answer never came, so ask again with the same key
            time.sleep(0.5)
            continue
        still_working = answer.status_code == 409 and answer.json()["error"]["code"] == "request_in_progress"
        if answer.status_code != 503 and not still_working:  # the first try may still be under way: ask again
            return answer
        time.sleep(2)
    raise AssertionError(f"the order was not served after {tries} tries: "
                         f"{getattr(answer, 'text', str(answer))[:300]}")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module of pages (tests/e2e/browser.py launches it)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
