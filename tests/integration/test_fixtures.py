"""The test fixtures themselves: a test of the database alone neither starts nor reaches the broker."""
from __future__ import annotations

import time

import pytest

from linli import db as dbmod
from linli import topology
from linli.config import settings
from tests.conftest import NO_BROKER


def test_a_database_only_test_neither_starts_nor_reaches_the_broker(mongo_env, request):
    assert not {"broker", "infra", "linli_env"} & set(request.fixturenames)
    assert settings().amqp_url == NO_BROKER
    started = time.monotonic()
    with pytest.raises(Exception):
        topology.ensure()
    assert time.monotonic() - started < 10, "a broker that is not there is refused at once, not waited for"
    things = dbmod.database("probe").things
    things.insert_one({"_id": 1})
    assert things.find_one({"_id": 1}) == {"_id": 1}
