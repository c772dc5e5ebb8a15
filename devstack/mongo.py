"""The embedded MongoDB-wire server (SecantusDB) for `make run` and the tests.

It is GPL-2.0 and installed only as a development extra, so it always runs as a separate
server process; no Linli code imports it. With MONGO_URL set, none of this runs.

Work-around (SecantusDB 0.7.0b3), the one place for it: by default the server does not sync its
WiredTiger log on commit, so a SIGKILL of the server loses a few writes it had acknowledged, even
with writeConcern w="majority" (which on a real mongod replica set implies a journaled write) and
even with j=True inside a transaction (it honours j only on single writes). Measured: 4 writers for
3 s, then SIGKILL and a restart on the same folder, lost 1-18 of ~1,100 acknowledged writes in
every round (plain inserts and two-document transactions alike). `--sync-on-commit` fsyncs the log
at every commit and lost none; it costs about 1-4 ms a commit on this machine. Linli's code stays
on pymongo's semantics (w="majority"); a server that may be killed is started with
`sync_on_commit=True` (`make run`, the fault suite); the test suite's server, never killed, is not.
`tests/integration/test_embedded_database.py` proves it.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient

from .net import free_port, wait_for_port


class EmbeddedMongo:
    def __init__(self, data_dir: Path, port: int | None = None, log_file: Path | None = None,
                 sync_on_commit: bool = False):
        """`sync_on_commit`: keep every acknowledged write through a SIGKILL of the server (see above)."""
        self.data_dir = Path(data_dir)
        self.sync_on_commit = sync_on_commit
        self.port = port or free_port()
        self.log_file = log_file or self.data_dir.parent / "mongo.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def _binary(self) -> str:
        candidate = Path(sys.executable).parent / "secantusd-py"
        found = str(candidate) if candidate.exists() else shutil.which("secantusd-py")
        if not found:
            raise RuntimeError("The embedded MongoDB server is missing: install the dev extra (`make venv`).")
        return found

    def start(self, timeout: float = 60) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")
        self.process = subprocess.Popen(
            [self._binary(), "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.data_dir),
             "--log-level", "WARNING", *(["--sync-on-commit"] if self.sync_on_commit else [])],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        if not wait_for_port("127.0.0.1", self.port, timeout) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError(f"The embedded MongoDB server did not start; see {self.log_file}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                MongoClient(self.url, serverSelectionTimeoutMS=2000).admin.command("ping")
                return self.url
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
