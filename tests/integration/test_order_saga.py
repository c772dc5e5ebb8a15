"""The order saga, written as given / when / then, on the embedded Mongo server: payments and
their notifications, every compensation, deadlines with an injected clock, refunds, the ledger."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from linli.ids import utcnow
from services.orders import money, saga, store
from services.orders.app import create_app
from services.orders.paystub import paystub
from services.orders.paystub import store as paystub_store
from tests.integration import orders_kit as kit


@pytest.fixture
def client(mongo_env):
    return create_app().test_client()


def _submit_refunds() -> int:
    """What the worker's refund timer does."""
    orders = kit.orders()
    return money.submit_refunds(orders.units, orders.provider, orders.notify_url)


def _pay(client, order) -> dict:
    answer = client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(kit.RESIDENT))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _state(order_id):
    return store.database().orders.find_one({"_id": order_id})


def _pay_and_notify(client, order):
    payment = _pay(client, order)
    paystub.settle(kit.cashier_ref(payment), paid=True)
    assert kit.deliver_notifications(client) == [200]
    return payment


def test_rejected_notifications_change_nothing_and_a_replay_is_refused_every_time(client):
    order = kit.placed_and_reserved()
    payment = _pay(client, order)
    good = kit.notification_body(payment["payment_id"], 1500)
    cheap = kit.notification_body(payment["payment_id"], 1)
    elsewhere = kit.notification_body(payment["payment_id"], 1500, mchid="1999")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [
        ("forged", good, kit.signed(good, key=forger), 401, "bad_signature"),
        ("stale", good, kit.signed(good, at=int(utcnow().timestamp()) - 600), 401, "bad_signature"),
        ("tampered", good.replace(b"ntf_x", b"ntf_y"), kit.signed(good), 401, "bad_signature"),
        ("wrong amount", cheap, kit.signed(cheap), 400, "wrong_amount"),
        ("wrong merchant", elsewhere, kit.signed(elsewhere), 400, "wrong_merchant"),
    ]
    for name, body, headers, status, code in cases:
        response = client.post("/api/v1/payments/notify", data=body, headers=headers)
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code), name
    assert _state(order["_id"])["status"] == "awaiting_payment"

    headers = kit.signed(good)
    assert client.post("/api/v1/payments/notify", data=good, headers=headers).status_code == 200
    for _ in range(5):
        replay = client.post("/api/v1/payments/notify", data=good, headers=headers)
        assert replay.get_json()["error"]["code"] == "replayed"
    assert client.post("/api/v1/payments/notify", data=good, headers=kit.signed(good)).status_code == 200
    db = store.database()
    assert _state(order["_id"])["status"] == "paid" and len(kit.events(db, "orders.order.paid")) == 1
    # the provider's answer deadline is orders' to set, and the paid event says it (catalog's scorecard reads it)
    [paid] = kit.events(db, "orders.order.paid")
    deadline = _state(order["_id"])["deadline"]
    assert deadline["kind"] == "provider_answer"
    assert datetime.fromisoformat(paid["answer_by"]) == deadline["due_at"].replace(tzinfo=timezone.utc)


def test_given_a_paid_order_when_the_provider_declines_then_it_is_cancelled_released_and_refunded(client):
    order = kit.placed_and_reserved()
    _pay_and_notify(client, order)
    declined = client.post(f"/api/v1/orders/{order['_id']}/decline", json={"reason": "the kitchen is closed"},
                           headers=kit.token(kit.PROVIDER))
    assert declined.status_code == 200 and declined.get_json()["status"] == "cancelled"
    db = store.database()
    assert kit.events(db, "orders.order.cancelled")[-1]["reservation_held"] is True
    assert kit.events(db, "orders.order.declined")[-1]["reason"] == "the kitchen is closed"
    assert _submit_refunds() == 1
    assert kit.deliver_notifications(client) == [200]
    after = _state(order["_id"])
    assert after["refunded_fen"] == 1500
    assert kit.events(db, "orders.order.refunded") == [
        {"order_id": order["_id"], "refund_id": f"{order['_id']}-r1", "amount_fen": 1500, "refunded_total_fen": 1500}]
    reasons = [e["reason"] for e in after["timeline"]]
    assert any("refund of 15.00 yuan requested" in r for r in reasons) and "refunded 15.00 yuan" in reasons
    assert _submit_refunds() == 0, "nothing is refunded twice"


