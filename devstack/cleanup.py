"""Removing a namespace's queues, exchanges and databases (tests and benchmarks each use their own)."""
from __future__ import annotations

from pymongo import MongoClient

from linli import topology
from linli.config import Settings

# consumers that only the tests and benchmarks declare (tests/integration/messaging.py)
TEST_CONSUMERS = ("probe",)


def remove_namespace(mongo_url: str, amqp_url: str, namespace: str, env: dict | None = None) -> None:
    """Deletes the namespace's queues, exchanges and databases; `env` is what its processes ran with
    (the retry queues' names carry their delays)."""
    cfg = Settings.from_env({**(env or {}), "LINLI_NAMESPACE": namespace, "AMQP_URL": amqp_url})
    with topology.connect(cfg) as conn:
        channel = conn.channel()
        for consumer in (*topology.CONSUMERS, *TEST_CONSUMERS):
            q = topology.consumer_queues(consumer, cfg)
            for name in (q.main, q.dead, *(n for _, n in q.retries)):
                channel.queue_delete(name)
        channel.queue_delete(f"{namespace}.unrouted")
        channel.exchange_delete(cfg.exchange)
        channel.exchange_delete(f"{namespace}.unrouted")
    remove_databases(mongo_url, namespace)


def remove_databases(mongo_url: str, namespace: str) -> None:
    """Drops the namespace's databases (all a Mongo-only test made)."""
    client = MongoClient(mongo_url)
    for name in client.list_database_names():
        if name.startswith(f"{namespace}_"):
            client.drop_database(name)
    client.close()
