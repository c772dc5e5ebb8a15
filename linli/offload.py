"""CPU work that releases the GIL (argon2's password hashing), kept off gevent's event loop.

The gateway runs gunicorn's gevent worker (an open live stream there is a parked greenlet, not a thread):
under it, a 43 ms hash run in place would stop every other request and stream of the worker for as long.
`run` hands such work to gevent's pool of real threads when the process is gevent's (the C code releases
the GIL, so the loop goes on meanwhile), and runs it in place everywhere else (threads, tests, scripts).
Measured here (1 December 2026, load 7-10): 10 checks in place stopped a 2 ms ticker greenlet for all of their
1,582 ms; offloaded, the ticker ran on (longest gap 36 ms). tests/unit/test_offload.py proves the difference.
"""
from __future__ import annotations

import sys
from typing import Callable, TypeVar

T = TypeVar("T")


def _gevent_loop() -> bool:
    if "gevent.monkey" not in sys.modules:
        return False
    from gevent import monkey

    return monkey.is_module_patched("threading")


def run(work: Callable[..., T], *args) -> T:
    if _gevent_loop():
        import gevent

        return gevent.get_hub().threadpool.apply(work, args)
    return work(*args)
