"""HTTP to the services behind the gateway: pooled connections, timeouts, and URLs built from parts.

No URL here is made by pasting text a client sent: the path is the service's base URL plus
segments that `rules.paths` has checked, each percent-quoted; the query goes as parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from linli import pooled
from linli.config import settings

session = requests.Session()  # shared by the proxy and the tracking view: the same pooled connections
# A pool shared by everyone must never remember a cookie: one person's session cookie would be sent
# with the next person's request. Each Set-Cookie passes through to its own client instead.
session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
session.mount("http://", HTTPAdapter(pool_connections=8, pool_maxsize=32))


class Unavailable(Exception):
    """The service did not answer in time (or at all)."""

    def __init__(self, service: str, error: Exception):
        super().__init__(f"{service}: {type(error).__name__}")
        self.service = service
        self.error = error


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    headers: "requests.structures.CaseInsensitiveDict"
    set_cookies: tuple[str, ...] = field(default=())

    def json(self):
        import json

        try:
            return json.loads(self.content)
        except ValueError:
            return None


def url(service: str, segments: tuple[str, ...] | list[str]) -> str:
    """The service's base URL with these path segments, each quoted as one segment (a "/" inside one
    stays inside it), and no query."""
    base = urlsplit(settings().service_urls[service])
    path = base.path.rstrip("/") + "".join("/" + quote(s, safe="") for s in segments)
    return urlunsplit((base.scheme, base.netloc, path or "/", "", ""))


def call(service: str, method: str, segments: tuple[str, ...] | list[str], *, params=None, data: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float | None = None, connect_timeout: float = 2) -> Answer:
    """One request to a service; Unavailable when it does not answer."""
    cfg = settings()
    try:
        response = pooled.request(session, method, url(service, segments), params=params, data=data,
                                  headers=headers or {}, timeout=(connect_timeout, timeout or cfg.upstream_timeout),
                                  allow_redirects=False)
    except requests.RequestException as error:
        raise Unavailable(service, error) from error
    return Answer(response.status_code, response.content, response.headers,
                  tuple(response.raw.headers.getlist("Set-Cookie")) if response.raw is not None else ())


def open_stream(service: str, segments: tuple[str, ...] | list[str], *, params=None,
                headers: dict[str, str] | None = None, read_timeout: float = 60) -> requests.Response:
    """A long answer read as it comes (server-sent events): the caller iterates it and closes it. The read
    timeout is well above the service's keep-alive, so a quiet stream is not taken for a dead one."""
    try:
        return session.get(url(service, segments), params=params, headers=headers or {}, stream=True,
                           timeout=(2, read_timeout), allow_redirects=False)
    except requests.RequestException as error:
        raise Unavailable(service, error) from error
