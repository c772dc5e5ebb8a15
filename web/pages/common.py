"""What every page shares: the communities (read through the API once per request), the person's own
community and saved address, elder mode, and the committee's phone number."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import g, request
from flask_babel import gettext as _

from .. import i18n
from ..sessions import gateway, person

CITY_HOTLINE = "12345"  # when a community has no committee number yet: the city's service hotline


def communities() -> dict[str, dict]:
    """Read once per request: a community or building the admin just added is there on the next page, in every
    worker (a process-wide cache kept them from the profile's list for a minute)."""
    if "communities" not in g:
        g.communities = {c["id"]: c for c in gateway().communities()}
    return g.communities


def me() -> dict:
    """The signed-in account with its profile, read once per request."""
    if "me_detail" not in g:
        g.me_detail = person().me()
    return g.me_detail


def profile() -> dict:
    return (me().get("profile") or {}) if g.get("account") else {}


def home_community() -> dict | None:
    p = profile()
    cid = p.get("community_id") or next((a["community_id"] for a in p.get("addresses") or []), None) \
        or g.get("role_community")  # a volunteer's or a provider's first community, when its page has read it
    return communities().get(cid) if cid else None


def zone() -> str | None:
    c = home_community() if g.get("account") else None
    return c.get("timezone") if c else None


def entrance(address: dict) -> dict | None:
    """The building's entrance from the community's list (catalog owns it), else the community's centre."""
    community = communities().get(address.get("community_id"))
    if community is None:
        return None
    for building in community.get("buildings") or []:
        if building.get("name") == address.get("building"):
            return building.get("entrance")
    return community.get("center")


def read_with_page(api, *reads: tuple[str, dict]) -> list:
    """A page's own reads asked at once, together with the account and the communities every page reads (unless
    this request has read them already): one round of waiting instead of one per call."""
    extra = [r for r, cached in ((("/api/v1/me", {}), "me_detail"), (("/api/v1/catalog/communities", {}),
                                                                      "communities")) if cached not in g]
    answers = api.read_all(*reads, *extra)
    for (path, _), answer in zip(extra, answers[len(reads):]):
        if path == "/api/v1/me":
            g.me_detail = answer
        else:
            g.communities = {c["id"]: c for c in answer}
    return answers[:len(reads)]


def forget_communities() -> None:
    """The next read in this request asks the API again (after the admin changed a community)."""
    g.pop("communities", None)


def fen(raw: str) -> int | None:
    """Yuan as a person writes them ("15", "3.50") in fen, or None for words, a negative amount, "nan" or "inf"."""
    try:
        value = int(round(float(raw.strip()) * 100))
    except (ValueError, OverflowError):  # words, "nan", "inf", "1e999"
        return None
    return value if value >= 0 else None


def local_path(target: str | None) -> bool:
    """A path of this site and nothing else: it starts with one "/", and holds no backslash (browsers read "/\\x" as
    "//x", another site), no space or control character (browsers drop tabs and line breaks, and a line break in a
    header would end it) and no scheme or host however it is read."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return False
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not target.startswith("//") and not parts.scheme and not parts.netloc


MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
FIRST_YEAR = 2000


def this_month(zone: str | None) -> str:
    """This month in the community's time zone, as YYYY-MM."""
    return datetime.now(ZoneInfo(zone or i18n.FALLBACK_ZONE)).strftime("%Y-%m")


def asked_month(zone: str | None) -> tuple[str, str | None]:
    """The month a page is asked for, as YYYY-MM: the year and month lists (`?year=2026&month=12`), or the older
    `?month=2026-12` (links and bookmarks), else this month in the community's zone. What is no month gives this
    month and a sentence saying so (the page answers 400 with it, never a 5xx)."""
    now = this_month(zone)
    year, month = request.args.get("year", "").strip(), request.args.get("month", "").strip()
    if not year and not month:
        return now, None
    if year:
        month = f"{year}-{month.zfill(2)}" if month.isascii() and month.isdigit() and len(month) <= 2 else "?"
    found = MONTH.fullmatch(month)
    if found and FIRST_YEAR <= int(found[1]) <= int(now[:4]) + 1:
        return month, None
    return now, _("The month could not be read, so this month is shown. Please choose a year and a month from the "
                  "lists.")
