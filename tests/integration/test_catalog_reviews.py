"""Reviews on the real database: who may review whom after a completed order, blind until both sides wrote
(or 7 days passed), one reply, and the provider's scorecard and score in search."""
from __future__ import annotations

from datetime import timedelta

from linli.consumer import apply_once
from linli.unit import Units
from linli.events import make_envelope
from linli.ids import iso, utcnow
from services.catalog import handlers
from tests.integration.test_catalog_api import As, cat, lunch  # noqa: F401 (the fixture)


def _feed(db, event_type: str, data: dict, at=None) -> None:
    envelope = make_envelope(event_type, data, "orders")
    if at is not None:
        envelope["occurred_at"] = iso(at)
    apply_once(Units(db, "catalog"), "catalog", envelope, handlers.HANDLERS[event_type])


def _completed(cat, order_id: str, provider_id: str, listing_id: str, *, resident="acc_res", volunteer="vol_1",
               paid_at=None, answer_minutes=10, answer_within=timedelta(minutes=30), completed_at=None):
    paid_at = paid_at or utcnow() - timedelta(hours=3)
    _paid(cat, order_id, provider_id, listing_id, resident, paid_at, answer_within)
    _feed(cat.db, "orders.order.accepted", {"order_id": order_id, "provider_id": provider_id},
          at=paid_at + timedelta(minutes=answer_minutes))
    completed = {"order_id": order_id, "resident_id": resident, "provider_id": provider_id, "listing_id": listing_id,
                 "volunteer_id": volunteer}
    _feed(cat.db, "orders.order.completed", completed, at=completed_at or utcnow() - timedelta(hours=1))
    _feed(cat.db, "orders.order.completed", completed)  # a second completion report changes nothing


def _paid(cat, order_id: str, provider_id: str, listing_id: str, resident: str, paid_at,
          answer_within=timedelta(minutes=30)) -> None:
    _feed(cat.db, "orders.order.paid", {
        "order_id": order_id, "resident_id": resident, "provider_id": provider_id, "listing_id": listing_id,
        "fulfilment": "delivered", "amount_fen": 1500, "slot_start": iso(paid_at), "slot_end": iso(paid_at),
        "pickup": {"name": "x", "address": "x", "location": {"lng": 121.5, "lat": 31.1}},
        "dropoff": {"community_id": "lianxi", "building": "1", "room": "1", "phone": "1", "contact_name": "x",
                    "location": {"lng": 121.5, "lat": 31.1}},
        "items": [{"title": "lunch", "quantity": 1}], "pickup_code": "1", "handover_code": "2",
        "answer_by": iso(paid_at + answer_within)}, at=paid_at)


