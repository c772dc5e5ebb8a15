"""List and replay dead letters of a consumer's queue.

    python -m linli.deadletters list --consumer catalog
    python -m linli.deadletters replay --consumer catalog --id EVENT_ID   (or --all)

Replay puts the message back on the consumer's queue with its attempt count reset; the
consumer's inbox still guarantees that an event already applied changes nothing again.
"""
from __future__ import annotations

import argparse
import json
import sys

from amqp import Message

from . import topology
from .config import Settings, settings
from .consumer import ATTEMPT_HEADER


def _peek_all(channel, queue: str):
    """Yields every message of the queue, unacknowledged (py-amqp messages: body, properties, delivery_tag)."""
    while True:
        message = channel.basic_get(queue, no_ack=False)
        if message is None:
            return
        yield message


def list_dead(consumer: str, cfg: Settings | None = None) -> list[dict]:
    cfg = cfg or settings()
    q = topology.consumer_queues(consumer, cfg)
    with topology.connect(cfg) as conn:  # closing without acks returns every peeked message to the queue
        channel = conn.channel()
        out = []
        for message in _peek_all(channel, q.dead):
            props, body = message.properties, message.body
            headers = props.get("application_headers") or {}
            try:
                envelope = json.loads(body)
            except ValueError:
                envelope = {"raw": body.decode(errors="replace") if isinstance(body, bytes) else str(body)}
            out.append({"id": props.get("message_id"), "type": props.get("type"),
                        "attempts": headers.get(ATTEMPT_HEADER), "error": headers.get("x-linli-error"),
                        "dead_at": headers.get("x-linli-dead-at"), "envelope": envelope})
        return out


def replay(consumer: str, event_id: str | None = None, cfg: Settings | None = None) -> int:
    """Replays one dead letter (by event id) or all of them; returns how many were replayed."""
    cfg = cfg or settings()
    q = topology.consumer_queues(consumer, cfg)
    replayed = 0
    with topology.connect(cfg, confirms=True) as conn:
        channel = conn.channel()
        kept = []
        for message in _peek_all(channel, q.dead):
            props = dict(message.properties)
            if event_id is not None and props.get("message_id") != event_id:
                kept.append(message.delivery_tag)
                continue
            headers = dict(props.get("application_headers") or {})
            headers[ATTEMPT_HEADER] = 0
            headers["x-linli-replayed"] = True
            props["application_headers"] = headers
            channel.basic_publish(Message(message.body, **props), exchange="", routing_key=q.main, mandatory=True)
            channel.basic_ack(message.delivery_tag)
            replayed += 1
        for tag in kept:
            channel.basic_reject(tag, requeue=True)
        return replayed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Inspect and replay dead-lettered events.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("list", "replay"):
        p = sub.add_parser(name)
        p.add_argument("--consumer", required=True, choices=sorted(topology.CONSUMERS))
        if name == "replay":
            which = p.add_mutually_exclusive_group(required=True)
            which.add_argument("--id", help="the event id to replay")
            which.add_argument("--all", action="store_true", help="replay every dead letter")
    args = parser.parse_args(argv)
    if args.command == "list":
        dead = list_dead(args.consumer)
        json.dump(dead, sys.stdout, indent=2, ensure_ascii=False, default=str)
        print(f"\n{len(dead)} dead letter(s) in {topology.consumer_queues(args.consumer).dead}", file=sys.stderr)
    else:
        n = replay(args.consumer, None if args.all else args.id)
        print(f"replayed {n} message(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
