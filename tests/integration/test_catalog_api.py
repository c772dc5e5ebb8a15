"""Catalog's HTTP API on the real database: reference data, providers, listings, versions, slots and search."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linli.auth import issue_access_token
from linli.consumer import apply_once
from linli.unit import Units
from linli.events import make_envelope
from services.catalog import handlers, store

LIANXI = {"lng": 121.5588, "lat": 31.1765}
CANTEEN = {"lng": 121.5520, "lat": 31.1810}
FAR = {"lng": 121.70, "lat": 31.30}


class As:
    """A test client speaking as one account."""

    def __init__(self, client, account_id: str | None, role: str | None, communities: tuple[str, ...] = ()):
        self.client = client
        self.headers = {"Authorization": f"Bearer {issue_access_token(account_id, role, account_id, communities=communities)}"
                        } if role else {}

    def call(self, method: str, path: str, body=None, expect: int | None = None):
        response = self.client.open(f"/api/v1/catalog{path}", method=method, json=body, headers=self.headers)
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response.get_json()

    def get(self, path, expect=200):
        return self.call("GET", path, expect=expect)

    def post(self, path, body=None, expect=201):
        return self.call("POST", path, body if body is not None else {}, expect)

    def patch(self, path, body, expect=200):
        return self.call("PATCH", path, body, expect)


@pytest.fixture
def cat(mongo_env):
    from services.catalog.app import create_app

    app = create_app()
    client = app.test_client()

    class Catalog:
        anyone = As(client, None, None)
        admin = As(client, "acc_admin", "admin")
        coordinator = As(client, "acc_coord", "coordinator", ("lianxi", "far"))
        resident = As(client, "acc_res", "resident")
        db = store.database()
        http = client

        def provider(self, who: str, location=CANTEEN, communities=("lianxi",), verify=True, kind="hospital_canteen"):
            me = As(client, who, "provider")
            profile = me.post("/providers", {"name": f"Provider {who}", "kind": kind, "phone": "021-5888 0001",
                                             "address": "1000 Hunan Road", "location": location,
                                             "community_ids": list(communities)})
            if verify:
                self.coordinator.post(f"/providers/{profile['id']}/verify", expect=200)
            me.profile = profile
            return me

    cat = Catalog()
    cat.admin.post("/communities", {"id": "lianxi", "name": "莲溪社区", "center": LIANXI})
    cat.admin.post("/communities", {"id": "far", "name": "Far away", "center": FAR})
    return cat


def lunch(**overrides) -> dict:
    body = {"title": "爱心午餐 Charity lunch", "description": "两荤一素 two meat dishes and a vegetable",
            "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500, "community_ids": ["lianxi"],
            "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40}]}
    return {**body, **overrides}


def events(cat, event_type: str) -> list[dict]:
    return [e["envelope"]["data"] for e in cat.db.outbox.find({"type": event_type}).sort("seq")]


# -- reference data ----------------------------------------------------------------------

def test_an_admin_edits_categories_and_communities_and_nobody_else_can(cat):
    assert "charity_meals" in [c["id"] for c in cat.anyone.get("/categories")]
    cat.admin.post("/categories", {"id": "elder_care", "name_zh": "养老", "name_en": "Elder care"})
    cat.admin.patch("/categories/elder_care", {"name_en": "Care for the elderly"})
    assert {"id": "elder_care", "name_zh": "养老", "name_en": "Care for the elderly"} in cat.anyone.get("/categories")
    assert cat.coordinator.post("/categories", {"id": "x1", "name_zh": "x", "name_en": "x"},
                                expect=403)["error"]["code"] == "forbidden"
    assert cat.anyone.post("/categories", {"id": "x1", "name_zh": "x", "name_en": "x"}, expect=401)

    square = [[121.55, 31.17], [121.57, 31.17], [121.57, 31.19], [121.55, 31.19], [121.55, 31.17]]
    made = cat.admin.post("/communities", {"id": "beicai", "name": "北蔡", "center": {"lng": 121.56, "lat": 31.18},
                                           "boundary": {"type": "Polygon", "coordinates": [square]}})
    assert made["boundary"]["coordinates"][0][0] == [121.55, 31.17] and made["timezone"] == "Asia/Shanghai"
    outside = cat.admin.patch("/communities/beicai", {"center": {"lng": 121.60, "lat": 31.18}}, expect=422)
    assert outside["error"]["details"] == {"center": ["the centre must lie inside the boundary"]}
    open_ring = cat.admin.post("/communities", {"id": "bad", "name": "x", "center": LIANXI, "boundary": {
        "type": "Polygon", "coordinates": [square[:-1] + [[121.56, 31.17]]]}}, expect=422)
    assert "boundary.coordinates.0" in open_ring["error"]["details"]
    zone = cat.admin.post("/communities", {"id": "bad", "name": "x", "center": LIANXI, "timezone": "Mars/Base"},
                          expect=422)
    assert "timezone" in zone["error"]["details"]
    assert cat.admin.patch("/communities/beicai", {"name": "北蔡社区"})["name"] == "北蔡社区"


def test_a_community_lists_its_buildings_with_their_entrances_and_the_committees_phone(cat):
    """The pages build an address from community + building + room: the entrance's point comes from here."""
    twelve = {"name": "12", "entrance": {"lng": 121.5588, "lat": 31.1765}}
    made = cat.admin.post("/communities", {"id": "beicai", "name": "北蔡", "center": {"lng": 121.56, "lat": 31.18},
                                           "buildings": [twelve], "committee_phone": "021-5888 1234"})
    assert made["buildings"] == [twelve] and made["committee_phone"] == "021-5888 1234"
    seven = {"name": "7", "entrance": {"lng": 121.5601, "lat": 31.1779}}
    cat.admin.patch("/communities/beicai", {"buildings": [twelve, seven]})
    listed = {c["id"]: c for c in cat.anyone.get("/communities")}
    assert listed["beicai"]["buildings"] == [twelve, seven] and listed["lianxi"]["buildings"] == []
    twice = cat.admin.patch("/communities/beicai", {"buildings": [twelve, twelve]}, expect=422)
    assert twice["error"]["details"] == {"buildings": ["each building is named once"]}
    nowhere = cat.admin.patch("/communities/beicai", {"buildings": [{"name": "9", "entrance": {"lng": 200, "lat": 31}}]},
                              expect=422)
    assert "buildings" in str(nowhere["error"]["details"])
    assert cat.admin.patch("/communities/beicai", {"committee_phone": "not a phone"}, expect=422)
    assert cat.coordinator.patch("/communities/beicai", {"buildings": []}, expect=403)
    assert cat.anyone.get("/communities")[0]["buildings"] is not None
    assert [c["buildings"] for c in cat.anyone.get("/communities") if c["id"] == "beicai"] == [[twelve, seven]]


