"""Delivery's Flask app factory (served by gunicorn: "services.delivery.app:create_app()")."""
from linli import logs
from linli.config import settings
from linli.web import check_dependencies, create_app as base_app

from . import bootstrap
from .api import blp


def create_app():
    logs.setup("delivery-web")
    db = bootstrap.database()
    bootstrap.prepare(db)
    app, api = base_app("delivery", title="Linli delivery",
                        readiness=lambda: check_dependencies(db, settings().amqp_url))
    api.register_blueprint(blp)
    return app
