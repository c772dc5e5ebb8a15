"""Hostile input against every service's app (catalog, orders, delivery and the gateway), through its Flask
test client on the real database: each class of input a person or a program can send by mistake or on
purpose is refused with a 4xx in the one error shape, naming the field where there is one, and changes
nothing. Bodies are sent as raw JSON text so that a lone surrogate travels as "\\ud800", as it would."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import marshmallow as ma
import pytest

from linli.schemas import Boolean, CleanText, Float, Integer, QueryArgs
from tests.integration.hostile_kit import LIANXI, SERVICES, snapshot, token, world  # noqa: F401 (world: a fixture)

SLOT_DATE = (date.today() + timedelta(days=2)).isoformat()


@dataclass
class Target:
    """One route that changes something, a body it takes, and where in it each kind of field sits."""
    name: str
    service: str
    method: str
    path: str
    who: tuple[str, str] | None
    body: dict
    text: tuple = ()
    whole: tuple = ()
    number: tuple = ()
    boolean: tuple = ()

    def __str__(self):
        return self.name


TARGETS = [
    Target("catalog-listing", "catalog", "POST", "/api/v1/catalog/listings", ("acc_prov", "provider"), {
        "title": "爱心午餐 Charity lunch", "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500,
        "community_ids": ["lianxi"], "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 40}],
        "exceptions": [{"date": SLOT_DATE, "closed": False}]},
        text=("title",), whole=("slots", 0, "capacity"), boolean=("exceptions", 0, "closed")),
    Target("catalog-community", "catalog", "POST", "/api/v1/catalog/communities", ("acc_admin", "admin"),
           {"id": "beicai", "name": "北蔡社区", "center": LIANXI}, text=("name",), number=("center", "lat")),
    Target("orders-order", "orders", "POST", "/api/v1/orders", ("acc_res", "resident"), {
        "listing_id": "lst_1", "quantity": 1, "slot_date": SLOT_DATE, "slot": "lunch",
        "address": {"community_id": "lianxi", "building": "12", "room": "301", "contact_name": "王阿姨",
                    "phone": "139 1234 5678", "location": LIANXI}},
        text=("address", "contact_name"), whole=("quantity",), number=("address", "location", "lng")),
    Target("orders-redeliver", "orders", "POST", "/api/v1/orders/ord_1/redeliver", ("acc_coord", "coordinator"),
           {"reason": "the room number was wrong", "remake": True}, text=("reason",), boolean=("remake",)),
    Target("delivery-volunteer", "delivery", "POST", "/api/v1/delivery/volunteers", ("acc_vol", "volunteer"), {
        "name": "小张", "phone": "139 0000 0001", "community_ids": ["lianxi"], "vehicle": "bike", "max_tasks": 2,
        "shifts": [{"weekday": 0, "start": "08:00", "end": "12:00"}]},
        text=("name",), whole=("shifts", 0, "weekday")),
    Target("delivery-duty", "delivery", "PUT", "/api/v1/delivery/volunteers/me/duty", ("acc_vol", "volunteer"),
           {"on_duty": True, "location": LIANXI}, number=("location", "lat"), boolean=("on_duty",)),
    Target("gateway-register", "gateway", "POST", "/api/v1/auth/register", None,
           {"username": "wang_ayi", "password": "a-good-password", "name": "王阿姨"}, text=("name",)),
    Target("gateway-profile", "gateway", "PUT", "/api/v1/me/profile", ("acc_res", "resident"), {
        "birth_year": 1950, "emergency_contact": {"name": "王小明", "phone": "139 1234 5679", "relation": "son"}},
        text=("emergency_contact", "name"), whole=("birth_year",)),
    Target("notify-preferences", "notify", "PUT", "/api/v1/notify/preferences", ("acc_res", "resident"), {
        "channels": ["in_app", "sms"], "quiet_hours": {"start": "22:00", "end": "07:00"}},
        text=("quiet_hours", "start")),
]


class Service:
    def __init__(self, target: Target, world: dict):
        self.target = target
        self.client = world[target.service]
        self.before = snapshot(target.service)

    def send(self, raw: str | bytes, content_type: str = "application/json", **extra):
        t = self.target
        headers = {**(token(*t.who) if t.who else {}), **extra.pop("headers", {})}
        return self.client.open(t.path, method=t.method, data=raw, content_type=content_type, headers=headers,
                                **extra)

    def send_with(self, place: tuple, value, **extra):
        return self.send(json.dumps(replaced(self.target.body, place, value)), **extra)

    def unchanged(self) -> None:
        assert snapshot(self.target.service) == self.before, "a refused request changed what is stored"


def replaced(body, place: tuple, value):
    """A deep copy of `body` with the value at `place` (keys and list indexes) set to `value`."""
    copy = json.loads(json.dumps(body))
    *route, last = place
    spot = copy
    for step in route:
        spot = spot[step]
    spot[last] = value
    return copy


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, response.get_data(as_text=True)[:300]
    assert {"code", "message", "details"} <= set(body["error"]) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def assert_field_named(response, place: tuple) -> dict:
    """422 whose details lead to the field (nested as the body nests) and whose sentence names it."""
    error = assert_error(response, 422, "validation_failed")
    spot = error["details"]
    for step in place:
        assert isinstance(spot, dict) and (step in spot or str(step) in spot), (place, error)
        spot = spot[step] if step in spot else spot[str(step)]
    assert ".".join(map(str, place)) in error["message"], error["message"]
    return error


@pytest.fixture(params=TARGETS, ids=str)
def target(request, world):
    return Service(request.param, world)


def _places(kind: str):
    return [pytest.param(t, id=t.name) for t in TARGETS if getattr(t, kind)]


@pytest.fixture
def service_with(request, world):
    return Service(request.param, world)


# -- the body as a whole ---------------------------------------------------------------------

def test_json_nested_a_thousand_deep_is_refused_before_decoding(target):
    for raw in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
                json.dumps(replaced(target.target.body, target.target.text or ("name",), 1))[:-1]
                + ', "deep": ' + "[" * 1000 + "]" * 1000 + "}"):
        error = assert_error(target.send(raw), 400, "bad_request")
        assert "nested too deeply" in error["message"]
    target.unchanged()


def test_a_body_sent_as_another_content_type_is_refused_not_ignored(target):
    raw = json.dumps(target.target.body)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        error = assert_error(target.send(raw, content_type=content_type), 415, "unsupported_media_type")
        assert "application/json" in error["message"]
    target.unchanged()


def test_a_body_that_is_not_json_or_too_large_is_refused(target):
    assert_error(target.send("{'not': json}"), 400, "bad_request")
    assert_error(target.send(b'{"name": "\xed\xa0\x80"}'), 400, "bad_request")  # a surrogate in raw bytes
    assert_error(target.send('{"n": NaN}'), 400, "bad_request")
    assert_error(target.send('{"n": ' + "9" * 5000 + "}"), 400, "bad_request")
    assert_error(target.send(json.dumps({"name": "x" * 300_000})), 413, "body_too_large")
    target.unchanged()


def test_an_overlong_path_or_header_is_answered_in_the_error_shape(target):
    t = target.target
    long_path = target.client.open(t.path + "/" + "a" * 10_000, method=t.method, json=t.body)
    assert "10,0" in assert_error(long_path, 414, "uri_too_long")["message"]
    long_header = target.send(json.dumps(t.body), headers={"X-Padding": "b" * 10_000})
    assert "X-Padding" in assert_error(long_header, 431, "headers_too_large")["message"]
    target.unchanged()


# -- text -------------------------------------------------------------------------------------

@pytest.mark.parametrize("service_with", _places("text"), indirect=True)
def test_text_nothing_can_store_is_refused_naming_the_field(service_with):
    place = service_with.target.text
    for bad in ("\ud800", "王\udfff阿姨", "\udbff\udbff", "a\x00b", "\x00"):
        error = assert_field_named(service_with.send_with(place, bad), place)
        assert ("NUL" if "\x00" in bad else "surrogate") in error["message"]
    service_with.unchanged()


@pytest.mark.parametrize("service_with", _places("text"), indirect=True)
def test_a_lone_surrogate_in_a_field_name_is_refused(service_with):
    body = dict(service_with.target.body)
    body["bad\ud800"] = "x"
    error = assert_error(service_with.send(json.dumps(body)), 422, "validation_failed")
    assert "surrogate" in error["message"]
    service_with.unchanged()


@pytest.mark.parametrize("service_with", _places("text"), indirect=True)
def test_a_huge_text_is_refused_naming_the_field(service_with):
    place = service_with.target.text
    assert_field_named(service_with.send_with(place, "长" * 20_000), place)
    service_with.unchanged()


# -- numbers and booleans ---------------------------------------------------------------------

@pytest.mark.parametrize("service_with", _places("whole"), indirect=True)
def test_a_whole_number_is_never_truncated_nor_read_from_text(service_with):
    place = service_with.target.whole
    for bad in (1.9, 2.99, 2.0, 1e3, "2", "1", " 3", True, False, 10 ** 30, -(10 ** 20), [1], {"n": 1}):
        assert_field_named(service_with.send_with(place, bad), place)
    service_with.unchanged()


@pytest.mark.parametrize("service_with", _places("number"), indirect=True)
def test_a_number_is_never_read_from_text_nor_a_boolean(service_with):
    place = service_with.target.number
    for bad in ("31.2", "1e3", True, False, 10 ** 30, [31.2]):
        assert_field_named(service_with.send_with(place, bad), place)
    infinite = json.dumps(replaced(service_with.target.body, place, 12345.125)).replace("12345.125", "1e400")
    assert_field_named(service_with.send(infinite), place)
    service_with.unchanged()


@pytest.mark.parametrize("service_with", _places("boolean"), indirect=True)
def test_a_boolean_is_true_or_false_and_nothing_else(service_with):
    place = service_with.target.boolean
    for bad in ("true", "false", 1, 0, "yes", "on", None, [True]):
        assert_field_named(service_with.send_with(place, bad), place)
    service_with.unchanged()


# -- a PATCH in the wrong content type, a time zone, query strings and path parameters ---------

@pytest.fixture
def catalog(world):
    return world["catalog"], token("acc_admin", "admin")


def test_a_patch_in_another_content_type_changes_nothing_and_says_so(catalog):
    client, admin = catalog
    created = client.post("/api/v1/catalog/communities", json={"id": "zhangjiang", "name": "张江社区",
                                                               "center": LIANXI}, headers=admin)
    assert created.status_code == 201, created.get_json()
    refused = client.patch("/api/v1/catalog/communities/zhangjiang", data=json.dumps({"name": "新名字"}),
                           content_type="text/plain", headers=admin)
    assert_error(refused, 415, "unsupported_media_type")
    names = {c["id"]: c["name"] for c in client.get("/api/v1/catalog/communities").get_json()}
    assert names["zhangjiang"] == "张江社区"
    accepted = client.patch("/api/v1/catalog/communities/zhangjiang", json={"name": "新名字"}, headers=admin)
    assert accepted.status_code == 200 and accepted.get_json()["name"] == "新名字"


def test_a_time_zone_is_one_of_the_tz_database_names(catalog):
    client, admin = catalog
    for bad in ("A" * 300, "Mars/Olympus_Mons", "../../etc/passwd", "Asia/Shanghai\x00", "", "asia/shanghai"):
        refused = client.post("/api/v1/catalog/communities", json={"id": "beicai", "name": "北蔡", "center": LIANXI,
                                                                   "timezone": bad}, headers=admin)
        assert_field_named(refused, ("timezone",))
        patched = client.patch("/api/v1/catalog/communities/lianxi", json={"timezone": bad}, headers=admin)
        assert_field_named(patched, ("timezone",))
    assert "beicai" not in [c["id"] for c in client.get("/api/v1/catalog/communities").get_json()]
    accepted = client.post("/api/v1/catalog/communities", json={"id": "urumqi", "name": "乌鲁木齐", "center": LIANXI,
                                                                "timezone": "Asia/Urumqi"}, headers=admin)
    assert accepted.status_code == 201 and accepted.get_json()["timezone"] == "Asia/Urumqi"


def test_query_strings_are_typed_as_strictly_as_json(catalog):
    client, _ = catalog
    url = "/api/v1/catalog/listings"
    for query, name in (("page=1.5", "page"), ("page=%EF%BC%92", "page"), ("per_page=1e1", "per_page"),
                        ("page=", "page"), ("page=99999999999999999999999", "page"), ("radius_m=5000.0", "radius_m"),
                        ("min_price=true", "min_price"), ("q=a%00b", "q"), ("community=%00", "community"),
                        ("open_on=9999-99-99", "open_on")):
        assert_field_named(client.get(f"{url}?{query}"), (name,))
    ok = client.get(f"{url}?page=2&per_page=5&min_price=0&radius_m=800&community=lianxi")
    assert ok.status_code == 200 and ok.get_json()["page"] == 2 and ok.get_json()["per_page"] == 5


def test_the_inbox_query_is_typed_as_strictly_as_json(world):
    client, resident = world["notify"], token("acc_res", "resident")
    for query, name in (("page=1.5", "page"), ("per_page=2.0", "per_page"), ("page=%EF%BC%92", "page"),
                        ("page=99999999999999999999999", "page"), ("unread=1", "unread"), ("unread=yes", "unread"),
                        ("unread=True", "unread")):
        assert_field_named(client.get(f"/api/v1/notify/messages?{query}", headers=resident), (name,))
    ok = client.get("/api/v1/notify/messages?page=2&per_page=5&unread=true", headers=resident)
    assert ok.status_code == 200 and ok.get_json()["page"] == 2 and ok.get_json()["per_page"] == 5


def test_marking_read_takes_message_ids_as_text_and_nothing_else(world):
    client, resident = world["notify"], token("acc_res", "resident")
    before = snapshot("notify")
    for bad in ([1], [True], ["msg\x00x"], ["\ud800"], [{"$gt": ""}], "msg_1", ["m" * 65]):
        refused = client.post("/api/v1/notify/messages/read", data=json.dumps({"ids": bad}),
                              content_type="application/json", headers=resident)
        assert_field_named(refused, ("ids",))
    assert_error(client.post("/api/v1/notify/messages/read", json={"ids": ["msg_1"], "all": True},
                             headers=resident), 422, "validation_failed")
    assert snapshot("notify") == before


def test_query_booleans_are_true_or_false(world):
    client = world["orders"]
    coordinator = token("acc_coord", "coordinator")
    for bad in ("1", "yes", "True", "on", ""):
        assert_field_named(client.get(f"/api/v1/orders?attention={bad}", headers=coordinator), ("attention",))
    for good in ("true", "false"):
        assert client.get(f"/api/v1/orders?attention={good}", headers=coordinator).status_code == 200


@pytest.mark.parametrize("service", SERVICES)
def test_a_nul_in_a_path_parameter_is_refused_naming_it(service, world):
    client = world[service]
    path = {"catalog": "/api/v1/catalog/listings/lst%00x", "orders": "/api/v1/orders/ord%00x",
            "delivery": "/api/v1/delivery/tasks/tsk%00x",
            "notify": "/api/v1/notify/boards/lian%00xi/messages", "gateway": "/api/v1/accounts/acc%00x"}[service]
    who = token("acc_admin", "admin")
    response = client.get(path, headers=who)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]


# -- every route's arguments, so a new route or field is held to the same rules ---------------

def _strict_field(where: str, f: ma.fields.Field, seen: set) -> list[str]:
    wrong = []
    for kind, strict in ((ma.fields.Integer, Integer), (ma.fields.Float, Float), (ma.fields.Boolean, Boolean),
                         (ma.fields.String, CleanText)):
        if isinstance(f, kind) and not isinstance(f, strict):
            wrong.append(f"{where}: {type(f).__name__} is marshmallow's; take it from linli.schemas.fields")
    if isinstance(f, ma.fields.List):
        wrong += _strict_field(f"{where}[]", f.inner, seen)
    if isinstance(f, ma.fields.Tuple):
        for i, inner in enumerate(f.tuple_fields):
            wrong += _strict_field(f"{where}[{i}]", inner, seen)
    if isinstance(f, ma.fields.Dict) and f.value_field is not None:
        wrong += _strict_field(f"{where}{{}}", f.value_field, seen)
    if isinstance(f, ma.fields.Nested):
        wrong += _strict_schema(where, f.schema, seen)
    return wrong


def _strict_schema(where: str, schema: ma.Schema, seen: set) -> list[str]:
    if type(schema) in seen:
        return []
    seen.add(type(schema))
    return [w for name, f in schema.load_fields.items() for w in _strict_field(f"{where}.{name}", f, seen)]


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_takes_its_arguments_through_the_strict_fields(service, world):
    app = world[service].application
    wrong, checked = [], 0
    for endpoint, view in app.view_functions.items():
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            if not isinstance(parameter, dict) or "schema" not in parameter:
                continue
            schema = parameter["schema"]
            schema = schema() if isinstance(schema, type) else schema
            checked += 1
            if parameter.get("location") == "query" and not isinstance(schema, QueryArgs):
                wrong.append(f"{endpoint}: query arguments {type(schema).__name__} do not derive from QueryArgs")
            wrong += _strict_schema(f"{endpoint}:{type(schema).__name__}", schema, set())
    assert checked >= 3
    assert not wrong, "\n".join(wrong)
