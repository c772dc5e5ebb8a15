"""Shared fixtures: the real broker and the embedded MongoDB-wire server (or MONGO_URL), and a
fresh namespace per test so that tests never see each other's queues or databases."""
from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.cleanup import remove_namespace
from devstack.mongo import EmbeddedMongo
from devstack.rabbit import ensure_broker
from linli.config import reset_settings
from linli.keys import ensure_keys


@dataclass(frozen=True)
class Infra:
    mongo_url: str
    amqp_url: str


@pytest.fixture(scope="session")
def infra(tmp_path_factory) -> Infra:
    amqp_url = ensure_broker()
    mongo = None
    mongo_url = os.environ.get("MONGO_URL")
    if not mongo_url:
        base = tmp_path_factory.mktemp("mongo")
        mongo = EmbeddedMongo(base / "data", log_file=base / "mongo.log")
        mongo_url = mongo.start()
    yield Infra(mongo_url, amqp_url)
    if mongo is not None:
        mongo.stop()


def new_namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def linli_env(infra, tmp_path, monkeypatch):
    """This test process configured like a Linli process on a namespace of its own."""
    namespace = new_namespace()
    env = {
        "LINLI_NAMESPACE": namespace, "MONGO_URL": infra.mongo_url, "AMQP_URL": infra.amqp_url,
        "LINLI_VAR_DIR": str(tmp_path / "var"), "LINLI_RETRY_DELAYS": "0.2,0.5", "LINLI_RELAY_POLL_SECONDS": "0.05",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    ensure_keys()
    yield env
    reset_settings()
    remove_namespace(infra.mongo_url, infra.amqp_url, namespace, env)


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
