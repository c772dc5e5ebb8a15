"""The resident's tracking view: orders and delivery asked in parallel; when one of them does not
answer, the view says so (partial) and shows what it has, rather than failing as a whole."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import marshmallow as ma
from flask import g, request
from flask_smorest import Blueprint

from linli.config import settings
from linli.errors import ApiError
from linli.web import requires

from ..adapters import services
from ..rules import paths

blp = Blueprint("tracking", __name__, url_prefix="/api/v1", description="Where my order is")
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="track")


class TrackingView(ma.Schema):
    order = ma.fields.Dict(allow_none=True, metadata={"description": "the order as GET /api/v1/orders/{id} shows it"})
    delivery = ma.fields.Dict(allow_none=True, metadata={"description": "the delivery, when the meal is delivered"})
    partial = ma.fields.Boolean(metadata={"description": "true when a part could not be fetched just now"})
    unavailable = ma.fields.List(ma.fields.String())


def _ask(service: str, segments: tuple[str, ...], headers: dict) -> tuple[int | None, dict | None]:
    """(status, body), or (None, None) when the service does not answer in time."""
    try:
        answer = services.call(service, "GET", segments, headers=headers, connect_timeout=1,
                               timeout=min(3.0, settings().upstream_timeout))
    except services.Unavailable:
        return None, None
    body = answer.json()
    return (answer.status, body) if isinstance(body, dict) else (None, None)


@blp.route("/track/<order_id>")
@requires("resident", "coordinator", "admin")
@blp.response(200, TrackingView)
def track(order_id):
    """The order and its delivery together; `partial` when one part is out of reach."""
    order_id = paths.an_id(order_id, "The order")
    headers = {"Authorization": request.headers["Authorization"], "X-Request-ID": g.request_id}
    order_call = _pool.submit(_ask, "orders", ("api", "v1", "orders", order_id), headers)
    delivery_call = _pool.submit(_ask, "delivery", ("api", "v1", "delivery", "tracking", order_id), headers)
    (order_status, order), (delivery_status, delivery) = order_call.result(), delivery_call.result()
    if order_status is not None and order_status != 200 and order_status < 500:
        error = order.get("error") or {}
        raise ApiError(order_status, error.get("code", "refused"), error.get("message", "The order was not found."),
                       error.get("details") or {})
    unavailable = [name for name, status in (("orders", order_status), ("delivery", delivery_status))
                   if status is None or status >= 500]
    if "orders" in unavailable and delivery_status != 200:
        raise ApiError(503, "unavailable", "Your order cannot be looked up just now. Please try again in a minute.",
                       {"unavailable": unavailable})
    return {"order": order if order_status == 200 else None,
            "delivery": delivery if delivery_status == 200 else None,
            "partial": bool(unavailable), "unavailable": unavailable}
