"""Orders' two synchronous reads, both at the moment an order is placed: the listing it sells,
from catalog, and, when a coordinator orders for a resident, that resident's account, from the
gateway (asked with the coordinator's own token, so the gateway decides what they may see).

Every URL is built from parts: an id goes into the path quoted as one segment, and everything
else goes in as query parameters, so no id can add a parameter or a path of its own."""
from __future__ import annotations

import re
from urllib.parse import quote

import requests

from linli.domain_errors import RuleBroken

from ..schemas import ID_PATTERN, ID_WORDS

ID = re.compile(ID_PATTERN)


class Unreachable(Exception):
    """The other service is away or cannot answer; the message says so to a person."""


def check_id(field: str, value: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise RuleBroken(field, ID_WORDS)
    return value


class Upstream:
    def __init__(self, catalog_url: str, gateway_url: str, timeout: float, session: requests.Session | None = None):
        self.catalog_url = catalog_url.rstrip("/")
        self.gateway_url = gateway_url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()

    def _get(self, base: str, segments: tuple[str, ...], what: str, **kwargs) -> dict | None:
        """The JSON answer, None on 404; Unreachable when the service is away."""
        url = base + "".join("/" + quote(s, safe="") for s in segments)
        try:
            response = self.http.get(url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.RequestException:
            raise Unreachable(f"The {what} cannot be reached just now; please try again in a minute.")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Unreachable(f"The {what} cannot answer just now; please try again in a minute.")
        return response.json()

    def listing_snapshot(self, listing_id: str, slot_date: str, slot: str) -> dict | None:
        check_id("listing_id", listing_id)
        return self._get(self.catalog_url, ("internal", "v1", "listings", listing_id), "catalog",
                         params={"date": slot_date, "slot": slot})

    def resident_for_coordinator(self, account_id: str, authorization: str) -> dict | None:
        """The resident's name, tags and profile, if the signed-in coordinator may see them."""
        check_id("for_resident_id", account_id)
        return self._get(self.gateway_url, ("api", "v1", "accounts", account_id), "account service",
                         headers={"Authorization": authorization})