def test_given_an_unpaid_order_when_15_minutes_pass_then_it_is_cancelled_once_and_its_portion_released(client):
    order = kit.placed_and_reserved()
    _pay(client, order)
    db = store.database()
    provider = kit.orders().provider
    assert saga.fire_due_deadlines(kit.later(minutes=14), provider) == []
    later = kit.later(minutes=16)
    assert saga.fire_due_deadlines(later, provider) == [(order["_id"], "payment_expiry")]
    assert saga.fire_due_deadlines(later, provider) == []
    after = _state(order["_id"])
    assert after["status"] == "cancelled" and "not paid within 15 minutes" in after["cancel_reason"]
    assert kit.events(db, "orders.order.cancelled")[-1]["reservation_held"] is True
    assert paystub.query(f"{order['_id']}-p1")["trade_state"] == "CLOSED"


def test_given_an_expired_order_when_its_payment_still_lands_then_the_money_goes_back(client):
    order = kit.placed_and_reserved()
    payment = _pay(client, order)
    saga.fire_due_deadlines(kit.later(minutes=16))  # no close: the payer was quicker
    paystub.settle(kit.cashier_ref(payment), paid=True)
    assert kit.deliver_notifications(client) == [200]
    db = store.database()
    assert _state(order["_id"])["status"] == "cancelled"
    assert db.refunds.find_one({"order_id": order["_id"]})["reason"] == "paid after the order was closed"
    assert db.ledger.count_documents({"order_id": order["_id"]}) == 0, "never charged, so nothing to reverse"


def test_given_a_paid_order_nobody_answers_then_the_coordinator_is_alerted_then_it_is_cancelled_and_refunded(client):
    order = kit.placed_and_reserved()
    _pay_and_notify(client, order)
    db = store.database()
    running = client.get("/api/v1/orders?with_deadline=true", headers=kit.token(kit.COORDINATOR)).get_json()
    assert [(o["id"], o["deadline"]["kind"]) for o in running["items"]] == [(order["_id"], "provider_answer")]
    assert client.get("/api/v1/orders?with_deadline=true", headers=kit.token(kit.ELSEWHERE)).get_json()["total"] == 0
    assert client.get("/api/v1/orders?with_deadline=1.5", headers=kit.token(kit.COORDINATOR)).status_code == 422
    assert saga.fire_due_deadlines(kit.later(minutes=31)) == [(order["_id"], "provider_answer")]
    assert saga.fire_due_deadlines(kit.later(minutes=31)) == []
    missed = kit.events(db, "orders.order.deadline_missed")
    assert len(missed) == 1 and missed[0]["kind"] == "provider_answer" and missed[0]["community_id"] == "lianxi"
    board = client.get("/api/v1/orders?attention=true", headers=kit.token(kit.COORDINATOR)).get_json()
    assert [o["id"] for o in board["items"]] == [order["_id"]]
    elsewhere = client.get("/api/v1/orders?attention=true", headers=kit.token(kit.ELSEWHERE)).get_json()
    assert elsewhere["total"] == 0, "another community's coordinator does not see it"
    assert client.get(f"/api/v1/orders/{order['_id']}", headers=kit.token(kit.ELSEWHERE)).status_code == 404
    assert saga.fire_due_deadlines(kit.later(minutes=61)) == [(order["_id"], "provider_final")]
    assert _state(order["_id"])["status"] == "cancelled"
    assert db.refunds.find_one({"order_id": order["_id"]})["amount_fen"] == 1500
    assert client.get("/api/v1/orders?with_deadline=true", headers=kit.token(kit.COORDINATOR)).get_json()["total"] == 0


def test_given_a_free_order_when_reserved_then_it_is_paid_without_a_cashier(client):
    order = kit.placed_and_reserved(price_fen=0)
    assert order["status"] == "paid" and order["payment"] is None
    assert [e["to"] for e in order["timeline"]] == ["placed", "awaiting_payment", "paid"]


