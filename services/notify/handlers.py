"""What events and timers do in notify.

Each consumed event keeps the read model and turns into messages by the table in rules/who.py:
one message per (event, notice, recipient) in the recipient's language, stored in the inbox (the
live stream reads it from there) and, for the outside channels the rules choose, one send each.
All of it happens in the unit the consumer runner hands over, with the inbox record of the event,
so a redelivered event changes nothing twice. The sender timer then sends what is due, one
provider call at a time outside any transaction, and retries with growing delays until the send
is dead-lettered; the receipts timer records the delivery reports that arrive later.
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from linli.ids import new_id
from linli.unit import Unit, Units

from . import store
from .adapters import REFUSED, RETRY, SENT, Outgoing
from .rules import channels as channel_rules
from .rules import sending, texts, wechat
from .rules.who import NEEDS_NO_ORDER, URGENT, board_id, is_board, notices, reaches_resident_through_others

log = logging.getLogger("notify.handlers")


# -- the read model --------------------------------------------------------------------------

def on_account(u: Unit, event: dict) -> None:
    store.save_person(u, event["data"])


def on_order_placed(u: Unit, event: dict) -> None:
    data = event["data"]
    store.save_order(u, data["order_id"], {"resident_id": data["resident_id"], "provider_id": data["provider_id"],
                                           "slot": data["slot"], "slot_date": data["slot_date"],
                                           "amount_fen": data["amount_fen"]})


def on_order_paid(u: Unit, event: dict) -> None:
    data = event["data"]
    title = "、".join(f"{i['title']}×{i['quantity']}" if i["quantity"] > 1 else i["title"] for i in data["items"])
    store.save_order(u, data["order_id"], {
        "resident_id": data["resident_id"], "provider_id": data["provider_id"], "title": title,
        "community_id": data["dropoff"]["community_id"], "resident_name": data["dropoff"].get("contact_name"),
        "slot_start": data["slot_start"], "slot_end": data["slot_end"], "amount_fen": data["amount_fen"]})
    tell(u, event)


def on_provider_verified(u: Unit, event: dict) -> None:
    data = event["data"]
    store.save_provider(u, data["provider_id"], data["owner_id"], data["name"])
    tell(u, event)


def on_volunteer_verified(u: Unit, event: dict) -> None:
    store.save_volunteer(u, event["data"]["volunteer_id"], event["data"]["account_id"])
    tell(u, event)


def on_task_offered(u: Unit, event: dict) -> None:
    """The offer names the volunteer's account: it reaches the volunteer at once, with no lookup to wait for."""
    data = event["data"]
    store.record_offer(u, data["task_id"], data["volunteer_id"], data["account_id"])
    tell(u, event)


def on_offer_withdrawn(u: Unit, event: dict) -> None:
    """Another volunteer took the task, or its order was cancelled: the offer message is marked withdrawn in the
    volunteer's inbox, and a quiet message on the stream tells the page to take the offer down."""
    data = event["data"]
    store.withdraw_offer_messages(u, data["account_id"], data["offer_id"], u.now)
    tell(u, event)


# -- who is told ------------------------------------------------------------------------------

def _order(u: Unit, data: dict, required: bool = True) -> dict:
    if "order_id" not in data:
        return {}
    found = store.order(u, data["order_id"])
    if found is None and not required:
        return {}
    if found is None:
        raise LookupError(f"order {data['order_id']} is not known to notify yet")
    return found


def _recipients(u: Unit, role: str, data: dict, order: dict) -> list[str]:
    """Account ids (or a board) for one recipient role of the table."""
    if role == "resident":
        resident_id = order.get("resident_id") or data.get("resident_id")
        if not resident_id:
            return []
        person = store.person(u, resident_id)
        if reaches_resident_through_others(person):
            community = order.get("community_id") or (person or {}).get("community_id")
            return [resident_id, *store.family_of(u, resident_id), *([board_id(community)] if community else [])]
        return [resident_id]
    if role == "family":
        resident_id = order.get("resident_id") or data.get("resident_id")
        return store.family_of(u, resident_id) if resident_id else []
    if role == "provider":
        provider_id = data.get("provider_id") or order.get("provider_id")
        found = store.provider(u, provider_id) if provider_id else None
        if found is None:
            raise LookupError(f"provider {provider_id} is not known to notify yet")
        return [found["owner_id"]]
    if role == "volunteer":
        if data.get("account_id"):
            return [data["account_id"]]
        found = store.volunteer(u, data["volunteer_id"])
        return [found["account_id"]] if found else []
    if role == "coordinators":
        community = data.get("community_id") or order.get("community_id")
        return store.coordinators_of(u, community) if community else []
    if role == "account":
        return [data.get("owner_id") or data["account_id"]]
    raise ValueError(f"unknown recipient role {role}")


