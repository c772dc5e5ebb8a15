"""Review routes: the people of a completed order review each other; a provider replies once; scorecards."""
from __future__ import annotations

from flask import g

from linli.schemas import PageArgs
from linli.web import idempotent, requires

from .. import commands
from ..schemas import ReplyIn, ReviewIn, ReviewPage, ReviewSchema, ScorecardSchema
from . import blp, db, units


def _review_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"]}


@blp.route("/reviews", methods=["POST"])
@requires("resident", "provider")
@idempotent(db)
@blp.arguments(ReviewIn)
@blp.response(201, ReviewSchema)
def post_review(body):
    """Reviews the other side of a completed order: the resident the provider or the volunteer, the provider
    the resident; once per order and direction. Blind until both the resident and the provider have written,
    or 7 days after completion."""
    return _review_out(units().run(lambda u: commands.post_review(u, g.principal, body)))


@blp.route("/reviews/<review_id>/reply", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ReplyIn)
@blp.response(200, ReviewSchema)
def reply(body, review_id):
    """The reviewed provider answers a resident's review, once."""
    return _review_out(units().run(lambda u: commands.reply_to_review(u, g.principal, review_id, body["text"])))


@blp.route("/providers/<provider_id>/reviews")
@blp.arguments(PageArgs, location="query")
@blp.response(200, ReviewPage)
def provider_reviews(args, provider_id):
    """Residents' reviews of a provider that are no longer blind, newest first."""
    docs, numbers = commands.shown_reviews(units().read(), provider_id, args)
    return {"items": [_review_out(d) for d in docs], **numbers}


@blp.route("/providers/<provider_id>/scorecard")
@blp.response(200, ScorecardSchema)
def scorecard(provider_id):
    """A provider's record: stars (good 4–5, neutral 3, bad 1–2) overall and over 30 days, completed orders,
    the share of paid orders answered within the deadline and the median answer time."""
    return commands.scorecard(units().read(), provider_id)
