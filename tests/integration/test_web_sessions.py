"""The pages' server-side session slides its expiry as the person uses the pages, but writes it at most once an
hour: reading a page is not a database write each time (bench/pages.py)."""
from __future__ import annotations

from datetime import timedelta

from web import store


def test_a_session_in_use_slides_its_expiry_at_most_once_an_hour(mongo_env):
    db = store.database()
    store.sign_in(db, "sid-1", {"access_token": "a", "refresh_token": "r", "expires_in": 900,
                                "account": {"id": "acc_1", "role": "resident", "name": "王阿姨"}},
                  {"id": "acc_1", "role": "resident", "name": "王阿姨"})
    fresh = store.load_session(db, "sid-1")["expires_at"]

    # a page read a minute later: the expiry is almost as far away as it can be, so nothing is written
    db.sessions.update_one({"_id": "sid-1"}, {"$set": {"expires_at": fresh - timedelta(minutes=1)}})
    before = store.load_session(db, "sid-1")["expires_at"]
    store.touch_session(db, "sid-1", before)
    assert store.load_session(db, "sid-1")["expires_at"] == before

    # two hours later: slid forward again, to 30 days from now
    db.sessions.update_one({"_id": "sid-1"}, {"$set": {"expires_at": fresh - timedelta(hours=2)}})
    old = store.load_session(db, "sid-1")["expires_at"]
    store.touch_session(db, "sid-1", old)
    slid = store.load_session(db, "sid-1")["expires_at"]
    assert slid - old > timedelta(hours=1, minutes=59)
    assert store.load_session(db, "sid-1") is not None
