"""Notify end to end on the real broker and the embedded Mongo: events published to the exchange,
notify's worker turning them into messages, its web app serving inboxes and live streams."""
from __future__ import annotations

import time

import pytest

from tests.conftest import eventually
from tests.integration.messaging import publish_raw
from tests.integration.notify_kit import NotifyWorld


@pytest.fixture
def world(linli_env):
    w = NotifyWorld()
    yield w
    w.close()


def _two_of_each(world) -> tuple[str, str, str, str]:
    """Two residents and two coordinators of two communities (lianxi, beicai), and a canteen: their tokens."""
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.account("acc_zhao", "resident", "赵大爷", community_id="beicai")
    world.account("acc_lin", "coordinator", "林主任", communities=["lianxi"])
    world.account("acc_chen", "coordinator", "陈主任", communities=["beicai"])
    world.provider("prv_1", "acc_canteen", "食堂")
    wang, zhao = world.token("acc_wang", "resident"), world.token("acc_zhao", "resident")
    lin = world.token("acc_lin", "coordinator", communities=("lianxi",))
    chen = world.token("acc_chen", "coordinator", communities=("beicai",))
    return wang, zhao, lin, chen


def _kinds(items):
    return [m["kind"] for m in items]


def test_a_volunteers_stream_receives_the_offer_within_a_second_and_its_withdrawal_when_another_accepts(world):
    world.account("acc_zhang", "volunteer", "小张", phone="13800000001")
    world.account("acc_li", "volunteer", "小李", language="en", phone="13800000002")
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.provider("prv_1", "acc_canteen", "仁济医院食堂")
    world.volunteer("vol_zhang", "acc_zhang")
    world.volunteer("vol_li", "acc_li")
    order_id = world.order("acc_wang")
    world.handled(7)
    zhang = world.stream(world.token("acc_zhang", "volunteer"))
    li = world.stream(world.token("acc_li", "volunteer"))

    started = time.monotonic()
    world.offer("tsk_1", order_id, "vol_zhang")
    world.offer("tsk_1", order_id, "vol_li")
    offer = zhang.next(timeout=3)
    arrived = time.monotonic() - started
    assert offer["kind"] == "offer" and offer["refs"]["task_id"] == "tsk_1" and offer["urgency"] == "urgent"
    assert offer["title"] == "新的配送邀请" and "0.4公里" in offer["body"]
    assert arrived < 1.0, f"the offer took {arrived:.2f} s to reach the stream"
    english = li.next(timeout=3)
    assert english["kind"] == "offer" and english["title"] == "A delivery for you"

    # delivery withdraws the offer of each volunteer who did not take it (one event each)
    world.withdrawn("tsk_1", order_id, "vol_zhang")
    withdrawn = zhang.next(timeout=3)
    assert withdrawn["kind"] == "offer_withdrawn" and withdrawn["refs"]["task_id"] == "tsk_1"
    assert withdrawn["refs"]["offer_id"] == offer["refs"]["offer_id"] and withdrawn["title"] == "配送已有人接"
    assert withdrawn["id"] > offer["id"]
    inbox = world.inbox(world.token("acc_zhang", "volunteer"))
    [offer_in_inbox] = [m for m in inbox if m["kind"] == "offer"]
    assert offer_in_inbox["withdrawn_at"] is not None and offer_in_inbox["read_at"] is not None
    assert li.nothing_within(0.5)  # the one who took it is not told it was taken
    # an urgent offer without a WeChat subscription went by SMS to each volunteer's phone too
    eventually(lambda: len(world.notify.sms.sent) == 2, timeout=5, what="two offer SMS")
    assert sorted(s["phone"] for s in world.notify.sms.sent) == ["13800000001", "13800000002"]
    assert {s["template"] for s in world.notify.sms.sent} == {"SMS_LINLI_OFFER"}


