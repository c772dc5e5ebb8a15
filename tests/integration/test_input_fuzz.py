"""A property-based fuzz of every operation of every app's OpenAPI (catalog, orders, delivery, notify but its
live stream, the gateway),
through the Flask test clients: hypothesis builds each request from the operation's own parameters and body
schema, and any value anywhere in it (a path parameter, a query parameter, a field at any depth, the body
as a whole) may be one of the hostile cases instead: a lone surrogate, a NUL, a fraction or a numeric string
for a whole number, "true" or 1 for a boolean, a huge number or text, an unknown time zone, JSON nested
1,000 deep, a body in another content type. A new route or field is fuzzed by being in the spec.

Nothing may answer 5xx, and every refusal is in the one error shape. (The one 5xx allowed: the gateway's
503 "unavailable" for a view that asks the services over HTTP, as none runs here.) (The end-to-end fuzz,
tests/e2e/test_api_fuzz.py, runs schemathesis over the merged spec of the running system.)"""
from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.hostile_kit import SERVICES, token, world  # noqa: F401 (world: a fixture)

EXAMPLES_PER_OPERATION = 8
ROLES = (None, "admin", "coordinator", "resident", "provider", "volunteer")

DEEP = "[" * 1000 + "]" * 1000
HOSTILE_TEXT = ["\ud800", "王\udfff", "a\x00b", "\x00", "", " ", "x" * 5000, "A" * 300, "../../etc/passwd",
                "Mars/Olympus_Mons", "9999-12-31", "0001-01-01", "2026-02-30", "24:61", "1e400", "NaN", "-1", "2",
                "true", "$where", "{\"$gt\": \"\"}", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\\"]
HOSTILE_VALUES = [1.9, 2.99, 2.0, -1, 0, 10 ** 30, -(10 ** 30), 2 ** 63, 1e308, True, False, 1, None, [], {},
                  {"$gt": ""}, {"$ne": None}, [[[[["nested"]]]]], ["\ud800"], {"a\x00": 1}]
hostile = st.sampled_from(HOSTILE_TEXT + HOSTILE_VALUES)
# a live stream never ends in a test client: its one argument (Last-Event-ID) is tested in tests/integration/test_notify.py
STREAMS = {("notify", "/api/v1/notify/stream")}


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            part = resolve(spec, part)
            merged = {**merged, **part, "properties": {**merged.get("properties", {}), **part.get("properties", {})}}
        return merged
    return schema


def plausible(spec: dict, schema: dict, depth: int = 0) -> st.SearchStrategy:
    """A value of the schema's shape (not always valid: limits and patterns are only sometimes kept)."""
    schema = resolve(spec, schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "integer":
        low, high = schema.get("minimum", -5), schema.get("maximum", 10_000)
        return st.integers(min_value=int(low), max_value=int(high))
    if kind == "number":
        return st.floats(min_value=schema.get("minimum", -200), max_value=schema.get("maximum", 200),
                         allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return st.dates().map(str)
        if fmt == "date-time":
            return st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(lambda d: d.isoformat())
        return st.text(max_size=min(int(schema.get("maxLength", 12)), 12))
    if kind == "array" or "items" in schema:
        if depth > 4:
            return st.just([])
        items = schema.get("items", {})
        if isinstance(items, list):
            return st.tuples(*[fuzzed(spec, i, depth + 1) for i in items]).map(list)
        return st.lists(fuzzed(spec, items, depth + 1), max_size=3)
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return st.just({})
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {name: fuzzed(spec, sub, depth + 1) for name, sub in props.items() if name in required},
            optional={name: fuzzed(spec, sub, depth + 1) for name, sub in props.items() if name not in required})
    return st.none() | st.integers() | st.text(max_size=5)


def fuzzed(spec: dict, schema: dict, depth: int = 0) -> st.SearchStrategy:
    """Mostly a plausible value, at times a hostile one, at any depth."""
    return st.one_of(plausible(spec, schema, depth), plausible(spec, schema, depth), hostile)


def body_text(spec: dict, schema: dict | None) -> st.SearchStrategy:
    """The body as sent: JSON text of a fuzzed value (ASCII-escaped, so a lone surrogate travels as \\ud800),
    or a hostile body as a whole."""
    as_json = (fuzzed(spec, schema) if schema else hostile).map(lambda v: (json.dumps(v), "application/json"))
    whole = st.sampled_from([(DEEP, "application/json"), ('{"a":' * 1000 + "1" + "}" * 1000, "application/json"),
                             ("{'not': json}", "application/json"), ('{"n": NaN}', "application/json"),
                             ('{"n": 1' + "0" * 5000 + "}", "application/json"), ("", "application/json"),
                             (b'{"name": "\xed\xa0\x80"}', "application/json"), ("\x00", "application/json"),
                             ('{"name": "x"}', "text/plain"), ("name=x", "application/x-www-form-urlencoded")])
    return st.one_of(as_json, as_json, as_json, whole)


def query_text(spec: dict, parameter: dict) -> st.SearchStrategy:
    value = fuzzed(spec, parameter.get("schema", {}))
    return value.map(lambda v: v if isinstance(v, str) else json.dumps(v).strip('"'))


def path_text() -> st.SearchStrategy:
    return st.sampled_from(["x", "lst_1", "ord_1", "\x00", "%00", "%ED%A0%80", "a" * 300, "..", "$gt", "1.9", "true"])


def _quoted(text: str) -> str:
    """As a client puts it in a URL: UTF-8, percent-encoded (a lone surrogate as the bytes it would be)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def operations(client) -> list[tuple[str, str, dict, dict]]:
    spec = client.application.extensions["linli_api"].spec.to_dict()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((path, method.upper(), operation, spec))
    return found


def request_strategy(path: str, operation: dict, spec: dict) -> st.SearchStrategy:
    parameters = operation.get("parameters", [])
    in_path = [p["name"] for p in parameters if p.get("in") == "path"]
    in_path += [part[1:-1] for part in path.split("/") if part.startswith("{") and part[1:-1] not in in_path]
    in_query = [p for p in parameters if p.get("in") == "query"]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return st.fixed_dictionaries({
        "path": st.fixed_dictionaries({name: path_text() for name in in_path}),
        "query": st.fixed_dictionaries({}, optional={p["name"]: query_text(spec, p) for p in in_query}),
        "body": body_text(spec, content["schema"]) if content else st.one_of(st.none(), body_text(spec, None)),
        "role": st.sampled_from(ROLES),
    })


def test_no_input_answers_a_server_error_and_every_refusal_is_in_the_one_shape(world):
    tokens = {role: token(f"acc_fuzz_{role}", role) if role else {} for role in ROLES}
    counts = {"operations": 0, "calls": 0, "refused": 0}
    problems: list[str] = []

    for service in SERVICES:
        client = world[service]
        for path, method, operation, spec in operations(client):
            if (service, path) in STREAMS:
                continue
            counts["operations"] += 1

            @given(request=request_strategy(path, operation, spec))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(request):
                url = path
                for name, value in request["path"].items():
                    url = url.replace("{" + name + "}", _quoted(value))
                query = "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in request["query"].items())
                data, content_type = request["body"] or (None, None)
                response = client.open(url, method=method, query_string=query, data=data,
                                       content_type=content_type, headers=tokens[request["role"]])
                counts["calls"] += 1
                where = f"{service}: {method} {url} {request['query']!r} {str(data)[:120]!r} as {request['role']}"
                upstream_down = (service == "gateway" and response.status_code == 503
                                 and (response.get_json(silent=True) or {}).get("error", {}).get("code") == "unavailable")
                if response.status_code >= 500 and not upstream_down:
                    problems.append(f"{where} -> {response.status_code}: {response.get_data(as_text=True)[:200]}")
                elif response.status_code >= 400:
                    counts["refused"] += 1
                    body = response.get_json(silent=True)
                    if not (isinstance(body, dict) and set(body) == {"error"}
                            and {"code", "message", "details"} <= set(body["error"])):
                        problems.append(f"{where} -> {response.status_code} not in the error shape: "
                                        f"{response.get_data(as_text=True)[:200]}")

            call()

    print(f"fuzz: {counts['operations']} operations, {counts['calls']} calls, {counts['refused']} refused "
          f"with a 4xx, {len(problems)} problems")
    assert counts["operations"] >= 60
    assert not problems, "\n".join(problems[:25])
