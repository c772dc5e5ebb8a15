"""Reference data routes: categories and communities, read by anyone, changed by an admin."""
from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from linli.errors import conflict, invalid, not_found
from linli.schemas import geojson_to_point, point_to_geojson
from linli.web import idempotent, requires

from . import domain, store
from .api import blp, db, rule
from .schemas import CategoryIn, CategoryPatch, CategorySchema, CommunityIn, CommunityPatch, CommunitySchema


def _insert_new(collection, doc: dict, what: str) -> None:
    try:
        collection.insert_one(doc)
    except DuplicateKeyError:
        raise conflict(f"A {what} with the id {doc['_id']!r} exists already.")


def _category_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"]}


def _community_out(doc: dict) -> dict:
    return {**doc, "id": doc["_id"], "center": geojson_to_point(doc["center"]), "boundary": doc.get("boundary"),
            "buildings": doc.get("buildings") or [], "committee_phone": doc.get("committee_phone")}


@blp.route("/categories")
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """The kinds of service on offer."""
    return [_category_out(c) for c in db().categories.find().sort("_id")]


@blp.route("/categories", methods=["POST"])
@requires("admin")
@idempotent(db)
@blp.arguments(CategoryIn)
@blp.response(201, CategorySchema)
def create_category(body):
    """Adds a category (admin)."""
    doc = {"_id": body["id"], "name_zh": body["name_zh"], "name_en": body["name_en"]}
    _insert_new(db().categories, doc, "category")
    return _category_out(doc)


@blp.route("/categories/<category_id>", methods=["PATCH"])
@requires("admin")
@idempotent(db)
@blp.arguments(CategoryPatch)
@blp.response(200, CategorySchema)
def rename_category(body, category_id):
    """Renames a category (admin); its id, which listings carry, stays."""
    d = db()
    if body and d.categories.update_one({"_id": category_id}, {"$set": body}).matched_count == 0:
        raise not_found("The category")
    doc = d.categories.find_one({"_id": category_id})
    if doc is None:
        raise not_found("The category")
    return _category_out(doc)


@blp.route("/communities")
@blp.response(200, CommunitySchema(many=True))
def list_communities():
    """The communities Linli serves."""
    return [_community_out(c) for c in db().communities.find().sort("_id")]


@blp.route("/communities", methods=["POST"])
@requires("admin")
@idempotent(db)
@blp.arguments(CommunityIn)
@blp.response(201, CommunitySchema)
def create_community(body):
    """Adds a community (admin): a centre, a time zone, and optionally its boundary as a GeoJSON polygon."""
    if body["boundary"] is not None:
        rule(domain.check_boundary, _polygon(body["boundary"]), body["center"])
    doc = {"_id": body["id"], "name": body["name"], "center": point_to_geojson(body["center"]),
           "boundary": _polygon(body["boundary"]) if body["boundary"] else None, "timezone": body["timezone"],
           "buildings": _buildings(body["buildings"]), "committee_phone": body.get("committee_phone")}
    _insert_new(db().communities, doc, "community")
    store.reach_community(db(), doc)
    return _community_out(doc)


@blp.route("/communities/<community_id>", methods=["PATCH"])
@requires("admin")
@idempotent(db)
@blp.arguments(CommunityPatch)
@blp.response(200, CommunitySchema)
def update_community(body, community_id):
    """Changes a community's name, centre, boundary or time zone (admin)."""
    d = db()
    doc = d.communities.find_one({"_id": community_id})
    if doc is None:
        raise not_found("The community")
    changes = {k: v for k, v in body.items() if k not in ("center", "boundary", "buildings")}
    if "buildings" in body:
        changes["buildings"] = _buildings(body["buildings"])
    center = body.get("center") or geojson_to_point(doc["center"])
    if "center" in body:
        changes["center"] = point_to_geojson(body["center"])
    if "boundary" in body:
        changes["boundary"] = _polygon(body["boundary"]) if body["boundary"] else None
    boundary = changes["boundary"] if "boundary" in body else doc.get("boundary")
    if boundary:
        rule(domain.check_boundary, boundary, center)
    if changes:
        d.communities.update_one({"_id": community_id}, {"$set": changes})
        if "center" in changes:
            store.reach_community(d, {**doc, **changes})
    return _community_out({**doc, **changes})


def _buildings(buildings: list[dict]) -> list[dict]:
    names = [b["name"] for b in buildings]
    if len(set(names)) != len(names):
        raise invalid("buildings", "each building is named once")
    return buildings


def _polygon(boundary: dict) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in boundary["coordinates"]]}


def known_communities(ids: list[str]) -> None:
    known = {c["_id"] for c in db().communities.find({"_id": {"$in": ids}}, {"_id": 1})}
    unknown = sorted(set(ids) - known)
    if unknown:
        raise invalid("community_ids", f"unknown communities: {', '.join(unknown)}")
