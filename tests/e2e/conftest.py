"""The whole system started once for the end-to-end tests, as `make run` starts it."""
from __future__ import annotations

import pytest

from devstack.client import Client
from devstack.net import free_port
from devstack.stack import Stack
from devstack.cleanup import remove_namespace
from tests.conftest import configured_as, new_namespace

PASSWORD = "journey-pass-1"


@pytest.fixture(scope="package")
def stack(infra, tmp_path_factory):
    namespace = new_namespace()
    var_dir = tmp_path_factory.mktemp("stack") / "var"
    stack = Stack(namespace=namespace, mongo_url=infra.mongo_url, amqp_url=infra.amqp_url, var_dir=var_dir,
                  ports={s: free_port() for s in ("gateway", "catalog", "orders", "delivery")},
                  extra_env={"LINLI_TIME_SCALE": "0.01", "LINLI_RETRY_DELAYS": "0.3,1,2", "LINLI_WEB_WORKERS": "2"})
    stack.start()
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()
        remove_namespace(infra.mongo_url, infra.amqp_url, namespace, stack.env)


@pytest.fixture(scope="package")
def staff(stack):
    """An admin and a coordinator, created the way an operator does (python -m gateway.admin)."""
    with configured_as(stack.env):
        from gateway.admin import create_account

        create_account("admin1", PASSWORD, "Admin", "admin")
        create_account("coord1", PASSWORD, "林主任", "coordinator", ("lianxi", "matrix"))
    api = Client(stack.url())
    return api.login("admin1", PASSWORD), api.login("coord1", PASSWORD)


