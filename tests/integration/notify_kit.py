"""Notify on the real broker and the embedded Mongo: its worker consuming in a thread, its web app on a
real HTTP server, and events published to the exchange as the other services publish them. People come
the real way: an account written at the gateway emits its event into the gateway's outbox in the same
transaction, and the gateway's relay publishes it (as `python -m linli.relay --service gateway` does)."""
from __future__ import annotations

import json
import queue
import threading
import time
from datetime import timedelta
from itertools import count

import requests
from werkzeug.serving import make_server

from gateway import bootstrap as gateway_bootstrap
from gateway import commands as gateway_commands
from linli import topology
from linli.relay import Relay
from linli.auth import issue_access_token
from linli.events import make_envelope
from linli.ids import iso, utcnow
from services.notify import bootstrap, store, worker
from services.notify.app import create_app
from tests.integration.messaging import publish_raw

_ids = count(1)
CANTEEN = {"lng": 121.5520, "lat": 31.1810}
HOME = {"lng": 121.5588, "lat": 31.1765}


class Stream:
    """An open server-sent-events connection, read in a thread; `next()` returns the next event."""

    def __init__(self, url: str, token: str | None, last_event_id: int | None = None, ticket: str | None = None):
        headers = {"Accept": "text/event-stream", **({"Authorization": f"Bearer {token}"} if token else {})}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(f"{url}/api/v1/notify/stream", headers=headers, stream=True, timeout=(3, 60),
                                     params={"ticket": ticket} if ticket else None)
        assert self.response.status_code == 200, self.response.text
        self.events: queue.Queue = queue.Queue()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event: dict = {}
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line == "":
                    if "data" in event:
                        data = json.loads(event["data"])
                        self.events.put({**data, "message_id": data["id"], "id": int(event["id"])})
                    event = {}
                elif not line.startswith(":") and ":" in line:
                    key, value = line.split(":", 1)
                    event[key] = value.lstrip()
        except (requests.RequestException, AttributeError, ValueError):
            pass
        self.ended.set()

    def next(self, timeout: float = 5.0) -> dict:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event on the stream within {timeout} s")

    def nothing_within(self, seconds: float) -> bool:
        try:
            event = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected event on the stream: {event}")

    def close(self) -> None:
        self.response.close()


