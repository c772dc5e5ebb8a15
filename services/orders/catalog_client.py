"""Orders reads the listing it sells from catalog, over HTTP, at the moment an order is placed."""
from __future__ import annotations

import requests

from linli.config import settings
from linli.errors import ApiError

_session = requests.Session()


def listing_snapshot(listing_id: str, slot_date: str, slot: str) -> dict | None:
    cfg = settings()
    try:
        response = _session.get(
            f"{cfg.service_urls['catalog']}/internal/v1/listings/{listing_id}",
            params={"date": slot_date, "slot": slot}, timeout=cfg.upstream_timeout,
        )
    except requests.RequestException:
        raise ApiError(503, "unavailable", "The catalog cannot be reached just now; please try again in a minute.")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise ApiError(503, "unavailable", "The catalog cannot answer just now; please try again in a minute.")
    return response.json()
