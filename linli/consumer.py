"""The consumer runner on kombu: a service's worker process.

One durable queue per consumer, bound to the event types it needs (linli.topology). For
each message: the handler's writes, the inbox record (consumer, event id) and any events
it emits are committed in one transaction, and only then is the message acknowledged.
A redelivered event finds its inbox record and changes nothing. A failing handler is
retried through TTL retry queues with growing delays, then parked in the dead-letter
queue (see linli.deadletters to list and replay). Timers (dispatch, deadlines,
notification retries) run in the same loop between messages.

Faults (docs/DESIGN.md, "Failure"): the worker never gives up. A lost or refused broker
connection is retried forever with capped exponential backoff (linli.health.Backoff), one log
line per attempt; unacknowledged messages come back from the broker. When the database fails,
the message in hand is not acknowledged and not requeued: it and the ones delivered after it
are held, in order, and tried again with backoff until the database answers (a requeue would
count against the queue's delivery limit and could dead-letter good messages). A failing timer
waits longer before its next run. The heartbeat file says `ready: false` meanwhile.
"""
from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from kombu import Connection, Consumer, Exchange, Producer, Queue
from marshmallow import ValidationError
from pymongo.errors import DuplicateKeyError, PyMongoError

from . import context, logs, topology
from .config import Settings, settings
from .events import UnknownEventType, parse_envelope
from .health import Backoff, Heartbeat
from .ids import iso, utcnow
from .unit import Unit, Units

log = logging.getLogger("linli.consumer")

Handler = Callable[[Unit, dict], None]
ATTEMPT_HEADER = "x-linli-attempt"


@dataclass
class Timer:
    """A function run every `every` seconds by the worker, between messages."""
    name: str
    every: float
    fn: Callable[[], object]
    next_at: float = field(default=0.0)
    backoff: Backoff = field(default_factory=Backoff)


class AlreadyHandled(Exception):
    pass


def apply_once(units: Units, consumer: str, envelope: dict, handler: Handler) -> bool:
    """Runs the handler and records the inbox entry in one unit of work; False if it ran before."""
    def work(unit: Unit) -> None:
        try:
            unit.db.inbox.insert_one(
                {"_id": f"{consumer}:{envelope['id']}", "consumer": consumer, "event_id": envelope["id"],
                 "type": envelope["type"], "handled_at": unit.now},
                session=unit.session,
            )
        except DuplicateKeyError:
            raise AlreadyHandled()
        handler(unit, envelope)

    try:
        units.run(work)
    except AlreadyHandled:
        return False
    return True


