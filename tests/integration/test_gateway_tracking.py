"""The tracking view asks orders and delivery in parallel; with delivery down it shows the order, marked partial."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server

from devstack.net import free_port
from linli.config import reset_settings
from tests.integration import orders_kit as kit


def test_with_delivery_down_the_resident_still_sees_the_order_marked_partial(mongo_env, monkeypatch):
    from services.orders.app import create_app as orders_app

    orders_port = free_port()
    server = make_server("127.0.0.1", orders_port, orders_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("LINLI_ORDERS_URL", f"http://127.0.0.1:{orders_port}")
        monkeypatch.setenv("LINLI_DELIVERY_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens there
        reset_settings()
        from gateway.app import create_app as gateway_app

        gateway = gateway_app().test_client()
        order = kit.placed_and_reserved()
        view = gateway.get(f"/api/v1/track/{order['_id']}", headers=kit.token(kit.RESIDENT))
        assert view.status_code == 200
        body = view.get_json()
        assert body["partial"] is True and body["unavailable"] == ["delivery"]
        assert body["order"]["status"] == "awaiting_payment" and body["delivery"] is None
        stranger = gateway.get(f"/api/v1/track/{order['_id']}", headers=kit.token(kit.ELDER))
        assert stranger.status_code == 404, "someone else's order stays hidden, partial or not"
    finally:
        server.shutdown()