def test_an_offer_reaches_the_volunteer_at_once_even_before_notify_has_heard_of_its_order(world):
    """The bench's 0-of-300: an offer waited (retried 1 s, 5 s, 30 s...) until notify knew its order and
    volunteer. The offer names the volunteer's account and needs nothing else: it arrives at once."""
    world.account("acc_zhang", "volunteer", "小张")
    world.account("acc_li", "volunteer", "小李")
    world.handled(2)
    zhang = world.stream(world.token("acc_zhang", "volunteer"))
    li = world.stream(world.token("acc_li", "volunteer"))
    started = time.monotonic()
    world.offer("tsk_9", "ord_unknown_9", "vol_zhang")
    offer = zhang.next(timeout=3)
    assert time.monotonic() - started < 1.0
    assert offer["kind"] == "offer" and offer["refs"]["order_id"] == "ord_unknown_9"
    world.withdrawn("tsk_9", "ord_unknown_9", "vol_zhang", reason="cancelled")
    cancelled = zhang.next(timeout=3)
    assert cancelled["kind"] == "offer_cancelled" and cancelled["title"] == "配送已取消"
    assert li.nothing_within(0.5)  # nobody else hears of it


def test_the_canteen_gets_the_new_order_message_and_the_resident_her_receipt(world):
    world.account("acc_canteen", "provider", "仁济医院食堂", phone="13700000001")
    world.account("acc_bakery", "provider", "Bakery", phone="13700000002")
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.provider("prv_1", "acc_canteen", "仁济医院食堂")
    world.provider("prv_2", "acc_bakery", "Bakery")
    world.handled(5)
    canteen = world.token("acc_canteen", "provider")
    live = world.stream(canteen)
    world.order("acc_wang", provider_id="prv_1", title="爱心午餐")

    new_order = live.next(timeout=10)
    assert new_order["kind"] == "new_order" and new_order["title"] == "新订单" and "爱心午餐" in new_order["body"]
    inbox, verified = world.inbox(canteen)
    assert inbox["kind"] == "new_order" and inbox["read_at"] is None and inbox["channels"] == ["in_app", "sms"]
    assert verified["kind"] == "provider_verified" and verified["channels"] == ["in_app"]
    eventually(lambda: [s["phone"] for s in world.notify.sms.sent] == ["13700000001"], timeout=5,
               what="the new-order SMS to the canteen")
    assert _kinds(world.inbox(world.token("acc_bakery", "provider"))) == ["provider_verified"]
    assert _kinds(world.inbox(world.token("acc_wang", "resident"))) == ["payment_received"]
    # the SMS's delivery report arrives later and is recorded
    eventually(lambda: (world.sends(channel="sms")[0].get("receipt") or {}).get("code") == "DELIVERED", timeout=8,
               what="the SMS delivery report")


def test_a_welfare_check_reaches_the_coordinator_and_the_family_and_nobody_else(world):
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.account("acc_zhao", "resident", "赵大爷", community_id="beicai")
    world.account("acc_son", "resident", "Wang Jr", language="en", family_of=["acc_wang"])
    world.account("acc_niece", "resident", "赵侄女", family_of=["acc_zhao"])
    world.account("acc_lin", "coordinator", "林主任", communities=["lianxi"], phone="13600000001")
    world.account("acc_chen", "coordinator", "陈主任", communities=["beicai"], phone="13600000002")
    world.account("acc_zhang", "volunteer", "小张")
    world.provider("prv_1", "acc_canteen", "食堂")
    world.volunteer("vol_zhang", "acc_zhang")
    order_id = world.order("acc_wang")
    world.handled(11)
    lin = world.stream(world.token("acc_lin", "coordinator", communities=("lianxi",)))
    son = world.stream(world.token("acc_son", "resident"))

    world.publish("delivery.task.welfare_check", {
        "task_id": "tsk_9", "order_id": order_id, "volunteer_id": "vol_zhang", "community_id": "lianxi",
        "note": "敲门十分钟无人应答", "emergency_contact": {"name": "Wang Jr", "phone": "13900000009"}})
    for_lin, for_son = lin.next(timeout=10), son.next(timeout=10)
    assert for_lin["kind"] == "welfare_check" and "王阿姨" in for_lin["body"] and "敲门十分钟无人应答" in for_lin["body"]
    assert for_son["kind"] == "welfare_check" and for_son["title"] == "Please check on them" \
        and "王阿姨's meal" in for_son["body"]
    eventually(lambda: [s["phone"] for s in world.notify.sms.sent] == ["13600000001"], timeout=5,
               what="the urgent SMS to the coordinator")
    assert world.messages("acc_chen") == [] and world.messages("acc_niece") == []
    assert [m["kind"] for m in world.messages("acc_wang")] == ["payment_received"]


