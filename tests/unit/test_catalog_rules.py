"""Catalog's rules without I/O: schedules, cut-offs, exceptions, tier arithmetic, status moves, tokens, shapes."""
from __future__ import annotations

import math
from datetime import date, datetime, timezone

import pytest

from linli.domain_errors import IllegalMove, RuleBroken
from linli.geo import distance_m
from services.catalog.rules import listings, schedule, search, tokens
from services.catalog.rules.domain import check_boundary, provider_move

LUNCH = {"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40, "days": [1, 2, 3, 4, 5],
         "cutoff": "09:30", "cutoff_days_before": 0}
MONDAY = date(2026, 11, 30)
SHANGHAI = "Asia/Shanghai"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def field_of(fn, *args) -> str:
    with pytest.raises(RuleBroken) as raised:
        fn(*args)
    return raised.value.field


def test_a_slot_runs_on_its_weekdays_in_shanghai_time_and_closes_for_orders_at_the_cutoff():
    day = schedule.slot_day(LUNCH, MONDAY, [], SHANGHAI)
    assert (day.start, day.end, day.cutoff_at) == (utc(2026, 11, 30, 3), utc(2026, 11, 30, 4, 30),
                                                    utc(2026, 11, 30, 1, 30))
    assert day.orderable(utc(2026, 11, 30, 1, 29)) and not day.orderable(utc(2026, 11, 30, 1, 30))
    assert not schedule.slot_day(LUNCH, date(2026, 12, 5), [], SHANGHAI).scheduled  # a Saturday
    night_before = {**LUNCH, "cutoff": "20:00", "cutoff_days_before": 1}
    assert schedule.slot_day(night_before, MONDAY, [], SHANGHAI).cutoff_at == utc(2026, 11, 29, 12)
    no_cutoff = {k: v for k, v in LUNCH.items() if k not in ("cutoff", "days")}
    assert schedule.slot_day(no_cutoff, date(2026, 12, 6), [], SHANGHAI).cutoff_at == utc(2026, 12, 6, 4, 30)
    assert schedule.slot_day(no_cutoff, date(2026, 12, 6), [], SHANGHAI).scheduled  # no days given: every day


def test_exceptions_close_a_day_or_add_portions_to_it():
    exceptions = [{"date": "2026-11-30", "slot": None, "closed": True},
                  {"date": "2026-12-01", "slot": "lunch", "extra": 10}]
    assert schedule.slot_day(LUNCH, MONDAY, exceptions, SHANGHAI).closed
    assert schedule.slot_day(LUNCH, date(2026, 12, 1), exceptions, SHANGHAI).capacity == 50
    assert schedule.closed_dates([LUNCH], exceptions) == ["2026-11-30"]
    assert schedule.open_days([LUNCH]) == [1, 2, 3, 4, 5] and schedule.open_days([]) == [1, 2, 3, 4, 5, 6, 7]
    assert field_of(schedule.check_exceptions, [{"date": "2026-11-30", "closed": True, "extra": 3}], [LUNCH]) \
        == "exceptions.0"
    assert field_of(schedule.check_exceptions, exceptions + [{"date": "2026-11-30", "slot": None, "closed": True}],
                    [LUNCH]) == "exceptions.2.date"


def test_slot_shapes_are_checked_with_the_field_named():
    assert field_of(schedule.check_slots, [{**LUNCH, "end": "10:00"}]) == "slots.0.end"
    assert field_of(schedule.check_slots, [{**LUNCH, "start": "11h"}]) == "slots.0.start"
    assert field_of(schedule.check_slots, [LUNCH, LUNCH]) == "slots.1.name"
    assert field_of(schedule.check_slots, [{**LUNCH, "cutoff": "11:01"}]) == "slots.0.cutoff"
    assert field_of(schedule.check_slots, [{**LUNCH, "days": [1, 1]}]) == "slots.0.days"
    schedule.check_slots([{**LUNCH, "cutoff": "20:00", "cutoff_days_before": 1}])


