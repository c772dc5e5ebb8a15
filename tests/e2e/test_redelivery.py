"""A delivery that fails at the door, sent out again by the coordinator to the corrected address,
then spoiled on the way and made again by the kitchen, end to end through the gateway on every real process, the real broker and the embedded Mongo server."""
from __future__ import annotations

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, community, lunch, pay_at_cashier, tomorrow_in_shanghai, verified_canteen

# far from the other tests' canteens and volunteers, so this volunteer is the nearest
CANTEEN = {"lng": 121.6120, "lat": 31.2410}
HOME = {"lng": 121.6150, "lat": 31.2390}


def test_a_failed_delivery_is_sent_out_again_to_the_corrected_address(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "lianxi", HOME, "莲溪社区")
    canteen = verified_canteen(api, coordinator, "redo_canteen", "Riverside canteen", CANTEEN, "lianxi")
    listing = lunch(canteen, "Riverside lunch", "lianxi", 10, price_fen=800)
    volunteer = api.register("redo_vol", PASSWORD, "Xiao Li", "volunteer")
    vprofile = volunteer.post("/api/v1/delivery/volunteers", {
        "name": "Xiao Li", "phone": "138 0000 0022", "community_ids": ["lianxi"], "vehicle": "e_bike"}, expect=201)
    coordinator.post(f"/api/v1/delivery/volunteers/{vprofile['id']}/verify", expect=200)
    volunteer.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": CANTEEN})

    resident = api.register("redo_res", PASSWORD, "Grandma Sun", "resident")
    order = resident.post("/api/v1/orders", {
        "listing_id": listing["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
        "address": {"community_id": "lianxi", "building": "7", "room": "301", "contact_name": "Sun",
                    "phone": "139 2222 3333", "location": HOME}}, expect=201)
    mine = lambda: resident.get(f"/api/v1/orders/{order['id']}")
    eventually(lambda: mine()["status"] == "awaiting_payment" or None, what="the portion to be held")
    pay_at_cashier(stack, resident.post(f"/api/v1/orders/{order['id']}/pay", expect=200))
    eventually(lambda: mine()["status"] == "paid" or None, what="the payment")
    pickup_code = canteen.post(f"/api/v1/orders/{order['id']}/accept", expect=200)["pickup_code"]
    canteen.post(f"/api/v1/orders/{order['id']}/ready", expect=200)

    def my_offer():
        return next((o for o in volunteer.get("/api/v1/delivery/offers")["items"] if o["order_id"] == order["id"]),
                    None)

    # the first trip: picked up, but nobody lives in room 301 of building 7
    task = volunteer.post(f"/api/v1/delivery/offers/{eventually(my_offer, what='an offer')['id']}/accept", expect=200)
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/pickup", {"code": pickup_code}, expect=200)
    eventually(lambda: mine()["status"] == "delivering" or None, what="orders to see the pickup")
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/fail",
                   {"reason": "wrong_address", "note": "room 301 is empty; neighbours say she is in 302"}, expect=200)

    # the coordinator is alerted; the resident reads what happens next
    board = eventually(lambda: [o for o in coordinator.get("/api/v1/orders?attention=true&per_page=50")["items"]
                                if o["id"] == order["id"]], what="the coordinator to be alerted")
    assert board[0]["delivery_problem"]["reason"] == "wrong_address"
    assert "another delivery or a refund" in mine()["status_text"]
    refused = resident.request("POST", f"/api/v1/orders/{order['id']}/redeliver", json={"reason": "please"},
                               expect=403).json()
    assert refused["error"]["code"] == "forbidden"

    # sent out again to room 302: the task goes back on offer and the meal arrives
    again = coordinator.post(f"/api/v1/orders/{order['id']}/redeliver",
                             {"reason": "she lives in 302", "address": {"room": "302"}}, expect=200)
    assert again["status"] == "ready" and again["address"]["room"] == "302"
    second = volunteer.post(f"/api/v1/delivery/offers/{eventually(my_offer, what='a new offer')['id']}/accept",
                            expect=200)
    assert second["id"] == task["id"] and second["dropoff"]["room"] == "302"
    assert [a["reason"] for a in second["attempts"]] == ["wrong_address"]
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/pickup", {"code": pickup_code}, expect=200)
    eventually(lambda: mine()["status"] == "delivering" or None, what="orders to see the second pickup")

    # the second trip: the soup spills on the stairs, so the coordinator has the kitchen make it again
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/fail", {"reason": "meal_damaged"}, expect=200)
    eventually(lambda: mine()["delivery_problem"] or None, what="orders to hear of the second failure")
    remade = coordinator.post(f"/api/v1/orders/{order['id']}/redeliver",
                              {"reason": "the soup spilled", "remake": True}, expect=200)
    assert remade["status"] == "accepted" and remade["deadline"]["kind"] == "remake_by"
    assert mine()["status_text"] == "The kitchen is making your meal again; a volunteer will bring it"
    board_task = lambda: next(t for t in coordinator.get("/api/v1/delivery/tasks?per_page=50")["items"]
                              if t["id"] == task["id"])
    eventually(lambda: board_task()["status"] == "waiting" or None, what="delivery to wait for the kitchen")
    assert my_offer() is None, "nobody is sent to fetch a meal that is still being made"
    canteen.post(f"/api/v1/orders/{order['id']}/ready", expect=200)
    third = volunteer.post(f"/api/v1/delivery/offers/{eventually(my_offer, what='an offer once ready')['id']}/accept",
                           expect=200)
    volunteer.post(f"/api/v1/delivery/tasks/{third['id']}/pickup", {"code": pickup_code}, expect=200)
    eventually(lambda: mine()["status"] == "delivering" or None, what="orders to see the third pickup")
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/deliver", {"code": mine()["handover_code"]}, expect=200)
    final = eventually(lambda: (o := mine())["status"] == "completed" and o, what="the order to complete")
    moves = [e["to"] for e in final["timeline"] if e["from"] != e["to"]]
    assert moves[-7:] == ["delivering", "ready", "delivering", "accepted", "ready", "delivering", "completed"]
    assert final["redeliveries"] == 2 and final["status_text"] == "Completed"
