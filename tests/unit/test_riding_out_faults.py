"""Riding out faults without a broker or a database: the worker holds messages while the database is
down (no requeue, which would count against the delivery limit), backs off failing timers, and the
local supervisor's configuration restarts every Procfile process forever."""
from __future__ import annotations

import configparser
import json

import pytest

from pymongo.errors import AutoReconnect

from devstack import supervise
from linli import consumer as consumer_mod
from linli.config import Settings
from linli.consumer import ConsumerRunner, Timer
from linli.health import Backoff, Heartbeat, read_all


class FakeMessage:
    def __init__(self, body: dict):
        self.body = json.dumps(body)
        self.headers = {}
        self.properties = {}
        self.acked = self.requeued = 0

    def ack(self):
        self.acked += 1

    def requeue(self):
        self.requeued += 1


def _runner(tmp_path, timers=()):
    cfg = Settings.from_env({"LINLI_NAMESPACE": "unit", "LINLI_VAR_DIR": str(tmp_path)})
    runner = ConsumerRunner("catalog", units=None, handlers={"orders.order.placed": lambda u, e: None},
                            timers=list(timers), cfg=cfg, subscriptions={"catalog": ("orders.order.placed",)})
    runner.heartbeat = Heartbeat("catalog-worker", folder=tmp_path / "run")
    return runner


def _placed(n: int) -> dict:
    return {"id": f"evt_{n}", "type": "orders.order.placed", "correlation_id": f"c{n}", "data": {"order_id": f"ord_{n}"}}


def test_messages_are_held_in_order_while_the_database_is_down_and_handled_once_it_answers(tmp_path, monkeypatch):
    database_up = False
    handled = []

    def apply_once(units, consumer, envelope, handler):
        if not database_up:
            raise AutoReconnect("connection refused")
        handled.append(envelope["data"]["order_id"])
        return True

    monkeypatch.setattr(consumer_mod, "apply_once", apply_once)
    monkeypatch.setattr(consumer_mod, "parse_envelope", lambda envelope: envelope)  # contracts are tested elsewhere
    runner = _runner(tmp_path)
    messages = [FakeMessage(_placed(n)) for n in range(3)]
    for m in messages:
        runner.on_message(None, m)
    runner._retry_held_at = 0
    runner._retry_held(None)  # still down: nothing acknowledged, nothing requeued, the wait grows
    assert [m.acked for m in messages] == [0, 0, 0] and [m.requeued for m in messages] == [0, 0, 0]
    assert runner._db_backoff.attempts == 2 and len(runner._held) == 3
    assert read_all(tmp_path / "run")[0]["ready"] is False

    database_up = True
    runner._retry_held_at = 0
    runner._retry_held(None)
    assert handled == ["ord_0", "ord_1", "ord_2"]
    assert [m.acked for m in messages] == [1, 1, 1] and not runner._held and runner._db_backoff.attempts == 0


def test_a_failing_timer_waits_longer_each_time_and_its_normal_pace_comes_back(tmp_path, monkeypatch):
    calls, failing = [], [True]

    def fn():
        calls.append(1)
        if failing[0]:
            raise AutoReconnect("down")

    timer = Timer("deadlines", 0.1, fn)
    runner = _runner(tmp_path, [timer])
    clock = [1000.0]
    monkeypatch.setattr(consumer_mod.time, "monotonic", lambda: clock[0])
    waits = []
    for _ in range(8):
        runner._run_timers()
        waits.append(timer.next_at - clock[0])
        clock[0] = timer.next_at
    assert waits == pytest.approx([0.5, 1, 2, 4, 8, 16, 30, 30])  # capped exponential, one log line each
    failing[0] = False
    runner._run_timers()
    assert timer.next_at - clock[0] == pytest.approx(0.1) and timer.backoff.attempts == 0


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_success():
    backoff = Backoff(first=0.5, cap=30)
    assert [backoff.next() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next() == 0.5


def test_the_supervisor_restarts_every_procfile_process_forever(tmp_path):
    names = supervise.procfile()
    assert {"gateway", "orders-worker", "orders-relay", "delivery-web"} <= set(names)
    conf = configparser.RawConfigParser()
    conf.read_string(supervise.config(tmp_path))
    programs = [s.split(":", 1)[1] for s in conf.sections() if s.startswith("program:")]
    assert programs == list(names)
    for name in programs:
        section = conf[f"program:{name}"]
        assert section["autorestart"] == "true" and int(section["startretries"]) >= 100_000
        assert section["command"].startswith("/bin/sh -c ") and "exec " in section["command"]
        assert section["stopasgroup"] == "true"
    assert conf["supervisord"]["nodaemon"] == "true"


def test_a_worker_whose_handlers_and_bindings_differ_refuses_to_start(tmp_path):
    """The queue is bound to the types of the consumer's HANDLERS table; a runner handed another table must handle
    exactly those types, so an event can be neither bound and unhandled (acknowledged and lost) nor handled and
    never delivered."""
    cfg = Settings.from_env({"LINLI_NAMESPACE": "unit", "LINLI_VAR_DIR": str(tmp_path)})
    bound = {"catalog": ("orders.order.placed", "orders.order.cancelled")}
    with pytest.raises(ValueError, match="orders.order.cancelled"):
        ConsumerRunner("catalog", units=None, handlers={"orders.order.placed": lambda u, e: None}, cfg=cfg,
                       subscriptions=bound)
    with pytest.raises(ValueError, match="orders.order.paid.*HANDLERS"):
        ConsumerRunner("catalog", units=None, cfg=cfg, subscriptions=bound, handlers={
            t: (lambda u, e: None) for t in ("orders.order.placed", "orders.order.cancelled", "orders.order.paid")})