def test_an_elder_without_a_smartphone_is_reached_through_the_family_and_the_committees_board(world):
    world.account("acc_grandpa", "resident", "刘爷爷", community_id="lianxi", signs_in=False, phone=None)
    world.account("acc_daughter", "resident", "刘女儿", family_of=["acc_grandpa"], phone="13500000001")
    world.account("acc_lin", "coordinator", "林主任", communities=["lianxi"])
    world.account("acc_chen", "coordinator", "陈主任", communities=["beicai"])
    world.provider("prv_1", "acc_canteen", "食堂")
    order_id = world.order("acc_grandpa")
    world.publish("orders.order.accepted", {"order_id": order_id, "provider_id": "prv_1"})
    world.handled(7)

    lin, chen = world.token("acc_lin", "coordinator", communities=("lianxi",)), \
        world.token("acc_chen", "coordinator", communities=("beicai",))
    eventually(lambda: len(world.inbox(world.token("acc_daughter", "resident"))) == 2, what="the daughter's messages")
    assert _kinds(world.inbox(world.token("acc_daughter", "resident"))) == ["order_accepted", "payment_received"]
    board = world.get("/boards/lianxi/messages", lin)
    assert board.status_code == 200 and _kinds(board.json()["items"]) == ["order_accepted", "payment_received"]
    assert world.get("/boards/lianxi/messages", chen).status_code == 404
    assert world.messages("acc_grandpa") == []  # nobody signs in as him, and he has no phone
    marked = world.post("/boards/lianxi/messages/read", lin, {})
    assert marked.status_code == 200 and marked.json()["marked"] == 2


def test_a_redelivered_event_sends_nothing_twice(world):
    world.account("acc_canteen", "provider", "食堂", phone="13700000001")
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.provider("prv_1", "acc_canteen", "食堂")
    order_id = world.order("acc_wang")
    world.handled(5)
    eventually(lambda: len(world.notify.sms.sent) == 1, timeout=5, what="the first new-order SMS")

    # orders.order.paid again, same envelope (a relay that crashed before marking it sent), and a deadline twice
    paid = world.db.inbox.find_one({"type": "orders.order.paid"})
    assert paid is not None
    envelope = world.publish("orders.order.deadline_missed", {
        "order_id": order_id, "kind": "provider_answer", "due_at": "2026-12-01T03:00:00+00:00",
        "provider_id": "prv_1", "community_id": "lianxi"})
    publish_raw(envelope)
    publish_raw(envelope)
    world.handled(6)
    time.sleep(1.0)
    canteen = world.inbox(world.token("acc_canteen", "provider"))
    assert _kinds(canteen) == ["deadline_missed_provider", "new_order", "provider_verified"]
    assert len(world.sends()) == 1  # the new order's urgent SMS; the normal deadline note stays in the app
    assert len(world.notify.sms.sent) == 1


def test_a_reconnect_with_last_event_id_misses_nothing(world):
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.provider("prv_1", "acc_canteen", "食堂")
    wang = world.token("acc_wang", "resident")
    first = world.stream(wang)
    order_id = world.order("acc_wang")
    seen = first.next(timeout=10)
    assert seen["kind"] == "payment_received"
    first.close()

    for event_type in ("orders.order.accepted", "orders.order.ready"):
        world.publish(event_type, {"order_id": order_id, "provider_id": "prv_1"})
    for event_type in ("delivery.task.assigned", "delivery.task.picked_up"):  # a volunteer took it, then picked up
        world.publish(event_type, {"task_id": "tsk_1", "order_id": order_id, "volunteer_id": "vol_x"})
    eventually(lambda: len(world.messages("acc_wang")) == 5, what="four messages while disconnected")

    again = world.stream(wang, last_event_id=seen["id"])
    missed = [again.next(timeout=5) for _ in range(4)]
    assert [m["kind"] for m in missed] == ["order_accepted", "order_ready", "volunteer_assigned", "out_for_delivery"]
    assert missed[2]["title"] == "志愿者已接单" and missed[2]["urgency"] == "quiet"  # in the app only, no SMS
    assert [m["id"] for m in missed] == sorted(m["id"] for m in missed) and missed[0]["id"] > seen["id"]
    world.publish("delivery.task.delivered", {"task_id": "tsk_1", "order_id": order_id, "volunteer_id": "vol_x",
                                              "minutes": 20})
    live = again.next(timeout=5)
    assert live["kind"] == "delivered" and live["id"] > missed[-1]["id"]
    assert again.nothing_within(0.3)


