"""Review routes: the people of a completed order review each other; a provider replies once; scorecards."""
from __future__ import annotations

from flask import g
from pymongo.errors import DuplicateKeyError

from linli.errors import ApiError, forbidden, not_found
from linli.ids import utcnow
from linli.schemas import PageArgs, page_of
from linli.web import idempotent, requires

from . import reviews, store
from .api import blp, db, rule
from .schemas import ReplyIn, ReviewIn, ReviewPage, ReviewSchema, ScorecardSchema


def _review_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"]}


def _completed_order(order_id: str) -> dict:
    order = db().provider_orders.find_one({"_id": order_id})
    if order is None or not order.get("completed_at"):
        raise ApiError(409, "not_completed", "An order can be reviewed once it is completed.")
    return order


@blp.route("/reviews", methods=["POST"])
@requires("resident", "provider")
@idempotent(db)
@blp.arguments(ReviewIn)
@blp.response(201, ReviewSchema)
def post_review(body):
    """Reviews the other side of a completed order: the resident the provider or the volunteer, the provider
    the resident; once per order and direction. Blind until both the resident and the provider have written,
    or 7 days after completion."""
    who = g.principal
    if who.role != reviews.author_role(body["direction"]):
        raise forbidden(f"Only the order's {reviews.author_role(body['direction'])} writes this review.")
    order = _completed_order(body["order_id"])
    parties = reviews.Parties(order["resident_id"], order["provider_id"], order.get("volunteer_id"))
    if who.role == "resident" and who.id != parties.resident_id:
        raise not_found("The order")
    if who.role == "provider" and db().providers.find_one({"_id": parties.provider_id, "owner_id": who.id}) is None:
        raise not_found("The order")
    subject = rule(reviews.subject_of, body["direction"], parties)
    now = utcnow()
    review = {"_id": f"{body['order_id']}:{body['direction']}", **body, "author_id": who.id, "subject_id": subject,
              "provider_id": parties.provider_id, "created_at": now, "reply": None, "counted": False,
              "visible_from": order["completed_at"] + reviews.REVEAL_AFTER}
    try:
        posted = store.post_review(db(), review, order["completed_at"], now, {
            "order_id": body["order_id"], "review_id": review["_id"], "direction": body["direction"],
            "author_id": who.id, "subject_id": subject, "stars": body["stars"], "tags": body["tags"]})
    except DuplicateKeyError:
        raise ApiError(409, "already_reviewed", "You have already reviewed this order.")
    store.count_revealed(db(), now)
    return _review_out(posted)


@blp.route("/reviews/<review_id>/reply", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ReplyIn)
@blp.response(200, ReviewSchema)
def reply(body, review_id):
    """The reviewed provider answers a resident's review, once."""
    d = db()
    review = d.reviews.find_one({"_id": review_id, "direction": "resident_to_provider"})
    if review is None or d.providers.find_one({"_id": review["subject_id"], "owner_id": g.principal.id}) is None:
        raise not_found("The review")
    if d.reviews.update_one({"_id": review_id, "reply": None},
                            {"$set": {"reply": {"text": body["text"], "at": utcnow()}}}).modified_count == 0:
        raise ApiError(409, "already_replied", "You have already replied to this review.")
    return _review_out(d.reviews.find_one({"_id": review_id}))


@blp.route("/providers/<provider_id>/reviews")
@blp.arguments(PageArgs, location="query")
@blp.response(200, ReviewPage)
def provider_reviews(args, provider_id):
    """Residents' reviews of a provider that are no longer blind, newest first."""
    query = {"subject_id": provider_id, "direction": "resident_to_provider", "visible_from": {"$lte": utcnow()}}
    docs, numbers = page_of(db().reviews, query, args, [("created_at", -1), ("_id", 1)])
    return {"items": [_review_out(d) for d in docs], **numbers}


@blp.route("/providers/<provider_id>/scorecard")
@blp.response(200, ScorecardSchema)
def scorecard(provider_id):
    """A provider's record: stars (good 4–5, neutral 3, bad 1–2) overall and over 30 days, completed orders,
    the share of paid orders answered within the deadline and the median answer time."""
    d = db()
    if d.providers.find_one({"_id": provider_id}, {"_id": 1}) is None:
        raise not_found("The provider")
    now = utcnow()
    visible = list(d.reviews.find({"subject_id": provider_id, "direction": "resident_to_provider",
                                   "visible_from": {"$lte": now}}, {"stars": 1, "created_at": 1}))
    orders = list(d.provider_orders.find({"provider_id": provider_id}))
    return {"provider_id": provider_id, **reviews.scorecard(visible, orders, now)}
