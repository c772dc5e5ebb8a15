"""Accounts, refresh tokens, known sign-in addresses and family links (database `<namespace>_gateway`).
Each function is named for its question or its change; `u` is a unit of work (linli.unit)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import outbox
from linli.auth import Principal
from linli.domain_errors import Conflict
from linli.schemas import page_of
from linli.unit import Unit

from ..rules import accounts as rules
from ..rules.signin import KNOWN_ADDRESS_DAYS


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    db.accounts.create_index("username", unique=True)
    db.refresh_tokens.create_index("expires_at", expireAfterSeconds=0)
    db.refresh_tokens.create_index("family")
    db.refresh_tokens.create_index("account_id")
    db.known_addresses.create_index("expires_at", expireAfterSeconds=0)
    db.family_links.create_index([("member_id", 1), ("elder_id", 1)], unique=True)
    db.family_links.create_index("elder_id")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- accounts ---------------------------------------------------------------------------------

def add_account(u: Unit, account: dict) -> dict:
    try:
        u.db.accounts.insert_one(account, session=u.session)
    except DuplicateKeyError:
        raise rules.username_taken()
    return account


def account(u: Unit, account_id: str) -> dict | None:
    return u.db.accounts.find_one({"_id": account_id}, session=u.session)


def account_named(u: Unit, username: str) -> dict | None:
    return u.db.accounts.find_one({"username": username}, session=u.session)


def resident_named(u: Unit, username: str) -> dict | None:
    return u.db.accounts.find_one({"username": username, "role": "resident"}, session=u.session)


def resident_with_phone(u: Unit, community_id: str, phone: str) -> dict | None:
    return u.db.accounts.find_one({"role": "resident", "profile.community_id": community_id,
                                   "profile.phone": phone}, {"name": 1}, session=u.session)


def change_profile(u: Unit, account_id: str, changes: dict) -> dict | None:
    return u.db.accounts.find_one_and_update({"_id": account_id}, {"$set": {f"profile.{k}": v for k, v in changes.items()}},
                                             return_document=ReturnDocument.AFTER, session=u.session)


def set_tags(u: Unit, account_id: str, tags: list[str], checked: str, by: str) -> dict | None:
    return u.db.accounts.find_one_and_update({"_id": account_id}, {
        "$set": {"tags": tags},
        "$push": {"tag_history": {"tags": tags, "checked": checked, "by": by, "at": u.now}}},
        return_document=ReturnDocument.AFTER, session=u.session)


def disable(u: Unit, account_id: str, by: str, reason: str) -> dict | None:
    return u.db.accounts.find_one_and_update({"_id": account_id, "disabled_at": {"$exists": False}}, {
        "$set": {"disabled_at": u.now, "disabled_by": by, "disabled_reason": reason}},
        return_document=ReturnDocument.AFTER, session=u.session)


def disabled_since(db: Database, since: datetime) -> list[str]:
    """Accounts disabled at or after `since` (the gateway refuses their access tokens)."""
    return [a["_id"] for a in db.accounts.find({"disabled_at": {"$gte": since}}, {"_id": 1})]


def residents_page(u: Unit, who: Principal, args: dict) -> tuple[list[dict], dict]:
    """Residents of the communities `who` watches over, by part of their name or phone number (`q`); an admin may
    ask for accounts of another role (`role`: staff have no community in a profile, so an admin sees them all)."""
    role = args.get("role", "resident")
    query: dict = {"role": role, **(who.scope_filter("profile.community_id") if role == "resident" else {})}
    if "q" in args:
        kind, pattern = rules.name_or_phone(args["q"])
        query.update({"profile.phone": {"$regex": pattern}} if kind == "phone" else
                     {"name": {"$regex": pattern, "$options": "i"}})
    return page_of(u.db.accounts, query, args, [("name", 1), ("_id", 1)])


def family_of(u: Unit, account_id: str) -> list[str]:
    """The elders this account has an approved family link to (their ids)."""
    return [link["elder_id"] for link in u.db.family_links.find({"member_id": account_id, "status": "approved"},
                                                                {"elder_id": 1}, session=u.session)]


def relatives(u: Unit, account_id: str) -> list[dict]:
    """The elders this account may order for (approved links), with their eligibility tags and profile (homes)."""
    elder_ids = [link["elder_id"] for link in u.db.family_links.find({"member_id": account_id, "status": "approved"},
                                                                     session=u.session)]
    return list(u.db.accounts.find({"_id": {"$in": elder_ids}}, {"name": 1, "tags": 1, "profile": 1},
                                 session=u.session))


# -- refresh tokens and known addresses --------------------------------------------------------

def add_refresh(u: Unit, token: str, account_id: str, family: str) -> None:
    u.db.refresh_tokens.insert_one({"_id": digest(token), "account_id": account_id, "family": family, "used": False,
                                    "expires_at": u.now + timedelta(days=rules.REFRESH_DAYS)}, session=u.session)


def refresh_record(u: Unit, token: str) -> dict | None:
    return u.db.refresh_tokens.find_one({"_id": digest(token)}, session=u.session)


def spend_refresh(u: Unit, record_id: str) -> bool:
    """Marks a refresh token used; False when it was used already."""
    return u.db.refresh_tokens.update_one({"_id": record_id, "used": False},
                                          {"$set": {"used": True, "used_at": u.now}},
                                          session=u.session).modified_count == 1


def end_refresh_family(u: Unit, family: str) -> None:
    u.db.refresh_tokens.delete_many({"family": family}, session=u.session)


def end_every_session_of(u: Unit, account_id: str) -> None:
    u.db.refresh_tokens.delete_many({"account_id": account_id}, session=u.session)


def remember_address(u: Unit, username: str, address: str) -> None:
    """This account signed in from this address (kept as a hash, for 90 days after the last time)."""
    u.db.known_addresses.update_one({"_id": digest(f"{username.lower()}|{address}")},
                                    {"$set": {"expires_at": u.now + timedelta(days=KNOWN_ADDRESS_DAYS)}},
                                    upsert=True, session=u.session)


def is_known_address(u: Unit, username: str, address: str) -> bool:
    return u.db.known_addresses.find_one({"_id": digest(f"{username.lower()}|{address}")},
                                         session=u.session) is not None


# -- family links -------------------------------------------------------------------------------

def add_link(u: Unit, link: dict) -> dict:
    try:
        u.db.family_links.insert_one(link, session=u.session)
    except DuplicateKeyError:
        raise Conflict("You asked for this link already.")
    return link


def links_of(u: Unit, account_id: str) -> list[dict]:
    return list(u.db.family_links.find({"$or": [{"member_id": account_id}, {"elder_id": account_id}]},
                                       session=u.session))


def link(u: Unit, link_id: str) -> dict | None:
    return u.db.family_links.find_one({"_id": link_id}, session=u.session)


def approve_link(u: Unit, link_id: str, by: str) -> dict | None:
    u.db.family_links.update_one({"_id": link_id, "status": "pending"},
                                 {"$set": {"status": "approved", "approved_by": by, "approved_at": u.now}},
                                 session=u.session)
    return link(u, link_id)


# -- the operator's demo seed -------------------------------------------------------------------

def seed_marker(db: Database) -> dict | None:
    return db.meta.find_one({"_id": "demo_seed"})


def mark_seeded(db: Database, **facts) -> None:
    db.meta.insert_one({"_id": "demo_seed", **facts})
