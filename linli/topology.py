"""Exchanges, queues and bindings: who listens to which event types.

Every process declares the whole topology at start (declarations are idempotent), so an
event published before its consumer first ran still finds the consumer's durable queue.
`deploy/rabbitmq/definitions.json` is generated from this table (`python -m linli.topology`).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import pika

from .config import Settings, settings

# consumer (one durable queue each) -> the event types it needs
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "catalog": ("orders.order.placed", "orders.order.cancelled", "orders.order.paid", "orders.order.accepted",
                "orders.order.completed"),
    "orders": (
        "catalog.reservation.confirmed",
        "catalog.reservation.rejected",
        "delivery.task.assigned",
        "delivery.task.picked_up",
        "delivery.task.delivered",
        "delivery.task.failed",
    ),
    "delivery": ("orders.order.paid", "orders.order.ready", "orders.order.cancelled",
                 "orders.order.redelivery_requested", "catalog.review.posted"),
}

# A message redelivered this often (a worker crashing on it each time) goes to the dead letters.
DELIVERY_LIMIT = 20
UNROUTED_MAX = 100_000


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


def declare(channel, subscriptions: dict[str, tuple[str, ...]] | None = None, cfg: Settings | None = None) -> None:
    """Declares everything on a pika channel."""
    cfg = cfg or settings()
    subscriptions = SUBSCRIPTIONS if subscriptions is None else subscriptions
    unrouted = f"{cfg.namespace}.unrouted"
    channel.exchange_declare(unrouted, exchange_type="fanout", durable=True)
    channel.queue_declare(unrouted, durable=True, arguments={"x-max-length": UNROUTED_MAX})
    channel.queue_bind(unrouted, unrouted)
    channel.exchange_declare(
        cfg.exchange, exchange_type="topic", durable=True, arguments={"alternate-exchange": unrouted}
    )
    for consumer, types in subscriptions.items():
        q = consumer_queues(consumer, cfg)
        channel.queue_declare(q.dead, durable=True)
        for delay_ms, name in q.retries:
            channel.queue_declare(
                name,
                durable=True,
                arguments={
                    "x-message-ttl": delay_ms,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": q.main,
                },
            )
        channel.queue_declare(q.main, durable=True, arguments=_main_queue_args(q))
        for event_type in types:
            channel.queue_bind(q.main, cfg.exchange, routing_key=event_type)


def connect(cfg: Settings | None = None) -> pika.BlockingConnection:
    cfg = cfg or settings()
    params = pika.URLParameters(cfg.amqp_url)
    params.heartbeat = 15
    params.blocked_connection_timeout = 30
    params.connection_attempts = 3
    params.retry_delay = 1
    return pika.BlockingConnection(params)


def ensure(subscriptions: dict[str, tuple[str, ...]] | None = None, cfg: Settings | None = None) -> None:
    conn = connect(cfg)
    try:
        declare(conn.channel(), subscriptions, cfg)
    finally:
        conn.close()


def definitions(cfg: Settings | None = None) -> dict:
    """RabbitMQ definitions for the same topology, for brokers provisioned ahead of time."""
    cfg = cfg or settings()
    unrouted = f"{cfg.namespace}.unrouted"
    vhost = "/"
    queues = [{"name": unrouted, "vhost": vhost, "durable": True, "auto_delete": False,
               "arguments": {"x-max-length": UNROUTED_MAX}}]
    bindings = [{"source": unrouted, "vhost": vhost, "destination": unrouted,
                 "destination_type": "queue", "routing_key": "", "arguments": {}}]
    for consumer, types in SUBSCRIPTIONS.items():
        q = consumer_queues(consumer, cfg)
        queues.append({"name": q.dead, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": {}})
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
