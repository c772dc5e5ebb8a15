"""Exchanges, queues and bindings: who listens to which event types.

Every process declares the whole topology at start (declarations are idempotent), so an
event published before its consumer first ran still finds the consumer's durable queue.
`deploy/rabbitmq/definitions.json` is generated from this table (`python -m linli.topology`).

Every AMQP client in Linli (relay, consumers, dead letters, readiness, this module) is kombu on
py-amqp: `connect()` gives a kombu connection whose channels are py-amqp channels.
"""
from __future__ import annotations

import functools
import importlib
import json
import sys
from dataclasses import dataclass

import logging

from amqp.exceptions import PreconditionFailed
from kombu import Connection

from .config import Settings, settings

# consumer (one durable queue each) -> the module whose HANDLERS table ({event type: handler}) it runs.
# The subscriptions are derived from those tables, declared nowhere else: the event types a consumer
# handles are the routing keys its queue is bound to, so a handler added is a binding added. This is the one
# place linli names a service's module, by its dotted name and read only when the topology is declared.
CONSUMERS: dict[str, str] = {
    "catalog": "services.catalog.handlers",
    "orders": "services.orders.handlers",
    "delivery": "services.delivery.handlers",
    # notify tells people what needs them; its read model of people, providers, volunteers and
    # orders comes from the same events (services/notify/rules/who.py says who is told what)
    "notify": "services.notify.handlers",
}


@functools.cache
def subscriptions() -> dict[str, tuple[str, ...]]:
    """consumer -> the event types it handles (its queue's bindings), read from each consumer's HANDLERS."""
    return {consumer: tuple(sorted(importlib.import_module(module).HANDLERS)) for consumer, module in CONSUMERS.items()}


# A message redelivered this often (a worker crashing on it each time) goes to the dead letters.
DELIVERY_LIMIT = 20
# Events no queue wanted, and events that kept failing, carry personal data (an address, a
# phone): both queues are bounded in size and age. Unrouted events are a wiring mistake to
# notice within days; a dead letter waits a month for an operator to read and replay it
# (`python -m linli.deadletters`). When a queue is full its oldest message goes (drop-head):
# a full dead-letter queue must never refuse the next failure.
DAY_MS = 24 * 3600 * 1000
UNROUTED_MAX = 10_000
UNROUTED_KEPT_MS = 7 * DAY_MS
DEAD_MAX = 50_000
DEAD_KEPT_MS = 30 * DAY_MS
UNROUTED_ARGS = {"x-max-length": UNROUTED_MAX, "x-message-ttl": UNROUTED_KEPT_MS}
DEAD_ARGS = {"x-max-length": DEAD_MAX, "x-message-ttl": DEAD_KEPT_MS}

log = logging.getLogger("linli.topology")


@dataclass(frozen=True)
class ConsumerQueues:
    main: str
    dead: str
    retries: tuple[tuple[int, str], ...]  # (delay in ms, queue name), shortest first


def consumer_queues(consumer: str, cfg: Settings | None = None) -> ConsumerQueues:
    cfg = cfg or settings()
    main = cfg.queue_name(consumer)
    retries = tuple((int(d * 1000), f"{main}.retry.{int(d * 1000)}ms") for d in cfg.retry_delays)
    return ConsumerQueues(main=main, dead=f"{main}.dead", retries=retries)


def _main_queue_args(q: ConsumerQueues) -> dict:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": q.dead,
    }


def _declare_bounded(channel, name: str, arguments: dict):
    """Declares a bounded queue. A queue an older version declared without these bounds makes the
    broker refuse the new arguments (PRECONDITION_FAILED) and close the channel: keep that queue as
    it is, say how to bound it, and go on with a new channel."""
    try:
        channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments)
        return channel
    except PreconditionFailed:  # 406: the queue exists with other arguments
        log.warning("queue %s was declared without its size and age bounds by an older version; it keeps "
                    "working unbounded. Bound it with a RabbitMQ policy (deploy/k8s/README.md) or delete it "
                    "once empty.", name)
        channel = channel.connection.channel()
        channel.queue_declare(name, passive=True)
        return channel


