"""What every web process shares: the Flask/flask-smorest app, the error shape, request ids,
JSON access logs, authentication, Idempotency-Key handling, /healthz and /readyz."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any, Callable
from urllib.parse import parse_qsl

import marshmallow as ma
from flask import Flask, Response, current_app, g, jsonify, request
from flask_smorest import Api
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, DuplicateKeyError
from werkzeug.exceptions import HTTPException

from . import context, idempotency, logs
from .auth import InvalidToken, Principal, verify_access_token
from .domain_errors import DomainError, http_status
from .errors import ApiError, error_body
from .ids import new_uuid, utcnow
from .schemas import text_problem

log = logging.getLogger("linli.web")

MAX_BODY_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32  # the deepest body any route takes is 6; decoding 1,000 levels overflows the stack
MAX_URL_CHARS = 4096  # path and query string; gunicorn reads at most 8,190 (deploy/gunicorn.conf.py)
MAX_HEADER_CHARS = 8192  # one header's value; gunicorn reads at most 16,384
MAX_HEADERS_CHARS = 32768  # all of them together
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type",
                422: "validation_failed", 429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(required=True)


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetail, required=True)


def _flatten(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {...}}); people care about the field."""
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "querystring", "headers", "form", "view_args"}:
        out: dict[str, Any] = {}
        for value in messages.values():
            out.update(value if isinstance(value, dict) else {"_": value})
        return out
    return messages if isinstance(messages, dict) else {"_": messages}


def _sentence(details: dict[str, Any]) -> str:
    parts = []
    for field, problem in details.items():
        while isinstance(problem, dict):
            key, problem = next(iter(problem.items()))
            field = f"{field}.{key}"
        text = problem[0] if isinstance(problem, list) and problem else problem
        parts.append(f"{field}: {text}" if field != "_" else str(text))
    return "; ".join(parts) or "The request is not valid."


class LinliApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        messages = data.get("errors") or data.get("messages")
        code = STATUS_CODES.get(error.code, "error")
        if messages:
            details = _flatten(messages)
            message = _sentence(details)
        else:
            details = {}
            message = data.get("message") or error.description or error.name
        if error.code == 413:
            message = f"The body is too large: at most {MAX_BODY_BYTES // 1024} KB are accepted."
            details = {"max_bytes": MAX_BODY_BYTES}
        if error.code == 500:
            message = "Something went wrong on our side. Please try again; if it keeps happening, tell us the request id."
        return error_body(code, message, details), error.code, data.get("headers", {})


def create_app(service: str, *, title: str, readiness: Callable[[], dict[str, str]] | None = None,
               serve_spec: bool = True) -> tuple[Flask, LinliApi]:
    app = Flask(service)
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/" if serve_spec else None, OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.json.ensure_ascii = False
    api = LinliApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}})
    app.extensions["linli_api"] = api
    access_log = logging.getLogger(f"{service}.access")

    @app.before_request
    def _bind_ids():
        rid = request.headers.get("X-Request-ID") or new_uuid()
        rid = rid[:64]
        g._ids = context.bound(request=rid, correlation=request.headers.get("X-Correlation-ID", rid)[:64])
        g._ids.__enter__()
        g.request_id = rid
        g.started = time.monotonic()

    app.before_request(check_input)

    @app.after_request
    def _stamp(response: Response):
        rid = getattr(g, "request_id", None)
        if rid:
            response.headers["X-Request-ID"] = rid
        if request.path not in ("/healthz", "/readyz"):
            logs.log(access_log, logging.INFO, "request", method=request.method, path=request.path,
                     status=response.status_code,
                     ms=round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1))
        return response

    @app.teardown_request
    def _unbind(_exc):
        ids = g.pop("_ids", None)
        if ids is not None:
            ids.__exit__(None, None, None)

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return jsonify(error.body()), error.status, error.headers

    @app.errorhandler(DomainError)
    def _refused(error: DomainError):
        """The one place a rule's or a command's refusal becomes an HTTP answer."""
        return jsonify(error_body(error.code, error.message, error.details)), http_status(error)

    @app.errorhandler(ConnectionFailure)
    def _database_unreachable(error: ConnectionFailure):
        """The database is down or cut off (docs/DESIGN.md, "Failure"): a 503 the person can act on."""
        log.warning("database unreachable: %r", error)
        return jsonify(error_body("unavailable", "We cannot reach our database just now. "
                                  "Please try again in a minute.", {"request_id": g.get("request_id")})), 503, \
            {"Retry-After": "10"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", "Something went wrong on our side. Please try again; "
                                  "if it keeps happening, tell us the request id.",
                                  {"request_id": g.get("request_id")})), 500

    @app.get("/healthz")
    def healthz():
        return {"status": "alive", "service": service}

    @app.get("/readyz")
    def readyz():
        checks = readiness() if readiness else {}
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ok else "not ready", "service": service, "checks": checks}, 200 if ok else 503

    return app, api


