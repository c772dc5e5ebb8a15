"""Issue 15's "Done when", end to end: every process `make run` starts, the real broker, the embedded Mongo,
people signed up through the gateway (notify learns them from the gateway's outbox and relay), the
events made by the real producers, and each live stream opened through the gateway.

Proven here: a volunteer's stream gets the offer within a second of the dispatch round that committed it,
and its withdrawal when another volunteer is given the task; a reconnect with Last-Event-ID misses
nothing; the canteen gets the new order; a welfare check reaches the coordinator and the family (a link
the elder approved at the gateway), and nobody else. A redelivered event and an SMS failure retried then
dead-lettered are proven on the real broker in tests/integration/test_notify.py (the SMS stub lives in
the worker's process there)."""
from __future__ import annotations

import time
from datetime import datetime

from pymongo import MongoClient

from devstack.client import Client
from tests.conftest import configured_as, eventually
from tests.e2e.conftest import PASSWORD, community, lunch, pay_at_cashier, tomorrow_in_shanghai, verified_canteen
from tests.integration.notify_kit import Stream

CANTEEN = {"lng": 121.5520, "lat": 31.1810}
HOME = {"lng": 121.5588, "lat": 31.1765}


def _next_of(stream: Stream, kind: str, timeout: float = 20.0) -> dict:
    """The next message of `kind` on the stream (others, e.g. a verification, are passed over)."""
    deadline = time.monotonic() + timeout
    while True:
        message = stream.next(timeout=max(0.1, deadline - time.monotonic()))
        if message["kind"] == kind:
            return message


def _volunteer(api: Client, coordinator: Client, username: str, name: str, at: dict) -> tuple[Client, dict]:
    volunteer = api.register(username, PASSWORD, name, "volunteer")
    profile = volunteer.post("/api/v1/delivery/volunteers", {
        "name": name, "phone": "138 0000 0021", "community_ids": ["notify-a"], "vehicle": "bike"}, expect=201)
    coordinator.post(f"/api/v1/delivery/volunteers/{profile['id']}/verify", expect=200)
    return volunteer, profile