def declare_queue(channel, name: str, arguments: dict | None = None) -> None:
    """A durable queue (py-amqp's own defaults would make it auto-deleted)."""
    channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments or {})


def declare(channel, table: dict[str, tuple[str, ...]] | None = None, cfg: Settings | None = None) -> None:
    """Declares everything on a channel of `connect()`."""
    cfg = cfg or settings()
    table = subscriptions() if table is None else table
    unrouted = f"{cfg.namespace}.unrouted"
    channel.exchange_declare(unrouted, "fanout", durable=True, auto_delete=False)
    channel = _declare_bounded(channel, unrouted, UNROUTED_ARGS)
    channel.queue_bind(unrouted, unrouted)
    channel.exchange_declare(cfg.exchange, "topic", durable=True, auto_delete=False,
                             arguments={"alternate-exchange": unrouted})
    for consumer, types in table.items():
        q = consumer_queues(consumer, cfg)
        channel = _declare_bounded(channel, q.dead, DEAD_ARGS)
        for delay_ms, name in q.retries:
            declare_queue(channel, name, {
                "x-message-ttl": delay_ms,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": q.main,
            })
        declare_queue(channel, q.main, _main_queue_args(q))
        for event_type in types:
            channel.queue_bind(q.main, cfg.exchange, routing_key=event_type)


def connection(cfg: Settings | None = None, *, confirms: bool = False, heartbeat: int = 15,
               timeout: float = 5) -> Connection:
    """A kombu connection to the broker, not yet opened; with `confirms` every publish on its channels waits for
    the broker's confirmation (and raises when the broker refuses it)."""
    cfg = cfg or settings()
    return Connection(cfg.amqp_url, heartbeat=heartbeat, connect_timeout=timeout,
                      transport_options={"confirm_publish": confirms} if confirms else {})


def connect(cfg: Settings | None = None, *, confirms: bool = False, heartbeat: int = 15) -> Connection:
    """An open connection (three tries a second apart); its `channel()`s are py-amqp channels. A connection
    with heartbeats must read from its socket now and then (`drain_events`), or py-amqp counts them as missed."""
    conn = connection(cfg, confirms=confirms, heartbeat=heartbeat)
    conn.ensure_connection(max_retries=2, interval_start=1, interval_step=0, interval_max=1)
    return conn


def ensure(table: dict[str, tuple[str, ...]] | None = None, cfg: Settings | None = None) -> None:
    with connect(cfg) as conn:
        declare(conn.channel(), table, cfg)


def definitions(cfg: Settings | None = None) -> dict:
    """RabbitMQ definitions for the same topology, for brokers provisioned ahead of time."""
    cfg = cfg or settings()
    unrouted = f"{cfg.namespace}.unrouted"
    vhost = "/"
    queues = [{"name": unrouted, "vhost": vhost, "durable": True, "auto_delete": False,
               "arguments": UNROUTED_ARGS}]
    bindings = [{"source": unrouted, "vhost": vhost, "destination": unrouted,
                 "destination_type": "queue", "routing_key": "", "arguments": {}}]
    for consumer, types in subscriptions().items():
        q = consumer_queues(consumer, cfg)
        queues.append({"name": q.dead, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": DEAD_ARGS})
        for delay_ms, name in q.retries:
            queues.append({"name": name, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": {
                "x-message-ttl": delay_ms, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": q.main}})
        queues.append({"name": q.main, "vhost": vhost, "durable": True, "auto_delete": False,
                       "arguments": _main_queue_args(q)})
        bindings += [{"source": cfg.exchange, "vhost": vhost, "destination": q.main, "destination_type": "queue",
                      "routing_key": t, "arguments": {}} for t in types]
    return {
        "exchanges": [
            {"name": unrouted, "vhost": vhost, "type": "fanout", "durable": True, "auto_delete": False,
             "internal": False, "arguments": {}},
            {"name": cfg.exchange, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
             "internal": False, "arguments": {"alternate-exchange": unrouted}},
        ],
        "queues": queues,
        "bindings": bindings,
    }


if __name__ == "__main__":
    json.dump(definitions(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
