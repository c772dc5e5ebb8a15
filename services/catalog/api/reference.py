"""Reference data routes: categories and communities, read by anyone, changed by an admin."""
from __future__ import annotations

from linli.schemas import geojson_to_point
from linli.web import idempotent, requires

from .. import commands, store
from ..schemas import CategoryIn, CategoryPatch, CategorySchema, CommunityIn, CommunityPatch, CommunitySchema
from . import blp, db, units


def _category_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"]}


def _community_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "center": geojson_to_point(doc["center"]), "boundary": doc.get("boundary"),
            "buildings": doc.get("buildings") or [], "committee_phone": doc.get("committee_phone")}


@blp.route("/categories")
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """The kinds of service on offer."""
    return [_category_out(c) for c in store.categories(units().read())]


@blp.route("/categories", methods=["POST"])
@requires("admin")
@idempotent(db)
@blp.arguments(CategoryIn)
@blp.response(201, CategorySchema)
def create_category(body):
    """Adds a category (admin)."""
    return _category_out(units().run(lambda u: commands.add_category(u, body)))


@blp.route("/categories/<category_id>", methods=["PATCH"])
@requires("admin")
@idempotent(db)
@blp.arguments(CategoryPatch)
@blp.response(200, CategorySchema)
def rename_category(body, category_id):
    """Renames a category (admin); its id, which listings carry, stays."""
    return _category_out(units().run(lambda u: commands.rename_category(u, category_id, body)))


@blp.route("/communities")
@blp.response(200, CommunitySchema(many=True))
def list_communities():
    """The communities Linli serves."""
    return [_community_out(c) for c in store.communities(units().read())]


@blp.route("/communities", methods=["POST"])
@requires("admin")
@idempotent(db)
@blp.arguments(CommunityIn)
@blp.response(201, CommunitySchema)
def create_community(body):
    """Adds a community (admin): a centre, a time zone (a tz database name, Asia/Shanghai when left out), and
    optionally its boundary as a GeoJSON polygon."""
    return _community_out(units().run(lambda u: commands.add_community(u, body)))


@blp.route("/communities/<community_id>", methods=["PATCH"])
@requires("admin")
@idempotent(db)
@blp.arguments(CommunityPatch)
@blp.response(200, CommunitySchema)
def update_community(body, community_id):
    """Changes a community's name, centre, boundary or time zone (admin)."""
    return _community_out(units().run(lambda u: commands.change_community(u, community_id, body)))
