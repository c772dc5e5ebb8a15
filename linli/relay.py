"""The outbox relay, a process of its own: publishes committed outbox entries to RabbitMQ.

- claims entries with a lease (a conditional update per entry), so two relays never publish
  the same entry at once, and an entry whose relay died is taken over when its lease runs out;
- marks a round's published entries sent together; a relay that dies before that leaves
  them to be published again after the lease (consumers' inboxes make that harmless);
- publishes with publisher confirms and `mandatory`; a nack, a return or a lost connection
  is a failure: the entry goes back to pending with a growing delay;
- keeps order per aggregate: once an entry of an aggregate cannot be published now (leased
  elsewhere, failed, or waiting), no later entry of that aggregate is tried in this round;
- never gives up: a round that fails (broker or database down) is tried again after a capped
  exponential wait (linli.health.Backoff), with one log line per attempt; its heartbeat file
  says `ready: false` meanwhile. Entries stay pending in the database until published, so an
  outage of any length delays events but loses none.

Run: python -m linli.relay --service orders
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from datetime import datetime, timedelta
from typing import Callable

from amqp import Message
from amqp.exceptions import AMQPError, MessageNacked
from kombu.exceptions import OperationalError
from pymongo.database import Database
from pymongo.errors import PyMongoError

from . import db as dbmod
from . import logs, topology
from .config import Settings, settings
from .health import Backoff, Heartbeat
from .ids import utcnow
from .outbox import COLLECTION, ensure_indexes

log = logging.getLogger("linli.relay")

BATCH = 200


# how long a publish waits for the broker's confirmation before it counts as failed
CONFIRM_TIMEOUT_SECONDS = 30
# what a failed publish raises: the broker refused or returned it, or the connection is gone
PUBLISH_ERRORS = (AMQPError, MessageNacked, OperationalError, OSError)


class Unroutable(AMQPError):
    """The broker returned a `mandatory` message: no queue and no alternate exchange took it."""


class Publisher:
    """A kombu (py-amqp) channel in confirm mode; `publish` returns only once the broker has confirmed, and
    raises when it refuses (nack) or returns (unroutable) the message."""

    def __init__(self, cfg: Settings):
        self.cfg = cfg
        self.connection = None
        self.channel = None
        self._returned: list[str] = []

    def _open(self):
        # no heartbeats: an idle relay reads nothing from its socket, and py-amqp would count the broker's
        # heartbeats as missed; a dead connection shows on the next publish (an error, or no confirmation in time)
        self.connection = topology.connect(self.cfg, confirms=True, heartbeat=0)
        self.channel = self.connection.channel()
        topology.declare(self.channel, cfg=self.cfg)
        self.channel = self.connection.channel()  # a fresh channel, whatever declaring had to reopen
        self.channel.events["basic_return"].add(lambda error, exchange, key, message: self._returned.append(
            message.properties.get("message_id")))

    def publish(self, envelope: dict) -> None:
        if self.channel is None or not self.channel.is_open:
            self._open()
        self._returned.clear()
        message = Message(json.dumps(envelope, ensure_ascii=False).encode(), content_type="application/json",
                          delivery_mode=2, message_id=envelope["id"], correlation_id=envelope["correlation_id"],
                          type=envelope["type"], app_id=envelope["source"])
        self.channel.basic_publish(message, exchange=self.cfg.exchange, routing_key=envelope["type"],
                                   mandatory=True, confirm_timeout=CONFIRM_TIMEOUT_SECONDS)
        if envelope["id"] in self._returned:  # a return arrives before the confirmation of its message
            raise Unroutable(f"the broker returned {envelope['type']} {envelope['id']}: nothing is bound to it")

    def close(self) -> None:
        try:
            if self.connection is not None:
                self.connection.release()
        except PUBLISH_ERRORS:
            pass
        self.connection = self.channel = None


class Relay:
    def __init__(self, service: str, cfg: Settings | None = None, db: Database | None = None,
                 owner: str | None = None, clock: Callable[[], datetime] = utcnow):
        """`clock` decides leases and back-off (tests move it instead of sleeping)."""
        self.cfg = cfg or settings()
        self.clock = clock
        self.service = service
        self.db = db if db is not None else dbmod.database(service)
        self.owner = owner or f"{os.uname().nodename}:{os.getpid()}:{id(self):x}"
        self.publisher = Publisher(self.cfg)
        self.heartbeat = Heartbeat(f"{service}-relay")
        self._indexed = False
        try:
            self._ensure_indexes()
        except PyMongoError as error:  # the database is down at start: run_once tries again
            logs.log(log, logging.WARNING, "database unreachable at start; will retry", error=repr(error))

    def _ensure_indexes(self) -> None:
        if not self._indexed:
            ensure_indexes(self.db)
            self._indexed = True

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(60.0, 0.5 * 2 ** max(0, attempts - 1)))

    def _claim(self, ids: list[str], now) -> set[str]:
        """Leases every listed entry nobody else holds (each document's update is atomic); returns those now ours."""
        self.db[COLLECTION].update_many(
            {"_id": {"$in": ids}, "status": "pending", "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
            {"$set": {"lease_owner": self.owner,
                      "lease_until": now + timedelta(seconds=self.cfg.relay_lease_seconds)},
             "$inc": {"attempts": 1}},
        )
        return {d["_id"] for d in self.db[COLLECTION].find({"_id": {"$in": ids}, "lease_owner": self.owner,
                                                             "status": "pending"}, {"_id": 1})}

    def _mark_sent(self, ids: list[str]) -> None:
        if ids:
            self.db[COLLECTION].update_many(
                {"_id": {"$in": ids}, "lease_owner": self.owner},
                {"$set": {"status": "sent", "sent_at": self.clock(), "lease_owner": None, "lease_until": None}},
            )

    def _release(self, ids: list[str]) -> None:
        if ids:
            self.db[COLLECTION].update_many({"_id": {"$in": ids}, "lease_owner": self.owner},
                                            {"$set": {"lease_owner": None, "lease_until": None}})

    def _release_after_failure(self, entry: dict, error: Exception) -> None:
        attempts = entry.get("attempts", 0) + 1
        self.db[COLLECTION].update_one(
            {"_id": entry["_id"], "lease_owner": self.owner},
            {"$set": {"lease_owner": None, "lease_until": None,
                      "not_before": self.clock() + self._backoff(attempts), "last_error": repr(error)[:500]}},
        )

    def run_once(self) -> int:
        """One round over the pending entries; returns how many were published."""
        self._ensure_indexes()  # if the database was down when the relay started
        now = self.clock()
        blocked: set[str] = set()
        eligible = []
        for entry in self.db[COLLECTION].find({"status": "pending"}, sort=[("seq", 1)], limit=BATCH):
            not_before = entry.get("not_before")
            if entry["aggregate"] in blocked or (not_before is not None and not_before > now):
                blocked.add(entry["aggregate"])  # an aggregate's later entries wait for its earlier one
                continue
            eligible.append(entry)
        if not eligible:
            return 0
        mine = self._claim([e["_id"] for e in eligible], now)
        published, unused = [], []
        for entry in eligible:
            if entry["_id"] not in mine:
                blocked.add(entry["aggregate"])  # another relay holds it: keep its successors back
                continue
            if entry["aggregate"] in blocked:
                unused.append(entry["_id"])
                continue
            try:
                self.publisher.publish(entry["envelope"])
            except PUBLISH_ERRORS as error:
                blocked.add(entry["aggregate"])
                logs.log(log, logging.WARNING, "publish failed; will retry", event_id=entry["_id"],
                         event_type=entry["type"], error=repr(error))
                self._release_after_failure(entry, error)
                self.publisher.close()
                continue
            published.append(entry["_id"])
        self._mark_sent(published)
        self._release(unused)
        return len(published)

    def run_forever(self, stop: threading.Event) -> None:
        logs.log(log, logging.INFO, "relay started", service=self.service, owner=self.owner)
        backoff = Backoff()
        while not stop.is_set():
            try:
                published = self.run_once()
            except Exception as error:  # Mongo or broker down: wait and try again, never die
                wait = backoff.next()
                self.heartbeat.beat(False, "broker or database unreachable")
                logs.log(log, logging.ERROR, "relay round failed; trying again later", service=self.service,
                         attempt=backoff.attempts, retry_in_s=wait, error=repr(error))
                self.publisher.close()
                stop.wait(wait)
                continue
            if backoff.attempts:
                logs.log(log, logging.INFO, "relay round worked again", service=self.service,
                         after_attempts=backoff.attempts)
                backoff.reset()
            self.heartbeat.beat(True, "publishing")
            if not published:
                stop.wait(self.cfg.relay_poll_seconds)
        self.heartbeat.beat(False, "stopped")
        self.publisher.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Publish a service's outbox to RabbitMQ.")
    parser.add_argument("--service", required=True, choices=["catalog", "orders", "delivery", "gateway"])
    args = parser.parse_args(argv)
    logs.setup(f"{args.service}-relay")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Relay(args.service).run_forever(stop)


if __name__ == "__main__":
    main()
