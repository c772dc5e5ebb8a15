"""One charity-meal order end to end, through the gateway, on every real process that
`make run` starts (honcho + deploy/Procfile), the real broker and the embedded Mongo server."""
from __future__ import annotations

from datetime import datetime

from pymongo import MongoClient

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, tomorrow_in_shanghai

CANTEEN = {"lng": 121.5520, "lat": 31.1810}
HOME = {"lng": 121.5588, "lat": 31.1765}


def test_a_charity_lunch_travels_the_whole_path(infra, stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())

    # the committee adds the community; a canteen signs up, is verified and publishes a lunch
    admin.post("/api/v1/catalog/communities", {"id": "lianxi", "name": "莲溪社区", "center": HOME}, expect=201)
    canteen = api.register("canteen1", PASSWORD, "Hospital canteen", "provider")
    profile = canteen.post("/api/v1/catalog/providers", {
        "name": "Hospital canteen", "kind": "hospital_canteen", "phone": "021-5888 0001",
        "address": "1000 Hunan Road", "location": CANTEEN, "community_ids": ["lianxi"]}, expect=201)
    assert profile["status"] == "pending"
    refused = canteen.post("/api/v1/catalog/listings", {
        "title": "Charity lunch", "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500,
        "community_ids": ["lianxi"], "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40}]},
        expect=409)
    assert refused["error"]["code"] == "provider_not_verified"
    coordinator.post(f"/api/v1/catalog/providers/{profile['id']}/verify", expect=200)
    listing = canteen.post("/api/v1/catalog/listings", {
        "title": "Charity lunch", "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500,
        "community_ids": ["lianxi"], "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40}]},
        expect=201)
    listed = api.get("/api/v1/catalog/listings?community=lianxi")
    assert [item["id"] for item in listed["items"]] == [listing["id"]] and listed["total"] == 1

    # a volunteer signs up, is verified and goes on duty near the canteen
    volunteer = api.register("vol1", PASSWORD, "Xiao Zhang", "volunteer")
    vprofile = volunteer.post("/api/v1/delivery/volunteers", {
        "name": "Xiao Zhang", "phone": "138 0000 0011", "community_ids": ["lianxi"], "vehicle": "bike"}, expect=201)
    coordinator.post(f"/api/v1/delivery/volunteers/{vprofile['id']}/verify", expect=200)
    volunteer.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": {"lng": 121.551, "lat": 31.181}})

    # a resident orders one portion for tomorrow's lunch; a retry with the same key changes nothing
    resident = api.register("wang1", PASSWORD, "Auntie Wang", "resident")
    body = {"listing_id": listing["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
            "address": {"community_id": "lianxi", "building": "12", "room": "301", "contact_name": "Wang",
                        "phone": "139 1234 5678", "location": HOME,
                        "emergency_contact": {"name": "Wang Jun", "phone": "139 8888 0000", "relation": "son"}}}
    order = resident.post("/api/v1/orders", body, expect=201, idempotency_key="order-1",
                          headers={"X-Request-ID": "journey-order-1"})
    again = resident.request("POST", "/api/v1/orders", json=body, idempotency_key="order-1", expect=201)
    assert again.json()["id"] == order["id"] and again.headers.get("Idempotent-Replayed") == "true"
    assert order["status"] == "placed" and order["amount"]["payable_fen"] == 1500
    assert len(resident.get("/api/v1/orders")["items"]) == 1

    def status_is(wanted):
        return lambda: (resident.get(f"/api/v1/orders/{order['id']}")["status"] == wanted) or None

    eventually(status_is("awaiting_payment"), what="catalog to reserve the portion")
    # the events this request caused carry its id as their correlation id, across services
    placed = eventually(lambda: MongoClient(infra.mongo_url)[f"{stack.namespace}_orders"].outbox.find_one(
        {"type": "orders.order.placed", "envelope.data.order_id": order["id"]}), what="the placed event")
    confirmed = MongoClient(infra.mongo_url)[f"{stack.namespace}_catalog"].outbox.find_one(
        {"type": "catalog.reservation.confirmed", "envelope.data.order_id": order["id"]})
    assert placed["envelope"]["correlation_id"] == "journey-order-1"
    assert confirmed["envelope"]["correlation_id"] == "journey-order-1"
    assert confirmed["envelope"]["causation_id"] == placed["_id"]
    left = api.get(f"/api/v1/catalog/listings/{listing['id']}/availability?date={body['slot_date']}")
    assert left["slots"][0]["remaining"] == 39

    # the resident pays on the stub cashier page; its signed notification marks the order paid
    payment = resident.post(f"/api/v1/orders/{order['id']}/pay", expect=200)
    assert payment["amount_fen"] == 1500 and "/api/v1/payments/stub/" in payment["cashier_url"]
    cashier_path = payment["cashier_url"].split(str(stack.ports["gateway"]), 1)[1]
    ref_path = cashier_path.split("/enter/")[0]
    # the cashier is the payer's alone: without the payer's cashier session nobody sees or pays it
    for method, path in (("GET", ref_path), ("POST", ref_path + "/pay"), ("POST", ref_path + "/decline")):
        refused = api.request(method, path)
        assert refused.status_code == 403 and "只有为这个订单付款的人" in refused.text, (method, path)
    browser = Client(stack.url())  # the resident's browser, opening the link she was given
    page = browser.request("GET", cashier_path, expect=200)
    assert "15.00" in page.text and "text/html" in page.headers["Content-Type"]
    assert api.request("GET", cashier_path).status_code == 403, "the link opens one browser, once"
    browser.request("POST", ref_path + "/pay", expect=200)
    eventually(status_is("paid"), what="the payment notification")
    stub = MongoClient(infra.mongo_url)[f"{stack.namespace}_paystub"]
    assert stub.notifications.find_one({"delivered": True}), "paid by the signed notification, not by a query"

    # a second resident cannot see it; the volunteer cannot list orders
    other = api.register("li1", PASSWORD, "Uncle Li", "resident")
    assert other.request("GET", f"/api/v1/orders/{order['id']}").status_code == 404

    # the canteen accepts, sees the pickup code and the address, and marks the meal ready
    accepted = canteen.post(f"/api/v1/orders/{order['id']}/accept", expect=200)
    assert accepted["status"] == "accepted" and accepted["address"]["phone"] == "139 1234 5678"
    pickup_code = accepted["pickup_code"]
    canteen.post(f"/api/v1/orders/{order['id']}/ready", expect=200)
    again_accept = canteen.request("POST", f"/api/v1/orders/{order['id']}/accept", expect=409).json()
    assert again_accept["error"]["details"]["current_status"] == "ready"

    # the nearest on-duty volunteer gets the offer, accepts, picks up and hands over
    offers = eventually(lambda: volunteer.get("/api/v1/delivery/offers")["items"], what="a delivery offer")
    assert offers[0]["order_id"] == order["id"] and "room" not in offers[0]["dropoff"]
    task = volunteer.post(f"/api/v1/delivery/offers/{offers[0]['id']}/accept", expect=200)
    assert task["status"] == "assigned" and task["dropoff"]["room"] == "301"
    stored = MongoClient(infra.mongo_url)[f"{stack.namespace}_delivery"].tasks.find_one({"_id": task["id"]})
    assert stored["dropoff"]["emergency_contact"]["phone"] == "139 8888 0000", "a welfare check knows whom to call"
    wrong = volunteer.request("POST", f"/api/v1/delivery/tasks/{task['id']}/pickup", json={"code": "000000"}).json()
    if pickup_code != "000000":
        assert wrong["error"]["code"] == "validation_failed" and "code" in wrong["error"]["details"]
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/pickup", {"code": pickup_code}, expect=200)
    eventually(status_is("delivering"), what="orders to see the pickup")
    handover_code = resident.get(f"/api/v1/orders/{order['id']}")["handover_code"]
    done = volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/deliver", {"code": handover_code}, expect=200)
    assert done["status"] == "delivered" and done["minutes"] >= 1

    final = eventually(lambda: (o := resident.get(f"/api/v1/orders/{order['id']}"))["status"] == "completed" and o,
                       what="the order to complete")
    steps = [entry["to"] for entry in final["timeline"]]
    assert steps == ["placed", "awaiting_payment", "paid", "accepted", "ready", "delivering", "completed"]
    times = [datetime.fromisoformat(entry["at"]) for entry in final["timeline"]]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert final["courier"]["volunteer_id"] == vprofile["id"]
    tracked = resident.get(f"/api/v1/track/{order['id']}")
    assert tracked["partial"] is False and tracked["order"]["status"] == "completed"
    assert tracked["delivery"]["status"] == "delivered" and tracked["delivery"]["courier_name"] == "Xiao"
    assert other.request("GET", f"/api/v1/track/{order['id']}").status_code == 404
    assert volunteer.get("/api/v1/delivery/volunteers/me")["served_minutes"] >= 1
