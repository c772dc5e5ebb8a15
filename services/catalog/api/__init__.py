"""Catalog's routes, thin: parse with a schema, call one command (in a unit of work) or one store read,
serialise. The blueprints every route module shares live here; app.py registers them.

- reference.py: categories and communities (an admin changes them)
- providers.py: profiles, verification and suspension (a coordinator of the provider's communities)
- listings.py: listings, versions, availability, price approval, the internal snapshot
- reviews.py: reviews, replies, scorecards
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from pymongo.database import Database

from linli.unit import Units

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog",
                description="Categories, communities, providers, listings and reviews")
internal = Blueprint("catalog-internal", __name__, url_prefix="/internal/v1",
                     description="Service-to-service reads; the gateway never routes here")
STAFF = ("coordinator", "admin")


def units() -> Units:
    """The app's units of work (bootstrap.build, kept by app.create_app)."""
    return current_app.extensions["catalog"].units


def db() -> Database:
    """For linli.web.idempotent, which keeps its replies in the service's database."""
    return current_app.extensions["catalog"].db


from . import listings, providers, reference, reviews  # noqa: E402,F401  (their routes join the blueprints)