class NotifyWorld:
    def __init__(self):
        topology.ensure()
        self.notify = bootstrap.build(sms_report_delay=0.2)
        self.db = self.notify.units.db
        self.app = create_app(self.notify, hub_interval=0.05, heartbeat=0.3)  # a closed stream's thread ends soon
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.stop = threading.Event()
        self.runner = worker.runner(self.notify)
        self.worker = threading.Thread(target=self.runner.run, args=(self.stop,), daemon=True)
        self.worker.start()
        self.streams: list[Stream] = []
        self.gateway = gateway_bootstrap.build()
        self.gateway_relay = Relay("gateway", db=self.gateway.db)

    def close(self) -> None:
        for s in self.streams:
            s.close()
        self.stop.set()
        self.notify.hub.stop()
        self.server.shutdown()
        self.worker.join(timeout=10)

    # -- events, as their producers publish them --------------------------------------------------
    def publish(self, event_type: str, data: dict, source: str | None = None) -> dict:
        envelope = make_envelope(event_type, data, source or event_type.split(".")[0])
        publish_raw(envelope)
        return envelope

    def account(self, account_id: str, role: str, name: str, **fields) -> None:
        """An account as the gateway keeps it (approved family links included), registered through its outbox
        and relay. `signs_in=False`: an elder the committee enrolled, who has no password."""
        profile = {k: fields[k] for k in ("language", "phone", "community_id", "channels", "quiet_hours")
                   if fields.get(k) is not None}
        account = {"_id": account_id, "username": account_id, "name": name, "role": role, "tags": [],
                   "password_hash": None if fields.get("signs_in") is False else "$argon2id$not-used-here",
                   "communities": list(fields.get("communities", ())), "profile": profile, "created_at": utcnow()}

        def work(u):
            for elder in fields.get("family_of", ()):
                u.db.family_links.insert_one({"_id": f"fam_{account_id}_{elder}", "member_id": account_id,
                                              "elder_id": elder, "status": "approved", "created_at": u.now},
                                             session=u.session)
            gateway_commands._registered(u, account)

        self.gateway.units.run(work)
        assert self.gateway_relay.run_once() == 1

    def provider(self, provider_id: str, owner_id: str, name: str) -> None:
        self.publish("catalog.provider.verified", {"provider_id": provider_id, "owner_id": owner_id,
                                                   "kind": "hospital_canteen", "name": name})

    def volunteer(self, volunteer_id: str, account_id: str) -> None:
        self.publish("delivery.volunteer.verified", {"volunteer_id": volunteer_id, "account_id": account_id})

    def order(self, resident_id: str, provider_id: str = "prv_1", community_id: str = "lianxi",
              title: str = "爱心午餐") -> str:
        order_id = f"ord_{next(_ids)}_{int(time.time() * 1000) % 100000}"
        self.publish("orders.order.placed", {
            "order_id": order_id, "resident_id": resident_id, "listing_id": "lst_1", "listing_version": 1,
            "provider_id": provider_id, "quantity": 1, "slot_date": "2026-12-01", "slot": "lunch", "amount_fen": 300})
        start = utcnow() + timedelta(hours=3)
        self.publish("orders.order.paid", {
            "order_id": order_id, "resident_id": resident_id, "provider_id": provider_id, "listing_id": "lst_1",
            "fulfilment": "delivered", "amount_fen": 300, "slot_start": start.isoformat(),
            "slot_end": (start + timedelta(minutes=90)).isoformat(),
            "pickup": {"name": "Hospital canteen", "address": "1000 Hunan Road", "location": CANTEEN},
            "dropoff": {"community_id": community_id, "building": "12", "room": "301", "contact_name": "王阿姨",
                        "phone": "139 1234 5678", "location": HOME},
            "items": [{"title": title, "quantity": 1}], "pickup_code": "246810", "handover_code": "1357",
            "answer_by": (utcnow() + timedelta(minutes=30)).isoformat()})
        return order_id

    def offer(self, task_id: str, order_id: str, volunteer_id: str, mode: str = "broadcast",
              account_id: str | None = None) -> dict:
        return self.publish("delivery.task.offered", {
            "task_id": task_id, "order_id": order_id, "offer_id": f"off_{task_id}_{volunteer_id}",
            "volunteer_id": volunteer_id, "account_id": account_id or volunteer_id.replace("vol_", "acc_"),
            "expires_at": iso(utcnow() + timedelta(seconds=90)), "distance_m": 420.0, "mode": mode})

    def withdrawn(self, task_id: str, order_id: str, volunteer_id: str, reason: str = "taken") -> dict:
        return self.publish("delivery.offer.withdrawn", {
            "task_id": task_id, "order_id": order_id, "offer_id": f"off_{task_id}_{volunteer_id}",
            "volunteer_id": volunteer_id, "account_id": volunteer_id.replace("vol_", "acc_"), "reason": reason})

    # -- people -------------------------------------------------------------------------------
    @staticmethod
    def token(account_id: str, role: str, name: str = "", communities: tuple[str, ...] = ()) -> str:
        return issue_access_token(account_id, role, name or account_id, communities=communities)

    def stream(self, token: str | None, last_event_id: int | None = None, ticket: str | None = None) -> Stream:
        s = Stream(self.url, token, last_event_id, ticket)
        self.streams.append(s)
        return s

    def ticket(self, token: str) -> dict:
        response = self.post("/stream/tickets", token)
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, path: str, token: str | None = None, headers: dict | None = None, **kwargs) -> requests.Response:
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        return requests.get(f"{self.url}/api/v1/notify{path}", headers=headers, timeout=10, **kwargs)

    def post(self, path: str, token: str, body: dict | None = None, method: str = "POST") -> requests.Response:
        return requests.request(method, f"{self.url}/api/v1/notify{path}", json=body or {}, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})

    def inbox(self, token: str, **query) -> list[dict]:
        response = self.get("/messages", token, params=query)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def messages(self, recipient: str) -> list[dict]:
        return list(self.db.messages.find({"recipient": recipient}).sort("seq", 1))

    def sends(self, **query) -> list[dict]:
        return store.sends_of(self.db, **query)

    def handled(self, n_events: int, timeout: float = 20) -> None:
        """Waits until the worker has handled (or skipped) `n_events` more events than when asked."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.db.inbox.count_documents({"consumer": "notify"}) >= n_events:
                return
            time.sleep(0.05)
        raise AssertionError(f"the notify worker handled fewer than {n_events} events in {timeout} s")
