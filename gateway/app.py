"""The gateway's Flask app factory (served by gunicorn: "gateway.app:create_app()")."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from linli import logs
from linli.config import settings
from linli.web import check_dependencies, create_app as base_app

from . import accounts, proxy, security, tracking
from .api import blp
from .pages import pages

PROXIED = tuple(proxy.ROUTES)


def create_app() -> Flask:
    logs.setup("gateway")
    db = accounts.database()
    accounts.prepare(db)
    app, api = base_app("gateway", title="Linli gateway", serve_spec=False,
                        readiness=lambda: check_dependencies(db, settings().amqp_url))
    api.register_blueprint(blp)
    api.register_blueprint(tracking.blp)
    app.register_blueprint(pages)
    security.install(app)
    if settings().trusted_proxies:
        # behind a reverse proxy the client's address (sign-in throttling, logs) is in X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings().trusted_proxies, x_proto=settings().trusted_proxies)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    for prefix in PROXIED:
        # one rule per service prefix: /api/v1/<prefix> and everything under it
        app.add_url_rule(f"/api/v1/{prefix}", f"proxy_{prefix}_root",
                         lambda prefix=prefix: proxy.forward(prefix, ""), methods=methods)
        app.add_url_rule(f"/api/v1/{prefix}/<path:rest>", f"proxy_{prefix}",
                         lambda rest, prefix=prefix: proxy.forward(prefix, rest), methods=methods)
    # the pages (web/): every other path, at the same address as the API
    app.add_url_rule("/", "page_root", proxy.forward_page, methods=["GET", "POST"])
    app.add_url_rule("/<path:rest>", "page", proxy.forward_page, methods=["GET", "POST"])
    return app
