"""What the hostile-input tests share: one namespace and one app of each service for a whole module, and
tokens for each role."""
from __future__ import annotations

import os
from functools import lru_cache

import pytest

from devstack.cleanup import remove_databases
from linli.auth import issue_access_token
from linli.config import reset_settings
from linli.keys import ensure_keys
from tests.conftest import NO_BROKER, new_namespace

LIANXI = {"lng": 121.5588, "lat": 31.1765}
CANTEEN = {"lng": 121.5520, "lat": 31.1810}


@lru_cache(maxsize=None)
def _signed(account_id: str, role: str, namespace: str) -> str:
    # loading the signing key is slow: once each. A coordinator watches over the one community here.
    return issue_access_token(account_id, role, account_id,
                              communities=("lianxi",) if role == "coordinator" else ())


def token(account_id: str, role: str) -> dict:
    return {"Authorization": f"Bearer {_signed(account_id, role, os.environ['LINLI_NAMESPACE'])}"}


def app_of(service: str):
    if service == "catalog":
        from services.catalog.app import create_app
    elif service == "orders":
        from services.orders.app import create_app
    elif service == "delivery":
        from services.delivery.app import create_app
    elif service == "notify":
        from services.notify.app import create_app
    else:
        from gateway.app import create_app
    return create_app()


def database_of(service: str):
    if service == "catalog":
        from services.catalog.store import database
    elif service == "orders":
        from services.orders.store import database
    elif service == "delivery":
        from services.delivery.store import database
    elif service == "notify":
        from services.notify.store import database
    else:
        from gateway.bootstrap import database
    return database()


def snapshot(service: str) -> dict:
    """Every stored document of the service (sign-in throttle counters aside, which count attempts by design)."""
    db = database_of(service)
    return {name: sorted(map(repr, db[name].find({}))) for name in db.list_collection_names()
            if "limit" not in name and "throttle" not in name}


def _verified_provider(client) -> None:
    admin, coordinator = token("acc_admin", "admin"), token("acc_coord", "coordinator")
    client.post("/api/v1/catalog/communities", json={"id": "lianxi", "name": "莲溪社区", "center": LIANXI},
                headers=admin)
    profile = client.post("/api/v1/catalog/providers", json={
        "name": "Canteen", "kind": "hospital_canteen", "phone": "021-5888 0001", "address": "1000 Hunan Road",
        "location": CANTEEN, "community_ids": ["lianxi"]}, headers=token("acc_prov", "provider")).get_json()
    verified = client.post(f"/api/v1/catalog/providers/{profile['id']}/verify", headers=coordinator)
    assert verified.status_code == 200, verified.get_json()


SERVICES = ("catalog", "orders", "delivery", "notify", "gateway")


@pytest.fixture(scope="module")
def world(mongo, tmp_path_factory):
    """One namespace and one app of each service for the module (every test here only sends what is refused,
    or changes what no other test looks at), with a community and a verified provider in the catalog."""
    namespace = new_namespace()
    env = {"LINLI_NAMESPACE": namespace, "MONGO_URL": mongo, "AMQP_URL": NO_BROKER,  # the database alone
           "LINLI_VAR_DIR": str(tmp_path_factory.mktemp("hostile") / "var"), "LINLI_SIGNUP_LIMIT": "1000 per hour"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        reset_settings()
        ensure_keys()
        clients = {service: app_of(service).test_client() for service in SERVICES}
        _verified_provider(clients["catalog"])
        yield clients
        reset_settings()
    remove_databases(mongo, namespace)


