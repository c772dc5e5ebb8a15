"""The town the page tests build: two communities, each with its own coordinator (the second is there to be refused),
a verified canteen of the first with its charity lunch, and the first's verified volunteers on duty at the kitchen;
and an order of the first community carried as far as the volunteer's hands. One set-up for the board's, the
committee's and the resident's pages (each adds what only it needs); every name and place is the module's own, so
the modules never meet on the shared stack."""
from __future__ import annotations

from devstack.client import Client
from gateway.admin import create_account
from tests.conftest import configured_as, eventually
from tests.e2e.conftest import PASSWORD, pay_at_cashier, tomorrow_in_shanghai, verified_canteen


def two_communities(stack, staff, *, home: dict, other: dict, coordinators: tuple[tuple[str, str], tuple[str, str]],
                    canteen: tuple[str, str, dict], lunch: dict, volunteers: tuple[tuple[str, str, str], ...],
                    tiers: list | None = None) -> dict:
    """`coordinators`: (username, name) of the first community's and of the other's; `canteen`: (username, name,
    where); `lunch`: the listing's title and price; `volunteers`: (username, name, phone) of the first community,
    verified by its coordinator and on duty at the kitchen. A lunch with `tiers` has them approved by the coordinator.
    Returns api, admin, coordinator, other_coordinator, canteen, lunch and volunteers (their clients)."""
    admin, _ = staff
    for community in (home, other):
        admin.request("POST", "/api/v1/catalog/communities", json=community, expect=(201, 409))
    with configured_as(stack.env):
        for (username, name), community in zip(coordinators, (home, other)):
            create_account(username, PASSWORD, name, "coordinator", (community["id"],))
    api = Client(stack.url())
    coordinator, other_coordinator = (api.login(username, PASSWORD) for username, _ in coordinators)
    username, name, kitchen = canteen
    kitchen_client = verified_canteen(api, coordinator, username, name, kitchen, home["id"])
    listing = kitchen_client.post("/api/v1/catalog/listings", {
        "title": lunch["title"], "category": "charity_meals", "fulfilment": "delivered",
        "price_fen": lunch["price_fen"], "unit": "份", "community_ids": [home["id"]], **({"tiers": tiers} if tiers else {}),
        "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 20}]}, expect=201)
    if tiers:  # the town's share is the committee's deal: it applies once the coordinator approves it
        coordinator.post(f"/api/v1/catalog/listings/{listing['id']}/pricing/approve", {"version": listing["version"]},
                         expect=200)
    on_duty = [verified_volunteer(api, coordinator, username, name, phone, home["id"], kitchen)
               for username, name, phone in volunteers]
    return {"api": api, "admin": admin, "coordinator": coordinator, "other_coordinator": other_coordinator,
            "canteen": kitchen_client, "lunch": listing, "volunteers": on_duty}


def verified_volunteer(api: Client, coordinator: Client, username: str, name: str, phone: str, community: str,
                       where: dict | None = None, vehicle: str = "bike") -> Client:
    """A volunteer signed up and verified by the coordinator; on duty at `where` when given."""
    volunteer = api.register(username, PASSWORD, name, "volunteer")
    profile = volunteer.post("/api/v1/delivery/volunteers", {
        "name": name, "phone": phone, "community_ids": [community], "vehicle": vehicle}, expect=201)
    coordinator.post(f"/api/v1/delivery/volunteers/{profile['id']}/verify", expect=200)
    if where is not None:
        volunteer.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": where})
    return volunteer


def carried(stack, town: dict, username: str, name: str, address: dict) -> dict:
    """A resident's lunch (`address`: community_id, building, room, location), paid, cooked, and picked up by
    whichever of the town's volunteers took the offer: the order, the task, the volunteer holding it and the
    resident's hand-over code."""
    api, canteen = town["api"], town["canteen"]
    resident = api.register(username, PASSWORD, name, "resident")
    order = resident.post("/api/v1/orders", {
        "listing_id": town["lunch"]["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
        "address": {"contact_name": name, "phone": "139 2222 5566", **address}}, expect=201)
    mine = lambda: resident.get(f"/api/v1/orders/{order['id']}")  # noqa: E731
    eventually(lambda: mine()["status"] == "awaiting_payment" or None, what="the portion to be held")
    pay_at_cashier(stack, resident.post(f"/api/v1/orders/{order['id']}/pay", expect=200))
    eventually(lambda: mine()["status"] == "paid" or None, what="the payment")
    pickup = canteen.post(f"/api/v1/orders/{order['id']}/accept", expect=200)["pickup_code"]
    canteen.post(f"/api/v1/orders/{order['id']}/ready", expect=200)

    def offered():
        for volunteer in town["volunteers"]:
            for offer in volunteer.get("/api/v1/delivery/offers")["items"]:
                if offer["order_id"] == order["id"]:
                    return volunteer, offer
        return None
    holder, offer = eventually(offered, timeout=30, what="the offer")
    task = holder.post(f"/api/v1/delivery/offers/{offer['id']}/accept", expect=200)
    holder.post(f"/api/v1/delivery/tasks/{task['id']}/pickup", {"code": pickup}, expect=200)
    eventually(lambda: mine()["status"] == "delivering" or None, what="orders to see the pickup")
    return {"order": order["id"], "task": task["id"], "holder": holder, "code": mine()["handover_code"],
            "resident": resident}
