"""Provider routes: a provider keeps its profile; a coordinator of the communities it serves verifies or
suspends it."""
from __future__ import annotations

from flask import g

from linli.errors import not_found
from linli.schemas import geojson_to_point
from linli.web import idempotent, requires

from .. import commands, store
from linli.schemas import PageArgs

from ..schemas import OwnListingPage, ProviderArgs, ProviderIn, ProviderPage, ProviderPatch, ProviderSchema, SuspendIn
from . import STAFF, blp, db, units
from .listings import listing_out


def provider_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "location": geojson_to_point(doc.get("location")),
            "rating": doc.get("rating") or {"average": None, "count": 0}}


@blp.route("/providers", methods=["POST"])
@requires("provider")
@idempotent(db)
@blp.arguments(ProviderIn)
@blp.response(201, ProviderSchema)
def create_provider(body):
    """Creates the signed-in provider's profile; a coordinator verifies it before it can publish."""
    return provider_out(units().run(lambda u: commands.create_provider(u, g.principal, body)))


@blp.route("/providers")
@requires(*STAFF)
@blp.arguments(ProviderArgs, location="query")
@blp.response(200, ProviderPage)
def list_providers(args):
    """The providers serving your communities (an admin: all), oldest first; status=pending lists those
    waiting for verification."""
    docs, numbers = commands.providers(units().read(), g.principal, args.get("status"), args)
    return {"items": [provider_out(d) for d in docs], **numbers}


@blp.route("/providers/me")
@requires("provider")
@blp.response(200, ProviderSchema)
def my_provider():
    """The signed-in provider's own profile."""
    return provider_out(commands.own_provider(units().read(), g.principal))


@blp.route("/providers/me", methods=["PATCH"])
@requires("provider")
@idempotent(db)
@blp.arguments(ProviderPatch)
@blp.response(200, ProviderSchema)
def edit_my_provider(body):
    """The provider changes its own name, contact, address, location or communities. Moving carries every
    listing along; a community can be dropped only when no listing still serves it."""
    return provider_out(units().run(lambda u: commands.edit_own_provider(u, g.principal, body)))


@blp.route("/providers/me/listings")
@requires("provider")
@blp.arguments(PageArgs, location="query")
@blp.response(200, OwnListingPage)
def my_listings(args):
    """The signed-in provider's own listings, whatever their state (drafts, paused, waiting for approval), newest
    first: what its pages list to edit."""
    u = units().read()
    provider = commands.own_provider(u, g.principal)
    docs, numbers = store.listings_of(u, provider["_id"], args)
    return {"items": [listing_out(d, provider) for d in docs], **numbers}


@blp.route("/providers/<provider_id>")
@blp.response(200, ProviderSchema)
def get_provider(provider_id):
    """A provider's public profile."""
    doc = store.provider(units().read(), provider_id)
    if doc is None:
        raise not_found("The provider")
    return provider_out(doc)


@blp.route("/providers/<provider_id>/verify", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.response(200, ProviderSchema)
def verify_provider(provider_id):
    """A coordinator of a community the provider serves confirms the provider is who it says it is (or lifts a
    suspension); its listings show again. Another community's coordinator is refused (403)."""
    return provider_out(units().run(lambda u: commands.verify_provider(u, g.principal, provider_id)))


@blp.route("/providers/<provider_id>/suspend", methods=["POST"])
@requires(*STAFF)
@idempotent(db)
@blp.arguments(SuspendIn)
@blp.response(200, ProviderSchema)
def suspend_provider(body, provider_id):
    """A coordinator of a community the provider serves suspends it: its listings disappear from search at
    once and take no orders. Another community's coordinator is refused (403)."""
    return provider_out(units().run(lambda u: commands.suspend_provider(u, g.principal, provider_id, body["reason"])))
