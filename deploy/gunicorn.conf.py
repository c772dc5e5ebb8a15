"""gunicorn settings shared by every web process (the gateway and each service).

gthread: the services wait on Mongo, RabbitMQ and each other; threads keep a worker busy
while one request waits (measured here: 226 req/s sync vs 1,435 req/s gthread 2x16). The gateway and notify's
web process override it with `-k gevent` (deploy/Procfile): they hold open live streams, a greenlet each.
"""
import json
import os

import gunicorn.util

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("LINLI_WEB_WORKERS", "2"))
threads = int(os.environ.get("LINLI_WEB_THREADS", "8"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None  # the app logs each request as JSON with its request id
errorlog = "-"
loglevel = os.environ.get("LINLI_GUNICORN_LOG_LEVEL", "warning")
# Bounded reads keep memory safe; within them the app answers overlong input itself (linli/web.py: 414 past
# 4,096 characters of URL, 431 past 8,192 of a header). A request line past 8,190 bytes (gunicorn's ceiling
# short of "unlimited") or a header past 16,384 is refused by gunicorn, in the same JSON error shape (below).
limit_request_line = 8190
limit_request_field_size = 16384

_CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed",
          431: "headers_too_large", 500: "internal_error", 501: "not_implemented"}
_MESSAGES = {414: "The URL is too long; at most 4,096 characters are accepted.",
             431: "The request's headers are too large: at most 8,192 characters a header.",
             500: "Something went wrong on our side. Please try again; if it keeps happening, tell us the request id."}


def _json_error(sock, status_int, reason, mesg):
    """gunicorn's own refusals (a request it cannot parse or that passes its limits) in the API's error shape,
    not its HTML page: the one place gunicorn writes an answer itself (gunicorn.workers.base.handle_error)."""
    message = _MESSAGES.get(status_int) or f"The request could not be read: {mesg or reason}."
    body = json.dumps({"error": {"code": _CODES.get(status_int, "bad_request"), "message": message,
                                 "details": {}}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    gunicorn.util.write_nonblock(sock, head + body)


gunicorn.util.write_error = _json_error


def post_worker_init(worker):
    """Moves everything the loaded app holds (Flask, marshmallow, pymongo: about half a million objects) out
    of the garbage collector's reach. Otherwise every full collection walks them all, a 20-25 ms pause that
    a search hit a few times in a hundred (bench/catalog_search.py: p99 59 -> 37 ms, p50 unchanged)."""
    import gc

    gc.collect()
    gc.freeze()


def on_starting(server):
    """A configuration that must not run stops gunicorn itself, before any worker: a worker that exits is
    only started again. Orders with the stub payment provider in production (not a declared demo) exits 78
    here, with its one log line (services/orders/bootstrap.py)."""
    if str(getattr(server.app, "app_uri", None) or server.cfg.wsgi_app or "").startswith("services.orders.app:"):
        from linli.config import settings
        from services.orders.bootstrap import payment_provider

        payment_provider(settings())