def test_a_reservation_is_refused_with_a_reason_the_resident_can_read():
    listing = {"status": "published", "timezone": "Asia/Shanghai", "slots": [LUNCH],
               "exceptions": [{"date": "2026-12-01", "slot": None, "closed": True}]}
    verified = {"status": "verified"}

    def code(day, now, quantity=1, provider=verified):
        refusal = schedule.reservation_refusal(listing, provider, "lunch", day, quantity, now)
        return refusal and refusal.code

    early = utc(2026, 11, 29, 0)
    assert code(MONDAY, early) is None
    assert code(MONDAY, utc(2026, 11, 30, 2)) == "cutoff_passed"
    assert "09:30" in schedule.reservation_refusal(listing, verified, "lunch", MONDAY, 1, utc(2026, 11, 30, 2)).reason
    assert code(date(2026, 12, 1), early) == "closed"
    assert code(date(2026, 12, 5), early) == "not_scheduled"
    assert code(MONDAY, early, quantity=41) == "too_many"
    assert code(MONDAY, early, provider={"status": "suspended"}) == "provider_unavailable"


def test_tier_shares_add_up_to_the_base_price():
    tier = {"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "town", "amount_fen": 800},
                                                                   {"funder": "hospital", "amount_fen": 400}]}
    listings.check_tiers(1500, [tier])
    listings.check_tiers(0, [{"tag": "low_income", "resident_pays_fen": 0, "shares": []}])
    assert field_of(listings.check_tiers, 1501, [tier]) == "tiers.0.shares"
    assert field_of(listings.check_tiers, 1500, [tier, tier]) == "tiers.1.tag"
    twice = {**tier, "shares": [{"funder": "town", "amount_fen": 600}, {"funder": "town", "amount_fen": 600}]}
    assert field_of(listings.check_tiers, 1500, [twice]) == "tiers.0.shares"


def test_listing_status_moves_and_the_event_each_edit_makes():
    listings.check_status_move("draft", "published")
    listings.check_status_move("paused", "published")
    assert field_of(listings.check_status_move, "withdrawn", "published") == "status"
    assert field_of(listings.check_status_move, "draft", "paused") == "status"
    assert listings.event_for(None, {"status": "published"}) == "published"
    assert listings.event_for({"status": "published"}, {"status": "published"}) == "updated"
    assert listings.event_for({"status": "paused"}, {"status": "published"}) == "published"
    assert listings.event_for({"status": "paused"}, {"status": "withdrawn"}) == "withdrawn"


def test_providers_are_verified_suspended_and_reinstated():
    assert provider_move("pending", "verify") == "verified"
    assert provider_move("verified", "suspend") == "suspended"
    assert provider_move("suspended", "verify") == "verified"
    assert provider_move("verified", "verify") == "verified"


def test_chinese_is_found_by_characters_and_bigrams_english_by_words():
    indexed = tokens.index_tokens("爱心午餐 Charity Lunch", "", "清淡")
    assert {"午餐", "爱心", "餐", "charity", "lunch", "清淡"} <= set(indexed)
    assert set(tokens.query_tokens("午餐")) <= set(indexed)
    assert set(tokens.query_tokens("心午餐 LUNCH")) <= set(indexed)
    assert not set(tokens.query_tokens("晚餐")) <= set(indexed)
    assert tokens.query_tokens("饭") == ["饭"] and tokens.query_tokens("  ,. ") == []


def test_a_search_plan_names_the_field_it_cannot_use():
    base = {"radius_m": 5000, "page": 1, "per_page": 20}
    assert field_of(search.plan, {**base, "near": "121.5"}) == "near"
    assert field_of(search.plan, {**base, "near": "200,31"}) == "near"
    assert field_of(search.plan, {**base, "sort": "distance"}) == "sort"
    assert field_of(search.plan, {**base, "min_price": 10, "max_price": 5}) == "max_price"
    assert field_of(search.plan, {**base, "q": "!!"}) == "q"
    plan = search.plan({**base, "near": "121.5,31.1", "open_on": MONDAY})
    assert plan.sort[0] == ("distance_m", 1) and plan.query["open_days"] == 1
    assert plan.query["provider_active"] is True and plan.query["status"] == "published"


