"""How the background processes ride out faults and show that they are alive.

- `Backoff`: capped exponential waits between attempts to reach the broker or the database
  (0.5 s, 1, 2, 4 ... up to 30 s), reset once an attempt works. Workers, relays and timers
  retry forever with it and write one log line per attempt, so a long outage logs at most
  two lines a minute per process.
- `Heartbeat`: a worker or relay writes `var/run/<process>.json` every few seconds:
  `{"process", "pid", "ready", "state", "at"}`. `ready` is false while it cannot reach the
  broker or the database. Web processes answer /readyz instead.

    python -m linli.health          # one line per process; exit 1 if any is not ready or silent
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .config import settings

STALE_AFTER = 15.0  # seconds without a heartbeat before a process counts as gone


class Backoff:
    def __init__(self, first: float = 0.5, cap: float = 30.0):
        self.first = first
        self.cap = cap
        self.attempts = 0

    def next(self) -> float:
        """The wait before the next attempt (and counts this failure)."""
        self.attempts += 1
        return min(self.cap, self.first * 2 ** (self.attempts - 1))

    def reset(self) -> None:
        self.attempts = 0


def run_dir() -> Path:
    return settings().var_dir / "run"


class Heartbeat:
    """Writes this process's state at most every `every` seconds (or at once when it changes)."""

    def __init__(self, process: str, every: float = 2.0, folder: Path | None = None):
        self.process = process
        self.every = every
        self.folder = folder
        self._last: tuple[bool, str] | None = None
        self._at = 0.0

    def beat(self, ready: bool, state: str) -> None:
        now = time.monotonic()
        if self._last == (ready, state) and now - self._at < self.every:
            return
        self._last, self._at = (ready, state), now
        folder = self.folder or run_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{self.process}.json"
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"process": self.process, "pid": os.getpid(), "ready": ready,
                                       "state": state, "at": time.time()}))
            os.replace(tmp, path)
        except OSError:
            pass  # a full or read-only disk must not stop the work; the heartbeat just goes stale


def read_all(folder: Path | None = None) -> list[dict]:
    """Every process's last heartbeat, with `alive` (recent enough) added."""
    folder = folder or run_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            beat = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        beat["alive"] = time.time() - beat.get("at", 0) < STALE_AFTER
        found.append(beat)
    return found


def main() -> int:
    beats = read_all()
    if not beats:
        print(f"No heartbeats in {run_dir()}: no worker or relay has run here.")
        return 1
    healthy = True
    for beat in beats:
        ok = beat["alive"] and beat["ready"]
        healthy &= ok
        age = time.time() - beat["at"]
        print(f"{beat['process']:<18} {'ready' if ok else 'NOT READY':<10} {beat['state']:<28} "
              f"pid {beat['pid']:<7} {age:5.1f} s ago")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