def test_an_elder_pays_the_tier_price_and_the_funders_ledger_sums_to_the_orders_it_lists(client):
    orders = [kit.placed_and_reserved(who=kit.ELDER, quantity=q, tiers=kit.TIERS) for q in (1, 2)]
    assert orders[0]["amount"] == {"base_price_fen": 1500, "unit_price_fen": 300, "quantity": 1, "total_fen": 1500,
                                   "payable_fen": 300, "tier": "elder70",
                                   "funders": [{"funder": "town", "amount_fen": 700},
                                               {"funder": "hospital", "amount_fen": 500}]}
    for order in orders:
        payment = client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(kit.ELDER)).get_json()
        assert payment["amount_fen"] == 300 * order["quantity"]
        paystub.settle(kit.cashier_ref(payment), paid=True)
    kit.deliver_notifications(client)
    month = utcnow().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    town = client.get(f"/api/v1/payments/statements?party=town&month={month}",
                      headers=kit.token(kit.COORDINATOR)).get_json()
    assert town["total_fen"] == 700 * 3 == sum(line["amount_fen"] for line in town["lines"]) and town["orders"] == 2

    # the coordinator cancels the second one: the provider refunds the elder, the funders' shares are taken back
    cancelled = client.post(f"/api/v1/orders/{orders[1]['_id']}/cancel", json={"reason": "the elder is in hospital"},
                            headers=kit.token(kit.COORDINATOR))
    assert cancelled.status_code == 200
    _submit_refunds()
    kit.deliver_notifications(client)
    for party, expected in (("town", 700), ("hospital", 500), ("resident", 300)):
        got = client.get(f"/api/v1/payments/statements?party={party}&month={month}",
                         headers=kit.token(kit.COORDINATOR)).get_json()
        assert got["total_fen"] == expected, party
    csv = client.get(f"/api/v1/payments/statements?party=town&month={month}&format=csv",
                     headers=kit.token(kit.COORDINATOR))
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True).strip().splitlines()[-1] == "total,,7.00,,"
    assert csv.get_data(as_text=True).startswith("\ufeff")  # Excel and WPS read the Chinese titles
    assert client.get(f"/api/v1/payments/statements?party=town&month={month}",
                      headers=kit.token(kit.RESIDENT)).status_code == 403


def test_a_provider_downloads_its_own_monthly_statement_and_never_another_providers(client):
    orders = [kit.placed_and_reserved(who=kit.ELDER, quantity=q, tiers=kit.TIERS) for q in (1, 2)]
    for order in orders:
        payment = client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(kit.ELDER)).get_json()
        paystub.settle(kit.cashier_ref(payment), paid=True)
    kit.deliver_notifications(client)
    month = utcnow().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    mine = client.get(f"/api/v1/payments/statements/mine?month={month}", headers=kit.token(kit.PROVIDER)).get_json()
    assert mine["orders"] == 2 and mine["total_fen"] == 1500 * 3 == sum(x["amount_fen"] for x in mine["lines"])
    assert mine["parties"] == [{"party": "hospital", "amount_fen": 1500}, {"party": "resident", "amount_fen": 900},
                               {"party": "town", "amount_fen": 2100}]
    from linli.auth import Principal

    shop = Principal(id="acc_shop", role="provider", name="Shop")
    theirs = client.get(f"/api/v1/payments/statements/mine?month={month}", headers=kit.token(shop)).get_json()
    assert (theirs["orders"], theirs["total_fen"], theirs["lines"]) == (0, 0, [])
    csv = client.get(f"/api/v1/payments/statements/mine?month={month}&format=csv", headers=kit.token(kit.PROVIDER))
    text = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and text.startswith("\ufeff") and text.strip().splitlines()[-1] == "total,,,45.00,,"
    assert all(order["_id"] in text for order in orders)
    for who in (kit.RESIDENT, kit.COORDINATOR):
        assert client.get(f"/api/v1/payments/statements/mine?month={month}", headers=kit.token(who)).status_code == 403
    bad = client.get("/api/v1/payments/statements/mine?month=2026-13", headers=kit.token(kit.PROVIDER))
    assert bad.status_code == 422 and "month" in bad.get_json()["error"]["details"]