def test_a_community_boundary_is_a_closed_ring_around_its_centre():
    square = [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]
    check_boundary({"coordinates": [square]}, {"lng": 1, "lat": 1})
    with pytest.raises(RuleBroken) as outside:
        check_boundary({"coordinates": [square]}, {"lng": 3, "lat": 1})
    assert outside.value.field == "center"
    with pytest.raises(RuleBroken) as open_ring:
        check_boundary({"coordinates": [square[:-1] + [[0, 1]]]}, {"lng": 1, "lat": 1})
    assert open_ring.value.field == "boundary.coordinates.0"


def _place_at(centre: dict, distance_m: float, bearing: float) -> dict:
    """The point `distance_m` from `centre` along a great circle, `bearing` radians east of north."""
    from services.catalog.rules import geo

    lng, lat = (math.radians(x) for x in centre["coordinates"])
    d = distance_m / geo.EARTH_RADIUS_M
    lat2 = math.asin(math.sin(lat) * math.cos(d) + math.cos(lat) * math.sin(d) * math.cos(bearing))
    lng2 = lng + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(lat), math.cos(d) - math.sin(lat) * math.sin(lat2))
    return {"type": "Point", "coordinates": [(math.degrees(lng2) + 540) % 360 - 180, math.degrees(lat2)]}


def _found_by(ranges: list[tuple[str, str, str]], spot: dict, category: str | None) -> bool:
    from services.catalog.rules import geo

    keys = geo.keys_of(spot, category or "errands")
    return any(lo <= keys[field.removeprefix(geo.FIELD + ".")] <= hi for field, lo, hi in ranges)


@pytest.mark.parametrize("lng,lat", [(121.55, 31.18), (0.0, 0.0), (-70.65, -33.45), (25.0, 66.5), (179.99, 52.0),
                                     (-179.998, -12.0), (10.0, 89.7), (-45.0, -89.99)])
def test_the_grid_key_ranges_of_a_near_search_hold_every_place_within_its_radius(lng, lat):
    import random

    from services.catalog.rules import geo

    rng = random.Random(f"{lng},{lat}")
    centre = {"type": "Point", "coordinates": [lng, lat]}
    for radius in (50, 300, 2000, 2600, 8000, 11_000, 50_000):
        for category in (None, "charity_meals"):
            ranges = geo.covering(centre, radius, category)
            rows = {lo.split(":")[0] for _, lo, _ in ranges}
            assert len(rows) <= geo.MAX_ROWS and len(ranges) <= 2 * geo.MAX_ROWS, (radius, len(ranges))
            assert len({field for field, _, _ in ranges}) == 1
            # anywhere inside, and all round the edge, where a cover would first fail
            inside = [(radius * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)) for _ in range(200)]
            edge = [(radius * (1 - 1e-9), 2 * math.pi * i / 720) for i in range(720)]
            for d, bearing in inside + edge:
                spot = _place_at(centre, d, bearing)
                if distance_m(*centre["coordinates"], *spot["coordinates"]) <= radius:
                    assert _found_by(ranges, spot, category), (radius, category, spot)
            # and another category's listings are not in a category search's ranges
            if category:
                assert not _found_by(ranges, centre, "housekeeping")


def test_a_search_asks_for_little_more_than_its_circle():
    from services.catalog.rules import geo

    centre = {"type": "Point", "coordinates": [121.55, 31.18]}
    ranges = geo.covering(centre, 2000, "charity_meals")
    assert 8 <= len(ranges) <= 9 and ranges[0][0] == "geo_keys.g0c"
    cells = sum(int(hi[-5:]) - int(lo[-5:]) + 1 for _, lo, hi in ranges)
    cell_km2 = 0.005 * 111.32 * 0.005 * 111.32 * math.cos(math.radians(31.18))
    assert cells * cell_km2 < 1.6 * math.pi * 2 ** 2   # the grid's cells hold little besides the circle
    assert geo.covering(centre, 50_000)[0][0] == "geo_keys.g2"