def test_a_stream_ticket_opens_its_own_persons_stream_once_from_where_it_was_issued(world):
    """The pages' browser holds no token: their server asks for a ticket with the person's token, the browser
    opens the stream with it. A message committed between the ticket and the stream's opening still arrives."""
    wang, zhao, lin, chen = _two_of_each(world)
    tickets = {name: world.ticket(token) for name, token in
               (("wang", wang), ("zhao", zhao), ("lin", lin), ("chen", chen))}
    assert tickets["wang"]["expires_in"] == 60 and len({t["ticket"] for t in tickets.values()}) == 4

    wang_order = world.order("acc_wang", community_id="lianxi")  # before any stream is open
    world.order("acc_zhao", community_id="beicai")
    world.publish("delivery.task.escalated", {"task_id": "tsk_1", "order_id": wang_order, "reason": "nobody took it",
                                              "community_id": "lianxi", "slot_end": "2026-12-01T04:30:00+00:00"})
    eventually(lambda: world.messages("acc_wang") and world.messages("acc_zhao") and world.messages("acc_lin"),
               what="every message")

    live = {name: world.stream(None, ticket=t["ticket"]) for name, t in tickets.items()}
    assert live["wang"].next()["recipient"] == "acc_wang"
    assert live["zhao"].next()["recipient"] == "acc_zhao"
    assert live["lin"].next()["kind"] == "escalated"
    for name in ("wang", "zhao", "lin"):
        assert live[name].nothing_within(0.3)  # nobody else's message on anyone's stream
    assert live["chen"].nothing_within(0.1)

    used = world.get("/stream", None, params={"ticket": tickets["wang"]["ticket"]})
    assert used.status_code == 401 and used.json()["error"]["code"] == "unauthenticated"
    assert world.post("/stream/tickets", "").status_code == 401  # a ticket needs a token


def test_a_ticket_is_good_for_a_minute_and_its_stream_ends_to_be_renewed(world, monkeypatch):
    from services.notify import commands

    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    wang = world.token("acc_wang", "resident")
    stale = world.ticket(wang)["ticket"]
    world.db.stream_tickets.update_many({}, {"$set": {"expires_at": world.db.stream_tickets.find_one()["created_at"]}})
    assert world.get("/stream", None, params={"ticket": stale}).status_code == 401
    assert world.db.stream_tickets.count_documents({}) == 0  # an expired ticket is gone once tried

    monkeypatch.setattr(commands, "TICKET_STREAM_SECONDS", 1)
    short = world.stream(None, ticket=world.ticket(wang)["ticket"])
    assert short.ended.wait(5), "a ticket's stream ends, so that a signed-out person stops hearing"
    for hostile in ("", "x" * 3000, "../../etc", "票" * 30, "' or 1=1 --" + "a" * 30):
        refused = world.get("/stream", None, params={"ticket": hostile})
        assert refused.status_code == 401, (hostile[:20], refused.status_code)
    for raw in ("%ED%A0%80" * 10, "%00" * 30, "a&ticket=b"):  # a lone surrogate, NULs, a second ticket
        assert world.get(f"/stream?ticket={raw}", None).status_code in (400, 401, 422)  # 422 names the field


