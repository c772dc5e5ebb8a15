"""The shape of a WeChat subscription message (subscribeMessage.send): a template id and keyed
fields whose kinds limit their values — `thing` at most 20 characters, `phrase` at most 5 Chinese
characters, `time` a date-time written like 2026年11月30日 15:01. Notify fills them from a notice."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "amount": 32}

# one template per notice family, with its fields: (key, what fills it)
TEMPLATES: dict[str, dict] = {
    "order": {"id": "LINLI-ORDER-STATUS", "fields": (("thing1", "title"), ("phrase2", "status"), ("time3", "at"))},
    "task": {"id": "LINLI-TASK-ALERT", "fields": (("thing1", "title"), ("thing2", "body"), ("time3", "at"))},
}
TEMPLATE_OF_KIND = {kind: "task" for kind in ("offer", "offer_withdrawn", "offer_cancelled", "escalated", "delivery_failed_staff",
                                               "welfare_check", "deadline_missed", "deadline_missed_provider",
                                               "new_order", "provider_verified", "volunteer_verified",
                                               "volunteer_refused")}


def template_for(kind: str) -> dict:
    return TEMPLATES[TEMPLATE_OF_KIND.get(kind, "order")]


def fit(kind: str, value: str) -> str:
    """A value cut to what its field kind allows (an ellipsis marks a cut)."""
    limit = LIMITS.get(kind)
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def wechat_time(at: datetime, zone: str = "Asia/Shanghai") -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def fields_for(kind: str, title: str, body: str, at: datetime, zone: str = "Asia/Shanghai") -> dict[str, dict]:
    values = {"title": title, "body": body, "status": title, "at": wechat_time(at, zone)}
    out = {}
    for key, source in template_for(kind)["fields"]:
        field_kind = key.rstrip("0123456789")
        out[key] = {"value": values[source] if field_kind == "time" else fit(field_kind, values[source])}
    return out
