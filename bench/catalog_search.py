"""Catalog search on a town-sized catalog: 100,000 listings of 2,000 providers over 200 communities.

Asks the catalog's own Flask app (in process, no gateway) "what of this category is near me",
the query a resident's phone makes most, and prints p50 and p99 (the goal: p99 under 50 ms);
then the same in one community, and a word searched town-wide with no place given, which the
embedded server answers only by reading every match (a figure to watch, not a goal).
Prints figures; asserts nothing. `python -m bench.catalog_search [listings]`.
"""
from __future__ import annotations

import gc
import logging
import random
import statistics
import sys
import time

from bench.common import infrastructure
from linli.ids import utcnow
from linli.schemas import point_to_geojson
from services.catalog import store
from services.catalog.rules import listings, search
from services.catalog.rules.domain import CATEGORY_IDS

LISTINGS = 100_000
COMMUNITIES = 200
PROVIDERS_PER_COMMUNITY = 10
QUERIES = 100
ORIGIN = (121.30, 31.00)      # south-west corner of a 200-community grid around Pudong
STEP = 0.02                   # about 2 km between community centres
WORDS = ["爱心午餐", "家常菜", "上门维修", "空调清洗", "保洁", "健康咨询", "跑腿代购", "理发", "lunch", "repair"]


def _centre(i: int) -> tuple[float, float]:
    return ORIGIN[0] + (i % 20) * STEP, ORIGIN[1] + (i // 20) * STEP


def _jitter(rng: random.Random, lng: float, lat: float) -> dict:
    return {"lng": lng + rng.uniform(-0.008, 0.008), "lat": lat + rng.uniform(-0.008, 0.008)}


def seed(db, n_listings: int, rng: random.Random) -> None:
    now = utcnow()
    communities = [{"_id": f"c{i:03d}", "name": f"社区 {i}", "center": point_to_geojson(dict(zip(("lng", "lat"),
                                                                                         _centre(i)))),
                    "timezone": "Asia/Shanghai", "boundary": None} for i in range(COMMUNITIES)]
    db.communities.insert_many(communities)
    providers = []
    for i in range(COMMUNITIES * PROVIDERS_PER_COMMUNITY):
        home = i // PROVIDERS_PER_COMMUNITY
        served = [f"c{home:03d}"] + [f"c{(home + d) % COMMUNITIES:03d}" for d in (1, 20)]
        providers.append({"_id": f"prv{i:05d}", "owner_id": f"acc{i:05d}", "name": f"商户 {i}", "kind": "merchant",
                          "phone": "021 0000 0000", "address": "x", "community_ids": served, "status": "verified",
                          "location": point_to_geojson(_jitter(rng, *_centre(home))),
                          "rating": {"average": round(rng.uniform(3, 5), 2), "count": rng.randint(1, 200)}})
    db.providers.insert_many(providers)
    batch = []
    for i in range(n_listings):
        provider = providers[i % len(providers)]
        body = {"title": f"{rng.choice(WORDS)} {i}", "description": rng.choice(WORDS),
                "category": rng.choice(CATEGORY_IDS), "fulfilment": "on_site", "price_fen": rng.randint(0, 20_000),
                "unit": "visit", "community_ids": provider["community_ids"][:1], "max_quantity": 5,
                "slots": [{"name": "day", "start": "09:00", "end": "17:00", "capacity": 10,
                           "days": sorted(rng.sample(range(1, 8), 5))}], "status": "published"}
        batch.append(listings.new_listing(body, listing_id=f"lst{i:06d}", provider=provider,
                                          timezone="Asia/Shanghai", now=now))
        if len(batch) == 5_000 or i == n_listings - 1:
            db.listings.insert_many(batch)
            db.search_places.insert_many([place for place in map(search.place_of, batch) if place])
            batch = []


def main(n_listings: int = LISTINGS) -> None:
    rng = random.Random(7)
    with infrastructure():
        from services.catalog.app import create_app

        app = create_app()  # creates the indexes
        logging.getLogger("catalog.access").setLevel(logging.WARNING)  # one line per request would drown the figures
        db = store.database()
        started = time.perf_counter()
        seed(db, n_listings, rng)
        print(f"seeded {n_listings:,} listings of {COMMUNITIES * PROVIDERS_PER_COMMUNITY:,} providers over "
              f"{COMMUNITIES} communities in {time.perf_counter() - started:.0f} s")
        # The database writes the seeded 100,000 listings out at its next checkpoint (every 60 s), which
        # slowed whichever searches it met by a third; a town's catalog changes a few listings at a time.
        db.client.admin.command("fsync")
        client = app.test_client()
        gc.collect()
        gc.freeze()  # as every gunicorn worker does once the app is loaded (deploy/gunicorn.conf.py)
        near = "near={lng:.5f},{lat:.5f}&radius_m=2000&category={category}"
        for name, query, queries in (
                ("near me + category, by distance", near, QUERIES),
                ("near me + category, by rating", near + "&sort=rating", QUERIES),
                ("near me + category + q=维修", near + "&q=%E7%BB%B4%E4%BF%AE", QUERIES),
                ("one community + category, newest first", "community={community}&category={category}", QUERIES),
                ("town-wide q=维修, no place given", "q=%E7%BB%B4%E4%BF%AE", 3)):
            samples, found = [], []
            warmup = min(20, queries)  # the first few warm the caches
            for n in range(queries + warmup):
                home = rng.randrange(COMMUNITIES)
                lng, lat = _centre(home)
                url = ("/api/v1/catalog/listings?" + query.format(lng=lng, lat=lat, category=rng.choice(CATEGORY_IDS),
                                                                  community=f"c{home:03d}") + "&per_page=20")
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, response.get_json()
                if n >= warmup:
                    samples.append(elapsed)
                    found.append(response.get_json()["total"])
            ordered = sorted(samples)
            print(f"{name}: p50 {statistics.median(ordered):.1f} ms, p99 {ordered[int(0.99 * len(ordered))]:.1f} ms "
                  f"(n={len(ordered)}, {statistics.mean(found):,.0f} matches on average, 20 a page)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else LISTINGS)
