"""Which paths the gateway forwards, decided on the path as the service would read it.

A path is refused outright (404, in the one error shape) when it could mean something else once
decoded or normalised further along: a dot segment (`..`, `.`, plain or percent-encoded), an
encoded slash or backslash, a backslash, a percent sign left after decoding (double encoding),
an empty segment, a control character, or an `internal` segment. What remains must start with an
allow-listed public prefix; the upstream URL is then built from these checked segments alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from linli.domain_errors import NotFound

# public prefix under /api/v1 -> the service that answers it
PUBLIC_PREFIXES = {"catalog": "catalog", "orders": "orders", "payments": "orders", "delivery": "delivery",
                   "notify": "notify"}

# in the raw request line: %2e (.), %2f (/), %5c (\), %25 (%), %00; any case
_ENCODED_TRICKS = re.compile(r"%(2e|2f|5c|25|00)", re.IGNORECASE)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Route:
    service: str
    prefix: str
    segments: tuple[str, ...]


def _refused() -> NotFound:
    return NotFound("This address")


def check(path: str, raw_uri: str | None = None) -> list[str]:
    """The path's segments (the first one empty), or NotFound when the path could be read two ways.
    `path` is the decoded path (PATH_INFO); `raw_uri` the request line's target as sent, when known."""
    if raw_uri is not None and _ENCODED_TRICKS.search(raw_uri.split("?", 1)[0]):
        raise _refused()
    if "\\" in path or "%" in path or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise _refused()
    segments = path.split("/")
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is harmless
    for segment in segments[1:]:
        if segment in ("", ".", "..") or segment.lower() == "internal":
            raise _refused()
    return segments


def public_route(path: str, raw_uri: str | None = None) -> Route:
    """The service, prefix and checked segments of a path the gateway forwards; NotFound for any other."""
    segments = check(path, raw_uri)
    if len(segments) < 4 or segments[:3] != ["", "api", "v1"] or segments[3] not in PUBLIC_PREFIXES:
        raise _refused()
    return Route(PUBLIC_PREFIXES[segments[3]], segments[3], tuple(segments[4:]))


def an_id(value: str, what: str) -> str:
    """An identifier as the services make them (letters, digits, _ and -); anything else is not found."""
    if not _ID.match(value or ""):
        raise NotFound(what)
    return value