# -- hostile input -------------------------------------------------------------------------

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NotJson(f"{name} is not a JSON number")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects nest deeper than `limit` (strings skipped): checked before decoding."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > limit:
                return True
        elif mark in "]}":
            depth -= 1
    return False


def _bad_text(value: Any, path: tuple) -> tuple[tuple, str] | None:
    """The first string (value or key) of a decoded body that cannot be stored or shown, with its place."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem:
                return path + (key.encode("utf-8", "backslashreplace").decode("ascii", "replace"),), f"its name {problem}"
            found = _bad_text(item, path + (key,))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _bad_text(item, path + (index,))
            if found:
                return found
    return None


def _invalid_at(path: tuple, problem: str) -> ApiError:
    """422 naming the field: details nest as marshmallow's do ({"address": {"room": [...]}})."""
    named = ".".join(str(p) for p in path) or "body"
    details: Any = [problem]
    for part in reversed(path or ("_",)):
        details = {part if isinstance(part, (str, int)) else str(part): details}
    return ApiError(422, "validation_failed", f"{named}: {problem}", details)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def takes_forms(view):
    """Marks a route that takes an HTML form (the pages, and the gateway's forwarding to them): a form body is
    accepted there and its text checked like JSON's; every other route takes JSON only."""
    view.linli_takes_forms = True
    return view


def _form_problem(raw: bytes):
    """The first form field whose name or value nothing downstream can take, as (path, problem)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return None  # a file upload is the page's own to check
    try:
        fields = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "bad_request", "The form is not valid: it is not UTF-8 text.")
    for key, value in fields:
        problem = text_problem(key) or text_problem(value)
        if problem:
            return (key,), problem
    return None


def check_input() -> None:
    """Every request, before any route: limits answered in the error shape, and a JSON body decoded once under
    a depth limit and searched for text nothing downstream can take, so no route meets it."""
    url_chars = len(request.path) + len(request.query_string)
    if url_chars > MAX_URL_CHARS:
        raise ApiError(414, "uri_too_long", f"The URL is too long: {url_chars:,} characters; "
                       f"at most {MAX_URL_CHARS:,} are accepted.", {"max_chars": MAX_URL_CHARS})
    total = 0
    for name, value in request.headers.items():
        total += len(name) + len(value)
        if len(value) > MAX_HEADER_CHARS or total > MAX_HEADERS_CHARS:
            raise ApiError(431, "headers_too_large", f"The request's headers are too large ({name} among them): "
                           f"at most {MAX_HEADER_CHARS:,} characters a header and {MAX_HEADERS_CHARS:,} in all.",
                           {"header": name, "max_chars": MAX_HEADER_CHARS})
    for values in (request.view_args or {}, request.args):
        for key in values:
            for value in (values.getlist(key) if hasattr(values, "getlist") else [values[key]]):
                problem = text_problem(key) or (text_problem(value) if isinstance(value, str) else None)
                if problem:
                    raise _invalid_at((key,), problem)
    if request.method not in BODY_METHODS:
        return
    raw = request.get_data(cache=True)  # werkzeug answers 413 past MAX_CONTENT_LENGTH
    if not raw:
        return
    if not request.is_json and request.mimetype in FORM_TYPES and getattr(
            current_app.view_functions.get(request.endpoint), "linli_takes_forms", False):
        found = _form_problem(raw)
        if found:
            raise _invalid_at(*found)
        return
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON, with the header "
                       "Content-Type: application/json.", {"content_type": request.mimetype or None})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "The body is not valid JSON: it is not UTF-8 text.")
    if json_depth_exceeds(text):
        raise ApiError(400, "bad_request", f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels "
                       "of arrays and objects.", {"max_depth": MAX_JSON_DEPTH})
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        reason = (error.msg if isinstance(error, json.JSONDecodeError) else str(error) if isinstance(error, _NotJson)
                  else "a number in it is too long")  # past 4,300 digits Python will not read an integer
        raise ApiError(400, "bad_request", f"The body is not valid JSON: {reason}.")
    found = _bad_text(body, ())
    if found:
        raise _invalid_at(*found)


def check_dependencies(db: Database, amqp_url: str) -> dict[str, str]:
    """Readiness: this process's Mongo and RabbitMQ answer."""
    from kombu import Connection

    checks = {}
    try:
        db.command("ping")
        checks["mongo"] = "ok"
    except Exception as error:  # any failure means not ready; say which
        checks["mongo"] = f"unavailable: {type(error).__name__}"
    try:
        with Connection(amqp_url, connect_timeout=2, heartbeat=0) as conn:
            conn.connect()
        checks["rabbitmq"] = "ok"
    except Exception as error:
        checks["rabbitmq"] = f"unavailable: {type(error).__name__}"
    return checks


