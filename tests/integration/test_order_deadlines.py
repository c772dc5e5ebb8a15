"""The deadline watcher on the real database with an injected clock: every kind of deadline an
order can have fires through the watcher's round, once, with its effect and its event; and one
order that cannot be fired no longer stops the round for the others."""
from __future__ import annotations

from datetime import timedelta

import pytest

from linli.contracts.orders import EVENTS, MISSED_DEADLINE_KINDS
from services.orders import commands, saga, store
from services.orders.rules import deadlines
from tests.integration import orders_kit as kit


def _state(order_id: str) -> dict:
    return store.database().orders.find_one({"_id": order_id})


def _as(who, command, *args):
    return kit.units().run(lambda u: command(u, who, *args))


def _free_paid(**listing_kw) -> dict:
    """A free order is paid as soon as catalog reserves it: the provider's answer is awaited."""
    order = kit.placed_and_reserved(price_fen=0, **listing_kw)
    assert order["status"] == "paid" and order["deadline"]["kind"] == "provider_answer"
    return order


def _remade() -> dict:
    """A meal that spoiled on the way; the coordinator has the kitchen make it again."""
    order = _free_paid()
    _as(kit.PROVIDER, commands.accept, order["_id"])
    _as(kit.PROVIDER, commands.ready, order["_id"])
    task = kit.task_event(order["_id"])
    kit.event("delivery.task.picked_up", task, saga.on_task_picked_up)
    kit.event("delivery.task.failed", {**task, "reason": "meal_damaged"}, saga.on_task_failed)
    _as(kit.COORDINATOR, commands.redeliver, order["_id"], "the soup spilled", {}, True)
    return _state(order["_id"])


def _given(kind: str) -> tuple[dict, timedelta]:
    """An order watched by a deadline of `kind`, and how long after now it is due (plus a minute)."""
    if kind == "payment_expiry":
        return kit.placed_and_reserved(), timedelta(minutes=16)
    if kind == "provider_answer":
        return _free_paid(), timedelta(minutes=31)
    if kind == "provider_final":
        order = _free_paid()
        assert saga.fire_due_deadlines(kit.later(minutes=31)) == [(order["_id"], "provider_answer")]
        return _state(order["_id"]), timedelta(minutes=61)
    if kind == "ready_by":
        order = _free_paid()
        _as(kit.PROVIDER, commands.accept, order["_id"])
        return _state(order["_id"]), timedelta(days=1, minutes=1)
    if kind == "remake_by":
        return _remade(), timedelta(minutes=46)
    if kind == "auto_complete":
        order = _free_paid(category="appliance_repair", fulfilment="on_site")
        _as(kit.PROVIDER, commands.accept, order["_id"])
        _as(kit.PROVIDER, commands.done, order["_id"])
        return _state(order["_id"]), timedelta(days=3, minutes=1)
    raise AssertionError(f"no scenario for the deadline kind {kind}")


def test_the_watcher_knows_every_kind_the_rules_set_and_escalates_exactly_the_contracts_kinds():
    assert set(deadlines.KINDS) == set(deadlines.DEADLINE_WORDS)
    assert set(deadlines.ESCALATES) == set(MISSED_DEADLINE_KINDS)
    schema = EVENTS["orders.order.deadline_missed"]()
    for kind in deadlines.ESCALATES:
        assert schema.validate({"order_id": "o", "kind": kind, "due_at": "t", "provider_id": "p",
                                "community_id": "c"}) == {}, f"the contract refuses {kind}"


