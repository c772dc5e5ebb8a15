"""Forwarding /api/v1/<public prefix>/... to the service that owns it, and every other path the gateway
does not answer itself to the pages (web/), at the same address.

Every request is checked first (`rules.paths.check`, for every route of the gateway): a path that could
be read two ways is not found. The proxy then forwards only an allow-listed public prefix, to a URL
built from the checked segments.
"""
from __future__ import annotations

import html
import json
import logging

from flask import Flask, Response, g, request, stream_with_context

from linli import logs
from linli.errors import error_body
from linli.web import takes_forms

from ..adapters import services
from ..rules import paths
from . import security

log = logging.getLogger("gateway.proxy")

PASS_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key", "X-Correlation-ID",
                        # the payment provider's signature travels in these
                        "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial")
PASS_RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Idempotent-Replayed", "Location", "Retry-After")
# a live stream of one person's messages: passed on as it comes, resumed from Last-Event-ID
STREAMS = {("notify", ("stream",))}
STREAM_RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "X-Accel-Buffering")
# the stub payment provider's cashier keeps the payer's cashier session in a cookie of its own: only that
# cookie goes to it (never the pages' session), and only its Set-Cookie comes back
CASHIER = ("payments", "stub")
CASHIER_COOKIE = "linli_cashier"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _raw_uri() -> str | None:
    return request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")


def forward(**_) -> Response:
    route = paths.public_route(request.path, _raw_uri())
    headers = {h: request.headers[h] for h in PASS_REQUEST_HEADERS if h in request.headers}
    headers["X-Request-ID"] = g.request_id
    if request.method == "GET" and (route.service, route.segments) in STREAMS:
        return _stream(route, headers)
    cashier = (route.prefix, *route.segments[:1]) == CASHIER
    if cashier and CASHIER_COOKIE in request.cookies:
        headers["Cookie"] = f"{CASHIER_COOKIE}={request.cookies[CASHIER_COOKIE]}"
    try:
        upstream = services.call(route.service, request.method, ("api", "v1", route.prefix) + route.segments,
                                 params=list(request.args.items(multi=True)), data=request.get_data(),
                                 headers=headers)
    except services.Unavailable as error:
        logs.log(log, logging.WARNING, "upstream unavailable", service=error.service,
                 error=type(error.error).__name__)
        body = error_body("unavailable", f"The {error.service} service is not answering just now. "
                                         "Please try again in a minute.", {"service": error.service})
        return Response(json.dumps(body, ensure_ascii=False), status=503, mimetype="application/json")
    response = Response(upstream.content, status=upstream.status)
    for h in PASS_RESPONSE_HEADERS:
        if h in upstream.headers:
            response.headers[h] = upstream.headers[h]
    if cashier:
        for cookie in upstream.set_cookies:
            if cookie.startswith(f"{CASHIER_COOKIE}="):
                response.headers.add("Set-Cookie", cookie)
    return response


def _unavailable(service: str) -> Response:
    body = error_body("unavailable", f"The {service} service is not answering just now. "
                                     "Please try again in a minute.", {"service": service})
    return Response(json.dumps(body, ensure_ascii=False), status=503, mimetype="application/json")


def _stream(route, headers: dict[str, str]) -> Response:
    """Server-sent events, passed through chunk by chunk (opened with a token or a one-use ticket, which notify
    checks). The gateway runs gevent's worker: an open stream is a parked greenlet, not a thread."""
    if "Last-Event-ID" in request.headers:
        headers["Last-Event-ID"] = request.headers["Last-Event-ID"]
    try:
        upstream = services.open_stream(route.service, ("api", "v1", route.prefix) + route.segments,
                                        params=list(request.args.items(multi=True)), headers=headers)
    except services.Unavailable as error:
        logs.log(log, logging.WARNING, "upstream unavailable", service=error.service,
                 error=type(error.error).__name__)
        return _unavailable(error.service)

    def chunks():
        try:
            yield from upstream.iter_content(chunk_size=None)
        except Exception as error:  # the service went away mid-stream: the browser reconnects by itself
            logs.log(log, logging.INFO, "stream ended", service=route.service, error=type(error).__name__)
        finally:
            upstream.close()

    response = Response(stream_with_context(chunks()), status=upstream.status_code, direct_passthrough=True)
    for h in STREAM_RESPONSE_HEADERS:
        if h in upstream.headers:
            response.headers[h] = upstream.headers[h]
    return response


# -- the pages (web/) ------------------------------------------------------------------------------

PAGE_REQUEST_HEADERS = ("Accept", "Accept-Language", "Content-Type", "Cookie", "Referer", "Origin", "User-Agent",
                        "If-None-Match", "If-Modified-Since", "HX-Request", "HX-Current-URL", "HX-Target",
                        "HX-Trigger", "X-CSRFToken")  # the live script's ticket request carries its form token there
PAGE_RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Location", "Cache-Control", "ETag", "Last-Modified",
                         "Vary", "Content-Language", "HX-Redirect", "HX-Refresh")  # a download keeps its file name
