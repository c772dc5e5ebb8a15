"""The gateway holding open live streams: gthread (the old deployment) beside gevent (as now deployed).

Prints, asserts nothing. For each number of live streams held open through the gateway (notify's
`/api/v1/notify/stream`, forwarded by gateway/api/proxy.py), and for each kind of gateway, side by side in
the same run:
- a proxied API GET (`/api/v1/notify/messages/unread-count` with a token): p50/p95 over ~100 calls from a
  few concurrent clients, and how many got no answer within 5 s;
- a sign-in (`POST /api/v1/auth/login`, argon2's hash) while the streams are held: p50/p95, and unanswered;
- the gateway's memory (RSS, gunicorn master + workers) and its threads while it holds them, before and after
  the sign-ins (each argon2 hash takes 19 MiB, which the C library keeps in the hashing thread's arena).
The GET is also made straight to notify-web (a third as many calls): the part of its time that is notify's.

The processes are the real ones: notify-web and the gateway under gunicorn as deploy/Procfile starts them
(the gateway's line as it is, `-k gevent --worker-connections 4000`, 2 workers; the baseline is the same line
without the `-k gevent` part: gthread, 2 workers x 8 threads, deploy/gunicorn.conf.py), the embedded database
(EmbeddedMongo) and RabbitMQ (ensure_broker). Each level starts a fresh gateway of each kind: a gthread
gateway that has starved keeps its queued requests, and would skew the next level.

    python -m bench.gateway_streams [--levels 0,16,60,200] [--calls 100] [--clients 10] [--logins 20]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import infrastructure, process_threads, rss_kib
from devstack.net import free_port
from linli.config import ROOT

ANSWER_WITHIN = 5.0  # seconds: a call with no answer by then counts as unanswered
PASSWORD = "bench-streams-9Kq!"


def _procfile_gateway() -> list[str]:
    """The gateway's command line in deploy/Procfile, as words (`gunicorn ...`, with $LINLI_GATEWAY_PORT)."""
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.startswith("gateway:"):
            return shlex.split(line.partition(":")[2])
    raise SystemExit("deploy/Procfile has no gateway line")


