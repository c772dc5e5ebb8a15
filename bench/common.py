"""Starting the broker and an embedded Mongo server for a benchmark, on a namespace of its own."""
from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from devstack.cleanup import remove_namespace
from devstack.mongo import EmbeddedMongo
from devstack.rabbit import ensure_broker
from linli.config import reset_settings
from linli.keys import ensure_keys


@contextmanager
def infrastructure():
    """Yields (mongo_url, amqp_url, namespace, scratch dir) with this process configured for them."""
    amqp_url = ensure_broker()
    scratch = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    mongo = None
    mongo_url = os.environ.get("MONGO_URL")  # a real replica set when given
    if not mongo_url:
        mongo = EmbeddedMongo(scratch / "mongo", log_file=scratch / "mongo.log")
        mongo_url = mongo.start()
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    saved = dict(os.environ)
    os.environ.update({"MONGO_URL": mongo_url, "AMQP_URL": amqp_url, "LINLI_NAMESPACE": namespace,
                       "LINLI_VAR_DIR": str(scratch / "var")})
    reset_settings()
    ensure_keys()
    try:
        yield mongo_url, amqp_url, namespace, scratch
    finally:
        remove_namespace(mongo_url, amqp_url, namespace, dict(os.environ))
        if mongo is not None:
            mongo.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p(0.95):.1f} ms, max {ordered[-1]:.1f} ms (n={len(ordered)})"


def _family(pid: int) -> list[int]:
    """The process and its children (gunicorn: the master and its workers)."""
    return [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                   text=True).stdout.split()]


def process_threads(pid: int) -> int:
    """Threads of the process and its children, together."""
    total = 0
    for p in _family(pid):
        try:
            total += len(os.listdir(f"/proc/{p}/task"))
        except FileNotFoundError:  # a child that ended meanwhile
            pass
    return total


def rss_kib(pid: int) -> int:
    """Resident memory (KiB) of the process and its children, together."""
    total = 0
    for p in _family(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total
