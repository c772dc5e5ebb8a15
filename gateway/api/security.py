"""What the one door adds to every answer: security headers, and CORS for allowed origins only."""
from __future__ import annotations

from flask import Flask, Response, request

from linli.config import origin_of, settings

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}
# the pages (and the stub cashier) use inline styles and post forms to themselves
PAGE_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
               "frame-ancestors 'none'")


def page_policy(tiles_url: str = "") -> str:
    """The pages' policy; a configured map tile server is the one other place images may come from."""
    if not tiles_url:
        return PAGE_POLICY
    return PAGE_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin_of(tiles_url)}")


CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"


def install(app: Flask) -> None:
    @app.before_request
    def _preflight():
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return Response(status=204)

    @app.after_request
    def _harden(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", page_policy(settings().map_tiles_url))
        elif request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        origin = request.headers.get("Origin")
        if origin and origin in settings().cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers.add("Vary", "Origin")
        return response