def test_only_a_located_findable_listing_has_a_search_place_with_grid_keys():
    from services.catalog.rules import geo

    spot = {"type": "Point", "coordinates": [121.55, 31.18]}
    listing = {"_id": "lst_1", "category": "errands", "status": "published", "provider_active": True,
               "location": spot, "price_fen": 500, "search_tokens": ["跑腿"], "rating": {"average": 4.5, "count": 2}}
    place = search.place_of(listing)
    assert place["geo_keys"] == geo.keys_of(spot, "errands") and place["price_fen"] == 500
    assert place["rating"] == {"average": 4.5, "count": 2} and "status" not in place
    for hidden in ({"status": "draft"}, {"status": "paused"}, {"status": "withdrawn"}, {"provider_active": False},
                   {"location": None}):
        assert search.place_of({**listing, **hidden}) is None, hidden
    assert geo.keys_of(None, "errands") == {}
    keys = geo.keys_of(spot, "errands")
    assert sorted(f"{geo.FIELD}.{name}" for name in keys) == sorted(geo.key_fields())
    assert keys["g0c"] == "errands|" + keys["g0"]
    # 180 degrees east and west are one meridian, so one column
    assert geo.keys_of({"coordinates": [180, 0]}, "x") == geo.keys_of({"coordinates": [-180, 0]}, "x")


def test_distances_are_on_the_sphere():
    one_degree = distance_m(121, 31, 121, 32)
    assert 111_000 < one_degree < 111_500


def test_near_results_are_cut_at_the_radius_and_sorted_like_mongo():
    plan = search.plan({"radius_m": 1000, "near": "121.5,31.1", "sort": "rating"})
    here = {"type": "Point", "coordinates": [121.5, 31.1]}
    near = {"type": "Point", "coordinates": [121.505, 31.1]}
    far = {"type": "Point", "coordinates": [121.52, 31.1]}
    docs = [{"_id": "a", "location": near, "rating": {"average": None, "count": 0}},
            {"_id": "b", "location": here, "rating": {"average": 4.5, "count": 3}},
            {"_id": "c", "location": far, "rating": {"average": 5.0, "count": 1}},
            {"_id": "d", "location": near, "rating": {"average": 4.5, "count": 9}}]
    page, total = search.rank(plan, docs, 0, 20)
    assert total == 3 and [d["_id"] for d in page] == ["d", "b", "a"]
    assert 470 < page[0]["distance_m"] < 480 and page[1]["distance_m"] == 0
    by_distance = search.plan({"radius_m": 1000, "near": "121.5,31.1"})
    assert [d["_id"] for d in search.rank(by_distance, docs, 1, 1)[0]] == ["a"]


def test_every_provider_move_from_every_status_is_the_tables():
    from services.catalog.rules.domain import PROVIDER_MOVES

    expected = {("pending", "verify"): "verified", ("suspended", "verify"): "verified",
                ("verified", "verify"): "verified", ("pending", "suspend"): "suspended",
                ("verified", "suspend"): "suspended", ("suspended", "suspend"): "suspended"}
    for (status, action), target in expected.items():
        assert provider_move(status, action) == target
    for action, (_, _, refusal) in PROVIDER_MOVES.items():
        with pytest.raises(IllegalMove) as refused:
            provider_move("closed", action)
        assert refused.value.current == "closed" and refused.value.message == refusal


