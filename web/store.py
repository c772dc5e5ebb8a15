"""Everything web/ keeps, in its own `<ns>_web` database: server-side sessions (the cookie holds only a
random id; the access and refresh tokens stay here) and each person's preferences (language, elder mode).
No business data lives here."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from pymongo import ReturnDocument
from pymongo.database import Database

from linli.config import settings
from linli.db import client

SESSION_DAYS = 30  # sliding: every visit extends it, so nobody is timed out while using the pages
REFRESH_CLAIM = timedelta(seconds=10)


def database() -> Database:
    return client()[settings().db_name("web")]


def prepare(db: Database) -> None:
    db.sessions.create_index("expires_at", expireAfterSeconds=0)


def secret_key(db: Database) -> bytes:
    """Signs the CSRF tokens: one random key shared by every worker and copy, made by whichever starts first
    (kept here rather than in a file: the containers' key volume is read-only)."""
    db.meta.update_one({"_id": "secret_key"}, {"$setOnInsert": {"value": secrets.token_hex(32)}}, upsert=True)
    return db.meta.find_one({"_id": "secret_key"})["value"].encode()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def load_session(db: Database, sid: str) -> dict | None:
    doc = db.sessions.find_one({"_id": sid})
    if doc is None or doc["expires_at"].replace(tzinfo=timezone.utc) < _now():
        return None
    return doc


def save_session_data(db: Database, sid: str, data: dict) -> None:
    """Only the Flask session's own data (CSRF token, messages): the tokens are written by their own calls,
    so a slow request cannot put back tokens another request has already renewed."""
    db.sessions.update_one({"_id": sid}, {"$set": {"data": data, "expires_at": _now() + timedelta(days=SESSION_DAYS)}},
                           upsert=True)


TOUCH_EVERY = timedelta(hours=1)  # a session's expiry slides at most once an hour: not one write per page


def touch_session(db: Database, sid: str, expires_at: datetime | None = None) -> None:
    """Slides the session's expiry to SESSION_DAYS from now, unless it was slid within the last TOUCH_EVERY."""
    fresh = _now() + timedelta(days=SESSION_DAYS)
    if expires_at is not None and expires_at.replace(tzinfo=timezone.utc) > fresh - TOUCH_EVERY:
        return
    db.sessions.update_one({"_id": sid}, {"$set": {"expires_at": fresh}})


def sign_in(db: Database, sid: str, tokens: dict, account: dict) -> None:
    db.sessions.update_one({"_id": sid}, {"$set": {
        "tokens": _tokens(tokens), "account": {"id": account["id"], "role": account["role"], "name": account["name"]},
        "expires_at": _now() + timedelta(days=SESSION_DAYS)}}, upsert=True)


def _tokens(tokens: dict) -> dict:
    return {"access": tokens["access_token"], "refresh": tokens["refresh_token"],
            "access_until": _now() + timedelta(seconds=int(tokens.get("expires_in", 900)) - 30)}


def forget_session(db: Database, sid: str) -> None:
    db.sessions.delete_one({"_id": sid})


def sign_out(db: Database, sid: str) -> dict | None:
    """Forgets the tokens; returns them so that the refresh token can be revoked at the gateway."""
    doc = db.sessions.find_one_and_update({"_id": sid}, {"$unset": {"tokens": "", "account": ""}})
    return (doc or {}).get("tokens")


def claim_refresh(db: Database, sid: str, spent_refresh: str) -> bool:
    """One request at a time renews a session's tokens (a refresh token works once: a second use would end the
    whole session)."""
    now = _now()
    return db.sessions.find_one_and_update(
        {"_id": sid, "tokens.refresh": spent_refresh,
         "$or": [{"refreshing_until": {"$exists": False}}, {"refreshing_until": {"$lt": now}}]},
        {"$set": {"refreshing_until": now + REFRESH_CLAIM}}, return_document=ReturnDocument.AFTER) is not None


def renewed(db: Database, sid: str, tokens: dict) -> None:
    db.sessions.update_one({"_id": sid}, {"$set": {"tokens": _tokens(tokens)}, "$unset": {"refreshing_until": ""}})


def release_refresh(db: Database, sid: str) -> None:
    db.sessions.update_one({"_id": sid}, {"$unset": {"refreshing_until": ""}})


def preferences(db: Database, account_id: str) -> dict:
    return db.preferences.find_one({"_id": account_id}) or {}


def set_preference(db: Database, account_id: str, **values) -> None:
    db.preferences.update_one({"_id": account_id}, {"$set": values}, upsert=True)
