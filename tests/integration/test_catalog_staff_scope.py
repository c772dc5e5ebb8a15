"""Catalog's staff routes act only within the coordinator's communities (an admin's: everywhere): verifying
and suspending providers, the lists of providers and of prices waiting, drafts, and approving funders'
shares — with two communities, two coordinators, two providers and an admin. Refusals change nothing."""
from __future__ import annotations

from tests.integration.test_catalog_api import CANTEEN, FAR, As, cat, events, lunch  # noqa: F401 (the fixture)

TIERS = [{"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "town government", "amount_fen": 1200}]}]


def _cast(cat):
    client = cat.http
    cast = {
        "lin": As(client, "acc_lin", "coordinator", ("lianxi",)),      # watches over Lianxi
        "far": As(client, "acc_farco", "coordinator", ("far",)),      # watches over Far
        "admin": cat.admin,
    }
    mine = cat.provider("acc_prov_lianxi", verify=False)                              # serves Lianxi
    theirs = cat.provider("acc_prov_far", location=FAR, communities=("far",), verify=False)  # serves Far
    return cast, mine, theirs


def _status(cat, provider) -> str:
    return cat.anyone.get(f"/providers/{provider.profile['id']}")["status"]


def test_a_coordinator_verifies_and_suspends_only_providers_of_its_communities(cat):
    cast, mine, theirs = _cast(cat)
    lianxi_id, far_id = mine.profile["id"], theirs.profile["id"]

    refused = cast["far"].post(f"/providers/{lianxi_id}/verify", expect=403)
    assert refused["error"]["code"] == "forbidden" and "community you look after" in refused["error"]["message"]
    assert _status(cat, mine) == "pending" and events(cat, "catalog.provider.verified") == []
    assert mine.post("/listings", lunch(), expect=409)["error"]["code"] == "provider_not_verified"

    cast["lin"].post(f"/providers/{lianxi_id}/verify", expect=200)
    cast["far"].post(f"/providers/{far_id}/verify", expect=200)
    assert [e["provider_id"] for e in events(cat, "catalog.provider.verified")] == [lianxi_id, far_id]
    listing = mine.post("/listings", lunch())

    suspend = cast["far"].post(f"/providers/{lianxi_id}/suspend", {"reason": "not mine"}, expect=403)
    assert "suspend" in suspend["error"]["message"]
    assert cast["lin"].post(f"/providers/{far_id}/suspend", {"reason": "not mine"}, expect=403)
    assert _status(cat, mine) == "verified" and _status(cat, theirs) == "verified"
    assert [x["id"] for x in cat.anyone.get("/listings?community=lianxi")["items"]] == [listing["id"]]

    assert cat.admin.post(f"/providers/{lianxi_id}/suspend", {"reason": "food safety check"}, expect=200)["status"] == "suspended"
    assert cat.anyone.get("/listings?community=lianxi")["total"] == 0
    assert cast["far"].post(f"/providers/{lianxi_id}/verify", expect=403)  # nor lifts another's suspension
    assert _status(cat, mine) == "suspended"
    assert cast["lin"].post(f"/providers/{lianxi_id}/verify", expect=200)["status"] == "verified"


def test_a_coordinator_lists_only_the_providers_of_its_communities(cat):
    cast, mine, theirs = _cast(cat)
    pending = lambda who: [p["id"] for p in cast[who].get("/providers?status=pending")["items"]]  # noqa: E731
    assert pending("lin") == [mine.profile["id"]] and pending("far") == [theirs.profile["id"]]
    assert sorted(pending("admin")) == sorted([mine.profile["id"], theirs.profile["id"]])
    assert cat.resident.get("/providers", expect=403) and mine.get("/providers", expect=403)
    cast["lin"].post(f"/providers/{mine.profile['id']}/verify", expect=200)
    assert pending("lin") == [] and [p["id"] for p in cast["lin"].get("/providers")["items"]] == [mine.profile["id"]]
    assert "status" in cast["lin"].get("/providers?status=nope", expect=422)["error"]["details"]


def test_a_draft_shows_to_its_provider_and_the_staff_of_its_communities_only(cat):
    cast, mine, theirs = _cast(cat)
    cast["lin"].post(f"/providers/{mine.profile['id']}/verify", expect=200)
    draft = mine.post("/listings", lunch(status="draft"))
    for who in (cast["lin"], cast["admin"], mine):
        assert who.get(f"/listings/{draft['id']}")["status"] == "draft"
    for who in (cast["far"], theirs, cat.resident, cat.anyone):
        assert who.get(f"/listings/{draft['id']}", expect=404)["error"]["code"] == "not_found"
        assert who.get(f"/listings/{draft['id']}/versions/1", expect=404)


def test_funders_shares_wait_for_a_coordinator_of_the_listings_communities(cat):
    cast, mine, theirs = _cast(cat)
    cast["lin"].post(f"/providers/{mine.profile['id']}/verify", expect=200)
    made = mine.post("/listings", lunch(tiers=TIERS))
    assert made["tiers"] == [] and made["proposed_pricing"]["tiers"] == TIERS and made["price_fen"] == 1500
    snapshot = lambda: cat.http.get(f"/internal/v1/listings/{made['id']}").get_json()  # noqa: E731
    assert snapshot()["tiers"] == [], "until approved, an elder pays the full price"
    assert "proposed_pricing" not in snapshot() and "proposed_pricing" not in cat.anyone.get(f"/listings/{made['id']}")
    assert "proposed_pricing" not in cast["far"].get(f"/listings/{made['id']}")
    for insider in (mine, cast["lin"], cast["admin"]):
        assert insider.get(f"/listings/{made['id']}")["proposed_pricing"]["tiers"] == TIERS
    waiting = lambda who: [x["id"] for x in cast[who].get("/listings/awaiting-approval")["items"]]  # noqa: E731
    assert waiting("lin") == [made["id"]] and waiting("admin") == [made["id"]] and waiting("far") == []

    refused = cast["far"].post(f"/listings/{made['id']}/pricing/approve", {"version": 1}, expect=403)
    assert "approve" in refused["error"]["message"]
    assert mine.post(f"/listings/{made['id']}/pricing/approve", {"version": 1}, expect=403)
    assert cat.resident.post(f"/listings/{made['id']}/pricing/approve", {"version": 1}, expect=403)
    assert snapshot()["tiers"] == [] and snapshot()["version"] == 1

    approved = cast["lin"].post(f"/listings/{made['id']}/pricing/approve", {"version": 1}, expect=200)
    assert approved["tiers"] == TIERS and approved["version"] == 2 and approved["proposed_pricing"] is None
    assert approved["pricing_approved"]["by"] == "acc_lin"
    assert snapshot()["tiers"] == TIERS and waiting("lin") == []
    again = cast["lin"].post(f"/listings/{made['id']}/pricing/approve", {"version": 2}, expect=409)
    assert again["error"]["code"] == "nothing_to_approve"
    assert [e["version"] for e in events(cat, "catalog.listing.updated")] == [2]


def test_the_tiers_in_effect_and_their_price_apply_while_new_shares_wait(cat):
    cast, mine, _ = _cast(cat)
    cast["lin"].post(f"/providers/{mine.profile['id']}/verify", expect=200)
    made = mine.post("/listings", lunch(tiers=TIERS))
    cast["lin"].post(f"/listings/{made['id']}/pricing/approve", {"version": 1}, expect=200)

    # a bigger share for the town, and a higher price: both wait; the approved deal stays meanwhile
    richer = [{"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "town government",
                                                                      "amount_fen": 1500}]}]
    edited = mine.patch(f"/listings/{made['id']}", {"price_fen": 1800, "tiers": richer})
    assert (edited["price_fen"], edited["tiers"], edited["version"]) == (1500, TIERS, 3)
    assert (edited["proposed_pricing"]["price_fen"], edited["proposed_pricing"]["tiers"]) == (1800, richer)
    retitled = mine.patch(f"/listings/{made['id']}", {"title": "爱心午餐 New lunch"})  # the proposal stays
    assert retitled["proposed_pricing"]["tiers"] == richer and retitled["tiers"] == TIERS

    stale = cast["lin"].post(f"/listings/{made['id']}/pricing/approve", {"version": 3}, expect=409)
    assert stale["error"]["code"] == "listing_changed" and stale["error"]["details"] == {"version": 4}
    assert cat.anyone.get(f"/listings/{made['id']}")["price_fen"] == 1500
    approved = cast["lin"].post(f"/listings/{made['id']}/pricing/approve", {"version": 4}, expect=200)
    assert (approved["price_fen"], approved["tiers"]) == (1800, richer)

    # tiers without a funder's share cost nobody else anything: they apply at once
    plain = mine.patch(f"/listings/{made['id']}", {"price_fen": 2000, "tiers": []})
    assert (plain["price_fen"], plain["tiers"], plain["proposed_pricing"]) == (2000, [], None)
    assert cat.http.get(f"/internal/v1/listings/{made['id']}").get_json()["price_fen"] == 2000


def test_a_community_time_zone_is_a_tz_database_name(cat):
    for zone in ("x" * 300, "Asia/" + "a" * 300, "zone.tab", "../../etc/passwd", "Asia/Shanghai\u0000", "Mars/Base"):
        refused = cat.admin.post("/communities", {"id": "tzbad", "name": "x", "center": CANTEEN, "timezone": zone},
                                 expect=422)
        assert list(refused["error"]["details"]) == ["timezone"], zone
        assert cat.admin.patch("/communities/lianxi", {"timezone": zone}, expect=422)["error"]["details"].keys() \
            == {"timezone"}
    assert "tzbad" not in [c["id"] for c in cat.anyone.get("/communities")]
    assert {c["id"]: c["timezone"] for c in cat.anyone.get("/communities")}["lianxi"] == "Asia/Shanghai"
    made = cat.admin.post("/communities", {"id": "urumqi", "name": "乌鲁木齐", "center": FAR, "timezone": "Asia/Urumqi"})
    assert made["timezone"] == "Asia/Urumqi"