def test_a_coordinator_refunds_part_and_cannot_refund_more_than_was_paid(client):
    order = kit.placed_and_reserved()
    _pay_and_notify(client, order)
    coordinator = kit.token(kit.COORDINATOR)
    first = client.post(f"/api/v1/orders/{order['_id']}/refund", json={"amount_fen": 500, "reason": "cold soup"},
                        headers={**coordinator, "Idempotency-Key": "r-1"})
    again = client.post(f"/api/v1/orders/{order['_id']}/refund", json={"amount_fen": 500, "reason": "cold soup"},
                        headers={**coordinator, "Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    other_body = client.post(f"/api/v1/orders/{order['_id']}/refund", json={"amount_fen": 400, "reason": "x"},
                             headers={**coordinator, "Idempotency-Key": "r-1"})
    assert other_body.status_code == 422 and other_body.get_json()["error"]["code"] == "idempotency_key_reused"
    too_much = client.post(f"/api/v1/orders/{order['_id']}/refund", json={"amount_fen": 1001, "reason": "x"},
                           headers=coordinator)
    assert too_much.status_code == 422 and "amount_fen" in too_much.get_json()["error"]["details"]
    _submit_refunds()
    kit.deliver_notifications(client)
    assert _state(order["_id"])["refunded_fen"] == 500 and _state(order["_id"])["status"] == "paid"


def test_notifications_sent_twice_or_late_are_harmless_and_the_reconciler_settles_silent_payments(client):
    order = kit.placed_and_reserved()
    payment = _pay(client, order)
    paystub_store.database().payments.update_one({"out_trade_no": payment["payment_id"]},
                                           {"$set": {"faults": ["duplicate"]}})
    paystub.settle(kit.cashier_ref(payment), paid=True)
    assert kit.deliver_notifications(client) == [200, 200]
    assert len(kit.events(store.database(), "orders.order.paid")) == 1

    silent = kit.placed_and_reserved()
    silent_payment = _pay(client, silent)
    paystub_store.database().payments.update_one({"out_trade_no": silent_payment["payment_id"]},
                                           {"$set": {"faults": ["no_notification"]}})
    paystub.settle(kit.cashier_ref(silent_payment), paid=True)
    assert kit.deliver_notifications(client) == []
    db = store.database()
    provider = kit.orders().provider
    assert money.reconcile_payments(kit.units(), provider, utcnow() - timedelta(minutes=2)) == 0
    assert money.reconcile_payments(kit.units(), provider, utcnow()) == 1
    assert _state(silent["_id"])["status"] == "paid"


def test_a_declined_payment_can_be_tried_again(client):
    order = kit.placed_and_reserved()
    first = _pay(client, order)
    paystub.settle(kit.cashier_ref(first), paid=False)
    kit.deliver_notifications(client)
    assert _state(order["_id"])["payment"]["status"] == "failed"
    second = _pay(client, order)
    assert second["payment_id"].endswith("-p2")
    paystub.settle(kit.cashier_ref(second), paid=True)
    kit.deliver_notifications(client)
    assert _state(order["_id"])["status"] == "paid"


def test_an_on_site_job_completes_by_itself_three_days_after_the_provider_finished(client):
    order = kit.placed_and_reserved(category="appliance_repair", fulfilment="on_site")
    _pay_and_notify(client, order)
    provider = kit.token(kit.PROVIDER)
    assert client.post(f"/api/v1/orders/{order['_id']}/accept", headers=provider).status_code == 200
    assert client.post(f"/api/v1/orders/{order['_id']}/ready", headers=provider).status_code == 409
    assert client.post(f"/api/v1/orders/{order['_id']}/done", headers=provider).get_json()["status"] == "service_done"
    db = store.database()
    assert [e["order_id"] for e in kit.events(db, "orders.order.service_done")] == [order["_id"]]  # she is asked
    assert saga.fire_due_deadlines(kit.later(days=2)) == []
    assert saga.fire_due_deadlines(kit.later(days=3, minutes=1)) == [(order["_id"], "auto_complete")]
    assert _state(order["_id"])["status"] == "completed"
    assert kit.events(db, "orders.order.completed")[-1]["volunteer_id"] is None


def test_a_family_member_orders_for_an_elder_at_the_elders_price_and_both_see_it(client):
    from linli.auth import Principal, Relative

    daughter = Principal(id="acc_daughter", role="resident", name="Chen Jing",
                         family=(Relative(kit.ELDER.id, kit.ELDER.name, kit.ELDER.tags, (("lianxi", "1", "2"),)),))
    order = kit.placed_and_reserved(who=daughter, tiers=kit.TIERS, for_elder=kit.ELDER.id)  # to the elder's home
    assert order["resident_id"] == kit.ELDER.id and order["ordered_by"]["id"] == daughter.id
    assert order["amount"]["payable_fen"] == 300, "the elder's tags price it, not the daughter's"
    assert "ordered by Chen Jing for Grandpa Zhou" in order["timeline"][0]["reason"]
    for who in (daughter, kit.ELDER):
        listed = client.get("/api/v1/orders", headers=kit.token(who)).get_json()
        assert [o["id"] for o in listed["items"]] == [order["_id"]]
    assert client.get("/api/v1/orders", headers=kit.token(kit.RESIDENT)).get_json()["total"] == 0
    with pytest.raises(Exception) as refused:
        kit.placed_and_reserved(who=kit.RESIDENT, for_elder=kit.ELDER.id)
    assert "for_resident_id" in str(getattr(refused.value, "details", refused.value))


def test_a_family_member_sees_the_orders_the_elder_placed_and_a_stranger_does_not(client):
    from linli.auth import Principal, Relative

    daughter = Principal(id="acc_daughter", role="resident", name="Chen Jing",
                         family=(Relative(kit.ELDER.id, kit.ELDER.name, kit.ELDER.tags),))
    unlinked = Principal(id="acc_neighbour", role="resident", name="Neighbour Wu")
    order = kit.placed_and_reserved(who=kit.ELDER)
    listed = client.get("/api/v1/orders", headers=kit.token(daughter)).get_json()
    assert [o["id"] for o in listed["items"]] == [order["_id"]]
    assert client.get(f"/api/v1/orders/{order['_id']}", headers=kit.token(daughter)).status_code == 200
    for stranger in (unlinked, kit.RESIDENT):
        assert client.get("/api/v1/orders", headers=kit.token(stranger)).get_json()["total"] == 0
        assert client.get(f"/api/v1/orders/{order['_id']}", headers=kit.token(stranger)).status_code == 404


def _on_its_way(client, order) -> None:
    """Paid, accepted, ready and picked up by a volunteer, as delivery's events tell orders."""
    _pay_and_notify(client, order)
    for step in ("accept", "ready"):
        assert client.post(f"/api/v1/orders/{order['_id']}/{step}", headers=kit.token(kit.PROVIDER)).status_code == 200
    task = kit.task_event(order["_id"])
    kit.event("delivery.task.assigned", task, saga.on_task_assigned)
    kit.event("delivery.task.picked_up", task, saga.on_task_picked_up)


def _delivery_fails(order, reason="wrong_address") -> None:
    kit.event("delivery.task.failed", kit.task_event(order["_id"], reason=reason), saga.on_task_failed)


def test_given_a_failed_delivery_when_the_coordinator_sends_it_again_then_it_is_ready_for_a_new_volunteer(client):
    order = kit.placed_and_reserved()
    _on_its_way(client, order)
    _delivery_fails(order)
    mine = client.get(f"/api/v1/orders/{order['_id']}", headers=kit.token(kit.RESIDENT)).get_json()
    assert mine["status"] == "delivering" and "committee will arrange another delivery" in mine["status_text"]
    board = client.get("/api/v1/orders?attention=true", headers=kit.token(kit.COORDINATOR)).get_json()
    assert [o["id"] for o in board["items"]] == [order["_id"]]
    assert board["items"][0]["delivery_problem"]["reason"] == "wrong_address"

    path = f"/api/v1/orders/{order['_id']}/redeliver"
    body = {"reason": "the resident lives in 302", "address": {"room": "302"}}
    assert client.post(path, json=body, headers=kit.token(kit.RESIDENT)).status_code == 403
    assert client.post(path, json=body, headers=kit.token(kit.ELSEWHERE)).status_code == 404
    bad = client.post(path, json={"reason": "x", "address": {"community_id": "pengfei"}},
                      headers=kit.token(kit.COORDINATOR)).get_json()
    assert "address" in bad["error"]["details"], "the community cannot change: it decides who delivers"
    db = store.database()
    assert _state(order["_id"])["address"]["room"] == "2" and kit.events(db, "orders.order.redelivery_requested") == []

    again = client.post(path, json=body, headers=kit.token(kit.COORDINATOR)).get_json()
    assert again["status"] == "ready" and again["delivery_problem"] is None and again["address"]["room"] == "302"
    assert again["redeliveries"] == 1 and again["courier"] is None
    assert again["timeline"][-1]["reason"] == "sent out again by the coordinator (delivery 2): the resident lives in 302"
    assert kit.events(db, "orders.order.redelivery_requested") == [
        {"order_id": order["_id"], "task_id": "tsk_1", "attempt": 2, "reason": "the resident lives in 302",
         "dropoff": {"room": "302"}, "community_id": "lianxi", "remake": False}]
    twice = client.post(path, json=body, headers=kit.token(kit.COORDINATOR))
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "no_failed_delivery"
    assert len(kit.events(db, "orders.order.redelivery_requested")) == 1
    assert client.get("/api/v1/orders?attention=true", headers=kit.token(kit.COORDINATOR)).get_json()["total"] == 0

    # the second volunteer picks it up and hands it over: the order completes as usual
    second = kit.task_event(order["_id"], volunteer="vol_2")
    kit.event("delivery.task.picked_up", second, saga.on_task_picked_up)
    kit.event("delivery.task.delivered", {**second, "minutes": 12}, saga.on_task_delivered)
    assert [e["to"] for e in _state(order["_id"])["timeline"]][-4:] == ["delivering", "ready", "delivering",
                                                                       "completed"]


def test_given_a_meal_spoiled_on_the_way_when_the_coordinator_has_it_made_again_then_the_kitchen_makes_it(client):
    order = kit.placed_and_reserved()
    _on_its_way(client, order)
    _delivery_fails(order, reason="meal_damaged")
    path = f"/api/v1/orders/{order['_id']}/redeliver"
    body = {"reason": "the soup spilled on the stairs", "remake": True}
    again = client.post(path, json=body, headers=kit.token(kit.COORDINATOR)).get_json()
    assert again["status"] == "accepted" and again["delivery_problem"] is None and again["redeliveries"] == 1
    assert again["timeline"][-1]["reason"] == ("sent out again by the coordinator (delivery 2; the kitchen makes it "
                                               "again): the soup spilled on the stairs")
    assert again["deadline"]["kind"] == "remake_by", "the slot has begun: the kitchen gets its own time, not the slot's"
    due = datetime.fromisoformat(again["deadline"]["due_at"]) - datetime.fromisoformat(again["remake"]["at"])
    assert due == timedelta(minutes=45)
    mine = client.get(f"/api/v1/orders/{order['_id']}", headers=kit.token(kit.RESIDENT)).get_json()
    assert mine["status_text"] == "The kitchen is making your meal again; a volunteer will bring it"
    db = store.database()
    assert kit.events(db, "orders.order.redelivery_requested")[-1]["remake"] is True

    ready = client.post(f"/api/v1/orders/{order['_id']}/ready", headers=kit.token(kit.PROVIDER)).get_json()
    assert ready["status"] == "ready" and ready["deadline"] is None
    assert len(kit.events(db, "orders.order.ready")) == 2, "delivery hears the meal is ready again"

    # a meal that never left the kitchen is not made again
    waiting = kit.placed_and_reserved()
    _pay_and_notify(client, waiting)
    client.post(f"/api/v1/orders/{waiting['_id']}/accept", headers=kit.token(kit.PROVIDER))
    _delivery_fails(waiting, reason="no_volunteer")
    refused = client.post(f"/api/v1/orders/{waiting['_id']}/redeliver", json=body, headers=kit.token(kit.COORDINATOR))
    assert refused.status_code == 422 and "never left the kitchen" in refused.get_json()["error"]["details"]["remake"][0]
    assert _state(waiting["_id"])["delivery_problem"] is not None, "a refused request changes nothing"


def test_given_a_failed_delivery_when_the_coordinator_cancels_then_it_is_refunded_and_cannot_be_sent_again(client):
    order = kit.placed_and_reserved()
    _on_its_way(client, order)
    _delivery_fails(order, reason="refused")
    cancelled = client.post(f"/api/v1/orders/{order['_id']}/cancel", json={"reason": "the resident refused it"},
                            headers=kit.token(kit.COORDINATOR)).get_json()
    assert cancelled["status"] == "cancelled"
    db = store.database()
    assert db.refunds.find_one({"order_id": order["_id"]})["amount_fen"] == 1500
    late = client.post(f"/api/v1/orders/{order['_id']}/redeliver", json={"reason": "try again"},
                       headers=kit.token(kit.COORDINATOR))
    assert late.status_code == 409 and late.get_json()["error"]["details"]["current_status"] == "cancelled"
    _delivery_fails(order)  # a late failure report about a closed order is only history
    assert _state(order["_id"])["delivery_problem"] is None


def test_a_state_change_retried_with_its_idempotency_key_gets_the_first_answer_not_an_error(client):
    order = kit.placed_and_reserved()
    _pay_and_notify(client, order)
    path = f"/api/v1/orders/{order['_id']}/accept"
    retry = {**kit.token(kit.PROVIDER), "Idempotency-Key": "accept-1"}
    first = client.post(path, headers=retry)
    again = client.post(path, headers=retry)
    assert (first.status_code, again.status_code) == (200, 200) and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["status"] == "accepted" and len(_state(order["_id"])["timeline"]) == len(
        first.get_json()["timeline"]), "the retry changed nothing"
    assert client.post(path, headers=kit.token(kit.PROVIDER)).status_code == 409, "without the key: already accepted"


def test_no_redelivery_without_a_failed_delivery(client):
    order = kit.placed_and_reserved()
    _on_its_way(client, order)
    refused = client.post(f"/api/v1/orders/{order['_id']}/redeliver", json={"reason": "just in case"},
                          headers=kit.token(kit.COORDINATOR))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_failed_delivery"
    assert "reason" in client.post(f"/api/v1/orders/{order['_id']}/redeliver", json={},
                                   headers=kit.token(kit.COORDINATOR)).get_json()["error"]["details"]


def test_a_radius_listing_takes_orders_only_from_addresses_within_its_radius(client):
    from datetime import date

    listing = {**kit.listing(fulfilment="on_site", category="home_repair"), "service_radius_m": 2000}
    body = {"listing_id": "lst_1", "quantity": 1, "slot_date": date.today(), "slot": "day",
            "address": {"community_id": "elsewhere", "building": "1", "room": "2", "contact_name": "Wang",
                        "phone": "139 0000 0000", "location": {"lng": 121.60, "lat": 31.18}}}
    with pytest.raises(Exception) as refused:
        kit.place(kit.RESIDENT, body, listing)
    assert "within 2.0 km of it; yours is 4.8 km away" in str(refused.value.details["address.location"])
    near = {**body, "address": {**body["address"], "location": {"lng": 121.56, "lat": 31.18}}}
    assert kit.place(kit.RESIDENT, near, listing)["status"] == "placed"


def test_a_coordinator_reads_only_the_ledger_lines_of_its_own_communities_and_an_admin_reads_all(client):
    from linli.auth import Principal

    admin = Principal(id="acc_admin", role="admin", name="Admin")
    here = kit.placed_and_reserved(who=kit.ELDER, tiers=kit.TIERS)
    there = kit.placed_and_reserved(who=kit.ELDER, tiers=kit.TIERS, quantity=2, community="pengfei")
    for order in (here, there):
        payment = client.post(f"/api/v1/orders/{order['_id']}/pay", headers=kit.token(kit.ELDER)).get_json()
        paystub.settle(kit.cashier_ref(payment), paid=True)
    assert kit.deliver_notifications(client) == [200, 200]
    month = utcnow().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    def statement(who, fmt=""):
        return client.get(f"/api/v1/payments/statements?party=town&month={month}{fmt}", headers=kit.token(who))

    lianxi, pengfei, everything = (statement(who).get_json() for who in (kit.COORDINATOR, kit.ELSEWHERE, admin))
    assert ([x["order_id"] for x in lianxi["lines"]], lianxi["total_fen"], lianxi["orders"]) == ([here["_id"]], 700, 1)
    assert ([x["order_id"] for x in pengfei["lines"]], pengfei["total_fen"]) == ([there["_id"]], 1400)
    assert sorted(x["order_id"] for x in everything["lines"]) == sorted([here["_id"], there["_id"]])
    assert everything["total_fen"] == 2100 and everything["orders"] == 2
    spreadsheet = statement(kit.COORDINATOR, "&format=csv").get_data(as_text=True)
    assert here["_id"] in spreadsheet and there["_id"] not in spreadsheet
    assert spreadsheet.strip().splitlines()[-1] == "total,,7.00,,"
    assert statement(kit.RESIDENT).status_code == 403


def test_every_event_orders_emits_is_produced_here_and_matches_its_contract(client):
    from linli.contracts.orders import EVENTS

    # paid, accepted, ready, out, failed at the door, sent out again, delivered
    meal = kit.placed_and_reserved()
    _on_its_way(client, meal)
    _delivery_fails(meal)
    client.post(f"/api/v1/orders/{meal['_id']}/redeliver", json={"reason": "room 302"},
                headers=kit.token(kit.COORDINATOR))
    second = kit.task_event(meal["_id"], volunteer="vol_2")
    kit.event("delivery.task.picked_up", second, saga.on_task_picked_up)
    kit.event("delivery.task.delivered", {**second, "minutes": 9}, saga.on_task_delivered)
    # declined by the provider and refunded
    declined = kit.placed_and_reserved()
    _pay_and_notify(client, declined)
    client.post(f"/api/v1/orders/{declined['_id']}/decline", json={"reason": "closed"}, headers=kit.token(kit.PROVIDER))
    assert _submit_refunds() == 1 and kit.deliver_notifications(client) == [200]
    # nobody answers a free order in time
    free = kit.placed_and_reserved(price_fen=0)
    assert saga.fire_due_deadlines(kit.later(minutes=31)) == [(free["_id"], "provider_answer")]
    # a job at home, done by the provider (the resident is asked to confirm)
    job = kit.placed_and_reserved(category="appliance_repair", fulfilment="on_site")
    _pay_and_notify(client, job)
    for step in ("accept", "done"):
        assert client.post(f"/api/v1/orders/{job['_id']}/{step}", headers=kit.token(kit.PROVIDER)).status_code == 200

    db = store.database()
    emitted = {}
    for entry in db.outbox.find({"envelope.source": "orders"}):
        emitted.setdefault(entry["type"], []).append(entry["envelope"]["data"])
    assert set(emitted) == set(EVENTS), f"not produced by this scenario: {sorted(set(EVENTS) - set(emitted))}"
    for event_type, payloads in emitted.items():
        for data in payloads:
            assert EVENTS[event_type]().validate(data) == {}, (event_type, data)


def test_the_stub_provider_keeps_the_clock_and_settings_orders_bootstrap_gives_it(mongo_env, monkeypatch):
    monkeypatch.setenv("LINLI_PUBLIC_URL", "https://linli.example")
    from linli.config import reset_settings
    from services.orders import bootstrap
    reset_settings()
    monkeypatch.setattr(paystub, "_setup", paystub._setup)  # the next test's bootstrap sets it up again anyway
    stopped = datetime(2026, 11, 23, 3, 4, 5, tzinfo=timezone.utc)
    orders = bootstrap.build(clock=lambda: stopped)
    created = orders.provider.create("ord_clock-p1", 300, "Charity lunch", orders.notify_url)
    assert created["cashier_url"] == f"https://linli.example/api/v1/payments/stub/{created['provider_ref']}"
    payment = paystub_store.database().payments.find_one({"out_trade_no": "ord_clock-p1"})
    assert payment["created_at"] == stopped and payment["state"] == "NOTPAY"
    paystub.settle(created["provider_ref"], paid=True)
    [note] = paystub_store.database().notifications.find({})
    assert note["next_at"] == stopped  # scheduled on the stub's clock, not the wall clock's


def test_a_change_whose_answer_was_lost_as_it_committed_is_not_made_again(mongo_env, monkeypatch):
    """The database dies just after the accept commits, before the keyed answer is stored (the fault suite's
    run 4). The change and its mark were one transaction, so the retry is told it was done, not run again."""
    from pymongo.errors import AutoReconnect

    app = create_app()
    client = app.test_client()
    order = kit.placed_and_reserved()
    _pay_and_notify(client, order)
    path = f"/api/v1/orders/{order['_id']}/accept"
    retry = {**kit.token(kit.PROVIDER), "Idempotency-Key": "accept-lost"}
    answer_for = app.make_response
    lost = []

    def lose_the_first_answer(result):
        if not lost:
            lost.append(result)
            raise AutoReconnect("connection closed")  # as the database went away after the commit
        return answer_for(result)

    monkeypatch.setattr(app, "make_response", lose_the_first_answer)
    first = client.post(path, headers=retry)
    assert first.status_code == 503 and lost, first.get_data(as_text=True)[:300]
    accepted = _state(order["_id"])
    assert accepted["status"] == "accepted"
    assert client.post(path, headers=retry).get_json()["error"]["code"] == "request_in_progress"
    db = store.database()  # a minute later the first try is given up for lost: its change stays made once
    db.idempotency.update_one({"state": "committed"}, {"$set": {"created_at": utcnow() - timedelta(minutes=2)}})
    again = client.post(path, headers=retry)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "request_already_done", again.get_json()
    assert _state(order["_id"])["timeline"] == accepted["timeline"], "the retry changed nothing"
    # a request whose transaction never committed is still tried again in full
    assert db.idempotency.count_documents({"state": "committed"}) == 1