# -- providers ---------------------------------------------------------------------------

def test_only_a_verified_provider_publishes_and_a_suspension_hides_its_listings_at_once(cat):
    canteen = cat.provider("acc_canteen", verify=False)
    refused = canteen.post("/listings", lunch(), expect=409)
    assert refused["error"]["code"] == "provider_not_verified"
    draft = canteen.post("/listings", lunch(status="draft"))
    assert draft["status"] == "draft"
    assert cat.anyone.get(f"/listings/{draft['id']}", expect=404)
    cat.coordinator.post(f"/providers/{canteen.profile['id']}/verify", expect=200)
    assert events(cat, "catalog.provider.verified")[0]["provider_id"] == canteen.profile["id"]
    published = canteen.patch(f"/listings/{draft['id']}", {"status": "published"})
    assert published["version"] == 2
    assert cat.anyone.get("/listings?community=lianxi")["total"] == 1

    assert cat.resident.post(f"/providers/{canteen.profile['id']}/suspend", {"reason": "x"}, expect=403)
    suspended = cat.coordinator.post(f"/providers/{canteen.profile['id']}/suspend",
                                     {"reason": "food safety inspection"}, expect=200)
    assert suspended["status"] == "suspended"
    assert cat.anyone.get("/listings?community=lianxi")["total"] == 0
    assert cat.anyone.get(f"/listings/{draft['id']}", expect=404)
    assert canteen.get(f"/listings/{draft['id']}")["id"] == draft["id"]  # the owner still sees it
    assert canteen.post("/listings", lunch(), expect=409)["error"]["code"] == "provider_suspended"
    cat.coordinator.post(f"/providers/{canteen.profile['id']}/verify", expect=200)
    assert cat.anyone.get("/listings?community=lianxi")["total"] == 1


