"""Served hours: credited at hand-over, corrected only by a coordinator with a reason kept in the
entry's trail, totalled by month, exported as CSV for the residents' committee; and the
volunteer's average rating from the residents' reviews that catalog has made visible."""
from __future__ import annotations

import csv
import io

from datetime import timedelta

from linli.ids import new_uuid, utcnow
from services.delivery import handlers
from services.delivery.rules import domain

from tests.integration.test_delivery_town import near_canteen, town  # noqa: F401  (fixture)


def _deliver(town, who):
    task = town.order()
    [offer] = town.offers(who)
    town.call("POST", f"/offers/{offer['id']}/accept", who)
    town.call("POST", f"/tasks/{task['_id']}/pickup", who, {"code": "246810"})
    return town.call("POST", f"/tasks/{task['_id']}/deliver", who, {"code": "1357"})


def test_hours_are_credited_corrected_with_a_reason_and_exported(town):
    zhang_id, zhang = town.volunteer("Xiao Zhang", near_canteen(100))
    _, zhao = town.volunteer("Xiao Zhao", near_canteen(5000))
    first, second = _deliver(town, zhang), _deliver(town, zhang)
    month = domain.local_date(utcnow())[:7]

    mine = town.call("GET", f"/hours?month={month}", zhang)
    assert [t["minutes"] for t in mine["totals"]] == [first["minutes"] + second["minutes"]]
    assert {e["task_id"] for e in mine["entries"]} == {first["id"], second["id"]}
    assert town.call("GET", f"/hours?month={month}", zhao)["entries"] == []
    assert "month" in town.call("GET", "/hours?month=2026-13", zhang, expect=422)["error"]["details"]

    entry_id = f"hrs:{first['id']}"
    town.call("POST", f"/hours/{entry_id}/corrections", zhang, {"minutes": 600, "reason": "I stayed to chat"},
              expect=403)
    unexplained = town.call("POST", f"/hours/{entry_id}/corrections", town.coordinator, {"minutes": 45}, expect=422)
    assert "reason" in unexplained["error"]["details"]
    corrected = town.call("POST", f"/hours/{entry_id}/corrections", town.coordinator,
                          {"minutes": 45, "reason": "helped her carry the rice upstairs; confirmed by phone"})
    assert corrected["minutes"] == 45 and corrected["credited_minutes"] == first["minutes"]
    [trail] = corrected["corrections"]
    assert (trail["from"], trail["to"], trail["by_name"]) == (first["minutes"], 45, "林主任")
    assert town.call("GET", "/volunteers/me", zhang)["served_minutes"] == 45 + second["minutes"]

    board = town.call("GET", f"/hours?month={month}", town.coordinator)
    assert board["totals"] == [{"volunteer_id": zhang_id, "name": "Xiao Zhang", "minutes": 45 + second["minutes"],
                                "tasks": 2}]
    exported = town.call("GET", f"/hours/export?month={month}", town.coordinator)
    assert exported.startswith("\ufeff")  # Excel and WPS read the names right only with the byte-order mark
    rows = list(csv.DictReader(io.StringIO(exported.removeprefix("\ufeff"))))
    assert {(r["volunteer"], r["task"], int(r["minutes"])) for r in rows} == {
        ("Xiao Zhang", first["id"], 45), ("Xiao Zhang", second["id"], second["minutes"])}
    assert town.call("GET", f"/hours/export?month={month}", zhang, expect=403)["error"]["code"] == "forbidden"


def _review(town, volunteer_id: str, stars: int, shown_in: timedelta, direction="resident_to_volunteer",
            order_id: str | None = None):
    data = {"order_id": order_id or f"ord_{new_uuid()}", "review_id": new_uuid(), "direction": direction, "author_id": "res_1",
            "subject_id": volunteer_id, "stars": stars, "tags": [], "visible_from": (utcnow() + shown_in).isoformat()}
    town.event("catalog.review.posted", data, handlers.on_review_posted)
    return data


def test_the_average_rating_counts_each_shown_review_of_the_volunteer_once(town):
    volunteer_id, who = town.volunteer("v", near_canteen(100))
    assert town.call("GET", "/volunteers/me", who)["rating"] == {"count": 0, "average": None}
    shown = _review(town, volunteer_id, 5, timedelta(minutes=-1))
    town.event("catalog.review.posted", shown, handlers.on_review_posted)  # the same review again
    _review(town, volunteer_id, 4, timedelta(minutes=-1))
    _review(town, volunteer_id, 1, timedelta(days=7))  # still blind
    _review(town, volunteer_id, 1, timedelta(minutes=-1), direction="resident_to_provider")
    assert town.call("GET", "/volunteers/me", who)["rating"] == {"count": 2, "average": 4.5}
    # the committee's list reads the same, beside another volunteer with a review of their own
    other_id, _ = town.volunteer("w", near_canteen(150))
    _review(town, other_id, 2, timedelta(minutes=-1))
    listed = {v["id"]: v["rating"] for v in town.call("GET", "/volunteers?per_page=50", town.coordinator)["items"]}
    assert listed[volunteer_id] == {"count": 2, "average": 4.5} and listed[other_id] == {"count": 1, "average": 2.0}


def test_a_blind_review_of_the_volunteer_shows_as_soon_as_the_other_side_of_the_order_writes(town):
    volunteer_id, who = town.volunteer("v", near_canteen(100))
    _review(town, volunteer_id, 3, timedelta(days=7), order_id="ord_both")
    assert town.call("GET", "/volunteers/me", who)["rating"]["count"] == 0, "blind while only the resident wrote"
    _review(town, "res_1", 5, timedelta(minutes=-1), direction="provider_to_resident", order_id="ord_both")
    assert town.call("GET", "/volunteers/me", who)["rating"] == {"count": 1, "average": 3.0}