def _local(value: str | datetime | None, person: dict | None, fmt: str) -> str:
    if not value:
        return "-"
    at = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return at.astimezone(ZoneInfo((person or {}).get("time_zone") or channel_rules.DEFAULT_TIME_ZONE)).strftime(fmt)


def _params(u: Unit, data: dict, order: dict, person: dict | None, language: str) -> dict:
    amount = data.get("amount_fen", order.get("amount_fen"))
    resident = store.person(u, order["resident_id"]) if order.get("resident_id") else None
    provider = store.provider(u, data["provider_id"]) if data.get("provider_id") else None
    return {
        "title": order.get("title") or "your order",
        "amount": f"{amount / 100:.2f}" if amount is not None else "-",
        "expires": _local(data.get("expires_at"), person, "%H:%M"),
        "slot": _local(order.get("slot_start"), person, "%m-%d %H:%M") if order.get("slot_start")
        else f"{order.get('slot_date', '-')} {texts.word(language, order.get('slot', '-'))}",
        "slot_end": _local(data.get("slot_end") or order.get("slot_end"), person, "%H:%M"),
        "due": _local(data.get("due_at"), person, "%m-%d %H:%M"),
        "deadline": data.get("kind", "-"),
        "reason": data.get("reason", "-"),
        "note": data.get("note", "-"),
        "community": data.get("community_id") or order.get("community_id") or "-",
        "distance": f"{data['distance_m'] / 1000:.1f}" if "distance_m" in data else "-",
        "resident": (resident or {}).get("name") or order.get("resident_name") or "the resident",
        "name": data.get("name") or (provider or {}).get("name") or "-",
    }


REF_FIELDS = ("order_id", "task_id", "offer_id", "expires_at", "provider_id", "volunteer_id", "community_id")


def tell(u: Unit, event: dict) -> list[dict]:
    """The messages (and their sends) an event makes, by the table; nothing for a key stored before."""
    data = event["data"]
    told = notices(event["type"], data)
    order = _order(u, data, required=not all(n.kind in NEEDS_NO_ORDER for n in told))
    made = []
    for notice in told:
        recipients: list[str] = []
        for role in notice.to:
            recipients += [r for r in _recipients(u, role, data, order) if r not in recipients]
        for recipient in recipients:
            message = _message(u, event, notice, recipient, order)
            if message:
                made.append(message)
    return made


def _message(u: Unit, event: dict, notice, recipient: str, order: dict) -> dict | None:
    data = event["data"]
    board = is_board(recipient)
    person = None if board else store.person(u, recipient)
    language = texts.language_of(person)
    params = _params(u, data, order, person, language)
    title, body = texts.render(notice.kind, language, params)
    template = wechat.template_for(notice.kind)["id"]
    signs_in = board or (person or {}).get("signs_in", True) is not False
    routes = channel_rules.routes(person, notice.urgency, u.now, wechat_template=template, board=board,
                                  signs_in=signs_in)
    if routes and routes[-1].channel == channel_rules.WECHAT and not store.use_wechat_grant(u, recipient, template):
        routes = channel_rules.routes({**(person or {}), "wechat_grants": {}}, notice.urgency, u.now,
                                      wechat_template=template, signs_in=signs_in)
    if not routes:  # an elder with neither app nor phone: the family and the board are told instead
        return None
    message = store.add_message(u, {
        "_id": new_id("msg"), "key": f"{event['id']}:{notice.kind}:{recipient}", "recipient": recipient,
        "kind": notice.kind, "urgency": notice.urgency, "language": language, "title": title, "body": body,
        "refs": {k: data[k] for k in REF_FIELDS if data.get(k) is not None}, "event_type": event["type"],
        "event_id": event["id"], "created_at": u.now, "read_at": None,
        "channels": [r.channel for r in routes]})
    if message is None:
        return None
    for route in routes:
        if route.channel != channel_rules.IN_APP:
            _add_send(u, message, route.channel, route.not_before or u.now, person, params, notice.urgency)
    return message


