"""Orders' Flask app factory (served by gunicorn: "services.orders.app:create_app()")."""
from linli import logs
from linli.config import settings
from linli.web import check_dependencies, create_app as base_app

from . import paystub, store
from .api import blp, payments


def create_app():
    logs.setup("orders-web")
    db = store.database()
    store.prepare(db)
    paystub.prepare(paystub.database())
    app, api = base_app("orders", title="Linli orders",
                        readiness=lambda: check_dependencies(db, settings().amqp_url))
    api.register_blueprint(blp)
    api.register_blueprint(payments)
    app.register_blueprint(paystub.cashier)
    return app