@pytest.mark.parametrize("kind", deadlines.KINDS)
def test_every_deadline_kind_fires_once_through_the_watcher_with_its_effect_and_event(mongo_env, kind):
    order, due_in = _given(kind)
    assert order["deadline"]["kind"] == kind
    db = store.database()
    before = {t: len(kit.events(db, t)) for t in ("orders.order.cancelled", "orders.order.deadline_missed",
                                                   "orders.order.completed")}
    assert saga.fire_due_deadlines(kit.later(seconds=due_in.total_seconds() - 120)) == [], "not due yet"
    at = kit.later(seconds=due_in.total_seconds())
    assert saga.fire_due_deadlines(at) == [(order["_id"], kind)]
    assert saga.fire_due_deadlines(at) == [], "a deadline fires once"
    after = _state(order["_id"])
    new = {t: kit.events(db, t)[n:] for t, n in before.items()}
    if kind in deadlines.ESCALATES:
        assert after["status"] == order["status"], "the coordinator is alerted; the order keeps its state"
        assert [e["kind"] for e in after["escalations"]][-1] == kind
        assert after["timeline"][-1]["reason"] == deadlines.escalation_words(kind)
        [missed] = new["orders.order.deadline_missed"]
        assert missed == {"order_id": order["_id"], "kind": kind, "due_at": missed["due_at"], "provider_id": "prv_1",
                          "community_id": "lianxi"}
        assert (after["deadline"] or {}).get("kind") == ("provider_final" if kind == "provider_answer" else None)
    elif kind in deadlines.CANCELS:
        assert after["status"] == "cancelled" and new["orders.order.deadline_missed"] == []
        [cancelled] = new["orders.order.cancelled"]
        assert cancelled["by_role"] == "system" and cancelled["reservation_held"] is True
    else:
        assert after["status"] == "completed"
        assert new["orders.order.completed"] == [{"order_id": order["_id"], "resident_id": kit.RESIDENT.id,
                                                  "provider_id": "prv_1", "listing_id": "lst_1",
                                                  "volunteer_id": None}]
    assert after["deadline"] is None or after["deadline"]["kind"] != kind


def test_a_late_remade_meal_alerts_the_coordinator_once_and_the_kitchen_can_still_mark_it_ready(mongo_env):
    order = _remade()
    assert saga.fire_due_deadlines(kit.later(minutes=46)) == [(order["_id"], "remake_by")]
    for _ in range(3):  # the round every second after it: nothing more to fire, nothing raised
        assert saga.fire_due_deadlines(kit.later(minutes=47)) == []
    assert len(kit.events(store.database(), "orders.order.deadline_missed")) == 1
    assert _as(kit.PROVIDER, commands.ready, order["_id"])["status"] == "ready"


def test_one_order_that_cannot_be_fired_does_not_stop_the_round_and_is_tried_again_later(mongo_env, caplog):
    broken, good = kit.placed_and_reserved(), kit.placed_and_reserved()
    db = store.database()
    db.orders.update_one({"_id": broken["_id"]}, {"$set": {"deadline.kind": "teleport_by"}})  # deliberately broken

    first = saga.fire_due_deadlines(kit.later(minutes=16))
    assert first == [(good["_id"], "payment_expiry")] and first.failed == [(broken["_id"], "teleport_by")]
    assert _state(good["_id"])["status"] == "cancelled"
    deadline = _state(broken["_id"])["deadline"]
    assert deadline["failures"] == 1 and "teleport_by" in deadline["last_error"]
    assert any("deadline could not be fired" in r.getMessage() for r in caplog.records)

    again = saga.fire_due_deadlines(kit.later(minutes=16))
    assert again == [] and again.failed == [], "it waits before it is tried again"
    later = saga.fire_due_deadlines(kit.later(minutes=16, seconds=deadlines.RETRY_FIRST.total_seconds() + 1))
    assert later.failed == [(broken["_id"], "teleport_by")] and _state(broken["_id"])["deadline"]["failures"] == 2

    # mended, it fires on the next try like any other
    db.orders.update_one({"_id": broken["_id"]}, {"$set": {"deadline.kind": "payment_expiry"}})
    mended = saga.fire_due_deadlines(kit.later(minutes=30))
    assert mended == [(broken["_id"], "payment_expiry")] and mended.failed == []
    assert _state(broken["_id"])["status"] == "cancelled" and _state(broken["_id"])["deadline"] is None
    assert deadlines.retry_after(100) == deadlines.RETRY_CAP