def _add_send(u: Unit, message: dict, channel: str, at: datetime, person: dict | None, params: dict,
              urgency: str) -> None:
    template = wechat.template_for(message["kind"])
    zone = (person or {}).get("time_zone") or channel_rules.DEFAULT_TIME_ZONE
    store.add_send(u, {
        "_id": f"{message['_id']}:{channel}", "message_id": message["_id"], "recipient": message["recipient"],
        "channel": channel, "urgency": urgency, "status": "pending", "attempts": 0, "next_at": at,
        "created_at": u.now, "tries": [],
        "outgoing": {"kind": message["kind"], "language": message["language"], "title": message["title"],
                     "body": message["body"], "params": {k: str(v) for k, v in params.items()},
                     "phone": (person or {}).get("phone"), "openid": (person or {}).get("wechat_openid"),
                     "template_id": template["id"],
                     "wechat_data": wechat.fields_for(message["kind"], message["title"], message["body"], u.now, zone)},
    })


HANDLERS = {
    "gateway.account.registered": on_account,
    "gateway.account.updated": on_account,
    "catalog.provider.verified": on_provider_verified,
    "delivery.volunteer.verified": on_volunteer_verified,
    "delivery.volunteer.refused": tell,
    "orders.order.placed": on_order_placed,
    "orders.order.paid": on_order_paid,
    "delivery.task.offered": on_task_offered,
    "delivery.offer.withdrawn": on_offer_withdrawn,
    **{t: tell for t in ("orders.order.awaiting_payment", "orders.order.accepted", "orders.order.declined",
                         "orders.order.ready", "orders.order.service_done", "orders.order.completed", "orders.order.cancelled",
                         "orders.order.refunded", "orders.order.deadline_missed",
                         "delivery.task.assigned", "delivery.task.picked_up", "delivery.task.delivered",
                         "delivery.task.failed",
                         "delivery.task.escalated", "delivery.task.welfare_check")},
}


# -- timers: the sender and the receipts --------------------------------------------------------

LEASE_SECONDS = 60


def send_due(units: Units, channels: dict, delays: tuple[float, ...], batch: int = 100) -> int:
    """Sends what is due, one provider call at a time and never inside a transaction; returns how many tried."""
    tried = 0
    while tried < batch:
        send = store.claim_due_send(units.db, units.now(), LEASE_SECONDS)
        if send is None:
            break
        tried += 1
        out = send["outgoing"]
        outcome = channels[send["channel"]].send(Outgoing(send_id=send["_id"], channel=send["channel"], **out))
        now = units.now()
        note = {"at": now, "status": outcome.status, "code": outcome.code, "detail": outcome.detail[:500]}
        attempts = send["attempts"] + 1
        if outcome.status == SENT:
            store.finish_send(units.db, send["_id"], {"status": "sent", "sent_at": now, "attempts": attempts,
                                                      "provider_ref": outcome.provider_ref}, note)
            continue
        again = sending.next_try(attempts, delays, now) if outcome.status == RETRY else None
        if again is not None:
            store.finish_send(units.db, send["_id"], {"status": "pending", "next_at": again, "attempts": attempts},
                              note)
            continue
        store.finish_send(units.db, send["_id"], {"status": "dead", "dead_at": now, "attempts": attempts,
                                                  "reason": f"{outcome.code}: {outcome.detail}"[:500]}, note)
        log.warning("send dead-lettered: %s (%s)", send["_id"], outcome.code)
        if outcome.status == REFUSED:
            instead = sending.fallback(send["channel"], outcome.code, send.get("urgency") == URGENT)
            if instead and out.get("phone"):
                units.run(lambda u: _fallback(u, send, instead))
    return tried


def _fallback(u: Unit, send: dict, channel: str) -> None:
    message = store.message(u, send["message_id"])
    store.add_send(u, {**send, "_id": f"{send['message_id']}:{channel}", "channel": channel, "status": "pending",
                       "attempts": 0, "next_at": u.now, "created_at": u.now, "tries": [], "lease_until": None,
                       "fallback_of": send["_id"], "recipient": message["recipient"]})


def record_receipts(units: Units, channels: dict) -> int:
    count = 0
    for channel in channels.values():
        for receipt in channel.receipts():
            store.mark_receipt(units.db, receipt.send_id, receipt.delivered, receipt.code, units.now())
            count += 1
    return count
