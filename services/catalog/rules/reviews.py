"""Review rules, without I/O: who reviews whom after an order, blind reviews, and a provider's scorecard.

The seeds' three-way evaluation: after a completed order the resident reviews the provider
and the volunteer, and the provider reviews the resident. Reviews are blind so that nobody
answers a bad review with a bad review: an order's reviews show once the resident and the
provider have both written, or REVEAL_AFTER the order completed, whichever comes first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from linli.domain_errors import RuleBroken

DIRECTIONS = ("resident_to_provider", "resident_to_volunteer", "provider_to_resident")
REVEAL_AFTER = timedelta(days=7)
RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Parties:
    """Who took part in a completed order (from orders.order.completed)."""
    resident_id: str
    provider_id: str
    volunteer_id: str | None


def author_role(direction: str) -> str:
    return "provider" if direction == "provider_to_resident" else "resident"


def subject_of(direction: str, parties: Parties) -> str:
    """Whom a review is about; a volunteer review needs an order a volunteer carried."""
    if direction == "resident_to_provider":
        return parties.provider_id
    if direction == "provider_to_resident":
        return parties.resident_id
    if parties.volunteer_id is None:
        raise RuleBroken("direction", "nobody delivered this order, so there is no volunteer to review")
    return parties.volunteer_id


def visible_from(completed_at: datetime, directions_written: set[str], now: datetime) -> datetime:
    """When an order's reviews show: now if both sides have written, else REVEAL_AFTER completion."""
    late = completed_at + REVEAL_AFTER
    both = {"resident_to_provider", "provider_to_resident"} <= directions_written
    return min(now, late) if both else late


def _stars(reviews: list[dict]) -> dict:
    stars = [r["stars"] for r in reviews]
    return {
        "count": len(stars),
        "average": round(sum(stars) / len(stars), 2) if stars else None,
        "good": sum(1 for s in stars if s >= 4),
        "neutral": sum(1 for s in stars if s == 3),
        "bad": sum(1 for s in stars if s <= 2),
    }


def score(reviews: list[dict]) -> dict:
    """The short score shown beside a provider's listings: average and count."""
    s = _stars(reviews)
    return {"average": s["average"], "count": s["count"]}


def scorecard(visible_reviews: list[dict], orders: list[dict], now: datetime) -> dict:
    """A provider's public record: stars overall and over the last 30 days, completed orders, and how
    quickly it answers paid orders (answered_at - paid_at, and whether by the deadline orders set, `answer_by`;
    an order noted before orders said its deadline is not judged in time or late)."""
    recent = [r for r in visible_reviews if r["created_at"] >= now - RECENT]
    answered = [o for o in orders if o.get("paid_at") and o.get("answered_at")]
    waits = [(o["answered_at"] - o["paid_at"]) for o in answered]
    judged = [o for o in answered if o.get("answer_by")]
    in_time = [o for o in judged if o["answered_at"] <= o["answer_by"]]
    return {
        **_stars(visible_reviews),
        "last_30_days": _stars(recent),
        "completed_orders": sum(1 for o in orders if o.get("completed_at")),
        "answered_orders": len(answered),
        "answered_in_time_share": round(len(in_time) / len(judged), 3) if judged else None,
        "median_answer_minutes": round(median(w.total_seconds() for w in waits) / 60, 1) if waits else None,
    }
