"""The fault kit: a private RabbitMQ node and a private database that may be killed, a small TCP
fault proxy (latency, stalls, cut connections, refused connections), an order driver that keeps
orders in flight through the gateway, and the counts that say nothing was lost or doubled.

The private broker and database matter: the machine's shared broker serves other people's tests.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from kombu import Connection
from pymongo import MongoClient

from devstack.client import ApiFailure, Client, new_key
from devstack.mongo import EmbeddedMongo
from devstack.net import free_port, port_open


# -- a broker of our own ------------------------------------------------------------------------
class PrivateBroker:
    """A RabbitMQ node on its own port and data folder (Debian's rabbitmq-server, run as root)."""

    def __init__(self, base: Path, port: int | None = None):
        self.base = Path(base)
        self.port = port or free_port()
        self.name = f"linlifault{self.port}@localhost"
        self.process: subprocess.Popen | None = None
        self.env = {**os.environ,
                    "RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(free_port()), "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(self.base / "log"), "RABBITMQ_PID_FILE": str(self.base / "pid"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "plugins"),
                    "RABBITMQ_FEATURE_FLAGS_FILE": str(self.base / "feature_flags"),
                    "RABBITMQ_QUORUM_DIR": str(self.base / "mnesia" / "quorum"),
                    "RABBITMQ_STREAM_DIR": str(self.base / "mnesia" / "stream")}

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self, timeout: float = 180) -> None:
        for sub in ("mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "plugins").write_text("[].\n")
        (self.base / "pid").unlink(missing_ok=True)
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.base)], check=False)
        self.process = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=open(self.base / "out.log", "ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the private broker stopped while starting; see {self.base / 'out.log'}")
            if port_open("127.0.0.1", self.port):
                try:
                    with Connection(self.url, connect_timeout=5, heartbeat=0) as conn:
                        conn.connect()
                    return
                except Exception:  # not answering AMQP yet (kombu's OperationalError, a reset socket)
                    pass
            time.sleep(0.5)
        raise RuntimeError(f"the private broker did not start in {timeout:.0f} s; see {self.base / 'out.log'}")

    def pid(self) -> int:
        return int((self.base / "pid").read_text().strip())

    def signal(self, sig: int) -> None:
        os.kill(self.pid(), sig)

    def kill(self) -> None:
        """SIGKILL of the Erlang VM, as a crash would do it."""
        self.signal(signal.SIGKILL)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while port_open("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            try:
                self.signal(signal.SIGKILL)
            except (OSError, ValueError):
                pass
            os.killpg(self.process.pid, signal.SIGKILL)


class PrivateMongo:
    """The embedded database on a fixed port and folder, so that it can be killed and started again;
    it syncs its log on every commit, as a killed server must (devstack/mongo.py)."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.port = free_port()
        self.server: EmbeddedMongo | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        # it is killed with SIGKILL: without syncing its log on commit it would lose acknowledged writes
        self.server = EmbeddedMongo(self.base / "data", port=self.port, log_file=self.base / "mongo.log",
                                    sync_on_commit=True)
        self.server.start()

    def kill(self) -> None:
        os.killpg(self.server.process.pid, signal.SIGKILL)
        self.server.process.wait()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


# -- a network fault proxy ----------------------------------------------------------------------
class FaultProxy:
    """A TCP proxy to 127.0.0.1:`upstream`. Faults, each switched on and off by the test:
    `latency` (seconds added to every chunk each way), `stalled` (bytes held, as on a network that
    drops every packet, until it is switched off), `refusing` (new connections closed at once) and
    `cut()` (every open connection closed now)."""

    def __init__(self, upstream: int):
        self.upstream = upstream
        self.latency = 0.0
        self.stalled = False
        self.refusing = False
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._live.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([source], [], [], 0.5)
                if not ready:
                    if source.fileno() < 0:
                        break
                    continue
                while self.stalled and not self._closed:
                    time.sleep(0.05)
                chunk = source.recv(65536)
                if not chunk:
                    break
                if self.latency:
                    time.sleep(self.latency)
                sink.sendall(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets: socket.socket) -> None:
        with self._lock:
            for s in sockets:
                self._live.discard(s)
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> int:
        """Closes every open connection (both sides see a reset); returns how many there were."""
        with self._lock:
            live = list(self._live)
        self._drop(*live)
        return len(live) // 2

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut()


# -- orders in flight -------------------------------------------------------------------------------
@dataclass
class Flight:
    """The orders one driver placed, and what the people placing them saw on the way."""
    order_ids: list[str] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)
    answers: Counter = field(default_factory=Counter)  # HTTP status (or "no answer") seen while retrying
    errors: list[str] = field(default_factory=list)


class Person:
    """A signed-in person who signs in again when the 15-minute access token runs out mid-suite."""

    def __init__(self, base_url: str, username: str, password: str):
        self.base_url, self.username, self.password = base_url, username, password
        self.client = Client(base_url).login(username, password)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.client.request(method, path, **kwargs)
        if response.status_code == 401:
            try:
                self.client = Client(self.base_url).login(self.username, self.password)
            except (ApiFailure, requests.RequestException):
                return response  # the sign-in itself could not be served just now: tried again later
            response = self.client.request(method, path, **kwargs)
        return response


def _until(call, ok: tuple[int, ...], flight: Flight, deadline: float):
    """Calls until the answer is one of `ok`; a 5xx, no answer, or "the same request is still in
    progress" (409 with the same idempotency key) is tried again, as a person would."""
    while time.monotonic() < deadline:
        try:
            response = call()
        except requests.RequestException:
            flight.answers["no answer"] += 1
            time.sleep(0.5)
            continue
        flight.answers[response.status_code] += 1
        if response.status_code in ok:
            return response
        in_progress = response.status_code == 409 and "request_in_progress" in response.text
        signed_out = response.status_code == 401  # the Person signs in again on the next call
        if response.status_code < 500 and not (in_progress or signed_out):
            raise AssertionError(f"refused: {response.status_code} {response.text[:300]}")
        time.sleep(0.5)
    raise AssertionError("no answer before the deadline")


def place_and_pay(residents: list[Person], listing_id: str, slot_date: str, count: int, location: dict,
                  deadline_s: float = 900, threads: int = 10) -> Flight:
    """`count` orders, each placed, waited for (portion held), paid (the stub pays at once) and waited for
    (paid), by `threads` people at once; every step retried on 5xx or no answer, as a person would."""
    flight = Flight()
    lock = threading.Lock()
    deadline = time.monotonic() + deadline_s
    todo = list(range(count))

    def one(resident: Person, n: int) -> None:
        body = {"listing_id": listing_id, "quantity": 1, "slot_date": slot_date, "slot": "lunch",
                "address": {"community_id": "lianxi", "building": str(n % 9 + 1), "room": f"{n + 100}",
                            "contact_name": "Fault", "phone": "139 0000 0000", "location": location}}
        key = new_key()
        while True:
            placed = _until(lambda: resident.request("POST", "/api/v1/orders", json=body, idempotency_key=key),
                            (201, 409), flight, deadline)
            if placed.status_code == 201 or placed.json()["error"]["code"] != "request_in_progress":
                break
            time.sleep(0.5)
        if placed.status_code == 409:  # placed, and its answer lost as the database died: look it up, as a person
            assert placed.json()["error"]["code"] == "request_already_done", placed.text[:300]
            flight.answers["already done"] += 1
            mine = _until(lambda: resident.request("GET", "/api/v1/orders?per_page=50"), (200,), flight,
                          deadline).json()["items"]
            [order] = [o for o in mine if o["address"]["room"] == f"{n + 100}"]
        else:
            order = placed.json()
        with lock:
            flight.order_ids.append(order["id"])
        status = lambda: _until(lambda: resident.request("GET", f"/api/v1/orders/{order['id']}"), (200,), flight,
                                deadline).json()["status"]
        while (now := status()) == "placed" and time.monotonic() < deadline:
            time.sleep(0.5)
        if now == "awaiting_payment":
            _until(lambda: resident.request("POST", f"/api/v1/orders/{order['id']}/pay"), (200,), flight, deadline)
            while (now := status()) in ("awaiting_payment",) and time.monotonic() < deadline:
                time.sleep(0.5)
        with lock:
            flight.final[order["id"]] = now

    def worker(resident: Person) -> None:
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            try:
                one(resident, n)
            except Exception as error:  # recorded; the counts decide
                with lock:
                    flight.errors.append(repr(error))

    pool = [threading.Thread(target=worker, args=(residents[i % len(residents)],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return flight


# -- the counts -------------------------------------------------------------------------------------
def counts(mongo_url: str, namespace: str, order_ids: list[str], listing_id: str) -> dict:
    """What the databases hold for these orders: each number is per order, so a loss or a double shows."""
    client = MongoClient(mongo_url, tz_aware=True)
    try:
        db = lambda s: client[f"{namespace}_{s}"]
        ids = list(order_ids)
        orders = list(db("orders").orders.find({"listing.id": listing_id}, {"status": 1}))
        payments = list(db("orders").payments.find({"order_id": {"$in": ids}}, {"order_id": 1, "status": 1}))
        stub = db("paystub").payments.count_documents({"out_trade_no": {"$in": [p["_id"] for p in payments]}})
        ledger = list(db("orders").ledger.find({"order_id": {"$in": ids}}, {"order_id": 1, "kind": 1}))
        reservations = list(db("catalog").reservations.find({"listing_id": listing_id}, {"status": 1}))
        stock = list(db("catalog").slot_stock.find({"listing_id": listing_id}))
        tasks = db("delivery").tasks.count_documents({"order_id": {"$in": ids}})
        task_orders = len(db("delivery").tasks.distinct("order_id", {"order_id": {"$in": ids}}))

        outboxes: dict[tuple[str, str], list[dict]] = {}

        def events(service: str, event_type: str) -> Counter:
            found = list(db(service).outbox.find({"type": event_type, "envelope.data.order_id": {"$in": ids}},
                                                 {"status": 1}))
            outboxes[(service, event_type)] = found
            return Counter(e["status"] for e in found)

        def handled(consumer: str, service: str, event_type: str) -> int:
            """How many of those events the consumer's inbox records as handled."""
            event_ids = [e["_id"] for e in outboxes[(service, event_type)]]
            return db(consumer).inbox.count_documents({"event_id": {"$in": event_ids}})

        per_order = Counter(line["order_id"] for line in ledger if line["kind"] == "charge")
        return {
            "orders": len(orders),
            "orders_paid": sum(o["status"] == "paid" for o in orders),
            "reservations_confirmed": sum(r["status"] == "confirmed" for r in reservations),
            "reservations": len(reservations),
            "portions_taken": sum(s["taken"] for s in stock),
            "payments_succeeded": sum(p["status"] == "succeeded" for p in payments),
            "payments": len(payments),
            "provider_payments": stub,
            "ledger_orders": len(per_order),
            "ledger_lines_per_order": sorted(set(per_order.values())),
            "ledger_reversals": sum(line["kind"] != "charge" for line in ledger),
            "delivery_tasks": tasks,
            "delivery_task_orders": task_orders,
            "placed_events": dict(events("orders", "orders.order.placed")),
            "confirmed_events": dict(events("catalog", "catalog.reservation.confirmed")),
            "paid_events": dict(events("orders", "orders.order.paid")),
            "delivery_requested_events": dict(events("orders", "orders.delivery.requested")),
            "task_events": dict(events("delivery", "delivery.task.created")),
            "catalog_handled_placed": handled("catalog", "orders", "orders.order.placed"),
            "orders_handled_confirmed": handled("orders", "catalog", "catalog.reservation.confirmed"),
            # delivery hears of a paid meal through orders.delivery.requested (orders.order.paid has no address)
            "delivery_handled_paid": handled("delivery", "orders", "orders.delivery.requested"),
        }
    finally:
        client.close()


def dead_letters(amqp_url: str, namespace: str) -> dict[str, int]:
    with Connection(amqp_url, connect_timeout=5, heartbeat=0) as conn:
        channel = conn.channel()
        return {c: channel.queue_declare(f"{namespace}.{c}.dead", passive=True).message_count
                for c in ("catalog", "orders", "delivery")}


def dead_letter_details(amqp_url: str, namespace: str, consumer: str, limit: int = 5) -> list[dict]:
    """A look at the first dead letters of a consumer (left in the queue): type, headers, event id."""
    found = []
    with Connection(amqp_url, connect_timeout=5, heartbeat=0) as conn:
        channel = conn.default_channel
        for _ in range(limit):
            message = channel.basic_get(f"{namespace}.{consumer}.dead", no_ack=False)
            if message is None:
                break
            props = message.properties
            headers = {k: v for k, v in (props.get("application_headers") or {}).items() if k != "x-death"}
            found.append({"type": props.get("type"), "id": props.get("message_id"), "headers": headers,
                          "death": [(d.get("reason"), d.get("queue"), d.get("count"))
                                    for d in (props.get("application_headers") or {}).get("x-death", [])]})
    return found
