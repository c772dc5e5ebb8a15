"""The pages the gateway serves itself: the API's description and a readable list of it (the people's pages are
web/'s, forwarded by proxy.forward_page)."""
from __future__ import annotations

import html

from flask import Blueprint, abort, current_app, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from ..adapters import openapi

pages = Blueprint("pages", __name__)

_STYLE = ("body{font:19px/1.5 system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;max-width:46em;margin:2em auto;"
          "padding:0 1em;color:#1b1b1b}code{background:#f2f2f2;padding:0 .25em}h2{margin-top:1.6em}"
          "li{margin:.3em 0}.m{display:inline-block;min-width:4.2em;font-weight:600}")


def _page(title: str, body: str) -> tuple[str, int, dict]:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>", 200,
            {"Content-Type": "text/html; charset=utf-8"})


@pages.get("/openapi.json")
def openapi_json():
    own = current_app.extensions["linli_api"].spec.to_dict()
    spec, missing = openapi.merged(own)
    if missing:
        spec["x-linli-missing"] = missing
    return spec


_UI_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")


@pages.get("/docs")
def docs():
    """Interactive docs (Swagger UI, served from the swagger-ui-bundle package) over the merged spec."""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Linli API</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">'
            '<link rel="icon" href="/docs/assets/favicon-32x32.png"></head><body>'
            '<noscript><p>This page needs JavaScript; <a href="/docs/list">the plain list of routes</a> does not.'
            '</p></noscript><div id="swagger-ui"></div>'
            '<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script>'
            '</body></html>', 200, {"Content-Type": "text/html; charset=utf-8"})


@pages.get("/docs/init.js")
def docs_init():
    # a file rather than an inline script, so the pages' Content-Security-Policy can forbid inline scripts
    return ('window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});',
            200, {"Content-Type": "text/javascript; charset=utf-8"})


@pages.get("/docs/assets/<name>")
def docs_asset(name):
    if name not in _UI_FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, name, max_age=86400)


@pages.get("/docs/list")
def docs_list():
    own = current_app.extensions["linli_api"].spec.to_dict()
    spec, missing = openapi.merged(own)
    rows = []
    for path, item in sorted(spec["paths"].items()):
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                summary = html.escape(op.get("summary") or op.get("description") or "")
                rows.append(f'<li><span class="m">{method.upper()}</span> <code>{html.escape(path)}</code> — {summary}</li>')
    note = (f"<p><strong>Not shown now:</strong> {', '.join(missing)} (not answering).</p>" if missing else "")
    return _page("Linli API", f"<h1>Linli API</h1>{note}<p>Send <code>Authorization: Bearer &lt;token&gt;</code> "
                              f"from <code>/api/v1/auth/login</code>. Errors always look like "
                              f"<code>{{\"error\": {{\"code\", \"message\", \"details\"}}}}</code>.</p>"
                              f"<ul>{''.join(rows)}</ul>")
