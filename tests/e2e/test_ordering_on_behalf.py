"""A coordinator orders a charity lunch for an elder who has no smartphone: it finds the elder
among the residents of its communities, orders at the elder's price, and opens the cashier;
the order records both. Through the gateway, on every real process."""
from __future__ import annotations

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, community, lunch, pay_at_cashier, tomorrow_in_shanghai, verified_canteen

HOME = {"lng": 121.5600, "lat": 31.1770}


def test_a_coordinator_orders_for_an_elder_of_its_community(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "lianxi", HOME, "莲溪社区")
    community(admin, "pengfei", {"lng": 121.5351, "lat": 31.1790}, "鹏飞社区")  # a resident names only a real one
    canteen = verified_canteen(api, coordinator, "behalf_canteen", "Behalf canteen", HOME, "lianxi")
    listing = lunch(canteen, "Behalf lunch", "lianxi", 5, tiers=[
        {"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "town", "amount_fen": 1200}]}])
    # the town's share is the committee's deal: it applies once the coordinator approves it
    assert listing["tiers"] == [] and listing["proposed_pricing"]["tiers"][0]["resident_pays_fen"] == 300
    coordinator.post(f"/api/v1/catalog/listings/{listing['id']}/pricing/approve", {"version": listing["version"]},
                     expect=200)

    elder = api.register("behalf_elder", PASSWORD, "Grandpa Qian Behalf", "resident")
    elder_id = elder.get("/api/v1/me")["id"]
    elder.put("/api/v1/me/profile", {"community_id": "lianxi", "phone": "139 3333-4444"})
    coordinator.put(f"/api/v1/accounts/{elder_id}/tags", {"tags": ["elder70"], "checked": "saw his ID card"})
    stranger = api.register("behalf_far", PASSWORD, "Uncle Far Behalf", "resident")
    stranger.put("/api/v1/me/profile", {"community_id": "pengfei"})

    # the coordinator finds only residents of its own communities; residents cannot look anyone up
    found = coordinator.get("/api/v1/accounts?q=qian%20behalf")["items"]
    assert [(a["id"], a["tags"]) for a in found] == [(elder_id, ["elder70"])]
    assert coordinator.get("/api/v1/accounts?q=far%20behalf")["items"] == []
    by_phone = [a["id"] for a in coordinator.get("/api/v1/accounts?q=33334444")["items"]]
    assert by_phone == [elder_id] == [a["id"] for a in coordinator.get("/api/v1/accounts?q=139%203333")["items"]]
    assert coordinator.get("/api/v1/accounts?q=3333%205555")["items"] == []
    assert elder.request("GET", "/api/v1/accounts?q=far").status_code == 403

    body = {"listing_id": listing["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
            "for_resident_id": elder_id,
            "address": {"community_id": "lianxi", "building": "3", "room": "101", "contact_name": "Qian",
                        "phone": "139 3333 4444", "location": HOME}}
    stranger_id = stranger.get("/api/v1/me")["id"]
    refused = coordinator.request("POST", "/api/v1/orders", json={**body, "for_resident_id": stranger_id},
                                  expect=422).json()
    assert "for_resident_id" in refused["error"]["details"]
    bare = {k: v for k, v in body.items() if k != "for_resident_id"}
    assert "for_resident_id" in coordinator.request("POST", "/api/v1/orders", json=bare,
                                                    expect=422).json()["error"]["details"]

    order = coordinator.post("/api/v1/orders", body, expect=201)
    assert order["resident_id"] == elder_id and order["amount"]["payable_fen"] == 300, "the elder's price"
    assert order["ordered_by"]["role"] == "coordinator"
    assert order["timeline"][0]["reason"] == "ordered by 林主任 for Grandpa Qian Behalf"
    eventually(lambda: elder.get(f"/api/v1/orders/{order['id']}")["status"] == "awaiting_payment" or None,
               what="the portion to be held")
    payment = coordinator.post(f"/api/v1/orders/{order['id']}/pay", expect=200)
    assert payment["amount_fen"] == 300
    pay_at_cashier(stack, payment)
    eventually(lambda: elder.get(f"/api/v1/orders/{order['id']}")["status"] == "paid" or None, what="the payment")
