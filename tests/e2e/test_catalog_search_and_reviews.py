"""Through the gateway, on every real process: a volunteer doctor's 0.01-yuan advice and a free one are found
near a resident by Chinese words, ordered, completed, and reviewed both ways; the review is blind until the
doctor answers, then shows on the scorecard and beside the doctor's listings in search."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from devstack.client import Client, new_key
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD

CLINIC = {"lng": 121.5466, "lat": 31.1857}
HOME = {"lng": 121.5480, "lat": 31.1870}


def test_advice_is_found_nearby_ordered_and_reviewed_both_ways(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    admin.post("/api/v1/catalog/communities", {"id": "cat-e2e", "name": "北蔡社区", "center": HOME}, expect=201)
    doctor = api.register("dr_li_e2e", PASSWORD, "李医生 Dr Li", "provider")
    profile = doctor.post("/api/v1/catalog/providers", {
        "name": "李医生 Dr Li", "kind": "volunteer_expert", "phone": "139 0000 0009", "address": "Clinic 3",
        "location": CLINIC, "community_ids": ["cat-e2e"]}, expect=201)
    coordinator.post(f"/api/v1/catalog/providers/{profile['id']}/verify", expect=200)
    evening = [{"name": "evening", "start": "19:00", "end": "21:00", "capacity": 10}]
    paid_advice = doctor.post("/api/v1/catalog/listings", {
        "title": "血压咨询 Blood pressure advice", "category": "health_consultation", "fulfilment": "remote",
        "price_fen": 1, "unit": "question", "community_ids": ["cat-e2e"], "slots": evening,
        "tags": ["高血压"]}, expect=201)
    free_advice = doctor.post("/api/v1/catalog/listings", {
        "title": "用药咨询 Medicine advice", "category": "health_consultation", "fulfilment": "remote",
        "price_fen": 0, "unit": "question", "community_ids": ["cat-e2e"], "slots": evening}, expect=201)

    found = api.get(f"/api/v1/catalog/listings?near={HOME['lng']},{HOME['lat']}&radius_m=1000"
                    f"&category=health_consultation&q=咨询&sort=price")
    assert [i["id"] for i in found["items"]] == [free_advice["id"], paid_advice["id"]] and found["total"] == 2
    assert 150 < found["items"][0]["distance_m"] < 300
    assert api.get("/api/v1/catalog/listings?q=血压&community=cat-e2e")["items"][0]["id"] == paid_advice["id"]

    resident = api.register("auntie_e2e", PASSWORD, "王阿姨", "resident")
    tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date().isoformat()
    order = resident.post("/api/v1/orders", {
        "listing_id": free_advice["id"], "quantity": 1, "slot_date": tomorrow, "slot": "evening",
        "address": {"community_id": "cat-e2e", "building": "3", "room": "502", "contact_name": "王",
                    "phone": "139 1234 5678", "location": HOME}}, expect=201, idempotency_key=new_key())

    def status():
        return resident.get(f"/api/v1/orders/{order['id']}")["status"]

    eventually(lambda: status() == "paid", what="a free order to skip payment")
    doctor.post(f"/api/v1/orders/{order['id']}/accept", expect=200)
    doctor.post(f"/api/v1/orders/{order['id']}/done", expect=200)
    resident.post(f"/api/v1/orders/{order['id']}/complete", expect=200)

    review = {"order_id": order["id"], "direction": "resident_to_provider", "stars": 5, "text": "讲得很清楚 very clear"}

    def try_review():  # catalog opens the order for review once it has heard of the completion: until it has heard
        # of the payment it cannot tell her order from a stranger's and says "not found" (404), then "not completed"
        answer = resident.request("POST", "/api/v1/catalog/reviews", json=review, expect=(201, 404, 409))
        return answer.json() if answer.status_code == 201 else None

    posted = eventually(try_review, what="catalog to open the order for review")
    assert posted["subject_id"] == profile["id"]
    assert api.get(f"/api/v1/catalog/providers/{profile['id']}/reviews")["total"] == 0  # blind
    doctor.post("/api/v1/catalog/reviews", {"order_id": order["id"], "direction": "provider_to_resident",
                                            "stars": 5}, expect=201)
    assert [r["text"] for r in api.get(f"/api/v1/catalog/providers/{profile['id']}/reviews")["items"]] == \
        ["讲得很清楚 very clear"]
    card = api.get(f"/api/v1/catalog/providers/{profile['id']}/scorecard")
    assert (card["count"], card["good"], card["completed_orders"], card["answered_orders"]) == (1, 1, 1, 1)
    again = api.get(f"/api/v1/catalog/listings?near={HOME['lng']},{HOME['lat']}&radius_m=1000&sort=rating")
    assert again["items"][0]["provider_score"] == {"average": 5.0, "count": 1}
    resident.request("POST", "/api/v1/catalog/categories", json={"id": "x1", "name_zh": "x", "name_en": "x"},
                     expect=403)
