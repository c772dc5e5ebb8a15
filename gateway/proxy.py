"""Forwarding /api/v1/<service>/... to the owning service, with pooled connections and timeouts."""
from __future__ import annotations

import logging
from http.cookiejar import DefaultCookiePolicy

import requests
from flask import Response, g, request
from requests.adapters import HTTPAdapter

from linli import logs
from linli.config import settings
from linli.errors import error_body

log = logging.getLogger("gateway.proxy")

ROUTES = {"catalog": "catalog", "orders": "orders", "payments": "orders", "delivery": "delivery"}
PASS_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key", "X-Correlation-ID",
                        # the payment provider's signature travels in these
                        "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial")
PASS_RESPONSE_HEADERS = ("Content-Type", "Idempotent-Replayed", "Location", "Retry-After")

session = requests.Session()  # shared: the tracking view uses the same pooled connections
session.mount("http://", HTTPAdapter(pool_connections=8, pool_maxsize=32))


def forward(prefix: str, rest: str) -> Response:
    service = ROUTES[prefix]
    cfg = settings()
    url = f"{cfg.service_urls[service]}/api/v1/{prefix}/{rest}".rstrip("/")
    headers = {h: request.headers[h] for h in PASS_REQUEST_HEADERS if h in request.headers}
    headers["X-Request-ID"] = g.request_id
    try:
        upstream = session.request(request.method, url, params=request.args, data=request.get_data(),
                                    headers=headers, timeout=(2, cfg.upstream_timeout), allow_redirects=False)
    except requests.RequestException as error:
        logs.log(log, logging.WARNING, "upstream unavailable", service=service, error=type(error).__name__)
        body = error_body("unavailable", f"The {service} service is not answering just now. Please try again in a minute.",
                          {"service": service})
        return Response(_json(body), status=503, mimetype="application/json")
    response = Response(upstream.content, status=upstream.status_code)
    for h in PASS_RESPONSE_HEADERS:
        if h in upstream.headers:
            response.headers[h] = upstream.headers[h]
    return response


def _json(body: dict) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


# -- the pages (web/): every path the gateway does not answer itself -----------------------------

PAGE_REQUEST_HEADERS = ("Accept", "Accept-Language", "Content-Type", "Cookie", "Referer", "Origin", "User-Agent",
                        "If-None-Match", "If-Modified-Since", "HX-Request", "HX-Current-URL", "HX-Target",
                        "HX-Trigger")
PAGE_RESPONSE_HEADERS = ("Content-Type", "Location", "Cache-Control", "ETag", "Last-Modified", "Vary",
                         "Content-Language", "HX-Redirect", "HX-Refresh")


# its own pool that never keeps a cookie: each person's session cookie passes through, and is never remembered
# and sent for someone else
page_session = requests.Session()
page_session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
page_session.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=32))


def forward_page(rest: str = "") -> Response:
    if rest.startswith("api/") or ".." in rest.split("/"):  # the API's own paths, and no climbing out of a folder
        return Response(_json(error_body("not_found", "There is no such route.", {})), status=404,
                        mimetype="application/json")
    headers = {h: request.headers[h] for h in PAGE_REQUEST_HEADERS if h in request.headers}
    headers["X-Request-ID"] = g.request_id
    try:
        upstream = page_session.request(request.method, f"{settings().service_urls['web']}/{rest}", params=request.args,
                                   data=request.get_data(), headers=headers, allow_redirects=False,
                                   timeout=(2, settings().upstream_timeout + 5))
    except requests.RequestException as error:
        logs.log(log, logging.WARNING, "upstream unavailable", service="web", error=type(error).__name__)
        return Response("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>邻里 Linli</title>"
                        "<p>页面暂时打不开，请过一分钟再试。The pages are not answering just now; please try again "
                        "in a minute.</p></html>", status=503, mimetype="text/html")
    response = Response(upstream.content, status=upstream.status_code)
    for h in PAGE_RESPONSE_HEADERS:
        if h in upstream.headers:
            response.headers[h] = upstream.headers[h]
    for cookie in upstream.raw.headers.getlist("Set-Cookie"):
        response.headers.add("Set-Cookie", cookie)
    return response
