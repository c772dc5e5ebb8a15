"""Where a provider serves: named communities or a radius around it, and a provider editing its own
profile (a move carries its listings along), on the real database."""
from __future__ import annotations

from tests.integration.test_catalog_api import CANTEEN, FAR, As, cat, lunch  # noqa: F401  (fixture)

NEAR_CANTEEN = {"lng": 121.5600, "lat": 31.1850}   # about 0.9 km from the canteen
BEYOND = {"lng": 121.6100, "lat": 31.1810}          # about 5.5 km east


def _repair(**area) -> dict:
    return {"title": "上门维修 Home repair", "category": "home_repair", "fulfilment": "on_site", "price_fen": 5000,
            "unit": "visit", "slots": [{"name": "day", "start": "09:00", "end": "17:00", "capacity": 4}], **area}


def test_a_radius_listing_serves_the_communities_within_it_and_those_added_later(cat):
    craftsman = cat.provider("acc_craft", kind="craftsman")
    both = craftsman.post("/listings", _repair(community_ids=["lianxi"], service_radius_m=3000), expect=422)
    assert "service_radius_m" in both["error"]["details"]
    neither = craftsman.post("/listings", _repair(), expect=422)
    assert "community_ids" in neither["error"]["details"]
    tiny = craftsman.post("/listings", _repair(service_radius_m=100), expect=422)
    assert "no community's centre lies within 100 m" in tiny["error"]["details"]["service_radius_m"][0]
    assert cat.db.listings.count_documents({}) == 0, "refused listings leave nothing behind"

    listing = craftsman.post("/listings", _repair(service_radius_m=3000))
    assert listing["community_ids"] == ["lianxi"] and listing["service_radius_m"] == 3000
    cat.admin.post("/communities", {"id": "xinjian", "name": "新建社区", "center": NEAR_CANTEEN})
    cat.admin.post("/communities", {"id": "yuan", "name": "远处", "center": BEYOND})
    found = cat.anyone.get("/listings?community=xinjian")["items"]
    assert [x["id"] for x in found] == [listing["id"]], "a community added within the radius is served at once"
    assert cat.anyone.get("/listings?community=yuan")["total"] == 0

    named = craftsman.patch(f"/listings/{listing['id']}", {"community_ids": ["lianxi"]})
    assert named["service_radius_m"] is None and named["community_ids"] == ["lianxi"]
    wider = craftsman.patch(f"/listings/{listing['id']}", {"service_radius_m": 8000})
    assert wider["community_ids"] == ["lianxi", "xinjian", "yuan"], "the radius reaches every centre within 8 km"


def test_a_provider_edits_its_profile_and_a_move_carries_its_listings_along(cat):
    canteen = cat.provider("acc_canteen", communities=("lianxi", "far"))
    listing = canteen.post("/listings", lunch())
    assert cat.anyone.get(f"/listings?near={CANTEEN['lng']},{CANTEEN['lat']}&radius_m=500")["total"] == 1

    moved = canteen.patch("/providers/me", {"name": "Riverside canteen", "phone": "021-5888 0009", "location": FAR})
    assert moved["name"] == "Riverside canteen" and moved["location"] == FAR and moved["status"] == "verified"
    assert cat.anyone.get(f"/listings?near={CANTEEN['lng']},{CANTEEN['lat']}&radius_m=500")["total"] == 0
    there = cat.anyone.get(f"/listings?near={FAR['lng']},{FAR['lat']}&radius_m=500")["items"]
    assert [x["id"] for x in there] == [listing["id"]] and there[0]["provider"]["name"] == "Riverside canteen"

    kept = canteen.patch("/providers/me", {"community_ids": ["far"]}, expect=422)
    assert "still serves lianxi" in kept["error"]["details"]["community_ids"][0]
    assert canteen.patch("/providers/me", {"community_ids": ["nowhere"]}, expect=422)["error"]["details"]
    assert "kind" in canteen.patch("/providers/me", {"kind": "merchant"}, expect=422)["error"]["details"]
    assert cat.db.providers.find_one({"owner_id": "acc_canteen"})["community_ids"] == ["lianxi", "far"]
    As(cat.http, "acc_nobody", "provider").patch("/providers/me", {"name": "x"}, expect=404)
    cat.resident.patch("/providers/me", {"name": "x"}, expect=403)


def test_a_listing_moved_to_another_community_keeps_that_communitys_time_zone(cat):
    cat.admin.post("/communities", {"id": "kashi", "name": "喀什社区", "center": {"lng": 75.99, "lat": 39.47},
                                    "timezone": "Asia/Urumqi"})
    canteen = cat.provider("acc_tz", communities=("lianxi", "kashi"))
    listing = canteen.post("/listings", lunch())
    assert listing["timezone"] == "Asia/Shanghai"
    moved = canteen.patch(f"/listings/{listing['id']}", {"community_ids": ["kashi"]})
    assert moved["timezone"] == "Asia/Urumqi" and moved["version"] == 2


def test_near_me_leaves_out_a_radius_listing_that_would_not_come_that_far(cat):
    craftsman = cat.provider("acc_near", kind="craftsman")
    listing = craftsman.post("/listings", _repair(service_radius_m=1000))
    close = cat.anyone.get(f"/listings?near={NEAR_CANTEEN['lng']},{NEAR_CANTEEN['lat']}&radius_m=5000")
    assert [x["id"] for x in close["items"]] == [listing["id"]]
    beyond = cat.anyone.get(f"/listings?near={BEYOND['lng']},{BEYOND['lat']}&radius_m=8000")
    assert beyond["total"] == 0, "5.5 km away: within the search's 8 km, but the craftsman comes only 1 km"


def test_a_radius_listing_follows_its_provider_and_the_communities_that_move(cat):
    craftsman = cat.provider("acc_mover", kind="craftsman", communities=("lianxi", "far"))
    listing = craftsman.post("/listings", _repair(service_radius_m=3000))
    cat.admin.post("/communities", {"id": "xinjian", "name": "新建社区", "center": NEAR_CANTEEN})
    assert cat.anyone.get(f"/listings/{listing['id']}")["community_ids"] == ["lianxi", "xinjian"]
    cat.admin.patch("/communities/xinjian", {"center": BEYOND})
    assert cat.anyone.get(f"/listings/{listing['id']}")["community_ids"] == ["lianxi"], \
        "a community moved out of reach is no longer served"
    assert cat.anyone.get("/listings?community=xinjian")["total"] == 0

    nowhere = craftsman.patch("/providers/me", {"location": {"lng": 121.80, "lat": 31.00}}, expect=422)
    assert "widen its radius" in nowhere["error"]["details"]["location"][0]
    assert cat.db.providers.find_one({"owner_id": "acc_mover"})["location"]["coordinates"] == [CANTEEN["lng"],
                                                                                               CANTEEN["lat"]]
    assert cat.anyone.get(f"/listings/{listing['id']}")["community_ids"] == ["lianxi"], "a refused move changes nothing"

    craftsman.patch("/providers/me", {"location": FAR})
    assert cat.anyone.get(f"/listings/{listing['id']}")["community_ids"] == ["far"], \
        "after a move the radius reaches the communities around the new place"
    assert [x["id"] for x in cat.anyone.get("/listings?community=far")["items"]] == [listing["id"]]
    assert cat.anyone.get("/listings?community=lianxi")["total"] == 0
