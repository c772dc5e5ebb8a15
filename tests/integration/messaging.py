"""Helpers for the messaging tests: a probe consumer that counts effects in Mongo."""
from __future__ import annotations

import json
import threading

from amqp import Message
from pymongo.database import Database

from linli import db as dbmod
from linli import outbox, topology
from linli.config import settings
from linli.consumer import ConsumerRunner
from linli.db import in_transaction
from linli.unit import Units

PROBE = "probe"
SUBSCRIPTIONS = {PROBE: ("test.thing.happened",)}


def probe_db() -> Database:
    return dbmod.database(PROBE)


def count_effect(u, event) -> None:
    """The handler under test: one effect per event — adds n to a counter."""
    u.db.effects.update_one({"_id": "counter"}, {"$inc": {"total": event["data"]["n"], "applied": 1}},
                            upsert=True, session=u.session)


def effect(db: Database) -> dict:
    return db.effects.find_one({"_id": "counter"}) or {"total": 0, "applied": 0}


def write_with_event(db: Database, n: int, aggregate: str = "thing:1") -> dict:
    """A state change and its event, committed together through the outbox."""
    def work(session):
        db.things.insert_one({"n": n}, session=session)
        return outbox.add(db, session, source=PROBE, event_type="test.thing.happened", data={"n": n},
                          aggregate=aggregate)
    return in_transaction(db, work)


class RunningConsumer:
    """A ConsumerRunner in a thread, for as long as the `with` block lasts."""

    def __init__(self, db: Database, handler=count_effect):
        self.stop = threading.Event()
        self.runner = ConsumerRunner(PROBE, Units(db, PROBE), {"test.thing.happened": handler}, subscriptions=SUBSCRIPTIONS)
        self.thread = threading.Thread(target=self.runner.run, args=(self.stop,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.runner

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def queue_depth(name: str) -> int:
    with topology.connect() as conn:
        return conn.channel().queue_declare(name, passive=True).message_count


def publish_raw(envelope: dict, routing_key: str | None = None) -> None:
    with topology.connect(confirms=True) as conn:
        conn.channel().basic_publish(
            Message(json.dumps(envelope).encode(), delivery_mode=2, message_id=envelope["id"],
                    content_type="application/json", type=envelope["type"]),
            exchange=settings().exchange, routing_key=routing_key or envelope["type"], mandatory=True)


def declare() -> None:
    topology.ensure(SUBSCRIPTIONS)