# -- authentication ---------------------------------------------------------------------

def current_principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        return verify_access_token(header[7:].strip())
    except InvalidToken:
        raise ApiError(401, "unauthenticated", "Your sign-in is not valid or has expired. Please sign in again.")


def requires(*roles: str):
    """Route decorator: a valid token, and one of `roles` when given; the principal lands in g.principal."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise ApiError(401, "unauthenticated", "Please sign in first.")
            if roles and principal.role not in roles:
                raise ApiError(403, "forbidden", f"This needs the role {' or '.join(roles)}; you are signed in as {principal.role}.")
            g.principal = principal
            return view(*args, **kwargs)
        # the OpenAPI document says who may call it (x-roles; empty: anyone signed in), so that tests can list
        # every staff route from the documents (tests/e2e/test_authorization_matrix.py)
        wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
        wrapper._apidoc["manual_doc"] = {**deepcopy(wrapper._apidoc.get("manual_doc", {})), "x-roles": list(roles),
                                         "security": [{"bearer": []}]}
        return wrapper
    return decorate


# -- Idempotency-Key ---------------------------------------------------------------------

IDEMPOTENCY_PENDING_SECONDS = 60


def idempotent(db_factory: Callable[[], Database]):
    """Route decorator: a retried request with the same Idempotency-Key gets the first answer again."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if not key:
                return view(*args, **kwargs)
            if len(key) > 128:
                raise ApiError(422, "validation_failed", "Idempotency-Key: at most 128 characters.",
                               {"Idempotency-Key": ["at most 128 characters"]})
            db = db_factory()
            who = getattr(g, "principal", None)
            slot_id = f"{who.id if who else '-'}:{request.method}:{request.path}:{key}"
            fingerprint = hashlib.sha256(request.get_data()).hexdigest()
            now = utcnow()
            try:
                db.idempotency.insert_one({"_id": slot_id, "state": "pending", "fingerprint": fingerprint,
                                           "created_at": now})
            except DuplicateKeyError:
                seen = db.idempotency.find_one({"_id": slot_id}) or {}
                if seen.get("fingerprint") != fingerprint:
                    raise ApiError(422, "idempotency_key_reused",
                                   "This Idempotency-Key was already used for a different request.",
                                   {"Idempotency-Key": ["used before with another body"]})
                if seen.get("state") == "done":
                    response = Response(seen["body"], status=seen["status"], mimetype="application/json")
                    response.headers["Idempotent-Replayed"] = "true"
                    return response
                stale = seen.get("created_at") and seen["created_at"] < now - timedelta(seconds=IDEMPOTENCY_PENDING_SECONDS)
                if not stale:
                    raise ApiError(409, "request_in_progress",
                                   "The same request is still being processed; try again in a moment.")
                if seen.get("state") == "committed":  # changed, and its answer lost (linli.idempotency): not again
                    raise ApiError(409, "request_already_done",
                                   "This request was carried out, but its answer was lost on the way. Please look "
                                   "it up (your orders, your tasks) instead of sending it again.")
                db.idempotency.update_one({"_id": slot_id}, {"$set": {"created_at": now}})
            serving = idempotency.SERVING.set((db.name, slot_id))
            try:
                result = view(*args, **kwargs)
            except Exception:
                db.idempotency.delete_one({"_id": slot_id, "state": "pending"})  # a committed change keeps its mark
                raise
            finally:
                idempotency.SERVING.reset(serving)
            response = current_app.make_response(result)
            if response.status_code < 500:
                db.idempotency.update_one({"_id": slot_id}, {"$set": {
                    "state": "done", "status": response.status_code, "body": response.get_data(as_text=True)}})
            else:
                db.idempotency.delete_one({"_id": slot_id, "state": "pending"})
            return response
        return wrapper
    return decorate


def ensure_idempotency_index(db: Database) -> None:
    db.idempotency.create_index("created_at", expireAfterSeconds=24 * 3600)
