"""Catalog's Flask app factory (served by gunicorn: "services.catalog.app:create_app()")."""
from linli import logs
from linli.unit import Clock
from linli.web import check_dependencies, create_app as base_app

from . import bootstrap
from .api import blp, internal


def create_app(clock: Clock | None = None):
    logs.setup("catalog-web")
    catalog = bootstrap.build(clock) if clock else bootstrap.build()
    app, api = base_app("catalog", title="Linli catalog",
                        readiness=lambda: check_dependencies(catalog.db, catalog.amqp_url))
    app.extensions["catalog"] = catalog
    api.register_blueprint(blp)
    api.register_blueprint(internal)
    return app
