"""The whole system as real processes: deploy/Procfile under supervisord, the way `make run` starts it.

supervisord restarts any process that dies (devstack/supervise.py); the Stack stops them all.
The end-to-end tests use the same class on free ports with their own LINLI_NAMESPACE.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from amqp.exceptions import AMQPError
from kombu import Connection
from kombu.exceptions import OperationalError

from linli.config import ROOT, SERVICE_PORTS

from . import supervise
from .net import free_port

WEB_SERVICES = tuple(SERVICE_PORTS)  # gateway, catalog, orders, delivery, notify, web (the pages)
WORKERS = ("catalog", "orders", "delivery", "notify")


class Stack:
    def __init__(self, *, namespace: str, mongo_url: str, amqp_url: str, var_dir: Path,
                 ports: dict[str, int] | None = None, extra_env: dict[str, str] | None = None,
                 log_file: Path | None = None):
        self.namespace = namespace
        # a caller that names only some ports gets free ones for the rest (notify and the web pages came later)
        self.ports = {name: (ports or SERVICE_PORTS).get(name) or free_port() for name in SERVICE_PORTS}
        self.var_dir = Path(var_dir)
        self.log_file = log_file or self.var_dir / "log" / "linli.log"
        self.process: subprocess.Popen | None = None
        self.run_dir = self.var_dir / "run"
        self.conf = self.run_dir / "supervisord.conf"
        venv_bin = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LINLI_NAMESPACE": namespace,
            "MONGO_URL": mongo_url,
            "AMQP_URL": amqp_url,
            "LINLI_VAR_DIR": str(self.var_dir),
            "LINLI_SIGNUP_LIMIT": "10000 per hour",
            **{f"LINLI_{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            **{f"LINLI_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in self.ports.items()},
            **(extra_env or {}),
        }
        self.env.setdefault("LINLI_PUBLIC_URL", f"http://127.0.0.1:{self.ports['gateway']}")

    def url(self, service: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self) -> None:
        subprocess.run([sys.executable, "-m", "devstack.keys"], env=self.env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")
        self.conf = supervise.write_config(self.run_dir)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def pid(self, name: str) -> int | None:
        """The pid of one Procfile process (e.g. "orders-worker") as supervisord runs it now, if running."""
        out = supervise.ctl(self.conf, "pid", name, env=self.env).strip()
        return int(out) if out.isdigit() and out != "0" else None

    def status(self) -> str:
        return supervise.ctl(self.conf, "status", env=self.env)

    def _web_ready(self, service: str) -> bool:
        try:
            return requests.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def _workers_consuming(self) -> bool:
        try:
            with Connection(self.env["AMQP_URL"], connect_timeout=5, heartbeat=0) as conn:
                channel = conn.channel()
                for worker in WORKERS:
                    if channel.queue_declare(f"{self.namespace}.{worker}", passive=True).consumer_count < 1:
                        return False
                return True
        except (AMQPError, OperationalError, OSError):
            return False

    def wait_ready(self, timeout: float = 240) -> float:
        """Seconds until every web process answers /readyz and every worker consumes (a few on an idle machine;
        the timeout is long because a shared, busy machine can take minutes just to import everything)."""
        started = time.monotonic()
        pending = set(WEB_SERVICES)
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"The processes stopped during start-up; see {self.log_file}")
            pending = {s for s in pending if not self._web_ready(s)}
            if not pending and self._workers_consuming():
                return time.monotonic() - started
            time.sleep(0.3)
        raise RuntimeError(f"Not ready after {timeout:.0f} s (waiting for {sorted(pending) or 'workers'}); "
                           f"see {self.log_file}")

    def stop(self, timeout: float = 40) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
