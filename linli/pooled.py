"""One request over a pool of kept-alive connections, asked once more when the server closed the connection just
as the request went out.

gunicorn closes a kept-alive connection after 5 s idle (deploy/gunicorn.conf.py `keepalive`); a pooled connection
taken at that moment fails with "connection reset" or "remote end closed" before any answer. The gateway (to the
services) and web (to the gateway) then said "not answering, try again in a minute" for a service that was fine:
bench/gateway_streams.py saw it as a 503 now and then, and a test of 200 racing orders lost one to it. Asking again
on a fresh connection is safe only when a repeat changes nothing twice: a read (GET, HEAD), or a change that
carries an Idempotency-Key (the service answers the repeat with the first answer).
"""
from __future__ import annotations

import requests

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def repeatable(method: str, headers: dict | None) -> bool:
    return method.upper() in SAFE_METHODS or any(k.lower() == "idempotency-key" for k in (headers or {}))


def request(session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    try:
        return session.request(method, url, **kwargs)
    except requests.ConnectionError as error:
        if isinstance(error, requests.ConnectTimeout) or not repeatable(method, kwargs.get("headers")):
            raise
        return session.request(method, url, **kwargs)
