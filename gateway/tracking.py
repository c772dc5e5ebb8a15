"""The resident's tracking view: orders and delivery asked in parallel; when one of them does not
answer, the view says so (partial) and shows what it has, rather than failing as a whole."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import marshmallow as ma
import requests
from flask import g, request
from flask_smorest import Blueprint

from linli.config import settings
from linli.errors import ApiError
from linli.web import requires

from .proxy import session

blp = Blueprint("tracking", __name__, url_prefix="/api/v1", description="Where my order is")
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="track")


class TrackingView(ma.Schema):
    order = ma.fields.Dict(allow_none=True, metadata={"description": "the order as GET /api/v1/orders/{id} shows it"})
    delivery = ma.fields.Dict(allow_none=True, metadata={"description": "the delivery, when the meal is delivered"})
    partial = ma.fields.Boolean(metadata={"description": "true when a part could not be fetched just now"})
    unavailable = ma.fields.List(ma.fields.String())


def _ask(service: str, path: str, headers: dict) -> tuple[int | None, dict | None]:
    """(status, body), or (None, None) when the service does not answer in time."""
    try:
        response = session.get(f"{settings().service_urls[service]}{path}", headers=headers,
                                timeout=(1, min(3.0, settings().upstream_timeout)))
    except requests.RequestException:
        return None, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return None, None


@blp.route("/track/<order_id>")
@requires("resident", "coordinator", "admin")
@blp.response(200, TrackingView)
def track(order_id):
    """The order and its delivery together; `partial` when one part is out of reach."""
    headers = {"Authorization": request.headers["Authorization"], "X-Request-ID": g.request_id}
    order_call = _pool.submit(_ask, "orders", f"/api/v1/orders/{order_id}", headers)
    delivery_call = _pool.submit(_ask, "delivery", f"/api/v1/delivery/tracking/{order_id}", headers)
    (order_status, order), (delivery_status, delivery) = order_call.result(), delivery_call.result()
    if order_status is not None and order_status != 200:
        raise ApiError(order_status, order["error"]["code"], order["error"]["message"], order["error"]["details"])
    unavailable = [name for name, status in (("orders", order_status), ("delivery", delivery_status))
                   if status is None or status >= 500]
    if "orders" in unavailable and delivery_status != 200:
        raise ApiError(503, "unavailable", "Your order cannot be looked up just now. Please try again in a minute.",
                       {"unavailable": unavailable})
    return {"order": order if order_status == 200 else None,
            "delivery": delivery if delivery_status == 200 else None,
            "partial": bool(unavailable), "unavailable": unavailable}