def test_reviews_are_blind_until_both_sides_write_and_then_score_the_provider(cat):
    canteen = cat.provider("acc_canteen")
    listing = canteen.post("/listings", lunch())
    provider_id = canteen.profile["id"]
    unknown = cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_provider", "stars": 5},
                                expect=404)
    assert unknown["error"]["code"] == "not_found"
    _paid(cat, "ord_1", provider_id, listing["id"], "acc_res", utcnow() - timedelta(hours=3))
    too_soon = cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_provider", "stars": 5},
                                 expect=409)
    assert too_soon["error"]["code"] == "not_completed"
    # a stranger learns nothing of an order not theirs, completed or not: the same answer as no order at all
    nosy = As(cat.http, "acc_nosy", "resident")
    assert nosy.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_provider", "stars": 1},
                     expect=404) == unknown
    _completed(cat, "ord_1", provider_id, listing["id"], answer_minutes=10)

    mine = cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_provider", "stars": 2,
                                          "text": "汤是凉的 the soup was cold", "tags": ["cold"]})
    assert mine["subject_id"] == provider_id
    cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_volunteer", "stars": 5})
    again = cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_provider", "stars": 5},
                              expect=409)
    assert again["error"]["code"] == "already_reviewed"
    stranger = As(cat.http, "acc_other", "resident")
    assert stranger.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_volunteer", "stars": 1},
                         expect=404)
    assert cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "provider_to_resident", "stars": 1},
                             expect=403)
    assert "stars" in cat.resident.post("/reviews", {"order_id": "ord_1", "direction": "resident_to_provider",
                                                     "stars": 6}, expect=422)["error"]["details"]

    # blind: the provider cannot see the resident's verdict before writing its own
    assert cat.anyone.get(f"/providers/{provider_id}/reviews")["total"] == 0
    assert cat.anyone.get(f"/providers/{provider_id}/scorecard")["count"] == 0
    canteen.post("/reviews", {"order_id": "ord_1", "direction": "provider_to_resident", "stars": 4,
                              "text": "polite, was home on time"})
    shown = cat.anyone.get(f"/providers/{provider_id}/reviews")
    assert [r["text"] for r in shown["items"]] == ["汤是凉的 the soup was cold"]

    card = cat.anyone.get(f"/providers/{provider_id}/scorecard")
    assert {k: card[k] for k in ("count", "average", "good", "neutral", "bad", "completed_orders")} == \
        {"count": 1, "average": 2.0, "good": 0, "neutral": 0, "bad": 1, "completed_orders": 1}
    assert card["last_30_days"]["bad"] == 1
    assert (card["answered_in_time_share"], card["median_answer_minutes"]) == (1.0, 10.0)
    assert cat.anyone.get("/listings?community=lianxi")["items"][0]["provider_score"] == {"average": 2.0, "count": 1}

    replied = canteen.post(f"/reviews/{mine['id']}/reply", {"text": "对不起 sorry, we bought new boxes"}, expect=200)
    assert replied["reply"]["text"].startswith("对不起")
    assert canteen.post(f"/reviews/{mine['id']}/reply", {"text": "again"}, expect=409)["error"]["code"] == \
        "already_replied"
    other_canteen = cat.provider("acc_other_canteen")
    assert other_canteen.post(f"/reviews/{mine['id']}/reply", {"text": "x"}, expect=404)

    posted = [e["envelope"]["data"] for e in cat.db.outbox.find({"type": "catalog.review.posted"}).sort("seq")]
    assert [(e["direction"], e["subject_id"]) for e in posted] == [
        ("resident_to_provider", provider_id), ("resident_to_volunteer", "vol_1"),
        ("provider_to_resident", "acc_res")]


def test_a_review_nobody_answers_shows_after_seven_days_and_slow_answers_count_against_the_provider(cat):
    canteen = cat.provider("acc_canteen")
    listing = canteen.post("/listings", lunch())
    provider_id = canteen.profile["id"]
    _completed(cat, "ord_old", provider_id, listing["id"], paid_at=utcnow() - timedelta(days=8, hours=2),
               answer_minutes=45, completed_at=utcnow() - timedelta(days=6, hours=23))
    _completed(cat, "ord_new", provider_id, listing["id"], answer_minutes=5)
    cat.resident.post("/reviews", {"order_id": "ord_old", "direction": "resident_to_provider", "stars": 4})
    assert cat.anyone.get(f"/providers/{provider_id}/scorecard")["count"] == 0

    Units(cat.db, "catalog", lambda: utcnow() + timedelta(hours=2)).run(handlers.reveal_reviews)  # the worker's timer, two hours later
    assert cat.anyone.get(f"/providers/{provider_id}")["rating"] == {"average": 4.0, "count": 1}
    card = cat.anyone.get(f"/providers/{provider_id}/scorecard")
    assert (card["completed_orders"], card["answered_orders"], card["answered_in_time_share"],
            card["median_answer_minutes"]) == (2, 2, 0.5, 25.0)
    nobody = cat.anyone.post("/reviews", {"order_id": "ord_new", "direction": "resident_to_provider", "stars": 4},
                             expect=401)
    assert nobody["error"]["code"] == "unauthenticated"
    no_volunteer = "ord_on_site"
    _completed(cat, no_volunteer, provider_id, listing["id"], volunteer=None)
    refused = cat.resident.post("/reviews", {"order_id": no_volunteer, "direction": "resident_to_volunteer",
                                             "stars": 5}, expect=422)
    assert "direction" in refused["error"]["details"]
