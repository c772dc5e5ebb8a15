"""The notify endpoint verifies before anything changes; duplicates are harmless."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from linli.auth import Principal, issue_access_token
from linli.db import in_transaction
from linli.ids import utcnow
from linli.keys import payment_secret
from services.orders import paystub, saga, signing, store
from services.orders.app import create_app

RESIDENT = Principal(id="acc_resident", role="resident", name="Wang")


def _listing():
    start = utcnow() + timedelta(days=1)
    return {"id": "lst_1", "version": 1, "title": "Charity lunch", "price_fen": 1500, "unit": "portion",
            "fulfilment": "delivered", "category": "charity_meals", "timezone": "Asia/Shanghai", "status": "published",
            "community_ids": ["lianxi"], "max_quantity": 3, "provider_owner_id": "acc_canteen",
            "provider": {"id": "prv_1", "name": "Canteen", "kind": "hospital_canteen", "address": "1 Road",
                         "location": {"lng": 121.55, "lat": 31.18}},
            "slot_window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}


@pytest.fixture
def awaiting(linli_env):
    app = create_app()
    db = store.database()
    body = {"listing_id": "lst_1", "quantity": 1, "slot_date": date.today(), "slot": "lunch",
            "address": {"community_id": "lianxi", "building": "1", "room": "2", "contact_name": "Wang",
                        "phone": "139 0000 0000", "location": {"lng": 121.55, "lat": 31.18}}}
    order = saga.place(db, RESIDENT, body, _listing(), utcnow())
    in_transaction(db, lambda s: saga.on_reservation_confirmed(db, s, {"data": {"order_id": order["_id"]}}))
    client = app.test_client()
    token = issue_access_token(RESIDENT.id, "resident", "Wang")
    payment = client.post(f"/api/v1/orders/{order['_id']}/pay", headers={"Authorization": f"Bearer {token}"}).get_json()
    return client, db, order["_id"], payment


def _notification(payment_id: str, total: int, mchid: str = paystub.MERCHANT_ID) -> bytes:
    return json.dumps({"id": "ntf_1", "event_type": "TRANSACTION.SUCCESS", "resource": {
        "out_trade_no": payment_id, "transaction_id": "wx_1", "mchid": mchid,
        "amount": {"total": total, "currency": "CNY"}, "trade_state": "SUCCESS"}}).encode()


def _post(client, body: bytes, secret: bytes | None = None, at: int | None = None, headers=None):
    headers = headers or signing.sign(secret or payment_secret(), body, at or int(utcnow().timestamp()))
    return client.post("/api/v1/payments/notify", data=body, headers={**headers, "Content-Type": "application/json"})


def _state(db, order_id):
    return db.orders.find_one({"_id": order_id})["status"], db.outbox.count_documents({"type": "orders.order.paid"})


def test_rejected_notifications_change_nothing(awaiting):
    client, db, order_id, payment = awaiting
    good = _notification(payment["payment_id"], 1500)
    cases = [
        (_post(client, good, secret=b"f" * 32), 401, "bad_signature"),
        (_post(client, good, at=int(utcnow().timestamp()) - 600), 401, "bad_signature"),
        (_post(client, _notification(payment["payment_id"], 1)), 400, "wrong_amount"),
        (_post(client, _notification(payment["payment_id"], 1500, mchid="1999")), 400, "wrong_merchant"),
        (_post(client, _notification("nope", 1500)), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert _state(db, order_id) == ("awaiting_payment", 0)


def test_a_genuine_notification_pays_once_and_duplicates_are_harmless(awaiting):
    client, db, order_id, payment = awaiting
    body = _notification(payment["payment_id"], 1500)
    headers = signing.sign(payment_secret(), body, int(utcnow().timestamp()))
    first = _post(client, body, headers=headers)
    assert first.status_code == 200 and first.get_json()["code"] == "SUCCESS"
    assert _state(db, order_id) == ("paid", 1)

    replayed = _post(client, body, headers=headers)  # the very same nonce: a replay
    assert replayed.status_code == 401 and replayed.get_json()["error"]["code"] == "replayed"
    duplicate = _post(client, body)  # the provider sending it again, freshly signed
    assert duplicate.status_code == 200
    assert _state(db, order_id) == ("paid", 1)
    timeline = [e["to"] for e in db.orders.find_one({"_id": order_id})["timeline"]]
    assert timeline == ["placed", "awaiting_payment", "paid"]
