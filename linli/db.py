"""Mongo access: one client per process, one database per service, transactions.

Transactions need a replica set; the embedded server advertises itself as a
single-node replica set, and production runs a real one.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from pymongo import MongoClient, WriteConcern
from pymongo.client_session import ClientSession
from pymongo.read_concern import ReadConcern
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

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


# Work-around (SecantusDB 0.7.0b3): when concurrent transactions update the same document, the
# embedded server sometimes fails one of them with E11000 on a unique index whose field the update
# does not touch ("Plan executor error during update"), where MongoDB raises a WriteConflict that
# with_transaction retries by itself. Seen as 1 in ~40 runs of twenty simultaneous offer accepts.
# Such an error is retried like a write conflict, a few times; a genuine violation still surfaces.
_SPURIOUS_UPDATE_CONFLICT = "during update"
_SPURIOUS_RETRIES = 5


def in_transaction(db: Database, work: Callable[[ClientSession], T]) -> T:
    """Run `work(session)` in one transaction; retried on transient errors, so it must be idempotent."""
    for attempt in range(_SPURIOUS_RETRIES + 1):
        try:
            with db.client.start_session() as session:
                return session.with_transaction(
                    work,
                    read_concern=ReadConcern("snapshot"),
                    write_concern=WriteConcern("majority"),
                )
        except DuplicateKeyError as error:
            if _SPURIOUS_UPDATE_CONFLICT not in str(error) or attempt == _SPURIOUS_RETRIES:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")



def ensure_geo_index(collection, field: str) -> None:
    """A 2dsphere index on `field`.

    Work-around (SecantusDB 0.7.0b3): it stores the index with `2dsphereIndexVersion: 3`
    and then refuses the same request from the next process as a conflicting spec (code 86),
    where MongoDB would accept it as already there. Naming the version it stores makes the
    request identical; MongoDB's default is the same version, so this is harmless there.
    """
    from pymongo import GEOSPHERE

    collection.create_index([(field, GEOSPHERE)], **{"2dsphereIndexVersion": 3})
