"""Notify's MongoDB access (database `<namespace>_notify`): every database call of the service.

- read model: `people` (from the gateway's account events, plus each person's own preferences and
  WeChat grants), `providers` (provider -> owner account), `volunteers` (volunteer -> account),
  `orders` (an order's resident, provider, community and title), `offers` (who was offered a task);
- `messages`: one per (event, notice, recipient), numbered by one counter in the same transaction,
  so that numbers are committed in order: the live stream reads "everything after n" and misses nothing;
- `sends`: one per (message, outside channel), claimed by the sender with a lease, retried, and
  dead-lettered when it keeps failing;
- `stream_tickets`: one-use tickets that open a live stream without a token in the URL (the pages), kept
  by their SHA-256 only, removed when used (and by a TTL index when not).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from linli import db as dbmod
from linli import outbox
from linli.unit import Unit

SERVICE = "notify"
PERSON_FIELDS = ("role", "name", "language", "phone", "community_id", "communities", "family_of", "signs_in",
                 "wechat_openid", "time_zone", "disabled")


def database() -> Database:
    return dbmod.database(SERVICE)


def prepare(db: Database) -> None:
    outbox.ensure_indexes(db)
    db.people.create_index("family_of")
    db.people.create_index([("role", ASCENDING), ("communities", ASCENDING)])
    db.offers.create_index("task_id")
    db.messages.create_index("key", unique=True)
    db.messages.create_index("seq", unique=True)
    db.messages.create_index([("recipient", ASCENDING), ("seq", DESCENDING)])
    db.messages.create_index([("recipient", ASCENDING), ("read_at", ASCENDING)])
    db.sends.create_index([("status", ASCENDING), ("next_at", ASCENDING)])
    db.stream_tickets.create_index("expires_at", expireAfterSeconds=0)


# -- the read model --------------------------------------------------------------------------

def save_person(u: Unit, account: dict) -> None:
    """The gateway's picture of an account; its channels and quiet hours only where the person set none here."""
    fields = {k: account.get(k) for k in PERSON_FIELDS}
    fields["updated_at"] = u.now
    gateway_prefs = {"channels": account.get("channels"), "quiet_hours": account.get("quiet_hours")}
    u.db.people.update_one({"_id": account["account_id"]},
                           {"$set": {**fields, "gateway_prefs": gateway_prefs}}, upsert=True, session=u.session)


def person(u: Unit, account_id: str) -> dict | None:
    doc = u.db.people.find_one({"_id": account_id}, session=u.session)
    if doc is None:
        return None
    prefs = {**(doc.get("gateway_prefs") or {}), **{k: v for k, v in (doc.get("own_prefs") or {}).items()}}
    return {**doc, "channels": prefs.get("channels"), "quiet_hours": prefs.get("quiet_hours")}


def family_of(u: Unit, elder_id: str) -> list[str]:
    return [d["_id"] for d in u.db.people.find({"family_of": elder_id}, {"_id": 1}, session=u.session)]


def coordinators_of(u: Unit, community_id: str) -> list[str]:
    return [d["_id"] for d in u.db.people.find({"role": "coordinator", "communities": community_id}, {"_id": 1},
                                                session=u.session)]


def set_preferences(u: Unit, account_id: str, prefs: dict) -> None:
    u.db.people.update_one({"_id": account_id}, {"$set": {f"own_prefs.{k}": v for k, v in prefs.items()}},
                           upsert=True, session=u.session)


def add_wechat_grant(u: Unit, account_id: str, template_id: str) -> int:
    doc = u.db.people.find_one_and_update({"_id": account_id}, {"$inc": {f"wechat_grants.{template_id}": 1}},
                                          upsert=True, return_document=ReturnDocument.AFTER, session=u.session)
    return doc["wechat_grants"][template_id]


def use_wechat_grant(u: Unit, account_id: str, template_id: str) -> bool:
    """Spends one one-time subscription; False if none was left."""
    key = f"wechat_grants.{template_id}"
    done = u.db.people.update_one({"_id": account_id, key: {"$gt": 0}}, {"$inc": {key: -1}}, session=u.session)
    return done.modified_count == 1


def save_provider(u: Unit, provider_id: str, owner_id: str, name: str) -> None:
    u.db.providers.update_one({"_id": provider_id}, {"$set": {"owner_id": owner_id, "name": name}}, upsert=True,
                              session=u.session)


def provider(u: Unit, provider_id: str) -> dict | None:
    return u.db.providers.find_one({"_id": provider_id}, session=u.session)


def save_volunteer(u: Unit, volunteer_id: str, account_id: str) -> None:
    u.db.volunteers.update_one({"_id": volunteer_id}, {"$set": {"account_id": account_id}}, upsert=True,
                               session=u.session)


def volunteer(u: Unit, volunteer_id: str) -> dict | None:
    return u.db.volunteers.find_one({"_id": volunteer_id}, session=u.session)


def save_order(u: Unit, order_id: str, fields: dict) -> None:
    u.db.orders.update_one({"_id": order_id}, {"$set": fields}, upsert=True, session=u.session)


def order(u: Unit, order_id: str) -> dict | None:
    return u.db.orders.find_one({"_id": order_id}, session=u.session)


