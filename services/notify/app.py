"""Notify's Flask app factory (gunicorn's gevent worker: "services.notify.app:create_app()")."""
from linli import logs
from linli.config import settings
from linli.web import check_dependencies, create_app as base_app

from . import bootstrap
from .api import blp
from .api.stream import Hub


def create_app(notify: bootstrap.Notify | None = None, hub_interval: float = 0.1, heartbeat: float = 15.0):
    logs.setup("notify-web")
    notify = notify or bootstrap.build()
    notify.hub = Hub(notify.units.db, interval=hub_interval, heartbeat=heartbeat)
    app, api = base_app("notify", title="Linli notify",
                        readiness=lambda: check_dependencies(notify.units.db, settings().amqp_url))
    app.extensions["notify"] = notify
    api.register_blueprint(blp)
    return app