def test_offers_withdrawals_new_orders_and_welfare_checks_reach_the_right_streams(infra, stack, staff):
    admin, _ = staff
    api = Client(stack.url())
    with configured_as(stack.env):
        from gateway.admin import create_account

        create_account("ncoord_a", PASSWORD, "林主任", "coordinator", ("notify-a",))
        create_account("ncoord_b", PASSWORD, "陈主任", "coordinator", ("notify-b",))
    coord_a, coord_b = api.login("ncoord_a", PASSWORD), api.login("ncoord_b", PASSWORD)
    community(admin, "notify-a", HOME, "莲溪社区")
    community(admin, "notify-b", HOME, "北蔡社区")
    gateway = stack.url()
    streams: list[Stream] = []

    def stream(who: Client, last_event_id: int | None = None) -> Stream:
        streams.append(Stream(gateway, who.token, last_event_id))
        return streams[-1]

    try:
        # people sign up at the gateway; an elder approves her son's link there (notify hears of it by the relay)
        canteen = verified_canteen(api, coord_a, "ncanteen", "仁济医院食堂", CANTEEN, "notify-a")
        other_canteen = verified_canteen(api, coord_b, "ncanteen_b", "北蔡食堂", CANTEEN, "notify-b")
        listing = lunch(canteen, "爱心午餐", "notify-a", capacity=10)
        elder = api.register("nelder", PASSWORD, "王阿姨", "resident")
        son = api.register("nson", PASSWORD, "Wang Jr", "resident")
        son.put("/api/v1/me/profile", {"language": "en"})
        stranger = api.register("nstranger", PASSWORD, "路人", "resident")
        link = son.post("/api/v1/me/family", {"elder_username": "nelder", "relation": "son"}, expect=201)
        elder.post(f"/api/v1/family/{link['id']}/approve", expect=200)
        zhang, zhang_profile = _volunteer(api, coord_a, "nzhang", "小张", {"lng": 121.5521, "lat": 31.1811})
        li, li_profile = _volunteer(api, coord_a, "nli", "小李", {"lng": 121.5600, "lat": 31.1900})
        canteen_stream, other_canteen_stream = stream(canteen), stream(other_canteen)
        zhang_stream, li_stream = stream(zhang), stream(li)
        coord_a_stream, coord_b_stream = stream(coord_a), stream(coord_b)
        son_stream, stranger_stream = stream(son), stream(stranger)

        # the elder orders and pays: the canteen's stream rings with the new order, the other canteen's does not
        body = {"listing_id": listing["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
                "address": {"community_id": "notify-a", "building": "12", "room": "301", "contact_name": "王阿姨",
                            "phone": "139 1234 5678", "location": HOME}}
        order = elder.post("/api/v1/orders", body, expect=201, idempotency_key="notify-e2e-order")
        eventually(lambda: elder.get(f"/api/v1/orders/{order['id']}")["status"] == "awaiting_payment",
                   what="the portion to be held")
        pay_at_cashier(stack, elder.post(f"/api/v1/orders/{order['id']}/pay", expect=200))
        new_order = _next_of(canteen_stream, "new_order")
        assert new_order["refs"]["order_id"] == order["id"] and new_order["urgency"] == "urgent"
        assert "爱心午餐" in new_order["body"]
        assert other_canteen_stream.nothing_within(0.5)

        # both volunteers go on duty; the canteen makes the meal ready; the dispatch round offers it to the nearer
        accepted = canteen.post(f"/api/v1/orders/{order['id']}/accept", expect=200)
        zhang.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": {"lng": 121.5521, "lat": 31.1811}})
        li.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": {"lng": 121.5600, "lat": 31.1900}})
        canteen.post(f"/api/v1/orders/{order['id']}/ready", expect=200)
        offer = _next_of(zhang_stream, "offer")
        arrived = datetime.now().astimezone()
        delivery_db = MongoClient(infra.mongo_url)[f"{stack.namespace}_delivery"]
        committed = delivery_db.outbox.find_one({"type": "delivery.task.offered",
                                                 "envelope.data.offer_id": offer["refs"]["offer_id"]})
        round_at = datetime.fromisoformat(committed["envelope"]["occurred_at"].replace("Z", "+00:00"))
        assert (arrived - round_at).total_seconds() < 1.0, f"the offer took {arrived - round_at} to arrive"
        assert offer["refs"]["order_id"] == order["id"] and offer["urgency"] == "urgent"

        # Zhang's page goes away; meanwhile the coordinator gives the task to Li by hand
        zhang_stream.close()
        task_id = offer["refs"]["task_id"]
        coord_a.post(f"/api/v1/delivery/tasks/{task_id}/assign", {"volunteer_id": li_profile["id"]}, expect=200)
        # reconnecting with the last id it saw, Zhang's page misses nothing: the offer was withdrawn
        again = stream(zhang, last_event_id=offer["id"])
        withdrawn = _next_of(again, "offer_withdrawn")
        assert withdrawn["refs"]["offer_id"] == offer["refs"]["offer_id"] and withdrawn["id"] > offer["id"]
        inbox = zhang.get("/api/v1/notify/messages")["items"]
        assert [m["withdrawn_at"] is not None for m in inbox if m["kind"] == "offer"] == [True]

        # Li picks up; nobody answers the door: the coordinator and the son are told, nobody else
        li.post(f"/api/v1/delivery/tasks/{task_id}/pickup", {"code": accepted["pickup_code"]}, expect=200)
        li.post(f"/api/v1/delivery/tasks/{task_id}/fail", {"reason": "nobody_answers", "note": "敲门十分钟无人应答"},
                expect=200)
        for who_stream in (coord_a_stream, son_stream):
            check = _next_of(who_stream, "welfare_check")
            assert check["refs"]["task_id"] == task_id and check["urgency"] == "urgent"
        for outsider in (coord_b_stream, stranger_stream, li_stream):
            while not outsider.events.empty():
                assert outsider.events.get_nowait()["kind"] != "welfare_check"
        assert coord_b_stream.nothing_within(0.5)

        # nobody reads another person's messages: Li's inbox holds Li's own, the stranger's nothing of theirs
        assert all(m["kind"] != "offer_withdrawn" for m in li.get("/api/v1/notify/messages")["items"])
        assert stranger.get("/api/v1/notify/messages")["items"] == []
        assert coord_b.request("GET", "/api/v1/notify/boards/notify-a/messages").status_code in (403, 404)
    finally:
        for s in streams:
            s.close()


def test_the_gateway_holds_many_open_pages_streams_and_still_answers_everyone(infra, stack):
    """Every open page of a volunteer, a canteen or a resident's tracking keeps one stream open through the
    gateway. With threads (2 workers x 8) the 17th open stream left every other request waiting; the gateway's
    gevent workers park each on a greenlet. 60 streams (tickets, as the pages open them) and the door answers
    sign-ins, API calls and pages meanwhile, the streams kept open."""
    api = Client(stack.url())
    wang = api.register("manystreams", PASSWORD, "王阿姨", "resident")
    streams = []
    try:
        for _ in range(60):
            ticket = wang.post("/api/v1/notify/stream/tickets", {}, expect=201)["ticket"]
            streams.append(Stream(stack.url(), None, ticket=ticket))
        # the door still answers everyone while the 60 are open (each call below would wait forever otherwise)
        for _ in range(5):
            assert api.login("manystreams", PASSWORD).get("/api/v1/notify/messages/unread-count")["unread"] == 0
        for path in ("/api/v1/catalog/categories", "/healthz"):
            assert api.request("GET", path).status_code == 200
        assert api.request("GET", "/signin").status_code == 200
        used = Client(stack.url()).request("GET", f"/api/v1/notify/stream?ticket={ticket}")
        assert used.status_code == 401  # a ticket opens one stream, once
        assert all(not s.ended.is_set() for s in streams)
    finally:
        for s in streams:
            s.close()
