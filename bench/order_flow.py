"""Orders placed and paid (the stub in automatic mode) at a sustained rate through the gateway,
then a raw floor: the same database writes and publishes with plain pymongo and kombu (py-amqp), no HTTP,
no framework, one thread. Prints orders/s, placed-to-paid latencies and the ratio; asserts nothing.

    BENCH_SECONDS=60 BENCH_THREADS=8 python -m bench.order_flow
"""
from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from amqp import Message
from kombu import Connection
from pymongo import MongoClient

from bench.common import infrastructure, percentiles
from devstack import seed
from devstack.client import Client
from devstack.net import free_port
from devstack.stack import Stack

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))


def _through_the_system(stack: Stack) -> tuple[int, float, list[float]]:
    api = Client(stack.url())
    canteen = api.login("canteen", seed.PASSWORD)
    listing = canteen.post("/api/v1/catalog/listings", {
        "title": "Bench lunch", "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500,
        "community_ids": ["lianxi"], "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 10000}]})
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date().isoformat()
    residents = [api.register(f"flow{i}", "bench-pass-1", f"Flow {i}", "resident") for i in range(THREADS)]
    latencies, lock, stop_at = [], threading.Lock(), time.monotonic() + SECONDS

    def wait_for(who: Client, order_id: str, status: str) -> None:
        # a person's app would poll about this often; faster polling only measures the polling
        while who.get(f"/api/v1/orders/{order_id}")["status"] != status:
            time.sleep(0.1)

    def worker(who: Client) -> None:
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            order = who.post("/api/v1/orders", {
                "listing_id": listing["id"], "quantity": 1, "slot_date": day, "slot": "lunch",
                "address": {"community_id": "lianxi", "building": "1", "room": "1", "contact_name": "F",
                            "phone": "139 0000 0000", "location": {"lng": 121.55, "lat": 31.18}}}, expect=201)
            wait_for(who, order["id"], "awaiting_payment")
            who.post(f"/api/v1/orders/{order['id']}/pay", expect=200)
            wait_for(who, order["id"], "paid")
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(r,)) for r in residents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), time.monotonic() - started, latencies


def _raw_floor(mongo_url: str, amqp_url: str, namespace: str, count: int) -> float:
    """Per order, the writes the saga makes (in the same transactions) and its four publishes."""
    client = MongoClient(mongo_url)
    orders, catalog = client[f"{namespace}_floor_orders"], client[f"{namespace}_floor_catalog"]
    conn = Connection(amqp_url, transport_options={"confirm_publish": True})
    channel = conn.channel()
    channel.queue_declare(f"{namespace}.floor", durable=True, auto_delete=False)
    catalog.stock.insert_one({"_id": "slot", "remaining": 10 ** 9})

    def txn(work):
        with client.start_session() as s:
            s.with_transaction(work)

    def publish(kind: str, i: int) -> None:
        channel.basic_publish(Message(json.dumps({"type": kind, "n": i}).encode(), delivery_mode=2),
                              exchange="", routing_key=f"{namespace}.floor")

    started = time.monotonic()
    for i in range(count):
        oid = f"o{i}"
        txn(lambda s: (orders.orders.insert_one({"_id": oid, "status": "placed", "timeline": []}, session=s),
                       orders.outbox.insert_one({"_id": f"{oid}-1", "status": "pending"}, session=s)))
        orders.outbox.update_one({"_id": f"{oid}-1"}, {"$set": {"status": "sent"}})
        publish("placed", i)
        txn(lambda s: (catalog.inbox.insert_one({"_id": f"{oid}-1"}, session=s),
                       catalog.stock.update_one({"_id": "slot", "remaining": {"$gte": 1}},
                                                {"$inc": {"remaining": -1}}, session=s),
                       catalog.reservations.insert_one({"_id": oid}, session=s),
                       catalog.outbox.insert_one({"_id": f"{oid}-2", "status": "pending"}, session=s)))
        catalog.outbox.update_one({"_id": f"{oid}-2"}, {"$set": {"status": "sent"}})
        publish("confirmed", i)
        txn(lambda s: (orders.inbox.insert_one({"_id": f"{oid}-2"}, session=s),
                       orders.orders.update_one({"_id": oid}, {"$set": {"status": "awaiting_payment"}}, session=s),
                       orders.outbox.insert_one({"_id": f"{oid}-3", "status": "pending"}, session=s)))
        txn(lambda s: (orders.payments.insert_one({"_id": f"{oid}-p1", "status": "pending"}, session=s),
                       orders.orders.update_one({"_id": oid}, {"$set": {"payment": 1}}, session=s)))
        orders.notes.insert_one({"_id": f"{oid}-n", "delivered": False})
        txn(lambda s: (orders.nonces.insert_one({"_id": f"{oid}-nonce"}, session=s),
                       orders.payments.update_one({"_id": f"{oid}-p1"}, {"$set": {"status": "succeeded"}}, session=s),
                       orders.orders.update_one({"_id": oid}, {"$set": {"status": "paid"}}, session=s),
                       orders.ledger.insert_one({"_id": f"{oid}-l"}, session=s),
                       orders.outbox.insert_one({"_id": f"{oid}-4", "status": "pending"}, session=s)))
        orders.outbox.update_many({"_id": {"$in": [f"{oid}-3", f"{oid}-4"]}}, {"$set": {"status": "sent"}})
        publish("awaiting_payment", i)
        publish("paid", i)
    elapsed = time.monotonic() - started
    channel.queue_delete(f"{namespace}.floor")
    conn.close()
    client.drop_database(orders.name)
    client.drop_database(catalog.name)
    return count / elapsed


def main() -> None:
    with infrastructure() as (mongo_url, amqp_url, namespace, scratch):
        stack = Stack(namespace=namespace, mongo_url=mongo_url, amqp_url=amqp_url, var_dir=scratch / "var",
                      ports={s: free_port() for s in ("gateway", "catalog", "orders", "delivery")},
                      extra_env={"LINLI_PAYMENT_AUTO": "1"})
        stack.start()
        try:
            stack.wait_ready()
            seed.seed(stack.url())
            done, elapsed, latencies = _through_the_system(stack)
        finally:
            stack.stop()
        rate = done / elapsed
        print(f"through the gateway, {THREADS} residents for {SECONDS:.0f} s: {done} orders placed and paid, "
              f"{rate:.1f} orders/s")
        print(f"placed -> paid (reserve, pay, signed notification): {percentiles(latencies)}")
        floor = _raw_floor(mongo_url, amqp_url, namespace, min(max(done, 50), 400))
        print(f"raw floor (same writes and publishes, plain pymongo + kombu, one thread): {floor:.1f} orders/s; "
              f"the system reaches {rate / floor:.0%} of it")


if __name__ == "__main__":
    main()