# -- listings ----------------------------------------------------------------------------

def test_prices_of_zero_and_one_fen_and_tiers_that_must_add_up(cat):
    expert = cat.provider("acc_doctor", kind="volunteer_expert")
    advice = expert.post("/listings", {"title": "Health advice 健康咨询", "category": "health_consultation",
                                       "fulfilment": "remote", "price_fen": 1, "unit": "question",
                                       "community_ids": ["lianxi"], "tags": ["blood pressure"]})
    assert advice["price_fen"] == 1 and advice["slots"] == []
    free = expert.post("/listings", lunch(price_fen=0))
    assert free["price_fen"] == 0

    tiers = [{"tag": "elder70", "resident_pays_fen": 300,
              "shares": [{"funder": "town government", "amount_fen": 700},
                         {"funder": "Beicai hospital", "amount_fen": 400}]}]
    wrong = expert.post("/listings", lunch(tiers=tiers), expect=422)
    assert wrong["error"]["details"] == {"tiers.0.shares": [
        "the resident's 300 fen and the shares add up to 1400 fen, not the price of 1500 fen"]}
    tiers[0]["shares"][0]["amount_fen"] = 800
    priced = expert.post("/listings", lunch(tiers=tiers))
    assert priced["tiers"] == [] and priced["proposed_pricing"]["tiers"] == tiers  # the committee approves shares
    approved = cat.coordinator.post(f"/listings/{priced['id']}/pricing/approve", {"version": 1}, expect=200)
    assert approved["tiers"][0]["shares"][0] == {"funder": "town government", "amount_fen": 800}
    # changing the price alone would break the tier: refused, nothing changed
    broken = expert.patch(f"/listings/{priced['id']}", {"price_fen": 1600}, expect=422)
    assert "tiers.0.shares" in broken["error"]["details"]
    assert cat.anyone.get(f"/listings/{priced['id']}")["version"] == 2

    bad_photo = expert.post("/listings", lunch(photos=["ftp://example.com/a.jpg"]), expect=422)
    assert "photos" in bad_photo["error"]["details"]
    assert expert.post("/listings", lunch(price_fen=-1), expect=422)["error"]["details"].keys() == {"price_fen"}
    assert "status" in expert.post("/listings", lunch(status="paid"), expect=422)["error"]["details"]
    assert "category" in expert.post("/listings", lunch(category="nope"), expect=422)["error"]["details"]


def test_every_edit_is_a_new_version_and_the_old_one_can_be_read_back(cat):
    canteen = cat.provider("acc_canteen")
    made = canteen.post("/listings", lunch(photos=["https://img.example.com/lunch.jpg"], tags=["清淡"]))
    canteen.patch(f"/listings/{made['id']}", {"price_fen": 1800})
    paused = canteen.patch(f"/listings/{made['id']}", {"status": "paused"})
    assert (paused["version"], paused["price_fen"], paused["status"]) == (3, 1800, "paused")
    first = cat.anyone.get(f"/listings/{made['id']}/versions/1")
    assert first["listing"]["price_fen"] == 1500 and first["listing"]["photos"] == ["https://img.example.com/lunch.jpg"]
    assert cat.anyone.get("/listings?community=lianxi")["total"] == 0  # paused: not found by search
    withdrawn = canteen.patch(f"/listings/{made['id']}", {"status": "withdrawn"})
    assert withdrawn["status"] == "withdrawn"
    again = canteen.patch(f"/listings/{made['id']}", {"status": "published"}, expect=422)
    assert again["error"]["details"] == {"status": ["a withdrawn listing can move to nothing (it is final), not published"]}
    kinds = [e["version"] for e in events(cat, "catalog.listing.updated")]
    assert kinds == [2, 3]
    assert [e["version"] for e in events(cat, "catalog.listing.published")] == [1]
    assert [e["version"] for e in events(cat, "catalog.listing.withdrawn")] == [4]

    other = cat.provider("acc_other")
    assert other.patch(f"/listings/{made['id']}", {"title": "mine now"}, expect=404)
    assert canteen.get(f"/listings/{made['id']}")["title"] == made["title"]


