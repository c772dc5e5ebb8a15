"""The embedded database the fault suite kills (and `make run` starts) keeps every write it
acknowledged through a SIGKILL: writers commit plain w="majority" writes and two-document
transactions through `linli.db.in_transaction`, the server is killed mid-stream with SIGKILL,
started again on the same folder, and every acknowledged write is there.

Without `--sync-on-commit` (devstack/mongo.py) the server lost 1-18 of ~1,100 such writes in every
round measured: the cause of an order left `placed` after the fault suite killed its database."""
from __future__ import annotations

import threading
import time

from pymongo import MongoClient

from linli.db import in_transaction
from tests.faults.kit import PrivateMongo

WRITERS = 4
WRITING_S = 2.5
ROUNDS = 2  # without the fix one round showed a loss about 3 times in 4 on this machine, two nearly always


def _write_then_kill(mongo: PrivateMongo, round_: int) -> dict[str, list[str]]:
    """WRITERS threads write until the server is killed with SIGKILL; the writes acknowledged before."""
    acknowledged: dict[str, list[str]] = {"plain": [], "transaction": []}
    lock = threading.Lock()
    stop = threading.Event()
    clients = [MongoClient(mongo.url, w="majority", serverSelectionTimeoutMS=2000) for _ in range(WRITERS)]

    def write(k: int, client: MongoClient) -> None:
        db = client.durability
        i = 0
        try:
            while not stop.is_set():
                i += 1
                key = f"{round_}-{k}-{i}"
                if i % 2:
                    db.plain.insert_one({"_id": key})
                    kind = "plain"
                else:  # like a consumer: the inbox record and the handler's change in one transaction
                    in_transaction(db, lambda s: (db.inbox.insert_one({"_id": key}, session=s),
                                                  db.reservations.insert_one({"_id": key}, session=s)))
                    kind = "transaction"
                with lock:
                    acknowledged[kind].append(key)
        except Exception:  # the server is gone (or the client closed): this writer is done
            return

    for k, c in enumerate(clients):
        threading.Thread(target=write, args=(k, c), daemon=True).start()
    try:
        time.sleep(WRITING_S)
        mongo.kill()
        with lock:
            return {kind: list(keys) for kind, keys in acknowledged.items()}
    finally:
        stop.set()
        for c in clients:
            c.close()


def test_every_acknowledged_write_survives_a_sigkill_of_the_database(tmp_path):
    mongo = PrivateMongo(tmp_path / "mongo")
    mongo.start()
    try:
        for round_ in range(ROUNDS):
            acked = _write_then_kill(mongo, round_)
            assert len(acked["plain"]) > 50 and len(acked["transaction"]) > 50, acked  # it did write
            mongo.start()
            with MongoClient(mongo.url) as client:
                db = client.durability
                plain = {d["_id"] for d in db.plain.find({}, {"_id": 1})}
                inbox = {d["_id"] for d in db.inbox.find({}, {"_id": 1})}
                reservations = {d["_id"] for d in db.reservations.find({}, {"_id": 1})}
            lost = {"plain": [k for k in acked["plain"] if k not in plain],
                    "transaction": [k for k in acked["transaction"] if k not in inbox or k not in reservations]}
            assert lost == {"plain": [], "transaction": []}, (
                f"round {round_ + 1}: acknowledged writes lost: {len(lost['plain'])} of {len(acked['plain'])} "
                f"plain, {len(lost['transaction'])} of {len(acked['transaction'])} transactions")
            assert inbox == reservations  # a transaction is all or nothing, even across the kill
    finally:
        mongo.stop()
