"""Helpers for the orders saga tests: an order placed and reserved without the other services (the
other services' events arrive as real envelopes, through the consumer's apply_once, as delivery's
`Town` does), units of work on any clock, and the stub provider's notifications handed to the
notify route in-process."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from linli.auth import Principal, issue_access_token
from linli.config import settings
from linli.consumer import apply_once
from linli.events import make_envelope, parse_envelope
from linli.ids import utcnow
from linli.keys import paystub_platform_private_key
from linli.unit import Units
from services.orders import bootstrap, commands, saga, store
from services.orders.handlers import HANDLERS
from services.orders.paystub import paystub, wechatpay
from services.orders.paystub import store as paystub_store
from services.orders.rules.holds import HoldLimits

RESIDENT = Principal(id="acc_resident", role="resident", name="Wang")
ELDER = Principal(id="acc_elder", role="resident", name="Grandpa Zhou", tags=("elder70",))
PROVIDER = Principal(id="acc_canteen", role="provider", name="Canteen")
COORDINATOR = Principal(id="acc_coord", role="coordinator", name="Lin", communities=("lianxi",))
ELSEWHERE = Principal(id="acc_coord2", role="coordinator", name="Zhao", communities=("pengfei",))
TIERS = [{"tag": "elder70", "resident_pays_fen": 300,
          "shares": [{"funder": "town", "amount_fen": 700}, {"funder": "hospital", "amount_fen": 500}]}]


_built: dict[str, bootstrap.Orders] = {}


def orders() -> bootstrap.Orders:
    """Orders as its bootstrap builds it for this test's namespace (once)."""
    namespace = settings().namespace
    if namespace not in _built:
        _built[namespace] = bootstrap.build()
    return _built[namespace]


def units(at: datetime | None = None) -> Units:
    """Orders' units of work on the wall clock, or stopped at `at`."""
    return Units(store.database(), "orders", (lambda: at) if at is not None else utcnow)


def later(**delta) -> Units:
    """Units of work whose clock reads this long from now (for deadlines)."""
    return units(utcnow() + timedelta(**delta))


def event(event_type: str, data: dict, handler=None, at: datetime | None = None) -> bool:
    """Another service's event, as a real envelope (checked against its contract) through the consumer's
    apply_once and orders' handlers table, as the worker routes it; False if it ran before. `handler`, when
    given, is the one the test expects the table to choose."""
    routed = HANDLERS[event_type]
    assert handler is None or handler is routed, f"orders' table routes {event_type} to {routed.__name__}"
    envelope = parse_envelope(json.loads(json.dumps(make_envelope(event_type, data, event_type.split(".")[0]))))
    return apply_once(units(at), "orders", envelope, routed)


def reserved(order_id: str, quantity: int = 1) -> None:
    event("catalog.reservation.confirmed", {"order_id": order_id, "listing_id": "lst_1",
                                            "slot_date": date.today().isoformat(), "slot": "lunch",
                                            "quantity": quantity, "remaining": 10}, saga.on_reservation_confirmed)


def token(who: Principal) -> dict:
    return {"Authorization": f"Bearer {issue_access_token(who.id, who.role, who.name, who.tags, family=who.family, communities=who.communities)}"}


def listing(price_fen: int = 1500, tiers=None, category: str = "charity_meals", fulfilment: str = "delivered",
            community: str = "lianxi") -> dict:
    start = utcnow() + timedelta(days=1)
    return {"id": "lst_1", "version": 1, "title": "Charity lunch", "price_fen": price_fen, "unit": "portion",
            "fulfilment": fulfilment, "category": category, "timezone": "Asia/Shanghai", "status": "published",
            "community_ids": [community], "max_quantity": 3, "provider_owner_id": PROVIDER.id, "tiers": tiers or [],
            "provider": {"id": "prv_1", "name": "Canteen", "kind": "hospital_canteen", "address": "1 Road",
                         "location": {"lng": 121.55, "lat": 31.18}},
            "slot_window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}


def body(quantity: int = 1, for_elder: str | None = None, community: str = "lianxi") -> dict:
    return {"listing_id": "lst_1", "quantity": quantity, "slot_date": date.today(), "slot": "lunch",
            **({"for_resident_id": for_elder} if for_elder else {}),
            "address": {"community_id": community, "building": "1", "room": "2", "contact_name": "Wang",
                        "phone": "139 0000 0000", "location": {"lng": 121.55, "lat": 31.18}}}


# the saga's tests place several unpaid orders of one resident for one slot: fair holds are tested on their own
# (tests/integration/test_order_holds.py), with the limits the bootstrap reads
ROOMY = HoldLimits(per_slot=99, overall=99)


def place(who: Principal, order_body: dict, the_listing: dict, on_behalf=None, limits: HoldLimits = ROOMY) -> dict:
    return units().run(lambda u: commands.place(u, who, order_body, the_listing, on_behalf, limits))


def placed_and_reserved(who: Principal = RESIDENT, quantity: int = 1, for_elder: str | None = None,
                        community: str = "lianxi", **listing_kw) -> dict:
    order = place(who, body(quantity, for_elder, community), listing(community=community, **listing_kw))
    reserved(order["_id"], quantity)
    return store.database().orders.find_one({"_id": order["_id"]})


def task_event(order_id: str, volunteer: str = "vol_1", task_id: str = "tsk_1", **more) -> dict:
    return {"order_id": order_id, "task_id": task_id, "volunteer_id": volunteer, **more}


def signed(body: bytes, at: int | None = None, key=None) -> dict:
    return {**wechatpay.sign(key or paystub_platform_private_key(), paystub.platform_serial(), body,
                             at or int(utcnow().timestamp())), "Content-Type": "application/json"}


def deliver_notifications(client) -> list[int]:
    """What the stub's sender does, but through the Flask test client; returns the status codes."""
    statuses = []
    for note in paystub_store.undelivered_notifications():
        body = note["body"].encode()
        response = client.post("/api/v1/payments/notify", data=body, headers=signed(body))
        statuses.append(response.status_code)
        paystub_store.update_notification(note["_id"], {"delivered": True})
    return statuses


def notification_body(out_trade_no: str, total: int, mchid: str = "1900000109", state: str = "SUCCESS") -> bytes:
    from linli.keys import payment_apiv3_key

    resource = wechatpay.encrypt_resource(payment_apiv3_key(), {
        "mchid": mchid, "out_trade_no": out_trade_no, "transaction_id": "wx_x", "trade_state": state,
        "amount": {"total": total, "currency": "CNY"}}, "transaction")
    return json.dumps({"id": "ntf_x", "event_type": "TRANSACTION.SUCCESS", "resource": resource}).encode()


def events(db, event_type: str) -> list[dict]:
    return [e["envelope"]["data"] for e in db.outbox.find({"type": event_type}).sort("seq", 1)]


def cashier_ref(payment: dict) -> str:
    """The stub provider's reference in a cashier_url (…/payments/stub/<ref>/enter/<ticket>)."""
    return payment["cashier_url"].split("/payments/stub/", 1)[1].split("/")[0]