# -- slots -------------------------------------------------------------------------------

def _next(weekday: int) -> date:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)
    return today + timedelta(days=(weekday - today.isoweekday()) % 7)


def test_availability_follows_the_weekly_schedule_exceptions_and_reservations(cat):
    canteen = cat.provider("acc_canteen")
    monday = _next(1)
    made = canteen.post("/listings", lunch(
        slots=[{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40, "days": [1, 2, 3, 4, 5],
                "cutoff": "09:30"}],
        exceptions=[{"date": (monday + timedelta(days=1)).isoformat(), "closed": True},
                    {"date": (monday + timedelta(days=2)).isoformat(), "slot": "lunch", "extra": 10}]))
    week = cat.anyone.get(f"/listings/{made['id']}/availability?from={monday}&to={monday + timedelta(days=6)}")
    by_day = {d["date"]: d["slots"][0] for d in week["days"]}
    assert [by_day[(monday + timedelta(days=n)).isoformat()]["remaining"] for n in range(7)] == [40, 0, 50, 40, 40, 0, 0]
    monday_lunch = by_day[monday.isoformat()]
    assert monday_lunch["start"] == "11:00" and monday_lunch["starts_at"].startswith(f"{monday}T03:00:00")
    assert monday_lunch["cutoff_at"].startswith(f"{monday}T01:30:00") and monday_lunch["orderable"]
    assert by_day[(monday + timedelta(days=1)).isoformat()]["closed"]

    def placed(order_id, day, quantity=1):
        return make_envelope("orders.order.placed", {
            "order_id": order_id, "resident_id": "r", "listing_id": made["id"], "listing_version": 1,
            "provider_id": canteen.profile["id"], "quantity": quantity, "slot_date": day.isoformat(),
            "slot": "lunch", "amount_fen": 1500}, "orders")

    for order_id, day in (("o1", monday), ("o2", monday + timedelta(days=1)), ("o3", monday + timedelta(days=5))):
        apply_once(Units(cat.db, "catalog"), "catalog", placed(order_id, day), handlers.on_order_placed)
    assert [r["code"] for r in cat.db.reservations.find({"status": "rejected"}).sort("_id")] == ["closed",
                                                                                                "not_scheduled"]
    assert cat.anyone.get(f"/listings/{made['id']}/availability?date={monday}")["slots"][0]["remaining"] == 39

    snapshot = cat.http.get(f"/internal/v1/listings/{made['id']}?date={monday + timedelta(days=2)}&slot=lunch").get_json()
    assert (snapshot["capacity"], snapshot["closed"], snapshot["scheduled"], snapshot["cutoff_passed"]) == (50, False,
                                                                                                            True, False)
    assert snapshot["provider_active"] is True and snapshot["tiers"] == []
    assert snapshot["slot_window"]["cutoff_at"].startswith(f"{monday + timedelta(days=2)}T01:30:00")

    too_long = cat.anyone.get(f"/listings/{made['id']}/availability?from={monday}&to={monday + timedelta(days=40)}",
                              expect=422)
    assert "to" in too_long["error"]["details"]
    late_cutoff = canteen.post("/listings", lunch(slots=[{"name": "lunch", "start": "11:00", "end": "12:30",
                                                          "capacity": 5, "cutoff": "11:30"}]), expect=422)
    assert "slots.0.cutoff" in late_cutoff["error"]["details"]
    unknown_slot = canteen.post("/listings", lunch(exceptions=[{"date": str(monday), "slot": "dinner", "closed": True}]),
                                expect=422)
    assert "exceptions.0.slot" in unknown_slot["error"]["details"]


# -- search ------------------------------------------------------------------------------