def test_a_stream_opened_with_a_token_ends_when_the_token_expires(world, monkeypatch):
    """A signed-out or disabled person's app cannot keep hearing on an old token: the stream ends with it, and a
    client with a fresh token comes back from its last id."""
    from datetime import timedelta

    from linli import auth, ids

    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    almost = ids.utcnow() - timedelta(minutes=15) + timedelta(seconds=2)  # a 15-minute token with 2 s left
    monkeypatch.setattr(auth, "utcnow", lambda: almost)
    short = world.stream(world.token("acc_wang", "resident"))
    monkeypatch.undo()
    long = world.stream(world.token("acc_wang", "resident"))
    assert short.ended.wait(8), "the stream outlived its token"
    assert not long.ended.is_set()


def test_an_sms_failure_is_retried_with_growing_delays_and_then_dead_lettered(world):
    world.notify.sms.outage = True
    world.account("acc_zhang", "volunteer", "小张", phone="13800000001")
    world.volunteer("vol_zhang", "acc_zhang")
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi")
    world.provider("prv_1", "acc_canteen", "食堂")
    order_id = world.order("acc_wang")
    world.handled(6)
    world.offer("tsk_1", order_id, "vol_zhang", mode="single")

    dead = eventually(lambda: world.sends(status="dead"), timeout=15, what="the SMS in the dead letters")
    [send] = dead
    delays = world.notify.delays  # 0.2 s, then 0.5 s in the tests
    assert send["attempts"] == len(delays) + 1 and [t["code"] for t in send["tries"]] == ["isp.SYSTEM_ERROR"] * 3
    gaps = [(b["at"] - a["at"]).total_seconds() for a, b in zip(send["tries"], send["tries"][1:])]
    assert gaps[0] >= delays[0] - 0.05 and gaps[1] >= delays[1] - 0.05 and gaps[1] > gaps[0]
    assert world.notify.sms.calls == 3 and world.notify.sms.sent == []
    # the volunteer still has the offer in the app
    assert _kinds(world.inbox(world.token("acc_zhang", "volunteer"))) == ["offer", "volunteer_verified"]


def test_nobody_reads_another_persons_inbox_or_stream(world):
    wang, zhao, lin, chen = _two_of_each(world)
    zhao_live, chen_live = world.stream(zhao), world.stream(chen)
    wang_order = world.order("acc_wang", community_id="lianxi")
    world.order("acc_zhao", community_id="beicai")
    world.publish("delivery.task.escalated", {"task_id": "tsk_1", "order_id": wang_order, "reason": "nobody took it",
                                              "community_id": "lianxi", "slot_end": "2026-12-01T04:30:00+00:00"})
    eventually(lambda: world.messages("acc_wang") and world.messages("acc_zhao") and world.messages("acc_lin"),
               what="every message")

    [wang_message] = world.inbox(wang)
    assert zhao_live.next(timeout=5)["recipient"] == "acc_zhao"
    assert zhao_live.nothing_within(0.5)  # Wang's receipt never shows on Zhao's stream
    assert chen_live.nothing_within(0.2)  # nor Lin's escalation on Chen's
    assert [m["id"] for m in world.inbox(zhao)] == [m["_id"] for m in world.messages("acc_zhao")]
    assert _kinds(world.inbox(lin)) == ["escalated"] and world.inbox(chen) == []
    for stranger in (zhao, lin, chen):
        refused = world.post("/messages/read", stranger, {"ids": [wang_message["id"]]})
        assert refused.status_code == 404, refused.text
    assert world.inbox(wang, unread="true")[0]["read_at"] is None
    assert world.get("/messages", None).status_code == 401
    assert world.get("/stream", None).status_code == 401
    assert world.get("/boards/lianxi/messages", wang).status_code == 403
    assert world.get("/boards/beicai/messages", lin).status_code == 404