class ConsumerRunner:
    def __init__(self, consumer: str, units: Units, handlers: dict[str, Handler],
                 timers: list[Timer] | None = None, cfg: Settings | None = None,
                 subscriptions: dict[str, tuple[str, ...]] | None = None):
        self.cfg = cfg or settings()
        self.consumer = consumer
        self.units = units
        self.handlers = handlers
        self.timers = timers or []
        self.subscriptions = subscriptions if subscriptions is not None else topology.subscriptions()
        # the queue is bound to the types of the consumer's HANDLERS table (linli.topology.CONSUMERS names it): a
        # runner handed another table (a test's, a worker's own build of it) must handle exactly those types
        wanted = set(self.subscriptions.get(consumer, ()))
        missing, unbound = wanted - set(handlers), set(handlers) - wanted
        if missing:
            raise ValueError(f"consumer {consumer} is bound to {sorted(missing)} but has no handler for them")
        if unbound:
            raise ValueError(f"consumer {consumer} handles {sorted(unbound)}, but its queue is not bound to them: "
                             "its HANDLERS table (linli.topology.CONSUMERS) must name them")
        self.queues = topology.consumer_queues(consumer, self.cfg)
        self.processed = 0
        self.heartbeat = Heartbeat(f"{consumer}-worker")
        self._held: list = []  # messages waiting for the database to come back, in delivery order
        self._db_backoff = Backoff()
        self._retry_held_at = 0.0

    # -- message handling -------------------------------------------------------------
    def _forward(self, producer: Producer, message, routing_key: str, headers: dict) -> None:
        props = message.properties
        producer.publish(
            message.body,
            exchange="",
            routing_key=routing_key,
            headers=headers,
            content_type=props.get("content_type", "application/json"),
            content_encoding="utf-8",
            message_id=props.get("message_id"),
            correlation_id=props.get("correlation_id"),
            type=props.get("type"),
            delivery_mode=2,
            serializer=None,
            retry=True,
            retry_policy={"max_retries": 3},
        )

    def _park(self, producer: Producer, message, error: str, attempts: int) -> None:
        headers = dict(message.headers or {})
        headers.update({ATTEMPT_HEADER: attempts, "x-linli-error": error[:2000],
                        "x-linli-dead-at": iso(utcnow()), "x-linli-queue": self.queues.main})
        self._forward(producer, message, self.queues.dead, headers)

    def on_message(self, producer: Producer, message) -> None:
        if self._held:  # the database is down: keep the delivery order, wait with the others
            self._held.append(message)
            return
        if not self._handle(producer, message):
            self._held.append(message)
            self._retry_held_at = time.monotonic() + self._db_backoff.next()

    def _retry_held(self, producer: Producer) -> None:
        """Tries the held messages again once their wait is over; stops at the first that still fails."""
        if not self._held or time.monotonic() < self._retry_held_at:
            return
        while self._held:
            if not self._handle(producer, self._held[0]):
                wait = self._db_backoff.next()
                self._retry_held_at = time.monotonic() + wait
                logs.log(log, logging.WARNING, "database still unreachable; holding messages",
                         held=len(self._held), attempt=self._db_backoff.attempts, retry_in_s=wait)
                return
            self._held.pop(0)
        logs.log(log, logging.INFO, "database reachable again; held messages handled",
                 after_attempts=self._db_backoff.attempts)
        self._db_backoff.reset()

    def _handle(self, producer: Producer, message) -> bool:
        """Handles and acknowledges one message; False (and no acknowledgement) if the database failed."""
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 0))
        try:
            envelope = json.loads(message.body)
            parse_envelope(envelope)
        except (ValueError, ValidationError, UnknownEventType) as error:
            logs.log(log, logging.ERROR, "malformed message parked", error=repr(error))
            self._park(producer, message, f"malformed: {error!r}", attempt)
            message.ack()
            return True
        handler = self.handlers.get(envelope["type"])
        with context.bound(correlation=envelope["correlation_id"], causation=envelope["id"]):
            if handler is None:
                logs.log(log, logging.WARNING, "no handler; acknowledged", event_type=envelope["type"])
                message.ack()
                return True
            try:
                applied = apply_once(self.units, self.consumer, envelope, handler)
            except PyMongoError as error:
                # the database is the problem, not the message: hold it and try again later
                logs.log(log, logging.ERROR, "database error; message held for a retry", event_type=envelope["type"],
                         event_id=envelope["id"], error=repr(error))
                self.heartbeat.beat(False, "database unreachable")
                return False
            except Exception as error:
                detail = "".join(traceback.format_exception_only(type(error), error)).strip()
                if attempt < len(self.queues.retries):
                    delay_ms, retry_queue = self.queues.retries[attempt]
                    logs.log(log, logging.WARNING, "handler failed; retrying later", event_type=envelope["type"],
                             event_id=envelope["id"], attempt=attempt + 1, delay_ms=delay_ms, error=detail)
                    headers[ATTEMPT_HEADER] = attempt + 1
                    headers["x-linli-error"] = detail[:2000]
                    self._forward(producer, message, retry_queue, headers)
                else:
                    logs.log(log, logging.ERROR, "handler kept failing; dead-lettered",
                             event_type=envelope["type"], event_id=envelope["id"], error=detail)
                    self._park(producer, message, detail, attempt + 1)
                message.ack()
                return True
            self.processed += 1
            logs.log(log, logging.DEBUG if applied else logging.INFO,
                     "handled" if applied else "duplicate skipped", event_type=envelope["type"],
                     event_id=envelope["id"])
            message.ack()
            return True

    # -- loop ---------------------------------------------------------------------------
    def _run_timers(self) -> None:
        now = time.monotonic()
        for timer in self.timers:
            if now >= timer.next_at:
                try:
                    timer.fn()
                except Exception as error:
                    # the database (or a provider) is down: wait longer each time, one line per attempt
                    wait = max(timer.every, timer.backoff.next())
                    timer.next_at = time.monotonic() + wait
                    logs.log(log, logging.ERROR, "timer failed; trying again later", timer=timer.name,
                             attempt=timer.backoff.attempts, retry_in_s=wait, error=repr(error))
                    if isinstance(error, PyMongoError):
                        break  # the others would wait for the same database: give the messages a turn first
                    continue
                timer.backoff.reset()
                timer.next_at = now + timer.every

    def run(self, stop: threading.Event) -> None:
        """Consumes until `stop` is set, reconnecting forever (capped exponential backoff) when the broker is lost."""
        logs.log(log, logging.INFO, "worker started", consumer=self.consumer, queue=self.queues.main)
        backoff = Backoff()
        while not stop.is_set():
            self.heartbeat.beat(False, "connecting to the broker")
            try:
                topology.ensure(self.subscriptions, self.cfg)
                self._consume(stop, backoff)
            except Exception as error:  # broker gone or refusing: never give up, never exit
                wait = backoff.next()
                self.heartbeat.beat(False, "broker unreachable")
                logs.log(log, logging.WARNING, "broker connection lost; reconnecting", consumer=self.consumer,
                         attempt=backoff.attempts, retry_in_s=wait, error=repr(error))
                stop.wait(wait)
        self.heartbeat.beat(False, "stopped")

    def _consume(self, stop: threading.Event, backoff: Backoff) -> None:
        self._held.clear()  # unacknowledged messages of a lost connection come back from the broker
        with Connection(self.cfg.amqp_url, heartbeat=15, connect_timeout=5,
                        transport_options={"confirm_publish": True}) as conn:
            conn.connect()
            channel = conn.channel()
            channel.basic_qos(prefetch_size=0, prefetch_count=self.cfg.prefetch, a_global=False)
            producer = Producer(conn.channel(), exchange=Exchange(""))
            queue = Queue(self.queues.main, no_declare=True)
            with Consumer(channel, queues=[queue], on_message=lambda m: self.on_message(producer, m),
                          no_ack=False):
                if backoff.attempts:
                    logs.log(log, logging.INFO, "broker reachable again; consuming", consumer=self.consumer,
                             after_attempts=backoff.attempts)
                backoff.reset()
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.25)
                    except socket.timeout:
                        pass
                    conn.heartbeat_check()
                    self._retry_held(producer)
                    if not self._held:
                        self._run_timers()
                    self.heartbeat.beat(not self._held, "consuming" if not self._held else "database unreachable")


def run_worker(consumer: str, units: Units, handlers: dict[str, Handler], timers: list[Timer] | None = None) -> None:
    logs.setup(f"{consumer}-worker")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    ConsumerRunner(consumer, units, handlers, timers).run(stop)