def test_search_by_words_place_price_and_day_sorted_and_paged(cat):
    canteen = cat.provider("acc_canteen", location=CANTEEN)
    far = cat.provider("acc_far", location=FAR, communities=("lianxi", "far"), kind="craftsman")
    weekday_lunch = canteen.post("/listings", lunch(slots=[{"name": "lunch", "start": "11:00", "end": "12:30",
                                                            "capacity": 40, "days": [1, 2, 3, 4, 5]}]))
    noodles = canteen.post("/listings", lunch(title="牛肉面 Beef noodles", description="", price_fen=900,
                                              tags=["noodles"]))
    repair = far.post("/listings", {"title": "上门修空调 Air conditioner repair", "category": "appliance_repair",
                                    "fulfilment": "on_site", "price_fen": 5000, "community_ids": ["lianxi", "far"],
                                    "tags": ["空调", "repair"]})

    def ids(query):
        return [i["id"] for i in cat.anyone.get(f"/listings?{query}")["items"]]

    assert ids("q=午餐") == [weekday_lunch["id"]]
    assert ids("q=lunch") == [weekday_lunch["id"]]
    assert ids("q=空调") == [repair["id"]] and ids("q=REPAIR") == [repair["id"]]
    assert ids("q=面") == [noodles["id"]]
    assert ids("q=牛肉 noodles") == [noodles["id"]] and ids("q=牛肉 lunch") == []
    assert set(ids("category=charity_meals")) == {weekday_lunch["id"], noodles["id"]}
    assert ids("min_price=1000&max_price=6000&sort=price") == [weekday_lunch["id"], repair["id"]]
    saturday = _next(6)
    assert set(ids(f"open_on={saturday}")) == {noodles["id"], repair["id"]}
    assert ids("community=far") == [repair["id"]]

    near = cat.anyone.get(f"/listings?near={LIANXI['lng']},{LIANXI['lat']}&radius_m=2000")
    assert {i["id"] for i in near["items"]} == {weekday_lunch["id"], noodles["id"]}
    assert all(800 < i["distance_m"] < 1000 for i in near["items"]) and near["total"] == 2
    assert near["items"][0]["provider_score"] == {"average": None, "count": 0}
    near_noodles = f"near={LIANXI['lng']},{LIANXI['lat']}&radius_m=2000&q="
    assert ids(near_noodles + "牛肉 noodles") == [noodles["id"]] and ids(near_noodles + "牛肉 lunch") == []
    wide = cat.anyone.get(f"/listings?near={LIANXI['lng']},{LIANXI['lat']}&radius_m=50000&sort=price_desc")
    assert [i["id"] for i in wide["items"]] == [repair["id"], weekday_lunch["id"], noodles["id"]]
    assert wide["items"][0]["distance_m"] > 10_000

    page = cat.anyone.get("/listings?sort=price&per_page=2&page=2")
    assert (page["total"], [i["id"] for i in page["items"]]) == (3, [repair["id"]])
    assert "per_page" in cat.anyone.get("/listings?per_page=500", expect=422)["error"]["details"]
    assert "near" in cat.anyone.get("/listings?near=here", expect=422)["error"]["details"]
    assert "sort" in cat.anyone.get("/listings?sort=distance", expect=422)["error"]["details"]


def test_a_provider_lists_its_own_listings_drafts_too_and_never_another_providers(cat):
    canteen, shop = cat.provider("acc_canteen2"), cat.provider("acc_shop2", kind="merchant")
    published = canteen.post("/listings", lunch(title="午餐 A"))
    draft = canteen.post("/listings", lunch(title="晚餐 B", status="draft"))
    theirs = shop.post("/listings", lunch(title="修鞋 C"))
    mine = canteen.get("/providers/me/listings")
    assert [i["id"] for i in mine["items"]] == [draft["id"], published["id"]]  # newest first, the draft included
    assert mine["total"] == 2 and mine["items"][0]["status"] == "draft"
    assert [i["id"] for i in shop.get("/providers/me/listings")["items"]] == [theirs["id"]]
    assert canteen.get("/providers/me/listings?per_page=1")["items"][0]["id"] == draft["id"]
    assert cat.resident.get("/providers/me/listings", expect=403)
    assert cat.coordinator.get("/providers/me/listings", expect=403)
    assert As(cat.http, "acc_nobody", "provider").get("/providers/me/listings", expect=404)
    assert canteen.get("/providers/me/listings?per_page=0", expect=422)
