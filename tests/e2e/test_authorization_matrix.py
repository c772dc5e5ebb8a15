"""Every role against every other party's objects and every privileged route, through the gateway:
all refused (401 without a token, 403 for the wrong role, 404 for another's object), nothing changed."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from devstack.client import Client
from tests.conftest import eventually
from tests.e2e.conftest import PASSWORD, community, lunch, pay_at_cashier, tomorrow_in_shanghai, verified_profile

HOME = {"lng": 121.5588, "lat": 31.1765}


def _world(stack, staff):
    admin, coordinator = staff
    api = Client(stack.url())
    community(admin, "matrix", HOME, "M")
    who = {name: api.register(f"mx_{name}", PASSWORD, name, role) for name, role in (
        ("resident_a", "resident"), ("resident_b", "resident"), ("provider_1", "provider"),
        ("provider_2", "provider"), ("volunteer", "volunteer"))}
    profiles = {name: verified_profile(who[name], coordinator, name, HOME, "matrix", kind="merchant")
                for name in ("provider_1", "provider_2")}
    listing = lunch(who["provider_1"], "Matrix lunch", "matrix", 9, price_fen=800)
    volunteer = who["volunteer"].post("/api/v1/delivery/volunteers", {
        "name": "V", "phone": "138 0000 0011", "community_ids": ["matrix"], "vehicle": "bike"}, expect=201)
    day = tomorrow_in_shanghai()
    order = who["resident_a"].post("/api/v1/orders", {
        "listing_id": listing["id"], "quantity": 1, "slot_date": day, "slot": "lunch",
        "address": {"community_id": "matrix", "building": "1", "room": "1", "contact_name": "A",
                    "phone": "139 0000 0000", "location": HOME}}, expect=201)
    eventually(lambda: who["resident_a"].get(f"/api/v1/orders/{order['id']}")["status"] == "awaiting_payment",
               what="the reservation")
    return api, who, admin, coordinator, profiles, listing, volunteer, order


def test_nobody_reaches_what_is_not_theirs(stack, staff):
    api, who, admin, coordinator, profiles, listing, volunteer, order = _world(stack, staff)
    o, l = order["id"], listing["id"]
    everyone = {**who, "coordinator": coordinator, "admin": admin}
    # (method, path, body, the only roles/parties allowed; everyone else must be refused)
    routes = [
        ("GET", f"/api/v1/orders/{o}", None, {"resident_a", "coordinator", "admin", "provider_1"}),
        ("POST", f"/api/v1/orders/{o}/pay", {}, {"resident_a"}),
        ("POST", f"/api/v1/orders/{o}/cancel", {"reason": "x"}, {"resident_a", "coordinator"}),
        ("POST", f"/api/v1/orders/{o}/accept", {}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/decline", {"reason": "x"}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/ready", {}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/done", {}, {"provider_1"}),
        ("POST", f"/api/v1/orders/{o}/complete", {}, {"resident_a"}),
        ("POST", f"/api/v1/orders/{o}/refund", {"amount_fen": 1, "reason": "x"}, {"coordinator", "admin"}),
        ("GET", "/api/v1/payments/statements?party=town&month=2026-11", None, {"coordinator", "admin"}),
        ("PATCH", f"/api/v1/catalog/listings/{l}", {"title": "Hijacked"}, {"provider_1"}),
        ("POST", f"/api/v1/catalog/providers/{profiles['provider_2']['id']}/verify", {}, {"coordinator", "admin"}),
        ("POST", "/api/v1/catalog/communities", {"id": "evil", "name": "E", "center": HOME}, {"admin"}),
        ("POST", "/api/v1/catalog/listings", {"title": "x"}, {"provider_1", "provider_2"}),
        ("POST", f"/api/v1/delivery/volunteers/{volunteer['id']}/verify", {}, {"coordinator", "admin"}),
        ("POST", f"/api/v1/delivery/volunteers/{volunteer['id']}/refuse", {"reason": "I say so"},
         {"coordinator", "admin"}),
        ("GET", "/api/v1/delivery/tasks", None, {"volunteer", "coordinator", "admin"}),
        ("GET", "/api/v1/delivery/offers", None, {"volunteer"}),
        ("PUT", f"/api/v1/accounts/{who['resident_b'].get('/api/v1/me')['id']}/tags",
         {"tags": ["elder70"], "checked": "nothing"}, {"coordinator", "admin"}),
        ("POST", "/api/v1/accounts", {"username": "evil_admin", "password": PASSWORD, "name": "E", "role": "admin"},
         {"admin"}),
        ("GET", "/api/v1/accounts?q=a", None, {"coordinator", "admin"}),
        ("POST", "/api/v1/accounts/residents", {"name": "Elder", "community_id": "lianxi"}, {"coordinator", "admin"}),
        ("PUT", f"/api/v1/accounts/{who['resident_b'].get('/api/v1/me')['id']}/profile", {"birth_year": 1950},
         {"coordinator", "admin"}),
        ("GET", f"/api/v1/accounts/{who['resident_b'].get('/api/v1/me')['id']}", None, {"coordinator", "admin"}),
        ("POST", f"/api/v1/orders/{o}/redeliver", {"reason": "x"}, {"coordinator"}),
        ("PATCH", "/api/v1/catalog/providers/me", {"name": "Hijacked"}, {"provider_1", "provider_2"}),
    ]
    refusals = 0
    for method, path, body, allowed in routes:
        anonymous = api.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path, "anonymous", anonymous.status_code)
        refusals += 1
        for name, client in everyone.items():
            if name in allowed:
                continue
            response = client.request(method, path, json=body)
            assert response.status_code in (403, 404), (method, path, name, response.status_code, response.text)
            assert set(response.json()) == {"error"}
            refusals += 1
    # nothing changed
    assert who["resident_a"].get(f"/api/v1/orders/{o}")["status"] == "awaiting_payment"
    assert api.get(f"/api/v1/catalog/listings/{l}")["title"] == "Matrix lunch"
    assert api.get(f"/api/v1/catalog/providers/{profiles['provider_2']['id']}")["status"] == "verified"
    assert who["volunteer"].get("/api/v1/delivery/volunteers/me")["status"] == "pending"
    assert "evil" not in [c["id"] for c in api.get("/api/v1/catalog/communities")]
    assert who["resident_b"].get("/api/v1/me")["tags"] == []
    assert admin.request("POST", "/api/v1/auth/login", json={"username": "evil_admin",
                                                              "password": PASSWORD}).status_code == 401
    print(f"authorization matrix: {len(routes)} routes x {len(everyone) + 1} callers, {refusals} refusals checked")
    assert refusals >= 100


# -- every staff route, as the OpenAPI documents list them, with a coordinator of another community ----------------

STAFF_ROLES = {"coordinator", "admin"}
A, B = "mx_a", "mx_b"  # two communities; a coordinator of each
TIERS = [{"tag": "elder70", "resident_pays_fen": 300, "shares": [{"funder": "town", "amount_fen": 1200}]}]


def staff_routes(api: Client) -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation a coordinator or an admin may call, from the merged OpenAPI
    documents (x-roles, written by linli.web.requires)."""
    spec = api.get("/openapi.json")
    found = {(method.upper(), path) for path, ops in spec["paths"].items() for method, op in ops.items()
             if isinstance(op, dict) and STAFF_ROLES & set(op.get("x-roles") or ())}
    assert len(found) >= 25, f"too few staff routes in the documents to trust this test: {sorted(found)}"
    return found


