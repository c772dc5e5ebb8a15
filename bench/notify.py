"""Notify's live stream under load: 1,000 streams open at once on this machine.

Prints, asserts nothing:
- the delay from an event's commit (a delivery.task.offered written to delivery's outbox in its
  transaction) to its arrival on the offered volunteer's open stream: p50/p95/p99. The path is the
  real one: delivery's relay (python -m linli.relay) -> RabbitMQ -> notify's worker (message stored,
  numbered) -> the web process's hub -> the open stream;
- the memory (RSS) of the notify web process (gunicorn master and its gevent worker) while it holds them;
- with --via-gateway, the same through a gthread gateway (as it was deployed before it moved to gevent), which
  holds a thread per open stream: its threads and memory too. Use fewer streams there (say 100).
  bench/gateway_streams.py sets that gateway beside the gevent one deployed now.

    python -m bench.notify [--streams 1000] [--events 300] [--rate 20]
    python -m bench.notify --via-gateway --streams 100 --events 100 --rate 10

Why it once measured "0 of 300 offers arrived": notify held an offer back until it knew the offer's order
(orders.order.paid) and volunteer (delivery.volunteer.verified), retrying the event 1 s, 5 s, 30 s later;
the bench sends neither. Now delivery.task.offered names the volunteer's account and an offer needs nothing
else, so it reaches the stream at once (tests/integration/test_notify.py, the offer before its order).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import process_threads as _threads, rss_kib as _rss_kib
from devstack.mongo import EmbeddedMongo
from devstack.net import free_port
from devstack.rabbit import ensure_broker
from devstack.cleanup import remove_namespace
from linli.config import ROOT, reset_settings


def _env(namespace: str, mongo_url: str, amqp_url: str, var_dir: Path, port: int, gateway_port: int) -> dict:
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT),
            "LINLI_NAMESPACE": namespace, "MONGO_URL": mongo_url, "AMQP_URL": amqp_url, "LINLI_VAR_DIR": str(var_dir),
            "LINLI_NOTIFY_PORT": str(port), "LINLI_GATEWAY_PORT": str(gateway_port), "LINLI_WEB_WORKERS": "1",
            "LINLI_RELAY_POLL_SECONDS": "0.05", "PYTHONUNBUFFERED": "1"}


stored: dict[str, float] = {}  # task -> when notify's worker committed its message (wall clock)
committed_wall: dict[str, float] = {}


async def _open_stream(port: int, token: str, arrivals: dict, ready: asyncio.Event, opened: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write((f"GET /api/v1/notify/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  f"Accept: text/event-stream\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    assert b"200" in status, status
    opened.append(1)
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.startswith(b"data: "):
            data = json.loads(line[6:])
            task = data.get("refs", {}).get("task_id")
            if task and task not in arrivals:
                arrivals[task] = time.monotonic()
                stored[task] = datetime.fromisoformat(data["created_at"]).replace(tzinfo=timezone.utc).timestamp()


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="offers committed per second")
    parser.add_argument("--via-gateway", action="store_true",
                        help="open the streams through the gateway (gthread: a thread per open stream)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    amqp_url = ensure_broker()
    mongo = None
    mongo_url = os.environ.get("MONGO_URL")
    if not mongo_url:
        mongo = EmbeddedMongo(tmp / "mongo", log_file=tmp / "mongo.log")
        mongo_url = mongo.start()
    namespace = f"bn{uuid.uuid4().hex[:8]}"
    port, gateway_port = free_port(), free_port()
    env = _env(namespace, mongo_url, amqp_url, tmp / "var", port, gateway_port)
    os.environ.update({k: env[k] for k in ("LINLI_NAMESPACE", "MONGO_URL", "AMQP_URL", "LINLI_VAR_DIR")})
    reset_settings()
    procs: list[subprocess.Popen] = []
    log = open(tmp / "processes.log", "ab")
    try:
        from linli import db as dbmod, outbox, topology
        from linli.auth import issue_access_token
        from linli.db import in_transaction
        from linli.events import make_envelope
        from linli.ids import iso, utcnow
        from linli.keys import ensure_keys

        ensure_keys()
        topology.ensure()
        start = lambda *cmd: procs.append(subprocess.Popen(list(cmd), env=env, cwd=ROOT, stdout=log,
                                                           stderr=subprocess.STDOUT))
        start(sys.executable, "-m", "services.notify.worker")
        start(sys.executable, "-m", "linli.relay", "--service", "delivery")
        start(sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-k", "gevent",
              "--worker-connections", "4000", "--bind", f"127.0.0.1:{port}", "services.notify.app:create_app()")
        web = procs[-1]
        gateway = None
        if args.via_gateway:
            # as once deployed: gthread, LINLI_WEB_WORKERS x LINLI_WEB_THREADS threads; each open
            # stream holds one, so the bench gives it one thread per stream (and a few for other requests)
            start(sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--threads",
                  str(args.streams + 8), "--bind", f"127.0.0.1:{gateway_port}", "gateway.app:create_app()")
            gateway = procs[-1]
        stream_port = gateway_port if args.via_gateway else port

        volunteers = [f"acc_v{i}" for i in range(args.streams)]
        print(f"[bench] {args.streams} volunteers known to notify ...", flush=True)
        from amqp import Message
        conn = topology.connect(confirms=True)
        channel = conn.channel()
        for i, account in enumerate(volunteers):
            # the gateway's own account event (as its relay publishes it): the volunteer's language and name
            envelope = make_envelope("gateway.account.registered",
                                     {"account_id": account, "role": "volunteer", "name": f"V{i}"}, "gateway")
            channel.basic_publish(Message(json.dumps(envelope).encode(), delivery_mode=2,
                                          content_type="application/json"),
                                  exchange=f"{namespace}.events", routing_key=envelope["type"])
        conn.release()
        notify_db = dbmod.database("notify")
        deadline = time.monotonic() + 900
        while (handled := notify_db.inbox.count_documents({})) < args.streams and time.monotonic() < deadline:
            print(f"[bench] notify handled {handled} of {args.streams} setup events", flush=True)
            time.sleep(5)
        import requests
        for p in (port, gateway_port) if args.via_gateway else (port,):
            while time.monotonic() < deadline:
                try:
                    if requests.get(f"http://127.0.0.1:{p}/healthz", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.3)
        rss_before = _rss_kib(web.pid)
        gateway_before = (_rss_kib(gateway.pid), _threads(gateway.pid)) if gateway else None

        delivery_db = dbmod.database("delivery")
        outbox.ensure_indexes(delivery_db)
        committed: dict[str, float] = {}
        arrivals: dict[str, float] = {}

        async def run() -> tuple[int, int]:
            opened: list = []
            ready = asyncio.Event()
            tasks = [asyncio.create_task(_open_stream(stream_port, issue_access_token(a, "volunteer", a, minutes=60),
                                                      arrivals, ready, opened)) for a in volunteers]
            # a stream refused (a 503 when the database is out of reach) ends its task: count, don't wait forever
            while len(opened) + sum(t.done() for t in tasks) < len(volunteers):
                await asyncio.sleep(0.2)
            refused.extend(t for t in tasks if t.done())
            await asyncio.sleep(2)
            held_rss = _rss_kib(web.pid)
            if gateway:
                gateway_held.extend((_rss_kib(gateway.pid), _threads(gateway.pid)))
            loop = asyncio.get_running_loop()
            for n in range(args.events):
                task_id = f"tsk_{n}"
                volunteer = random.randrange(args.streams)

                def commit(task_id=task_id, volunteer=volunteer):
                    def work(session):
                        outbox.add(delivery_db, session, source="delivery", event_type="delivery.task.offered", data={
                            "task_id": task_id, "order_id": f"ord_{task_id}", "offer_id": f"off_{task_id}",
                            "volunteer_id": f"vol_{volunteer}", "account_id": volunteers[volunteer], "expires_at": iso(utcnow() + timedelta(seconds=90)),
                            "distance_m": 400.0, "mode": "single"}, aggregate=f"task:{task_id}")
                    in_transaction(delivery_db, work)
                    committed[task_id] = time.monotonic()
                    committed_wall[task_id] = time.time()
                await loop.run_in_executor(None, commit)
                await asyncio.sleep(1 / args.rate)
            waited = time.monotonic() + 30
            while len(arrivals) < args.events and time.monotonic() < waited:
                await asyncio.sleep(0.2)
            peak = _rss_kib(web.pid)
            for t in tasks:
                t.cancel()
            return len(opened), max(held_rss, peak)

        gateway_held: list = []
        refused: list = []
        print("[bench] opening the streams and committing offers ...", flush=True)
        opened, rss_held = asyncio.run(run())
        delays = [arrivals[t] - committed[t] for t in committed if t in arrivals]
        print(f"streams open at once: {opened}" + (" (through the gateway)" if gateway else " (straight to notify)")
              + (f"; {len(refused)} refused" if refused else ""))
        print(f"offers committed: {len(committed)} at {args.rate:.0f}/s; arrived on their stream: {len(delays)}")
        if delays:
            print(f"commit -> stream delay: p50 {_percentile(delays, .5) * 1000:.0f} ms, "
                  f"p95 {_percentile(delays, .95) * 1000:.0f} ms, p99 {_percentile(delays, .99) * 1000:.0f} ms, "
                  f"max {max(delays) * 1000:.0f} ms")
        split = [(stored[t] - committed_wall[t], (arrivals[t] - committed[t]) - (stored[t] - committed_wall[t]))
                 for t in committed if t in arrivals and t in stored]
        if split:
            print(f"of which commit -> message stored by notify's worker (relay, broker, worker): "
                  f"p50 {_percentile([a for a, _ in split], .5) * 1000:.0f} ms; message stored -> on the stream "
                  f"(hub, stream): p50 {_percentile([b for _, b in split], .5) * 1000:.0f} ms")
        print(f"notify web process (gunicorn master + 1 gevent worker) RSS: {rss_before / 1024:.0f} MB idle, "
              f"{rss_held / 1024:.0f} MB holding {opened} streams")
        if gateway and gateway_held:
            print(f"gateway (gunicorn gthread, 1 worker): {gateway_before[0] / 1024:.0f} MB and {gateway_before[1]} "
                  f"threads idle, {gateway_held[0] / 1024:.0f} MB and {gateway_held[1]} threads holding {opened} streams")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            remove_namespace(mongo_url, amqp_url, namespace, env)
        finally:
            if mongo is not None:
                mongo.stop()


if __name__ == "__main__":
    main()
