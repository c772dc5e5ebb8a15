"""The gateway's Flask app factory (served by gunicorn: "gateway.app:create_app()")."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from linli import logs
from linli.web import check_dependencies, create_app as base_app

from . import bootstrap
from .api import accounts, auth, proxy, revoked, security, tracking
from .api.pages import pages


def create_app(gateway: bootstrap.Gateway | None = None) -> Flask:
    logs.setup("gateway")
    gw = gateway or bootstrap.build()
    app, api = base_app("gateway", title="Linli gateway", serve_spec=False,
                        readiness=lambda: check_dependencies(gw.db, gw.settings.amqp_url))
    app.extensions["linli_gateway"] = gw
    proxy.install(app)  # first: a path that could be read two ways goes no further
    revoked.install(app)
    api.register_blueprint(auth.blp)
    api.register_blueprint(accounts.blp)
    api.register_blueprint(tracking.blp)
    app.register_blueprint(pages)
    security.install(app)
    if gw.settings.trusted_proxies:
        # behind a reverse proxy the client's address (sign-in throttling, logs) is in X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=gw.settings.trusted_proxies, x_proto=gw.settings.trusted_proxies)
    return app