def gateway_command(kind: str, port: int) -> list[str]:
    words = [w.replace("$LINLI_GATEWAY_PORT", str(port)) for w in _procfile_gateway()]
    assert words[0] == "gunicorn", words
    if kind == "gthread":  # the old line: no -k, so deploy/gunicorn.conf.py's gthread, 2 workers x 8 threads
        out, skip = [], 0
        for w in words:
            if skip:
                skip -= 1
            elif w in ("-k", "--worker-class", "--worker-connections"):
                skip = 1
            elif w.startswith(("--worker-class=", "--worker-connections=")):
                pass
            else:
                out.append(w)
        words = out
    return [sys.executable, "-m", *words]


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Streams:
    """N live streams opened through the gateway and held, on an event loop of their own (a thread)."""

    def __init__(self, port: int, tokens: list[str]):
        self.port, self.tokens = port, tokens
        self.answered = 0  # streams whose "200" and first line came back
        self.refused: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tasks: list[asyncio.Task] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def _one(self, token: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers.append(writer)
        writer.write((f"GET /api/v1/notify/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                      "Accept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            self.refused.append(status)
            return
        self.answered += 1
        while await reader.readline():  # keepalives every so often; held until the bench closes it
            pass

    def open(self, wait: float) -> None:
        self.thread.start()

        async def start():
            self.tasks = [asyncio.create_task(self._one(t)) for t in self.tokens]
        asyncio.run_coroutine_threadsafe(start(), self.loop).result()
        deadline = time.monotonic() + wait
        while self.answered + len(self.refused) < len(self.tokens) and time.monotonic() < deadline:
            time.sleep(0.2)

    def close(self) -> None:
        async def stop():
            for t in self.tasks:
                t.cancel()
            for w in self.writers:
                w.close()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


def _timed(call) -> float | int | None:
    """Milliseconds (a float) to a 2xx answer; None when no answer came within ANSWER_WITHIN; the status (an
    int) when the answer was not a 2xx."""
    started = time.perf_counter()
    try:
        response = call()
    except requests.RequestException:
        return None
    elapsed = (time.perf_counter() - started) * 1000
    if elapsed > ANSWER_WITHIN * 1000:
        return None
    return elapsed if response.ok else response.status_code


def _many(call, n: int, clients: int) -> list[float | int | None]:
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda i: _timed(lambda: call(i)), range(n)))


def _summary(results: list[float | int | None]) -> tuple[str, str]:
    answered = [r for r in results if isinstance(r, float)]
    refused = [r for r in results if isinstance(r, int)]
    lat = f"{_percentile(answered, .5):.0f} / {_percentile(answered, .95):.0f}" if answered else "-"
    unanswered = f"{sum(r is None for r in results)} of {len(results)}"
    if refused:  # an answer, but not a 2xx: its statuses
        unanswered += " (+ " + ", ".join(f"{refused.count(s)}x {s}" for s in sorted(set(refused))) + ")"
    return lat, unanswered


def _stop(proc: subprocess.Popen) -> None:
    """gunicorn's quick shutdown (SIGINT), then SIGKILL for the master and any worker left."""
    if proc.poll() is not None:
        return
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                               text=True).stdout.split()]
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for child in children:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a process on port {port} exited ({proc.returncode}); see its log")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nothing healthy on port {port} after {timeout:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="0,16,60,200", help="numbers of streams held open, comma-separated")
    parser.add_argument("--calls", type=int, default=100, help="API GETs at each level")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients making them")
    parser.add_argument("--logins", type=int, default=20, help="sign-ins at each level")
    parser.add_argument("--kinds", default="gthread,gevent")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    kinds = args.kinds.split(",")

    # the broker, the embedded database (or MONGO_URL), a namespace and this process configured for them, all
    # removed after (bench.common.infrastructure, as the other benches do)
    with infrastructure() as (mongo_url, amqp_url, namespace, tmp):
        notify_port = free_port()
        venv_bin = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT),
               "LINLI_NAMESPACE": namespace, "MONGO_URL": mongo_url, "AMQP_URL": amqp_url,
               "LINLI_VAR_DIR": str(tmp / "var"), "LINLI_NOTIFY_PORT": str(notify_port),
               "LINLI_WEB_WORKERS": "2", "LINLI_WEB_THREADS": "8", "PYTHONUNBUFFERED": "1"}
        log = open(tmp / "processes.log", "ab")
        procs: list[subprocess.Popen] = []

        def start(cmd: list[str], extra: dict | None = None) -> subprocess.Popen:
            procs.append(subprocess.Popen(cmd, env={**env, **(extra or {})}, cwd=ROOT, stdout=log,
                                          stderr=subprocess.STDOUT))
            return procs[-1]

        rows: list[tuple] = []
        finished = False
        try:
            from gateway import commands as gateway_commands
            from gateway.bootstrap import build as build_gateway
            from linli import topology
            from linli.auth import issue_access_token

            topology.ensure()
            # notify-web as deploy/Procfile starts it (gevent, 2 workers): the streams' far end
            notify = start([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-k", "gevent",
                            "--worker-connections", "4000", "--bind", f"127.0.0.1:{notify_port}",
                            "services.notify.app:create_app()"])
            # residents who sign in (their passwords hashed with argon2, as sign-up does)
            gw = build_gateway()
            signers = [f"bench_signer_{i}" for i in range(4)]
            for name in signers:
                gateway_commands.sign_up(gw.units, name, PASSWORD, name, "resident", "bench", "1000 per hour")
            reader_token = issue_access_token("acc_bench_reader", "resident", "Reader", minutes=120)
            stream_tokens = [issue_access_token(f"acc_bench_s{i}", "resident", f"S{i}", minutes=120)
                             for i in range(max(levels))]
            _wait_healthy(notify_port, notify)
            print(f"[bench] load average before: {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, "
                  f"{os.getloadavg()[2]:.2f}", flush=True)

            for level in levels:
                for kind in kinds:
                    port = free_port()
                    gateway = start(gateway_command(kind, port), {"LINLI_GATEWAY_PORT": str(port)})
                    _wait_healthy(port, gateway)
                    streams = Streams(port, stream_tokens[:level])
                    try:
                        streams.open(wait=10 if level else 0)
                        time.sleep(1)
                        base = f"http://127.0.0.1:{port}"
                        unread = lambda origin: (lambda i: requests.get(
                            f"{origin}/api/v1/notify/messages/unread-count",
                            headers={"Authorization": f"Bearer {reader_token}"}, timeout=(ANSWER_WITHIN, ANSWER_WITHIN)))
                        gets = _many(unread(base), args.calls, args.clients)
                        # the same call straight to notify-web: what the gateway adds, and what notify's side costs
                        direct = _many(unread(f"http://127.0.0.1:{notify_port}"), args.calls // 3, args.clients)
                        held = (rss_kib(gateway.pid), process_threads(gateway.pid))
                        logins = _many(lambda i: requests.post(
                            f"{base}/api/v1/auth/login", json={"username": signers[i % len(signers)],
                                                               "password": PASSWORD},
                            timeout=(ANSWER_WITHIN, ANSWER_WITHIN)), args.logins, len(signers))
                        after = (rss_kib(gateway.pid), process_threads(gateway.pid))
                    finally:
                        streams.close()
                        _stop(gateway)
                        procs.remove(gateway)
                    load = os.getloadavg()[0]
                    rows.append((level, kind, f"{streams.answered} of {level}", *_summary(gets), _summary(direct)[0],
                                 *_summary(logins), f"{held[0] / 1024:.0f} / {after[0] / 1024:.0f}",
                                 f"{held[1]} / {after[1]}", f"{load:.1f}"))
                    print(f"[bench] {level} streams, {kind}: done (load {load:.1f})", flush=True)

            head = ("streams", "gateway", "streams answered", "GET p50/p95 ms", "GET unanswered (5 s)",
                    "same GET to notify direct", "sign-in p50/p95 ms", "sign-in unanswered", "RSS MB before / after sign-ins",
                    "threads before / after", "load")
            print()
            print("gateway gthread = 2 workers x 8 threads (the old deployment); gevent = 2 workers, "
                  "--worker-connections 4000 (deploy/Procfile)")
            print(f"GET = /api/v1/notify/messages/unread-count through the gateway, {args.calls} calls from {args.clients} "
                  f"clients (and {args.calls // 3} straight to notify-web); sign-in = POST /api/v1/auth/login, {args.logins} "
                  f"from {len(signers)} clients; streams answered = their 200 within 10 s")
            print("RSS and threads: gateway master + workers with the streams held, before and after the sign-ins "
                  "(argon2 takes 19 MiB a hash; the C library keeps it per thread)")
            widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
            fmt = lambda r: " | ".join(str(c).ljust(w) for c, w in zip(r, widths))
            print(fmt(head))
            print("-+-".join("-" * w for w in widths))
            for r in rows:
                print(fmt(r))
            finished = True
        finally:
            for p in procs:
                _stop(p)
            log.close()
            if not finished:
                print(f"[bench] the processes' log: {tmp / 'processes.log'}", file=sys.stderr)
    if finished:  # the database stopped: its files and the processes' log go too
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
