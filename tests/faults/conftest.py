"""One whole system for the fault suite, on a broker and a database of its own, reached through fault
proxies: the suite kills, pauses and cuts them without touching anybody else's."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.client import Client
from devstack.net import free_port
from devstack.stack import Stack
from tests.conftest import configured_as, new_namespace
from tests.e2e.conftest import PASSWORD, community, verified_canteen
from tests.faults.kit import FaultProxy, Person, PrivateBroker, PrivateMongo

HOME = {"lng": 121.5588, "lat": 31.1765}


@dataclass
class World:
    stack: Stack
    broker: PrivateBroker
    mongo: PrivateMongo
    amqp_proxy: FaultProxy
    mongo_proxy: FaultProxy
    canteen: Person
    residents: list[Person]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    # the broker runs as the rabbitmq user, who cannot enter pytest's private folders
    rabbit_dir = Path(tempfile.mkdtemp(prefix="linli-fault-rabbit-"))
    rabbit_dir.chmod(0o755)
    broker, mongo = PrivateBroker(rabbit_dir), PrivateMongo(base / "mongo")
    broker.start()
    mongo.start()
    amqp_proxy, mongo_proxy = FaultProxy(broker.port), FaultProxy(mongo.port)
    stack = Stack(namespace=new_namespace(), var_dir=base / "var",
                  mongo_url=f"mongodb://127.0.0.1:{mongo_proxy.port}/?directConnection=true",
                  amqp_url=f"amqp://guest:guest@127.0.0.1:{amqp_proxy.port}/",
                  ports={s: free_port() for s in ("gateway", "catalog", "orders", "delivery")},
                  extra_env={"LINLI_PAYMENT_AUTO": "1", "LINLI_WEB_WORKERS": "2"})
    try:
        stack.start()
        stack.wait_ready(timeout=240)
        with configured_as(stack.env):
            from gateway.admin import create_account

            create_account("fault_admin", PASSWORD, "Admin", "admin")
            create_account("fault_coord", PASSWORD, "林主任", "coordinator", ("lianxi",))
        api = Client(stack.url())
        admin, coordinator = api.login("fault_admin", PASSWORD), api.login("fault_coord", PASSWORD)
        community(admin, "lianxi", HOME)
        verified_canteen(api, coordinator, "fault_canteen", "Fault canteen", HOME, "lianxi")
        canteen = Person(stack.url(), "fault_canteen", PASSWORD)
        for i in range(10):
            api.register(f"fault_res{i}", PASSWORD, f"Resident {i}", "resident")
        residents = [Person(stack.url(), f"fault_res{i}", PASSWORD) for i in range(10)]
        yield World(stack, broker, mongo, amqp_proxy, mongo_proxy, canteen, residents)
    finally:
        stack.stop()
        amqp_proxy.close()
        mongo_proxy.close()
        broker.stop()
        mongo.stop()
        shutil.rmtree(rabbit_dir, ignore_errors=True)
