"""Orders' Flask app factory (served by gunicorn: "services.orders.app:create_app()")."""
from linli import logs
from linli.web import check_dependencies, create_app as base_app

from . import bootstrap
from .api import blp, payments
from .paystub.paystub import cashier


def create_app(orders: bootstrap.Orders | None = None):
    logs.setup("orders-web")
    orders = orders or bootstrap.build()
    app, api = base_app("orders", title="Linli orders",
                        readiness=lambda: check_dependencies(orders.db, orders.amqp_url))
    app.extensions["orders"] = orders
    api.register_blueprint(blp)
    api.register_blueprint(payments)
    app.register_blueprint(cashier)
    return app
