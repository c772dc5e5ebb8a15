"""Accounts, passwords and refresh tokens (database `<namespace>_gateway`)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod
from linli.ids import new_id, new_uuid, utcnow
from linli.web import ensure_idempotency_index

SERVICE = "gateway"
SELF_SERVICE_ROLES = ("resident", "provider", "volunteer")
REFRESH_DAYS = 30

# OWASP's argon2id minimum: 19 MiB, t=2, p=1 (about 43 ms here; the library default takes ~187 ms)
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("timing-equaliser")


class UsernameTaken(Exception):
    pass


class RefreshRefused(Exception):
    pass


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    db.accounts.create_index("username", unique=True)
    db.refresh_tokens.create_index("expires_at", expireAfterSeconds=0)
    db.refresh_tokens.create_index("family")
    db.family_links.create_index([("member_id", 1), ("elder_id", 1)], unique=True)
    db.family_links.create_index("elder_id")
    ensure_idempotency_index(db)


ELIGIBILITY_TAGS = ("elder70", "low_income", "living_alone", "disabled")


def create(db: Database, username: str, password: str, name: str, role: str,
           communities: tuple[str, ...] = ()) -> dict:
    account = {"_id": new_id("acc"), "username": username, "password_hash": _hasher.hash(password), "name": name,
               "role": role, "tags": [], "communities": list(communities), "profile": {}, "created_at": utcnow()}
    try:
        db.accounts.insert_one(account)
    except DuplicateKeyError:
        raise UsernameTaken(username)
    return account


def enrol(db: Database, name: str, profile: dict, by: str, username: str | None = None) -> dict:
    """A resident the residents' committee signs up: an elder without a smartphone. The account has no password,
    so nobody signs in as the elder; the committee, and family members it approves, order for them."""
    account_id = new_id("acc")
    account = {"_id": account_id, "username": username or account_id, "password_hash": None, "name": name,
               "role": "resident", "tags": [], "communities": [], "profile": profile, "enrolled_by": by,
               "created_at": utcnow()}
    try:
        db.accounts.insert_one(account)
    except DuplicateKeyError:
        raise UsernameTaken(account["username"])
    return account


def authenticate(db: Database, username: str, password: str) -> dict | None:
    account = db.accounts.find_one({"username": username})
    try:
        # an enrolled elder has no password: the dummy keeps the answer as slow as for anyone else
        _hasher.verify((account or {}).get("password_hash") or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh(db: Database, account_id: str, family: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    db.refresh_tokens.insert_one({"_id": _digest(token), "account_id": account_id, "family": family or new_uuid(),
                                  "used": False, "expires_at": utcnow() + timedelta(days=REFRESH_DAYS)})
    return token


def revoke_refresh(db: Database, token: str) -> bool:
    """Signs out: the token's whole family stops working."""
    record = db.refresh_tokens.find_one({"_id": _digest(token)})
    if record is None:
        return False
    db.refresh_tokens.delete_many({"family": record["family"]})
    return True


def relatives(db: Database, account_id: str) -> list[dict]:
    """The elders this account may order for (approved links), with their eligibility tags."""
    elder_ids = [link["elder_id"] for link in db.family_links.find({"member_id": account_id, "status": "approved"})]
    return list(db.accounts.find({"_id": {"$in": elder_ids}}, {"name": 1, "tags": 1}))


def rotate_refresh(db: Database, token: str) -> tuple[str, str]:
    """Spends a refresh token for a new one; a token used twice revokes its whole family."""
    record = db.refresh_tokens.find_one({"_id": _digest(token)})
    if record is None or record["expires_at"] <= utcnow():
        raise RefreshRefused("unknown or expired")
    if db.refresh_tokens.update_one({"_id": record["_id"], "used": False},
                                    {"$set": {"used": True, "used_at": utcnow()}}).modified_count == 0:
        db.refresh_tokens.delete_many({"family": record["family"]})
        raise RefreshRefused("reused")
    return record["account_id"], issue_refresh(db, record["account_id"], record["family"])