def record_offer(u: Unit, task_id: str, volunteer_id: str, account_id: str) -> None:
    u.db.offers.update_one({"_id": f"{task_id}:{volunteer_id}"},
                           {"$set": {"task_id": task_id, "volunteer_id": volunteer_id, "account_id": account_id,
                                     "offered_at": u.now}}, upsert=True, session=u.session)


def withdraw_offer_messages(u: Unit, account_id: str, offer_id: str, at) -> None:
    """The offer's messages in the volunteer's inbox are marked withdrawn (and read: nothing is left to do)."""
    u.db.messages.update_many({"recipient": account_id, "kind": "offer", "refs.offer_id": offer_id,
                               "withdrawn_at": None},
                              {"$set": {"withdrawn_at": at, "read_at": at}}, session=u.session)


# -- messages ----------------------------------------------------------------------------------

def add_message(u: Unit, message: dict) -> dict | None:
    """Stores a message under the next number (None if this key was stored before: nothing twice)."""
    if u.db.messages.find_one({"key": message["key"]}, {"_id": 1}, session=u.session):
        return None
    counter = u.db.counters.find_one_and_update({"_id": "messages"}, {"$inc": {"seq": 1}}, upsert=True,
                                                return_document=ReturnDocument.AFTER, session=u.session)
    doc = {**message, "seq": counter["seq"]}
    try:
        u.db.messages.insert_one(doc, session=u.session)
    except DuplicateKeyError:
        return None
    return doc


def add_send(u: Unit, send: dict) -> bool:
    try:
        u.db.sends.insert_one(send, session=u.session)
    except DuplicateKeyError:
        return False
    return True


def inbox(u: Unit, recipient: str, unread_only: bool, skip: int, limit: int) -> tuple[list[dict], int]:
    query = {"recipient": recipient, **({"read_at": None} if unread_only else {})}
    total = u.db.messages.count_documents(query)
    items = list(u.db.messages.find(query).sort("seq", DESCENDING).skip(skip).limit(limit))
    return items, total


def unread_count(u: Unit, recipient: str) -> int:
    return u.db.messages.count_documents({"recipient": recipient, "read_at": None})


def message(u: Unit, message_id: str) -> dict | None:
    return u.db.messages.find_one({"_id": message_id}, session=u.session)


def mark_read(u: Unit, recipient: str, message_ids: list[str] | None) -> int:
    query = {"recipient": recipient, "read_at": None, **({"_id": {"$in": message_ids}} if message_ids else {})}
    return u.db.messages.update_many(query, {"$set": {"read_at": u.now}}, session=u.session).modified_count


def messages_after(db: Database, seq: int, limit: int = 500, recipients: list[str] | None = None) -> list[dict]:
    """Messages numbered after `seq`, in order (the stream's backlog, or its hub's next batch)."""
    query = {"seq": {"$gt": seq}, **({"recipient": {"$in": recipients}} if recipients is not None else {})}
    return list(db.messages.find(query).sort("seq", ASCENDING).limit(limit))


def last_seq(db: Database) -> int:
    doc = db.counters.find_one({"_id": "messages"})
    return doc["seq"] if doc else 0


# -- stream tickets --------------------------------------------------------------------------------

def save_ticket(u: Unit, digest: str, account_id: str, recipients: list[str], after: int,
                expires_at: datetime) -> None:
    u.db.stream_tickets.insert_one({"_id": digest, "account_id": account_id, "recipients": recipients,
                                    "after": after, "created_at": u.now, "expires_at": expires_at},
                                   session=u.session)


def take_ticket(u: Unit, digest: str) -> dict | None:
    """The ticket, removed as it is read: a second use finds nothing (expired ones are removed too)."""
    return u.db.stream_tickets.find_one_and_delete({"_id": digest}, session=u.session)


# -- sends ---------------------------------------------------------------------------------------

def claim_due_send(db: Database, now: datetime, lease_seconds: float) -> dict | None:
    """Takes one send that is due (or whose sender's lease ran out) for this sender."""
    return db.sends.find_one_and_update(
        {"$or": [{"status": "pending", "next_at": {"$lte": now}},
                 {"status": "sending", "lease_until": {"$lte": now}}]},
        {"$set": {"status": "sending", "lease_until": now + timedelta(seconds=lease_seconds)}},
        sort=[("next_at", ASCENDING)], return_document=ReturnDocument.AFTER)


def finish_send(db: Database, send_id: str, fields: dict, note: dict) -> None:
    db.sends.update_one({"_id": send_id, "status": "sending"},
                        {"$set": fields, "$push": {"tries": note}})


def mark_receipt(db: Database, send_id: str, delivered: bool, code: str, at: datetime) -> None:
    db.sends.update_one({"_id": send_id}, {"$set": {"receipt": {"delivered": delivered, "code": code, "at": at}}})


def sends_of(db: Database, **query) -> list[dict]:
    return list(db.sends.find(query).sort("created_at", ASCENDING))


def revive_send(db: Database, send_id: str, now: datetime) -> bool:
    """An operator resends a dead letter: it goes back in line with its tries counted afresh."""
    return db.sends.update_one({"_id": send_id, "status": "dead"},
                               {"$set": {"status": "pending", "next_at": now, "attempts": 0}}).modified_count == 1
