"""Events catalog publishes (routing key = type). Edit only with the catalog service."""
from marshmallow import fields, validate

from .common import Builder, Data, OrderRef, registry


class ReservationConfirmed(OrderRef):
    listing_id = fields.String(required=True)
    slot_date = fields.String(required=True)
    slot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    remaining = fields.Integer(required=True)


class ReservationRejected(OrderRef):
    code = fields.String(required=True)
    reason = fields.String(required=True)


class ReservationReleased(OrderRef):
    quantity = fields.Integer(required=True)


class ProviderVerified(Data):
    provider_id = fields.String(required=True)
    owner_id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)


class ListingChanged(Data):
    """published, updated (any edit, pausing included) and withdrawn carry the listing's new version."""
    listing_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.OneOf(["draft", "published", "paused", "withdrawn"]))
    category = fields.String(required=True)
    title = fields.String(required=True)
    price_fen = fields.Integer(required=True, validate=validate.Range(min=0))
    community_ids = fields.List(fields.String(), required=True)


class ReviewPosted(OrderRef):
    review_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(
        ["resident_to_provider", "resident_to_volunteer", "provider_to_resident"]))
    author_id = fields.String(required=True)
    subject_id = fields.String(required=True)  # the provider, volunteer or resident reviewed
    stars = fields.Integer(required=True, validate=validate.Range(1, 5))
    tags = fields.List(fields.String(), required=True)
    visible_from = fields.String(required=True)  # reviews are blind until then (both sides wrote, or 7 days)


# One builder per event type this service emits (emit sites call these; the type is spelled only here).
reservation_confirmed = Builder("catalog.reservation.confirmed", ReservationConfirmed)
reservation_rejected = Builder("catalog.reservation.rejected", ReservationRejected)
reservation_released = Builder("catalog.reservation.released", ReservationReleased)
provider_verified = Builder("catalog.provider.verified", ProviderVerified)
listing_published = Builder("catalog.listing.published", ListingChanged)
listing_updated = Builder("catalog.listing.updated", ListingChanged)
listing_withdrawn = Builder("catalog.listing.withdrawn", ListingChanged)
review_posted = Builder("catalog.review.posted", ReviewPosted)

EVENTS = registry(
    reservation_confirmed, reservation_rejected, reservation_released, provider_verified, listing_published,
    listing_updated, listing_withdrawn, review_posted)
