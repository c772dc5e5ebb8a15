"""The pages' Flask app factory (served by gunicorn: "web.app:create_app()")."""
from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, g, render_template, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError

from linli import logs
from linli.config import settings

from . import i18n, store
from .adapters.gateway import ApiProblem, Gateway, SignedOut, form_key
from .pages import admin, coordinator, everyone, family, provider, resident, volunteer
from .sessions import MongoSessions, account, needs_sign_in

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 256 * 1024  # as the gateway's limit: a page's form is a few KB; more is refused (413) before it is read


def create_app() -> Flask:
    logs.setup("web")
    app = Flask("web", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                static_url_path="/assets")  # the gateway answers /static itself
    app.config.update(SECRET_KEY=store.secret_key(store.database()), WTF_CSRF_TIME_LIMIT=None,  # no time limit on a form
                      BABEL_DEFAULT_LOCALE=i18n.DEFAULT, BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
                      SEND_FILE_MAX_AGE_DEFAULT=3600,
                      MAX_CONTENT_LENGTH=MAX_FORM_BYTES)
    app.session_interface = MongoSessions()
    store.prepare(store.database())
    CSRFProtect(app)
    Babel(app, locale_selector=i18n.choose_locale)
    app.extensions["linli_gateway"] = Gateway(settings().service_urls["gateway"])
    app.register_blueprint(everyone.bp)
    app.register_blueprint(resident.bp)
    app.register_blueprint(volunteer.bp)
    app.register_blueprint(provider.bp)
    app.register_blueprint(coordinator.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(family.bp)
    app.jinja_env.globals.update(when=i18n.when, day=i18n.day, money=i18n.money, STATUS=i18n.STATUS,
                                 DELIVERY=i18n.DELIVERY, ROLES=i18n.ROLES, SLOTS=i18n.SLOTS, TAGS=i18n.TAGS,
                                 LANGUAGES=i18n.LANGUAGES, html_lang=i18n.html_lang, locale=i18n.choose_locale,
                                 form_key=form_key, shown_status=i18n.shown_status,
                                 shown_step=i18n.shown_step, month_names=i18n.month_names,
                                 year_name=i18n.year_name, month_years=i18n.month_years)

    @app.before_request
    def _who():
        g.started = time.perf_counter()
        g.account = account()
        g.preferences = store.preferences(store.database(), g.account["id"]) if g.account else {}
        g.prefs_ms = (time.perf_counter() - g.started) * 1000

    @app.context_processor
    def _common():
        return {"me": g.get("account"), "elder": everyone.elder_mode(), "committee_phone": everyone.committee_phone(),
                "staff_phones": everyone.staff_phones(),
                "my_price": resident.my_price}

    @app.errorhandler(SignedOut)
    def _signed_out(_):
        return needs_sign_in()

    @app.errorhandler(ApiProblem)
    def _problem(problem: ApiProblem):
        status = problem.status if problem.status in (403, 404, 409, 503) else 502 if problem.status >= 500 else 400
        return render_template("problem.html", message=i18n.problem_text(problem)), status

    @app.errorhandler(CSRFError)
    def _csrf(_):
        _who_if_unknown()  # the form check runs before _who: the page still knows the person and their committee
        return render_template("problem.html", message=i18n._("This form was open too long or came from elsewhere. "
                                                              "Please go back, reload the page and send it again.")), 400

    @app.errorhandler(404)
    def _missing(_):
        return render_template("problem.html", message=i18n._(
            "There is no such page. Please check the address, or go back to the home page.")), 404

    @app.errorhandler(HTTPException)
    def _refused(error: HTTPException):
        """Every other refusal (400, 405, 413, 429, ...) as a page in the person's language with the committee's
        number, never werkzeug's English one."""
        if error.code is None or error.code < 400:
            return error
        return _page(i18n.TROUBLE.get(error.code, i18n.TROUBLE[400]), error.code)

    @app.errorhandler(InternalServerError)
    def _broken(_):
        return _page(i18n.TROUBLE[500], 500)

    def _who_if_unknown():
        if "account" not in g:
            _who()

    def _page(message, status: int):
        try:
            _who_if_unknown()
            return render_template("problem.html", message=message), status
        except Exception:  # the page itself cannot be drawn (the database is away): a plain one in both languages
            return (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>邻里 Linli</title>"
                    f"<p>{i18n.PLAIN_TROUBLE}</p></html>", status, {"Content-Type": "text/html; charset=utf-8"})

    @app.after_request
    def _private(response):
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"  # a person's own page: never kept by a cache
        if "started" in g:  # where the time of this answer went (bench/pages.py reads it): durations only
            whole = (time.perf_counter() - g.started) * 1000
            api = g.get("api_ms", 0.0)
            response.headers["Server-Timing"] = ", ".join(
                f"{name};dur={value:.1f}" for name, value in (
                    ("session", g.get("session_ms", 0.0)), ("prefs", g.get("prefs_ms", 0.0)), ("api", api),
                    ("page", whole - api - g.get("prefs_ms", 0.0)), ("app", whole)))
        return response

    @app.get("/favicon.ico")
    def favicon():
        return "", 204, {"Cache-Control": "max-age=86400"}  # pages that do not name an icon (the cashier) ask here

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        store.database().command("ping")
        return {"status": "ready"}

    return app