CITY_HOTLINE = "12345"  # the gateway does not know the person's committee: the city's hotline, and the home page
PAGES_DOWN = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>邻里 Linli</title>"
              "<p>页面暂时打不开，请过一分钟再试。The pages are not answering just now; please try again "
              f"in a minute.</p><p><a href=\"tel:{CITY_HOTLINE}\">☎ {CITY_HOTLINE}</a></p></html>")
# what the door refuses before a page is asked (a NUL or a broken character in a form, a body too large, a path
# read two ways, a method pages do not take), said to a person in both languages rather than as the API's JSON
_PAGE_REFUSALS = {
    400: ("这张表里有无法读取的内容{field}。请删掉它，返回上一页再发送一次。",
          "The form holds something that cannot be read{field}. Please remove it, go back and send it again."),
    404: ("没有这个页面。请检查网址，或返回首页。", "There is no such page. Please check the address, or go back to the home page."),
    405: ("这个页面不能这样打开。请返回上一页，用页面上的按钮操作。",
          "This page does not open that way. Please go back and use the buttons on the page."),
    413: ("您发送的内容太长了。请写短一些再发送。", "What you sent is too long. Please shorten it and send it again."),
    429: ("短时间内尝试次数太多。请等一分钟再试。", "Too many tries in a short time. Please wait a minute and try again."),
}
_NOT_PAGES = ("/api", "/internal", "/docs", "/openapi.json", "/healthz", "/readyz", "/static/")


@takes_forms
def forward_page(rest: str = "") -> Response:
    """A page: the path (already checked by `paths.check`) goes to web/ segment by segment, the person's
    cookie with it, and every Set-Cookie back to that person only."""
    if rest == "api" or rest.startswith("api/"):  # the API's own paths are never pages
        return Response(json.dumps(error_body("not_found", "There is no such route.", {}), ensure_ascii=False),
                        status=404, mimetype="application/json")
    headers = {h: request.headers[h] for h in PAGE_REQUEST_HEADERS if h in request.headers}
    headers["X-Request-ID"] = g.request_id
    segments = tuple(rest.split("/")) if rest else ()
    try:
        upstream = services.call("web", request.method, segments, params=list(request.args.items(multi=True)),
                                 data=request.get_data(), headers=headers, timeout=None)
    except services.Unavailable as error:
        logs.log(log, logging.WARNING, "upstream unavailable", service="web", error=type(error.error).__name__)
        return Response(PAGES_DOWN, status=503, mimetype="text/html")
    response = Response(upstream.content, status=upstream.status)
    for h in PAGE_RESPONSE_HEADERS:
        if h in upstream.headers:
            response.headers[h] = upstream.headers[h]
    for cookie in upstream.set_cookies:
        if request.is_secure and "secure" not in [p.strip().lower() for p in cookie.split(";")[1:]]:
            cookie += "; Secure"  # web is asked over plain HTTP: only the door knows the person came over HTTPS
        response.headers.add("Set-Cookie", cookie)
    return response


def _page_refusal(response: Response) -> Response:
    status = response.status_code
    code = 400 if status in (400, 415, 422, 431) else 413 if status in (413, 414) else status
    zh, en = _PAGE_REFUSALS[code]
    details = ((response.get_json(silent=True) or {}).get("error") or {}).get("details") or {}
    field = next((k for k in details if isinstance(k, str) and k not in ("_", "content_type", "max_bytes")), None)
    named = f" ({html.escape(field[:40])})" if field else ""
    body = (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><title>邻里 Linli</title>"
            f"<p>{zh.format(field=named)}</p><p lang=\"en\">{en.format(field=named)}</p>"
            f"<p><a href=\"/\">回到首页 · Home</a> · <a href=\"tel:{CITY_HOTLINE}\">☎ {CITY_HOTLINE}</a></p></html>")
    page = Response(body, status=status, mimetype="text/html")
    for name, value in response.headers.items():  # the security headers, the request id, Allow, Retry-After
        if name.lower() not in ("content-type", "content-length", "cache-control"):
            page.headers.add(name, value)
    page.headers.setdefault("Content-Security-Policy", security.PAGE_POLICY)
    page.headers["Cache-Control"] = "no-store"
    return page


def install(app: Flask) -> None:
    @app.before_request
    def _one_reading_only():
        paths.check(request.path, _raw_uri())

    @app.after_request
    def _refused_page_for_a_person(response: Response) -> Response:
        """A page's path refused by the door itself: a page a person can read, not the API's JSON."""
        status = response.status_code
        if (status in (400, 404, 405, 413, 414, 415, 422, 429, 431) and response.mimetype == "application/json"
                and not request.path.startswith(_NOT_PAGES)):
            return _page_refusal(response)
        return response

    for prefix in paths.PUBLIC_PREFIXES:
        # one rule per public prefix: /api/v1/<prefix> and everything under it
        app.add_url_rule(f"/api/v1/{prefix}", f"proxy_{prefix}_root", forward, methods=METHODS)
        app.add_url_rule(f"/api/v1/{prefix}/<path:rest>", f"proxy_{prefix}", forward, methods=METHODS)
    # the pages: every other path, at the same address as the API (registered last, so every route of
    # the gateway's own wins)
    app.add_url_rule("/", "page_root", forward_page, methods=["GET", "POST"])
    app.add_url_rule("/<path:rest>", "page", forward_page, methods=["GET", "POST"])
