"""Shared fixtures: the real broker and the embedded MongoDB-wire server (or MONGO_URL), and a
fresh namespace per test so that tests never see each other's queues or databases.

`mongo_env` is for tests that need only the database: the broker is neither started nor reachable
(its URL leads nowhere, so a test that reaches for it fails at once). `linli_env` has both."""
from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.cleanup import remove_databases, remove_namespace
from devstack.mongo import EmbeddedMongo
from devstack.rabbit import ensure_broker
from linli.config import reset_settings
from linli.keys import ensure_keys


@dataclass(frozen=True)
class Infra:
    mongo_url: str
    amqp_url: str


# where a Mongo-only test's broker would be: nothing listens on port 1, so a connection fails at once
NO_BROKER = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture(scope="session")
def mongo(tmp_path_factory) -> str:
    """The embedded MongoDB-wire server's URL (or MONGO_URL's), for the whole session."""
    server = None
    mongo_url = os.environ.get("MONGO_URL")
    if not mongo_url:
        base = tmp_path_factory.mktemp("mongo")
        server = EmbeddedMongo(base / "data", log_file=base / "mongo.log")
        mongo_url = server.start()
    yield mongo_url
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def broker() -> str:
    """The RabbitMQ broker's URL (started if it is not running), for the whole session."""
    return ensure_broker()


@pytest.fixture(scope="session")
def infra(mongo, broker) -> Infra:
    return Infra(mongo, broker)


def new_namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _configure(monkeypatch, tmp_path, mongo_url: str, amqp_url: str) -> dict:
    """This test process configured like a Linli process on a namespace of its own."""
    env = {
        "LINLI_NAMESPACE": new_namespace(), "MONGO_URL": mongo_url, "AMQP_URL": amqp_url,
        "LINLI_VAR_DIR": str(tmp_path / "var"), "LINLI_RETRY_DELAYS": "0.2,0.5", "LINLI_RELAY_POLL_SECONDS": "0.05",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    ensure_keys()
    return env


@pytest.fixture
def mongo_env(mongo, tmp_path, monkeypatch):
    """A namespace of its own on the database alone: no broker is started or reachable."""
    env = _configure(monkeypatch, tmp_path, mongo, NO_BROKER)
    yield env
    reset_settings()
    remove_databases(mongo, env["LINLI_NAMESPACE"])


@pytest.fixture
def linli_env(infra, tmp_path, monkeypatch):
    """A namespace of its own on the database and the broker."""
    env = _configure(monkeypatch, tmp_path, infra.mongo_url, infra.amqp_url)
    yield env
    reset_settings()
    remove_namespace(infra.mongo_url, infra.amqp_url, env["LINLI_NAMESPACE"], env)


def eventually(check, timeout: float = 20.0, interval: float = 0.1, what: str = "the condition"):
    """Polls `check` until it returns something truthy; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last seen: {last!r})")


@contextmanager
def configured_as(env: dict):
    """This test process configured like one of `env`'s processes (for operator commands and the seed)."""
    keys = ("MONGO_URL", "AMQP_URL", "LINLI_NAMESPACE", "LINLI_VAR_DIR")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: env[k] for k in keys})
    reset_settings()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings()
