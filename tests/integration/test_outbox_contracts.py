"""Every emitted payload is checked against its contract on its way into the outbox: an event that breaks it
(a deadline kind the contract does not know, as `remake_by` once was) fails its transaction, and nothing of it
is written, instead of reaching consumers that would refuse it."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from linli import db as dbmod
from linli.contracts import orders as contract
from linli.contracts.common import Event
from linli.unit import Units
from services.orders.rules import deadlines


def _missed(kind: str) -> dict:
    return {"order_id": "ord_1", "kind": kind, "due_at": "2026-11-23T03:04:05+00:00", "provider_id": "prv_1",
            "community_id": "lianxi"}


def test_an_event_that_breaks_its_contract_fails_its_transaction_and_writes_nothing(mongo_env):
    db = dbmod.database("orders")
    units = Units(db, "orders")
    made_by_hand = Event("orders.order.deadline_missed", _missed("lunch_break"))  # no builder would make it

    def work(u):
        db.orders.insert_one({"_id": "ord_1", "status": "accepted"}, session=u.session)
        u.emit(made_by_hand, "order:ord_1")

    with pytest.raises(ValidationError) as refused:
        units.run(work)
    assert "kind" in refused.value.messages
    assert db.orders.count_documents({}) == 0 and db.outbox.count_documents({}) == 0
    with pytest.raises(ValidationError):
        contract.order_deadline_missed(**_missed("lunch_break"))

    for kind in deadlines.ESCALATES:  # every kind the watcher can fire is one the contract takes
        units.run(lambda u, kind=kind: u.emit(contract.order_deadline_missed(**_missed(kind)), "order:ord_1"))
    assert sorted(e["envelope"]["data"]["kind"] for e in db.outbox.find()) == sorted(deadlines.ESCALATES)