FUNDED = [{"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "town", "amount_fen": 1200}]}]
UNFUNDED = [{"tag": "elder70", "resident_pays_fen": 1500, "shares": [{"funder": "town", "amount_fen": 0}]}]
NOW = datetime(2026, 11, 30, 3, tzinfo=timezone.utc)


def test_funders_shares_wait_while_the_deal_in_effect_and_its_price_stay():
    assert listings.funded(FUNDED) and not listings.funded(UNFUNDED) and not listings.funded([])
    # a new listing: its price at once, funded tiers wait
    assert listings.pricing_in_effect(None, 1500, FUNDED, NOW) == {
        "price_fen": 1500, "tiers": [], "proposed_pricing": {"price_fen": 1500, "tiers": FUNDED, "proposed_at": NOW}}
    # tiers costing no funder apply at once and withdraw what waited
    assert listings.pricing_in_effect(None, 1500, UNFUNDED, NOW) == {"price_fen": 1500, "tiers": UNFUNDED,
                                                                    "proposed_pricing": None}
    approved = {"price_fen": 1500, "tiers": FUNDED}
    assert listings.pricing_in_effect(approved, 1500, FUNDED, NOW)["proposed_pricing"] is None  # the deal itself
    richer = [{**FUNDED[0], "shares": [{"funder": "town", "amount_fen": 1500}]}]
    waiting = listings.pricing_in_effect(approved, 1800, richer, NOW)
    assert (waiting["price_fen"], waiting["tiers"], waiting["proposed_pricing"]["price_fen"]) == (1500, FUNDED, 1800)
    # a new price while no funded tiers apply: the new price now, the funded tiers later
    plain = {"price_fen": 1500, "tiers": UNFUNDED}
    assert listings.pricing_in_effect(plain, 1800, richer, NOW)[("price_fen")] == 1800
    assert listings.pricing_in_effect(plain, 1800, richer, NOW)["tiers"] == []
    assert listings.pricing_in_effect(plain, 1500, FUNDED, NOW)["tiers"] == UNFUNDED


def test_an_approval_applies_what_waits_on_the_version_the_coordinator_saw():
    from linli.domain_errors import Conflict

    listing = {"_id": "lst_1", "status": "published", "version": 3, "title": "午餐", "price_fen": 1500, "tiers": [],
               "slots": [], "exceptions": [], "proposed_pricing": {"price_fen": 1500, "tiers": FUNDED,
                                                                  "proposed_at": NOW}}
    after = listings.approved(listing, 3, "acc_lin", NOW)
    assert (after["tiers"], after["version"], after["proposed_pricing"]) == (FUNDED, 4, None)
    assert after["pricing_approved"] == {"by": "acc_lin", "at": NOW, "version": 4}
    with pytest.raises(Conflict) as stale:
        listings.approved(listing, 2, "acc_lin", NOW)
    assert stale.value.code == "listing_changed"
    with pytest.raises(Conflict) as nothing:
        listings.approved(after, 4, "acc_lin", NOW)
    assert nothing.value.code == "nothing_to_approve"
    with pytest.raises(IllegalMove):
        listings.approved({**listing, "status": "withdrawn"}, 3, "acc_lin", NOW)


def test_a_provider_edits_the_price_it_asked_for_not_only_the_one_in_effect():
    listing = {"_id": "lst_1", "status": "published", "version": 2, "title": "午餐", "fulfilment": "on_site",
               "community_ids": ["lianxi"], "price_fen": 1500, "tiers": [], "slots": [], "exceptions": [],
               "proposed_pricing": {"price_fen": 1500, "tiers": FUNDED, "proposed_at": NOW}}
    retitled = listings.edited(listing, {"title": "爱心午餐"}, ["lianxi"], NOW)
    assert retitled["proposed_pricing"]["tiers"] == FUNDED and retitled["tiers"] == []
    # the tiers waiting are checked against the new price, so a price alone that breaks them is refused
    assert field_of(listings.edited, listing, {"price_fen": 1600}, ["lianxi"], NOW) == "tiers.0.shares"
    withdrawn = listings.edited(listing, {"tiers": []}, ["lianxi"], NOW)
    assert withdrawn["proposed_pricing"] is None and withdrawn["tiers"] == []
