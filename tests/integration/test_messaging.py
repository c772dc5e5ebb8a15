"""The event plumbing on the real broker and the embedded Mongo server: outbox and relay,
idempotent consumers, retries and dead letters, and crashes at the worst moments."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from linli import deadletters, topology
from linli.config import ROOT, settings
from linli.events import make_envelope
from linli.ids import utcnow
from linli.outbox import COLLECTION
from linli.relay import Relay
from tests.conftest import eventually
from tests.integration import messaging as m


@pytest.fixture
def probe(linli_env):
    m.declare()
    db = m.probe_db()
    yield db


def test_a_committed_change_is_published_and_consumed_once(probe):
    envelope = m.write_with_event(probe, 5)
    assert Relay(m.PROBE, db=probe).run_once() == 1
    assert probe[COLLECTION].find_one({"_id": envelope["id"]})["status"] == "sent"
    with m.RunningConsumer(probe):
        eventually(lambda: m.effect(probe)["applied"] == 1, what="the consumer to apply the event")
    assert m.effect(probe)["total"] == 5
    assert probe.inbox.count_documents({"event_id": envelope["id"]}) == 1


def test_a_rolled_back_change_publishes_nothing(probe):
    from linli import outbox
    from linli.db import in_transaction

    def work(session):
        outbox.add(probe, session, source=m.PROBE, event_type="test.thing.happened", data={"n": 1}, aggregate="x")
        raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        in_transaction(probe, work)
    assert probe[COLLECTION].count_documents({}) == 0
    assert Relay(m.PROBE, db=probe).run_once() == 0


def test_an_event_delivered_twice_changes_nothing_twice(probe):
    envelope = make_envelope("test.thing.happened", {"n": 7}, m.PROBE)
    m.publish_raw(envelope)
    m.publish_raw(envelope)
    with m.RunningConsumer(probe) as runner:
        eventually(lambda: m.queue_depth(settings().queue_name(m.PROBE)) == 0 and runner.processed == 2,
                   what="both copies to be consumed")
    assert m.effect(probe) == {"_id": "counter", "total": 7, "applied": 1}


def test_a_malformed_message_is_parked_not_retried(probe):
    m.publish_raw({"id": "x1", "type": "test.thing.happened", "data": {"n": "not a number"}},
                  routing_key="test.thing.happened")
    with m.RunningConsumer(probe):
        eventually(lambda: deadletters.list_dead(m.PROBE), what="the malformed message in the dead letters")
    dead = deadletters.list_dead(m.PROBE)
    assert len(dead) == 1 and "malformed" in dead[0]["error"]
    assert m.effect(probe)["applied"] == 0


def test_a_failing_handler_is_retried_then_dead_lettered_and_replay_delivers_it(probe):
    calls = []

    def broken(u, event):
        calls.append(time.monotonic())
        raise ValueError("the kitchen printer is on fire")

    envelope = make_envelope("test.thing.happened", {"n": 3}, m.PROBE)
    m.publish_raw(envelope)
    with m.RunningConsumer(probe, handler=broken):
        dead = eventually(lambda: deadletters.list_dead(m.PROBE), what="the dead letter")
    retries = len(settings().retry_delays)
    assert len(calls) == 1 + retries
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert gaps[0] >= settings().retry_delays[0] * 0.9 and gaps[-1] >= settings().retry_delays[-1] * 0.9
    assert dead[0]["id"] == envelope["id"] and "kitchen printer" in dead[0]["error"]
    assert dead[0]["attempts"] == 1 + retries
    assert m.effect(probe)["applied"] == 0

    assert deadletters.replay(m.PROBE, envelope["id"]) == 1
    assert deadletters.list_dead(m.PROBE) == []
    with m.RunningConsumer(probe):
        eventually(lambda: m.effect(probe)["applied"] == 1, what="the replayed event to apply")
    assert m.effect(probe)["total"] == 3


def test_relay_killed_between_publishing_and_marking_sent_loses_and_doubles_nothing(probe, monkeypatch):
    envelope = m.write_with_event(probe, 11)
    lease = timedelta(seconds=settings().relay_lease_seconds)
    now = [utcnow()]  # both relays' clock: the test moves it past the lease instead of sleeping through it

    class Crash(BaseException):
        pass

    dying = Relay(m.PROBE, db=probe, owner="dying", clock=lambda: now[0])
    monkeypatch.setattr(dying, "_mark_sent", lambda ids: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        dying.run_once()
    assert m.queue_depth(settings().queue_name(m.PROBE)) == 1
    entry = probe[COLLECTION].find_one({"_id": envelope["id"]})
    assert entry["status"] == "pending" and entry["lease_owner"] == "dying"

    successor = Relay(m.PROBE, db=probe, owner="successor", clock=lambda: now[0])
    now[0] += lease - timedelta(milliseconds=1)
    assert successor.run_once() == 0, "the lease still holds: nobody else publishes it yet"
    now[0] += timedelta(milliseconds=2)
    assert successor.run_once() == 1
    assert probe[COLLECTION].find_one({"_id": envelope["id"]})["status"] == "sent"
    assert m.queue_depth(settings().queue_name(m.PROBE)) == 2  # at least once: the copy is there...
    with m.RunningConsumer(probe) as runner:
        eventually(lambda: runner.processed == 2, what="both copies to be consumed")
    assert m.effect(probe) == {"_id": "counter", "total": 11, "applied": 1}  # ...and changes nothing twice


def test_an_event_the_broker_returns_stays_pending_and_goes_once_it_can_be_routed(probe):
    """The relay publishes with `mandatory` and confirms (kombu on py-amqp): a message nothing takes, not even
    the alternate exchange, comes back, and the entry waits instead of being marked sent."""
    envelope = m.write_with_event(probe, 4)
    now = [utcnow()]
    relay = Relay(m.PROBE, db=probe, clock=lambda: now[0])
    relay.publisher._open()  # declares the topology; then the probe's queue and the alternate exchange go
    with topology.connect() as conn:
        channel = conn.channel()
        channel.queue_delete(settings().queue_name(m.PROBE))
        channel.exchange_delete(f"{settings().namespace}.unrouted")
    assert relay.run_once() == 0
    entry = probe[COLLECTION].find_one({"_id": envelope["id"]})
    assert entry["status"] == "pending" and "Unroutable" in entry["last_error"] and entry["not_before"] > now[0]
    assert relay.run_once() == 0, "it waits out its back-off"

    m.declare()
    now[0] = entry["not_before"] + timedelta(milliseconds=1)
    assert relay.run_once() == 1
    assert probe[COLLECTION].find_one({"_id": envelope["id"]})["status"] == "sent"
    assert m.queue_depth(settings().queue_name(m.PROBE)) == 1


def test_two_relays_never_publish_one_entry_twice_and_keep_order_per_aggregate(probe):
    for n in range(1, 41):
        m.write_with_event(probe, n, aggregate=f"thing:{n % 4}")
    seen = []

    def record(u, event):
        u.db.seen.insert_one({"n": event["data"]["n"], "seq": len(seen)}, session=u.session)
        seen.append(event["data"]["n"])

    import threading

    relays = [Relay(m.PROBE, db=probe, owner=f"relay-{i}") for i in range(2)]
    threads = [threading.Thread(target=lambda r=r: [r.run_once() for _ in range(5)]) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert probe[COLLECTION].count_documents({"status": "pending"}) == 0
    assert m.queue_depth(settings().queue_name(m.PROBE)) == 40, "each entry published exactly once"
    with m.RunningConsumer(probe, handler=record):
        eventually(lambda: len(seen) == 40, what="all 40 events")
    for aggregate in range(4):
        ns = [n for n in seen if n % 4 == aggregate]
        assert ns == sorted(ns), f"aggregate {aggregate} out of order: {ns}"


def test_a_consumer_killed_before_its_ack_gets_the_message_again_with_one_effect(probe, linli_env):
    envelope = make_envelope("test.thing.happened", {"n": 4}, m.PROBE)
    m.publish_raw(envelope)
    child = subprocess.run([sys.executable, "-m", "tests.integration.killed_consumer"], cwd=ROOT,
                           env={**os.environ, **linli_env, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert child.returncode == -9, "the consumer should have died by SIGKILL after committing"
    assert m.effect(probe)["applied"] == 1, "its transaction committed before it died"
    eventually(lambda: m.queue_depth(settings().queue_name(m.PROBE)) == 1, what="the unacked message to return")
    with m.RunningConsumer(probe) as runner:
        eventually(lambda: runner.processed == 1, what="the redelivered message")
    assert m.effect(probe) == {"_id": "counter", "total": 4, "applied": 1}
    assert m.queue_depth(settings().queue_name(m.PROBE)) == 0