def _two_communities(stack, staff):
    """Community A with everything a coordinator acts on, community B with its own coordinator."""
    from tests.conftest import configured_as

    admin, _ = staff
    api = Client(stack.url())
    for cid in (A, B):
        community(admin, cid, HOME, cid.upper())
    with configured_as(stack.env):
        from gateway.admin import create_account

        create_account("mx_coord_a", PASSWORD, "Coordinator A", "coordinator", (A,))
        create_account("mx_coord_b", PASSWORD, "Coordinator B", "coordinator", (B,))
    coord_a, coord_b = api.login("mx_coord_a", PASSWORD), api.login("mx_coord_b", PASSWORD)
    w = {"api": api, "admin": admin, "coord_a": coord_a, "coord_b": coord_b}
    for name, role in (("res_1", "resident"), ("res_2", "resident"), ("prov_1", "provider"), ("prov_2", "provider"),
                       ("vol_1", "volunteer"), ("vol_2", "volunteer")):
        w[name] = api.register(f"mx2_{name}", PASSWORD, f"MX {name}", role)
        w[f"{name}_id"] = w[name].get("/api/v1/me")["id"]
    for who in ("res_1", "res_2"):  # the gateway keeps the catalog's communities a minute: A may be new to it
        eventually(lambda: w[who].request("PUT", "/api/v1/me/profile", json={"community_id": A}).status_code == 200
                   or None, timeout=90, interval=2, what="the gateway to know the new community")
    # two providers: one verified with a lunch and a funder's share waiting for approval, one waiting
    w["provider_1"] = verified_profile(w["prov_1"], coord_a, "MX canteen", HOME, A)
    w["provider_2"] = w["prov_2"].post("/api/v1/catalog/providers", {
        "name": "MX merchant", "kind": "merchant", "phone": "021-5888 0002", "address": "2 Road", "location": HOME,
        "community_ids": [A]}, expect=201)
    w["listing"] = lunch(w["prov_1"], "MX lunch", A, 9)
    w["priced"] = lunch(w["prov_1"], "MX subsidised lunch", A, 9, tiers=TIERS)
    # two volunteers: one verified, on duty, who carries the first meal; one waiting
    w["volunteer_1"] = w["vol_1"].post("/api/v1/delivery/volunteers", {
        "name": "MX Vol 1", "phone": "138 0000 0021", "community_ids": [A], "vehicle": "bike"}, expect=201)
    coord_a.post(f"/api/v1/delivery/volunteers/{w['volunteer_1']['id']}/verify", expect=200)
    w["volunteer_2"] = w["vol_2"].post("/api/v1/delivery/volunteers", {
        "name": "MX Vol 2", "phone": "138 0000 0022", "community_ids": [A], "vehicle": "bike"}, expect=201)
    # the committee enrols an elder; the second resident asks to order for her
    w["elder"] = coord_a.post("/api/v1/accounts/residents", {"name": "MX Elder", "community_id": A,
                                                              "username": "mx2_elder"}, expect=201)
    w["link"] = w["res_2"].post("/api/v1/me/family", {"elder_username": w["elder"]["username"],
                                                       "relation": "daughter"}, expect=201)

    def order(who: str, building: str) -> dict:
        placed = w[who].post("/api/v1/orders", {
            "listing_id": w["listing"]["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
            "address": {"community_id": A, "building": building, "room": "1", "contact_name": "MX",
                        "phone": "139 0000 0031", "location": HOME}}, expect=201)
        eventually(lambda: w[who].get(f"/api/v1/orders/{placed['id']}")["status"] == "awaiting_payment" or None,
                   what="the portion to be held")
        pay_at_cashier(stack, w[who].post(f"/api/v1/orders/{placed['id']}/pay", expect=200))
        eventually(lambda: w[who].get(f"/api/v1/orders/{placed['id']}")["status"] == "paid" or None,
                   what="the payment")
        return placed

    # the first order is carried and delivered: an hours entry; the second is paid, its task waiting
    w["vol_1"].put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": HOME})
    w["order_1"] = order("res_1", "1")
    pickup = w["prov_1"].post(f"/api/v1/orders/{w['order_1']['id']}/accept", expect=200)["pickup_code"]
    w["prov_1"].post(f"/api/v1/orders/{w['order_1']['id']}/ready", expect=200)
    offer = eventually(lambda: next((o for o in w["vol_1"].get("/api/v1/delivery/offers")["items"]
                                     if o["order_id"] == w["order_1"]["id"]), None), timeout=60, what="an offer")
    task_1 = w["vol_1"].post(f"/api/v1/delivery/offers/{offer['id']}/accept", expect=200)
    w["vol_1"].post(f"/api/v1/delivery/tasks/{task_1['id']}/pickup", {"code": pickup}, expect=200)
    handover = w["res_1"].get(f"/api/v1/orders/{w['order_1']['id']}")["handover_code"]
    w["vol_1"].post(f"/api/v1/delivery/tasks/{task_1['id']}/deliver", {"code": handover}, expect=200)
    w["order_2"] = order("res_2", "2")
    w["task_2"] = eventually(lambda: next((t for t in coord_a.get("/api/v1/delivery/tasks")["items"]
                                           if t["order_id"] == w["order_2"]["id"]), None), what="the second task")
    w["month"] = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    w["entry"] = eventually(lambda: next(iter(w["vol_1"].get(f"/api/v1/delivery/hours?month={w['month']}")
                                              ["entries"]), None), what="the hours entry")
    return w


def _state(w) -> dict:
    """Everything of community A a coordinator of B could have changed, read by those who may read it."""
    admin, coord_a = w["admin"], w["coord_a"]
    order = lambda o: {k: v for k, v in admin.get(f"/api/v1/orders/{o['id']}").items()  # noqa: E731
                       if k in ("status", "refunded_fen", "delivery_problem", "redeliveries", "payment")}
    task = lambda t: {k: v for k, v in admin.get(f"/api/v1/delivery/tasks/{t}").items()  # noqa: E731
                      if k in ("status", "volunteer_id", "code_lock", "handover", "welfare", "attempts")}
    return {
        "orders": [order(w["order_1"]), order(w["order_2"])],
        "task": task(w["task_2"]["id"]),
        "providers": [w["api"].get(f"/api/v1/catalog/providers/{w[p]['id']}")["status"]
                      for p in ("provider_1", "provider_2")],
        "awaiting": [x["id"] for x in coord_a.get("/api/v1/catalog/listings/awaiting-approval")["items"]],
        "volunteers": sorted((v["id"], v["status"]) for v in coord_a.get("/api/v1/delivery/volunteers")["items"]),
        "hours": w["vol_1"].get(f"/api/v1/delivery/hours?month={w['month']}"),
        "elder": coord_a.get(f"/api/v1/accounts/{w['elder']['id']}"),
        "resident": coord_a.get(f"/api/v1/accounts/{w['res_1_id']}"),
        "link": w["res_2"].get("/api/v1/me/family"),
        "categories": w["api"].get("/api/v1/catalog/categories"),
        "communities": w["api"].get("/api/v1/catalog/communities"),
        "statement": coord_a.get(f"/api/v1/payments/statements?party=resident&month={w['month']}")["total_fen"],
        "signs_in": w["api"].request("POST", "/api/v1/auth/login", json={
            "username": "mx2_res_1", "password": PASSWORD}).status_code,
    }


def test_a_coordinator_of_another_community_is_refused_on_every_staff_route_and_nothing_changes(stack, staff):
    w = _two_communities(stack, staff)
    o1, o2, t2 = w["order_1"]["id"], w["order_2"]["id"], w["task_2"]["id"]
    p1, p2, v2 = w["provider_1"]["id"], w["provider_2"]["id"], w["volunteer_2"]["id"]
    elder, res_1 = w["elder"]["id"], w["res_1_id"]
    month = w["month"]
    theirs = {o1, o2, t2, p1, p2, v2, w["volunteer_1"]["id"], elder, res_1, w["res_2_id"], w["priced"]["id"],
              w["entry"]["id"], "MX Vol 1", "MX Vol 2", "MX Elder", "MX canteen", "MX merchant", "139 0000 0031"}
    # every staff route: how B's coordinator calls it on A's things, and what it must get: refused (403, 404 or
    # 422 naming the field), or for a list, an answer with nothing of A's in it
    rows = {
        ("POST", "/api/v1/catalog/categories"): ({"id": "mx_evil", "name": "Evil"}, "refused"),
        ("PATCH", "/api/v1/catalog/categories/{category_id}"): (("charity_meals",), {"name": "Evil"}, "refused"),
        ("POST", "/api/v1/catalog/communities"): ({"id": "mx_evil", "name": "Evil", "center": HOME}, "refused"),
        ("PATCH", "/api/v1/catalog/communities/{community_id}"): ((A,), {"name": "Evil"}, "refused"),
        ("GET", "/api/v1/catalog/listings/awaiting-approval"): (None, "list"),
        ("POST", "/api/v1/catalog/listings/{listing_id}/pricing/approve"): ((w["priced"]["id"],), {"version": 1},
                                                                            "refused"),
        ("GET", "/api/v1/catalog/providers"): (None, "list"),
        ("POST", "/api/v1/catalog/providers/{provider_id}/verify"): ((p2,), {}, "refused"),
        ("POST", "/api/v1/catalog/providers/{provider_id}/suspend"): ((p1,), {"reason": "I say so"}, "refused"),
        ("GET", "/api/v1/delivery/volunteers"): (None, "list"),
        ("POST", "/api/v1/delivery/volunteers/{volunteer_id}/verify"): ((v2,), {}, "refused"),
        ("POST", "/api/v1/delivery/volunteers/{volunteer_id}/refuse"): ((v2,), {"reason": "I say so"}, "refused"),
        ("GET", "/api/v1/delivery/tasks"): (None, "list"),
        ("GET", "/api/v1/delivery/tasks/{task_id}"): ((t2,), None, "refused"),
        ("POST", "/api/v1/delivery/tasks/{task_id}/assign"): ((t2,), {"volunteer_id": w["volunteer_1"]["id"]},
                                                              "refused"),
        ("POST", "/api/v1/delivery/tasks/{task_id}/deliver"): ((t2,), {"override_reason": "I say she has it"},
                                                               "refused"),
        ("POST", "/api/v1/delivery/tasks/{task_id}/welfare"): ((t2,), {"outcome": "resident_safe", "note": "x"},
                                                               "refused"),
        ("POST", "/api/v1/delivery/tasks/{task_id}/codes/unlock"): ((t2,), {}, "refused"),
        ("GET", "/api/v1/delivery/tracking/{order_id}"): ((o2,), None, "refused"),
        ("GET", "/api/v1/delivery/hours"): (f"?month={month}", "list"),
        ("GET", "/api/v1/delivery/hours/export"): (f"?month={month}", "list"),
        ("POST", "/api/v1/delivery/hours/{entry_id}/corrections"): ((w["entry"]["id"],),
                                                                    {"minutes": 600, "reason": "generous"}, "refused"),
        ("POST", "/api/v1/orders"): ({"listing_id": w["listing"]["id"], "quantity": 1, "for_resident_id": res_1,
                                     "slot_date": tomorrow_in_shanghai(), "slot": "lunch", "address": {
                                         "community_id": A, "building": "9", "room": "9", "contact_name": "X",
                                         "phone": "139 0000 0099", "location": HOME}}, "refused"),
        ("POST", "/api/v1/orders/{order_id}/pay"): ((o2,), {}, "refused"),
        ("POST", "/api/v1/orders/{order_id}/cancel"): ((o2,), {"reason": "I say so"}, "refused"),
        ("POST", "/api/v1/orders/{order_id}/refund"): ((o1,), {"amount_fen": 100, "reason": "I say so"}, "refused"),
        ("POST", "/api/v1/orders/{order_id}/redeliver"): ((o2,), {"reason": "I say so"}, "refused"),
        ("GET", "/api/v1/payments/statements"): (f"?party=resident&month={month}", "list"),
        ("GET", "/api/v1/accounts"): ("?q=MX", "list"),
        ("POST", "/api/v1/accounts"): ({"username": "mx_evil", "password": PASSWORD, "name": "E", "role": "admin"},
                                       "refused"),
        ("GET", "/api/v1/accounts/{account_id}"): ((elder,), None, "refused"),
        ("PUT", "/api/v1/accounts/{account_id}/profile"): ((elder,), {"birth_year": 1930}, "refused"),
        ("PUT", "/api/v1/accounts/{account_id}/tags"): ((res_1,), {"tags": ["elder70"], "checked": "nothing"},
                                                        "refused"),
        ("POST", "/api/v1/accounts/{account_id}/disable"): ((res_1,), {"reason": "I say so"}, "refused"),
        ("POST", "/api/v1/accounts/residents"): ({"name": "MX Evil", "community_id": A}, "refused"),
        ("POST", "/api/v1/family/{link_id}/approve"): ((w["link"]["id"],), {}, "refused"),
        ("GET", "/api/v1/track/{order_id}"): ((o2,), None, "refused"),
        ("GET", "/api/v1/notify/boards/{community_id}/messages"): ((A,), None, "refused"),
        ("POST", "/api/v1/notify/boards/{community_id}/messages/read"): ((A,), {}, "refused"),
    }
    listed = staff_routes(w["api"])
    missing = sorted(listed - set(rows))
    assert not missing, f"staff routes without a row in the matrix: {missing}"
    stale = sorted(set(rows) - listed - {("GET", "/api/v1/notify/boards/{community_id}/messages"),
                                          ("POST", "/api/v1/notify/boards/{community_id}/messages/read")})
    assert not stale, f"rows for routes the documents do not list as staff routes: {stale}"

    before = _state(w)
    coord_b = w["coord_b"]
    checked = 0
    for (method, template), row in rows.items():
        if (method, template) not in listed:
            continue  # notify's board, when this stack's documents leave notify out
        if len(row) == 3:
            params, body, expect = row
            names = [seg for seg in template.split("/") if seg.startswith("{")]
            path = template
            for name, value in zip(names, params):
                path = path.replace(name, value)
        elif row[1] == "list":
            path, body, expect = template + (row[0] or ""), None, "list"
        else:
            path, (body, expect) = template, row
        answer = coord_b.request(method, path, json=body if method != "GET" else None)
        if expect == "refused":
            assert answer.status_code in (403, 404, 422), (method, path, answer.status_code, answer.text[:300])
            assert set(answer.json()) == {"error"}, (method, path)
        else:
            assert answer.status_code == 200, (method, path, answer.status_code, answer.text[:300])
            leaked = sorted(x for x in theirs if x in answer.text)
            assert not leaked, (method, path, "shows community A's", leaked)
        checked += 1
    # the same lists, read by A's coordinator, do show A's things: the check above could have failed
    assert t2 in w["coord_a"].request("GET", "/api/v1/delivery/tasks").text
    assert "MX Vol 2" in w["coord_a"].request("GET", "/api/v1/delivery/volunteers").text
    assert "MX Vol 1" in w["coord_a"].request("GET", f"/api/v1/delivery/hours/export?month={month}").text
    assert o1 in w["coord_a"].request("GET", f"/api/v1/payments/statements?party=resident&month={month}").text
    assert w["priced"]["id"] in w["coord_a"].request("GET", "/api/v1/catalog/listings/awaiting-approval").text
    assert _state(w) == before, "nothing of community A changed"
    print(f"authorization matrix: {checked} staff routes from the OpenAPI documents, each refused to a coordinator "
          f"of another community, nothing changed")
    assert checked >= len(listed)
