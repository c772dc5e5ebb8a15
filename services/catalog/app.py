"""Catalog's Flask app factory (served by gunicorn: "services.catalog.app:create_app()")."""
from linli import logs
from linli.config import settings
from linli.web import check_dependencies, create_app as base_app

from . import providers_api, reference_api, reviews_api, store  # noqa: F401 (their routes join blp)
from .api import blp, internal


def create_app():
    logs.setup("catalog-web")
    db = store.database()
    store.prepare(db)
    app, api = base_app("catalog", title="Linli catalog",
                        readiness=lambda: check_dependencies(db, settings().amqp_url))
    api.register_blueprint(blp)
    api.register_blueprint(internal)
    return app