def test_unread_count_mark_read_and_preferences(world):
    world.account("acc_wang", "resident", "王阿姨", community_id="lianxi", phone="13912345678")
    world.provider("prv_1", "acc_canteen", "食堂")
    wang = world.token("acc_wang", "resident")
    order_id = world.order("acc_wang")
    world.publish("orders.order.accepted", {"order_id": order_id, "provider_id": "prv_1"})
    eventually(lambda: world.get("/messages/unread-count", wang).json()["unread"] == 2, what="two unread")

    newest = world.inbox(wang)[0]
    assert world.post("/messages/read", wang, {"ids": [newest["id"]]}).json() == {"marked": 1}
    assert world.get("/messages/unread-count", wang).json() == {"unread": 1}
    assert world.post("/messages/read", wang, {}).json() == {"marked": 1}
    assert world.get("/messages/unread-count", wang).json() == {"unread": 0}

    bad = world.post("/preferences", wang, {"channels": ["sms", "pigeon"]}, method="PUT")
    assert bad.status_code == 422 and "channels" in bad.json()["error"]["details"]
    no_inbox = world.post("/preferences", wang, {"channels": ["sms"]}, method="PUT")
    assert no_inbox.status_code == 422 and "channels" in no_inbox.json()["error"]["details"]
    bad_hours = world.post("/preferences", wang, {"quiet_hours": {"start": "25:00", "end": "07:00"}}, method="PUT")
    assert bad_hours.status_code == 422 and "quiet_hours" in bad_hours.json()["error"]["details"]
    ok = world.post("/preferences", wang, {"channels": ["in_app", "sms"],
                                           "quiet_hours": {"start": "22:00", "end": "07:00"}}, method="PUT")
    assert ok.status_code == 200 and ok.json()["channels"] == ["in_app", "sms"]
    assert world.get("/preferences", wang).json()["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert world.get("/stream", wang, headers={"Last-Event-ID": "abc"}).status_code in (401, 422)
    garbled = world.get("/stream?last_event_id=abc", wang)
    assert garbled.status_code == 422 and "Last-Event-ID" in garbled.json()["error"]["details"]
    assert world.post("/wechat/subscriptions", wang, {"template_id": "nope"}).status_code == 422


def test_a_stream_opened_while_the_database_is_out_of_reach_is_told_to_come_back(linli_env):
    """bench/notify.py under heavy load: the hub's first read failed inside the stream, after its 200 had
    been decided, and the client saw a 500 or a cut connection. Now it is a 503 with Retry-After, at once."""
    from pymongo import MongoClient

    from devstack.net import free_port
    from services.notify import bootstrap
    from services.notify.api.stream import Hub
    from services.notify.app import create_app

    app = create_app(bootstrap.build())
    dead = MongoClient(f"mongodb://127.0.0.1:{free_port()}/", serverSelectionTimeoutMS=300)
    app.extensions["notify"].hub = Hub(dead["notify"])
    token = NotifyWorld.token("acc_zhang", "volunteer")
    response = app.test_client().get("/api/v1/notify/stream", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "unavailable"
    dead.close()


def test_a_refused_volunteer_reads_why_in_their_language_once_and_nobody_else_hears_of_it(world):
    world.account("acc_liu", "volunteer", "小刘", phone="13800000003")
    world.account("acc_li", "volunteer", "Li", language="en", phone="13800000004")
    world.handled(2)
    refused = world.publish("delivery.volunteer.refused", {"volunteer_id": "vol_liu", "account_id": "acc_liu",
                                                            "reason": "请先来居委会面谈"})
    world.publish("delivery.volunteer.refused", {"volunteer_id": "vol_li", "account_id": "acc_li",
                                                 "reason": "no health certificate yet"})
    world.handled(4)
    publish_raw(refused)  # the same event again (a redelivery): nothing twice
    world.account("acc_zhou", "volunteer", "小周")  # behind it in the queue: once it is handled, so is the copy
    world.handled(5)
    [liu] = world.inbox(world.token("acc_liu", "volunteer"))
    assert liu["kind"] == "volunteer_refused" and liu["title"] == "志愿者申请未通过"
    assert "请先来居委会面谈" in liu["body"] and liu["channels"] == ["in_app"]
    [li] = world.inbox(world.token("acc_li", "volunteer"))
    assert li["title"] == "Not accepted as a volunteer" and "no health certificate yet" in li["body"]
    assert "请先来居委会面谈" not in li["body"]
    assert world.inbox(world.token("acc_zhou", "volunteer")) == []
