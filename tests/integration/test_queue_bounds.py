"""Unrouted events and dead letters carry personal data: their queues are bounded in size and age,
and an older broker whose queues were declared unbounded keeps working."""
from __future__ import annotations

import logging

import pytest
from amqp.exceptions import PreconditionFailed

from linli import topology
from linli.config import settings


def _declared_with(name: str, arguments: dict) -> bool:
    """True when the broker holds `name` with exactly these arguments (it refuses a redeclaration that differs)."""
    with topology.connect() as conn:
        try:
            topology.declare_queue(conn.channel(), name, arguments)
            return True
        except PreconditionFailed as error:
            assert error.reply_code == 406
            return False


def test_unrouted_and_dead_letter_queues_are_bounded_in_size_and_age(linli_env):
    topology.ensure()
    ns = settings().namespace
    unrouted, dead = f"{ns}.unrouted", topology.consumer_queues("orders").dead
    assert _declared_with(unrouted, {"x-max-length": topology.UNROUTED_MAX, "x-message-ttl": 7 * 24 * 3600 * 1000})
    assert _declared_with(dead, {"x-max-length": topology.DEAD_MAX, "x-message-ttl": 30 * 24 * 3600 * 1000})
    assert not _declared_with(dead, {})  # unbounded would be another queue


def test_a_dead_letter_queue_an_older_version_left_unbounded_still_works_and_is_reported(linli_env, caplog):
    dead = topology.consumer_queues("delivery").dead
    with topology.connect() as conn:
        topology.declare_queue(conn.channel(), dead)  # as the previous version declared it
    with caplog.at_level(logging.WARNING, logger="linli.topology"):
        topology.ensure()
    assert any(dead in r.getMessage() and "policy" in r.getMessage() for r in caplog.records)
    assert _declared_with(topology.consumer_queues("delivery").main,
                          topology._main_queue_args(topology.consumer_queues("delivery")))
