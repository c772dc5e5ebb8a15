"""Near-me search reads small search places, not listings: every change that decides whether and where a
listing is found (publishing, pausing, a suspension, a move, a new score, a community moved) reaches its
place at once, on the real database."""
from __future__ import annotations

from linli.ids import utcnow
from linli.unit import Units
from services.catalog import handlers, store
from services.catalog.rules import search
from tests.integration.test_catalog_api import CANTEEN, FAR, cat, lunch  # noqa: F401  (fixture)

NEAR = f"near={CANTEEN['lng']},{CANTEEN['lat']}&radius_m=1000"


def _places_match_listings(cat) -> None:
    expected = {doc["_id"]: place for doc in cat.db.listings.find() if (place := search.place_of(doc))}
    assert {doc["_id"]: doc for doc in cat.db.search_places.find()} == expected


def test_near_me_follows_every_change_of_a_listing_and_its_provider(cat):
    canteen = cat.provider("acc_places", communities=("lianxi", "far"))
    near = lambda extra="": [x["id"] for x in cat.anyone.get(f"/listings?{NEAR}{extra}")["items"]]
    draft = canteen.post("/listings", lunch(status="draft"))
    assert near() == [] and cat.db.search_places.count_documents({}) == 0
    canteen.patch(f"/listings/{draft['id']}", {"status": "published"})
    assert near() == [draft["id"]]
    canteen.patch(f"/listings/{draft['id']}", {"status": "paused"})
    assert near() == []
    canteen.patch(f"/listings/{draft['id']}", {"status": "published", "price_fen": 1200})
    found = cat.anyone.get(f"/listings?{NEAR}")["items"]
    assert [(x["id"], x["price_fen"], x["version"]) for x in found] == [(draft["id"], 1200, 4)], \
        "the page shows the listing itself, as it now is"
    assert near("&q=午餐 两荤") == [draft["id"]] and near("&q=午餐 noodles") == []
    assert near("&max_price=1000") == [] and near("&community=far") == []
    assert near("&community=lianxi") == [draft["id"]]
    _places_match_listings(cat)

    cat.coordinator.post(f"/providers/{canteen.profile['id']}/suspend", {"reason": "food safety check"}, expect=200)
    assert near() == [], "a suspension hides at once"
    cat.coordinator.post(f"/providers/{canteen.profile['id']}/verify", expect=200)
    assert near() == [draft["id"]]

    canteen.patch("/providers/me", {"location": FAR})
    assert near() == [] and [x["id"] for x in cat.anyone.get(
        f"/listings?near={FAR['lng']},{FAR['lat']}&radius_m=500")["items"]] == [draft["id"]]
    _places_match_listings(cat)

    cat.db.reviews.insert_one({"_id": "rev_1", "direction": "resident_to_provider", "subject_id": canteen.profile["id"],
                               "stars": 5, "counted": False, "visible_from": utcnow()})
    Units(cat.db, "catalog").run(handlers.reveal_reviews)  # the worker's timer
    assert cat.anyone.get(f"/listings?near={FAR['lng']},{FAR['lat']}&radius_m=500&sort=rating")["items"][0][
        "provider_score"] == {"average": 5.0, "count": 1}
    assert cat.db.search_places.find_one({"_id": draft["id"]})["rating"]["count"] == 1, "a new score reaches search"
    cat.db.search_places.delete_many({})
    store.rebuild_places(cat.db)  # what a start after an upgrade does
    _places_match_listings(cat)

    canteen.patch(f"/listings/{draft['id']}", {"status": "withdrawn"})
    assert cat.db.search_places.count_documents({}) == 0
