"""Orders' two synchronous reads, both at the moment an order is placed: the listing it sells,
from catalog, and, when a coordinator orders for a resident, that resident's account, from the
gateway (asked with the coordinator's own token, so the gateway decides what they may see)."""
from __future__ import annotations

import requests

from linli.config import settings
from linli.errors import ApiError

_session = requests.Session()


def _get(service: str, path: str, what: str, **kwargs) -> dict | None:
    """The JSON answer, None on 404, or a 503 the person can read when the service is away."""
    cfg = settings()
    try:
        response = _session.get(f"{cfg.service_urls[service]}{path}", timeout=cfg.upstream_timeout, **kwargs)
    except requests.RequestException:
        raise ApiError(503, "unavailable", f"The {what} cannot be reached just now; please try again in a minute.")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise ApiError(503, "unavailable", f"The {what} cannot answer just now; please try again in a minute.")
    return response.json()


def listing_snapshot(listing_id: str, slot_date: str, slot: str) -> dict | None:
    return _get("catalog", f"/internal/v1/listings/{listing_id}", "catalog",
                params={"date": slot_date, "slot": slot})


def resident_for_coordinator(account_id: str, authorization: str) -> dict | None:
    """The resident's name, tags and profile, if the signed-in coordinator may see them."""
    return _get("gateway", f"/api/v1/accounts/{account_id}", "account service",
                headers={"Authorization": authorization})
