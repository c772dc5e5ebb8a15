"""The web pages the gateway serves: a landing page and a readable list of the API."""
from __future__ import annotations

import html

from flask import Blueprint, current_app

from . import openapi

pages = Blueprint("pages", __name__)

_STYLE = ("body{font:19px/1.5 system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;max-width:46em;margin:2em auto;"
          "padding:0 1em;color:#1b1b1b}code{background:#f2f2f2;padding:0 .25em}h2{margin-top:1.6em}"
          "li{margin:.3em 0}.m{display:inline-block;min-width:4.2em;font-weight:600}")


def _page(title: str, body: str) -> tuple[str, int, dict]:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>", 200,
            {"Content-Type": "text/html; charset=utf-8"})


@pages.get("/")
def home():
    return _page("邻里 Linli", """
<h1>邻里 Linli</h1>
<p>Charity meals, housekeeping and repairs for our neighbourhood — ordered and paid online,
carried the last mile by volunteers, watched over by the residents' committee.</p>
<ul>
<li><a href="/docs">API documentation</a> (every route, with who may call it)</li>
<li><a href="/openapi.json">OpenAPI description</a> (for tools)</li>
<li><a href="/api/v1/catalog/listings">What is on offer now</a> (JSON)</li>
</ul>""")


@pages.get("/openapi.json")
def openapi_json():
    own = current_app.extensions["linli_api"].spec.to_dict()
    spec, missing = openapi.merged(own)
    if missing:
        spec["x-linli-missing"] = missing
    return spec


@pages.get("/docs")
def docs():
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
