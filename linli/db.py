"""Mongo access: one client per process, one database per service, transactions.

Transactions need a replica set; the embedded server advertises itself as a
single-node replica set, and production runs a real one.
"""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from pymongo import MongoClient, WriteConcern
from pymongo.client_session import ClientSession
from pymongo.read_concern import ReadConcern
from pymongo.database import Database

from .config import settings

T = TypeVar("T")

_clients: dict[str, MongoClient] = {}
_lock = threading.Lock()


class ConfigurationError(RuntimeError):
    pass


def client(url: str | None = None) -> MongoClient:
    url = url or settings().mongo_url
    if not url:
        raise ConfigurationError(
            "MONGO_URL is not set: start the system with `make run`, which starts the embedded server"
        )
    with _lock:
        if url not in _clients:
            _clients[url] = MongoClient(
                url,
                serverSelectionTimeoutMS=5000,
                connectTimeoutMS=5000,
                w="majority",
                tz_aware=True,
                uuidRepresentation="standard",
            )
        return _clients[url]


def database(service: str) -> Database:
    return client().get_database(settings().db_name(service))


def in_transaction(db: Database, work: Callable[[ClientSession], T]) -> T:
    """Run `work(session)` in one transaction; retried on transient errors, so it must be idempotent."""
    with db.client.start_session() as session:
        return session.with_transaction(
            work,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )


def ping(db: Database) -> None:
    db.command("ping")


def ensure_geo_index(collection, field: str) -> None:
    """A 2dsphere index on `field`.

    Work-around (SecantusDB 0.7.0b3): it stores the index with `2dsphereIndexVersion: 3`
    and then refuses the same request from the next process as a conflicting spec (code 86),
    where MongoDB would accept it as already there. Naming the version it stores makes the
    request identical; MongoDB's default is the same version, so this is harmless there.
    """
    from pymongo import GEOSPHERE

    collection.create_index([(field, GEOSPHERE)], **{"2dsphereIndexVersion": 3})
