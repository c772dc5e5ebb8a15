"""linli.offload: under gevent (the gateway's worker) a password check runs on a real thread, so the worker's other
greenlets (open live streams, other requests) go on meanwhile; elsewhere it runs in place. Checked in a process of
its own, since gevent's monkey-patching must not touch the test process."""
from __future__ import annotations

import json
import subprocess
import sys

from linli import offload

SCRIPT = r"""
from gevent import monkey; monkey.patch_all()
import json, gevent
from linli import offload
from gateway.rules import passwords
good = passwords.hash_of("a long enough password")
ticks = []
def ticker():
    while True:
        ticks.append(1); gevent.sleep(0.001)
def during(check):
    ticks.clear(); g = gevent.spawn(ticker); gevent.sleep(0)
    ticks.clear(); answers = [check() for _ in range(5)]; g.kill()
    return answers, len(ticks)
in_place = during(lambda: passwords.matches(good, "wrong"))
offloaded = during(lambda: offload.run(passwords.matches, good, "wrong"))
right = offload.run(passwords.matches, good, "a long enough password")
print(json.dumps({"in_place": in_place, "offloaded": offloaded, "right": right}))
"""


def test_under_gevent_a_password_check_leaves_the_other_greenlets_running():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["in_place"] == [[False] * 5, 0]  # in place, the loop stands still while argon2 works
    answers, ticks = seen["offloaded"]
    assert answers == [False] * 5 and ticks > 0  # offloaded, the other greenlet ran meanwhile
    assert seen["right"] is True


def test_outside_gevent_the_work_runs_in_place():
    import threading

    assert offload.run(lambda: threading.current_thread()) is threading.current_thread()
