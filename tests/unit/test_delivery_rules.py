"""Who may see a resident's address, when a volunteer is on shift, and what hours are credited."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.delivery.rules import domain, hours

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc)  # a Tuesday, 11:00 in Shanghai


def _task(status, volunteer_id="v1", delivered_at=None):
    return {"status": status, "volunteer_id": volunteer_id, "delivered_at": delivered_at}


def test_only_the_assigned_volunteer_sees_the_address_from_acceptance_until_an_hour_after_hand_over():
    assert not domain.address_visible(_task("offered", volunteer_id=None), "v1", "volunteer", NOW)
    assert domain.address_visible(_task("assigned"), "v1", "volunteer", NOW)
    assert domain.address_visible(_task("welfare_check"), "v1", "volunteer", NOW)
    assert not domain.address_visible(_task("assigned"), "v2", "volunteer", NOW)
    assert domain.address_visible(_task("delivered", delivered_at=NOW - timedelta(minutes=59)), "v1", "volunteer", NOW)
    assert not domain.address_visible(_task("delivered", delivered_at=NOW - timedelta(minutes=61)), "v1", "volunteer", NOW)
    assert not domain.address_visible(_task("failed"), "v1", "volunteer", NOW)
    assert domain.address_visible(_task("offered", volunteer_id=None), None, "coordinator", NOW)
    assert not domain.address_visible(_task("assigned"), None, "resident", NOW)


def test_shifts_are_weekly_local_times_and_none_means_any_time():
    assert domain.on_shift([], NOW)
    tuesday_morning = [{"weekday": 1, "start": "09:00", "end": "12:00"}]
    assert domain.on_shift(tuesday_morning, NOW)
    assert not domain.on_shift(tuesday_morning, NOW + timedelta(hours=1))
    assert not domain.on_shift([{"weekday": 2, "start": "09:00", "end": "12:00"}], NOW)


def test_minutes_run_from_acceptance_to_hand_over_and_are_capped():
    assert domain.served_minutes(NOW, NOW + timedelta(minutes=25, seconds=50)) == 25
    assert domain.served_minutes(NOW, NOW + timedelta(seconds=10)) == 1
    assert domain.served_minutes(NOW, NOW + timedelta(hours=9)) == domain.MAX_CREDITED_MINUTES


def _trip(task_id: str) -> dict:
    return {"_id": task_id, "dropoff": {"community_id": "lianxi", "building": "12"}}


def test_an_entry_is_dated_in_local_time_and_months_add_up():
    late = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)  # already 1 December in Shanghai
    entry = hours.entry(_trip("t1"), "v1", 30, late)
    assert (entry["date"], entry["month"], entry["_id"]) == ("2026-12-01", "2026-12", "hrs:t1")
    assert entry["community_id"] == "lianxi", "minutes belong to the community served: its coordinator sees them"
    entries = [entry, hours.entry(_trip("t2"), "v1", 12, late), hours.entry(_trip("t3"), "v2", 40, late)]
    assert hours.month_totals(entries) == {"v1": {"volunteer_id": "v1", "minutes": 42, "tasks": 2},
                                           "v2": {"volunteer_id": "v2", "minutes": 40, "tasks": 1}}


def test_the_csv_names_volunteers_as_the_committee_knows_them():
    text = hours.csv_text([hours.entry(_trip("t1"), "v1", 30, NOW), hours.entry(_trip("t2"), "v2", 12, NOW)],
                          {"v1": "小张 Xiao Zhang", "v2": "=HYPERLINK(\"http://x\")"})
    assert text.startswith("\ufeff"), "Excel and WPS need the byte-order mark to read Chinese names"
    assert text[1:].splitlines() == ["volunteer,date,task,minutes", "小张 Xiao Zhang,2026-11-24,t1,30",
                                     "\"'=HYPERLINK(\"\"http://x\"\")\",2026-11-24,t2,12"]
