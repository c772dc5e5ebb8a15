"""Helpers for the orders saga tests: an order placed and reserved without the other services,
and the stub provider's notifications handed to the notify route in-process."""
from __future__ import annotations

import json
from datetime import date, timedelta

from linli.auth import Principal, issue_access_token
from linli.unit import Units
from linli.ids import utcnow
from linli.keys import paystub_platform_private_key
from services.orders import paystub, saga, store, wechatpay

RESIDENT = Principal(id="acc_resident", role="resident", name="Wang")
ELDER = Principal(id="acc_elder", role="resident", name="Grandpa Zhou", tags=("elder70",))
PROVIDER = Principal(id="acc_canteen", role="provider", name="Canteen")
COORDINATOR = Principal(id="acc_coord", role="coordinator", name="Lin", communities=("lianxi",))
ELSEWHERE = Principal(id="acc_coord2", role="coordinator", name="Zhao", communities=("pengfei",))
TIERS = [{"tag": "elder70", "resident_pays_fen": 300,
          "shares": [{"funder": "town", "amount_fen": 700}, {"funder": "hospital", "amount_fen": 500}]}]


def token(who: Principal) -> dict:
    return {"Authorization": f"Bearer {issue_access_token(who.id, who.role, who.name, who.tags, family=who.family, communities=who.communities)}"}


def listing(price_fen: int = 1500, tiers=None, category: str = "charity_meals", fulfilment: str = "delivered") -> dict:
    start = utcnow() + timedelta(days=1)
    return {"id": "lst_1", "version": 1, "title": "Charity lunch", "price_fen": price_fen, "unit": "portion",
            "fulfilment": fulfilment, "category": category, "timezone": "Asia/Shanghai", "status": "published",
            "community_ids": ["lianxi"], "max_quantity": 3, "provider_owner_id": PROVIDER.id, "tiers": tiers or [],
            "provider": {"id": "prv_1", "name": "Canteen", "kind": "hospital_canteen", "address": "1 Road",
                         "location": {"lng": 121.55, "lat": 31.18}},
            "slot_window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}


def placed_and_reserved(who: Principal = RESIDENT, quantity: int = 1, for_elder: str | None = None,
                        **listing_kw) -> dict:
    db = store.database()
    body = {"listing_id": "lst_1", "quantity": quantity, "slot_date": date.today(), "slot": "lunch",
            **({"for_resident_id": for_elder} if for_elder else {}),
            "address": {"community_id": "lianxi", "building": "1", "room": "2", "contact_name": "Wang",
                        "phone": "139 0000 0000", "location": {"lng": 121.55, "lat": 31.18}}}
    order = saga.place(db, who, body, listing(**listing_kw), utcnow())
    Units(db, "orders").run(lambda u: saga.on_reservation_confirmed(u, {"data": {"order_id": order["_id"]}}))
    return db.orders.find_one({"_id": order["_id"]})


def signed(body: bytes, at: int | None = None, key=None) -> dict:
    return {**wechatpay.sign(key or paystub_platform_private_key(), paystub.platform_serial(), body,
                             at or int(utcnow().timestamp())), "Content-Type": "application/json"}


def deliver_notifications(client) -> list[int]:
    """What the stub's sender does, but through the Flask test client; returns the status codes."""
    statuses = []
    for note in paystub.database().notifications.find({"delivered": False}):
        body = note["body"].encode()
        response = client.post("/api/v1/payments/notify", data=body, headers=signed(body))
        statuses.append(response.status_code)
        paystub.database().notifications.update_one({"_id": note["_id"]}, {"$set": {"delivered": True}})
    return statuses


def notification_body(out_trade_no: str, total: int, mchid: str = "1900000109", state: str = "SUCCESS") -> bytes:
    from linli.keys import payment_apiv3_key

    resource = wechatpay.encrypt_resource(payment_apiv3_key(), {
        "mchid": mchid, "out_trade_no": out_trade_no, "transaction_id": "wx_x", "trade_state": state,
        "amount": {"total": total, "currency": "CNY"}}, "transaction")
    return json.dumps({"id": "ntf_x", "event_type": "TRANSACTION.SUCCESS", "resource": resource}).encode()


def events(db, event_type: str) -> list[dict]:
    return [e["envelope"]["data"] for e in db.outbox.find({"type": event_type}).sort("seq", 1)]
