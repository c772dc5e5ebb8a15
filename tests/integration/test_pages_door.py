"""The pages probed from outside, on web/ alone (its own database on the embedded Mongo; the gateway's API played
by a stand-in that answers as the real one does and remembers what it was asked): where a page sends a person after
signing in, whether signing in gives a new session, what signing out leaves behind, the cookie's flags, forms
without their CSRF token, and the error pages a person reads, in both languages, with the committee's number."""
from __future__ import annotations

import re

import pytest

from web.adapters.gateway import ApiProblem, Gateway

COOKIE = "linli_session"
PHONE = "021-6666 1234"
ACCOUNTS = {"wang": {"id": "acc_wang", "role": "resident", "name": "王阿姨"},
            "li": {"id": "acc_li", "role": "resident", "name": "李叔叔"},
            "lin": {"id": "acc_lin", "role": "coordinator", "name": "林主任"}}


class StandIn(Gateway):
    """The public API as web/ sees it: sign-in hands out tokens, sign-out revokes the refresh token, and a revoked
    or unknown token is refused (401) as the gateway refuses it."""

    def __init__(self):
        super().__init__("http://stand-in")
        self.calls: list[tuple[str, str, object]] = []
        self.live: dict[str, str] = {}  # access and refresh tokens still good -> account username
        self.broken_paths: set[str] = set()
        self._n = 0

    def _tokens(self, username: str) -> dict:
        self._n += 1
        access, refresh = f"access-{username}-{self._n}", f"refresh-{username}-{self._n}"
        self.live[access] = self.live[refresh] = username
        return {"access_token": access, "refresh_token": refresh, "expires_in": 900, "account": ACCOUNTS[username]}

    def request(self, method, path, *, token=None, json=None, params=None, request_id=None, raw=False):
        self.calls.append((method, path, json))
        if path in self.broken_paths:
            raise RuntimeError("a bug in a page")
        if path == "/api/v1/auth/login":
            if json["username"] not in ACCOUNTS or json["password"] != "linli-demo":
                raise ApiProblem(401, "invalid_credentials", "The username or the password is wrong.")
            return self._tokens(json["username"])
        if path == "/api/v1/auth/logout":
            username = self.live.pop(json["refresh_token"], None)
            for t in [t for t, u in self.live.items() if u == username]:
                self.live.pop(t)
            return None
        if path == "/api/v1/auth/refresh":
            username = self.live.pop(json["refresh_token"], None)
            if username is None:
                raise ApiProblem(401, "invalid_token", "The refresh token is not valid.")
            return self._tokens(username)
        if path == "/api/v1/catalog/communities":
            return [{"id": "lianxi", "name": "莲溪社区", "committee_phone": PHONE, "timezone": "Asia/Shanghai",
                     "buildings": [], "center": {"lng": 121.5, "lat": 31.2}}]
        if token not in self.live:
            raise ApiProblem(401, "invalid_token", "The token is not valid.")
        username = self.live[token]
        if path == "/api/v1/me":
            return {**ACCOUNTS[username], "username": username, "tags": [],
                    "profile": {"community_id": "lianxi", "birth_year": 1960}}
        if path == "/api/v1/orders":
            return {"items": [], "total": 0}
        return {}


@pytest.fixture
def site(mongo_env):
    from web.app import create_app

    app = create_app()
    stand_in = StandIn()
    app.extensions["linli_gateway"] = stand_in
    return app, stand_in


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _cookie(client) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found else None


def _sign_in(client, username: str = "wang", next_raw: str = "", lang: str = "zh-CN"):
    form = client.get("/signin", headers={"Accept-Language": lang})
    return client.post("/signin" + (f"?next={next_raw}" if next_raw else ""),
                       data={"username": username, "password": "linli-demo", "csrf_token": _csrf(form)},
                       headers={"Accept-Language": lang})


# -- where a page sends a person -------------------------------------------------------------------------------------

ELSEWHERE = ["//evil.example", "/\\evil.example", "/\\/evil.example", "https:evil.example", "https://evil.example",
             "javascript:alert(1)", "%2F%2Fevil.example", "%5C%5Cevil.example", "/%5Cevil.example",
             "/%09/evil.example", "/%0D%0A/evil.example", "%252F%252Fevil.example", "/%0d%0aSet-Cookie:%20x=1",
             "%E3%80%80//evil.example", "/%E3%80%80/evil.example"]


def _lands_here(response) -> str:
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
    assert not re.search(r"[\x00-\x20\x7f]", location), location
    return location


@pytest.mark.parametrize("next_raw", ELSEWHERE)
def test_signing_in_never_sends_a_person_to_another_site(site, next_raw):
    app, _ = site
    answer = _sign_in(app.test_client(), next_raw=next_raw)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert _lands_here(answer) == "/"


def test_signing_in_goes_on_to_the_page_the_person_asked_for(site):
    app, _ = site
    answer = _sign_in(app.test_client(), next_raw="/r/orders%3Fpage%3D2")
    assert answer.status_code == 302 and answer.headers["Location"] == "/r/orders?page=2"


@pytest.mark.parametrize("back", [b.replace("%0D%0A", "\r\n").replace("%0d%0a", "\r\n").replace("%09", "\t")
                                  .replace("%5C", "\\") for b in ELSEWHERE])
def test_the_language_button_never_sends_a_person_to_another_site(site, back):
    app, _ = site
    client = app.test_client()
    page = client.get("/signin")
    answer = client.post("/prefs", data={"lang": "en", "back": back, "csrf_token": _csrf(page)})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    _lands_here(answer)


@pytest.mark.parametrize("back", ["/c/\r\nSet-Cookie: x=1", "/c/\\evil.example", "/c/\t/x"])
def test_the_committees_back_field_is_a_page_of_its_own_and_never_breaks_the_page(site, back):
    app, stand_in = site
    client = app.test_client()
    signed = _sign_in(client, "lin")
    board = client.get("/signin")  # any page with a form token of the signed-in session
    answer = client.post("/c/tasks/tsk_1/assign", data={"volunteer_id": "vol_1", "back": back,
                                                        "csrf_token": _csrf(board)})
    assert signed.status_code == 302 and answer.status_code == 303, answer.get_data(as_text=True)[:300]
    assert _lands_here(answer) == "/c/"


# -- sessions --------------------------------------------------------------------------------------------------------

def test_signing_in_gives_a_new_session_id_and_the_one_from_before_signs_nobody_in(site):
    app, _ = site
    planted = app.test_client()
    page = planted.get("/signin")
    before, before_form = _cookie(planted), _csrf(page)
    assert before, "the sign-in form keeps its form token in a session"

    victim = app.test_client()  # the victim's browser carries the id an attacker set in it
    victim.set_cookie(COOKIE, before)
    answer = victim.post("/signin", data={"username": "wang", "password": "linli-demo", "csrf_token": before_form})
    assert answer.status_code == 302
    after = _cookie(victim)
    assert after and after != before, "signing in must issue a new session id"

    attacker = app.test_client()
    attacker.set_cookie(COOKIE, before)
    assert attacker.get("/me").status_code == 302, "the id from before signing in must not be signed in"
    # and the form token the attacker saw before is no good in the victim's new session
    refused = victim.post("/signout", data={"csrf_token": before_form})
    assert refused.status_code == 400
    assert victim.get("/me").status_code == 200, "a refused form changed nothing: still signed in"


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_https(site):
    app, _ = site
    plain = _sign_in(app.test_client())
    cookie = next(c for c in plain.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    client = app.test_client()
    form = client.get("/signin", base_url="https://linli.example")
    answer = client.post("/signin", base_url="https://linli.example", headers={"Referer": "https://linli.example/signin"},
                         data={"username": "wang", "password": "linli-demo", "csrf_token": _csrf(form)})
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_signing_out_revokes_the_refresh_token_and_the_old_cookie_opens_nothing(site):
    app, stand_in = site
    client = app.test_client()
    _sign_in(client)
    sid = _cookie(client)
    refresh = next(t for t, u in stand_in.live.items() if t.startswith("refresh-") and u == "wang")
    page = client.get("/me")
    assert page.status_code == 200
    out = client.post("/signout", data={"csrf_token": _csrf(page)})
    assert out.status_code == 302
    assert ("POST", "/api/v1/auth/logout", {"refresh_token": refresh}) in stand_in.calls
    assert refresh not in stand_in.live
    replay = app.test_client()
    replay.set_cookie(COOKIE, sid)
    assert replay.get("/me").status_code == 302 and "/signin" in replay.get("/me").headers["Location"]


def test_a_form_without_its_token_or_with_a_wrong_one_is_refused_in_the_persons_language_and_changes_nothing(site):
    app, stand_in = site
    client = app.test_client()
    _sign_in(client)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": "x" * 5000}):
        for lang, says in (("zh-CN", "请返回"), ("en", "go back")):
            answer = client.post("/signout", data=data, headers={"Accept-Language": lang})
            assert answer.status_code == 400 and says in answer.get_data(as_text=True)
            assert f'href="tel:{PHONE.replace(" ", "")}"' in answer.get_data(as_text=True)
    assert not [c for c in stand_in.calls if c[1] == "/api/v1/auth/logout"]
    assert client.get("/me").status_code == 200


# -- the error pages a person reads ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, says", [("zh-CN", ["请", "居委会"]), ("en", ["Please", "committee"])])
def test_every_error_page_is_in_the_persons_language_with_the_committees_number(site, lang, says):
    app, stand_in = site
    client = app.test_client()
    _sign_in(client, lang=lang)
    stand_in.broken_paths.add("/api/v1/orders")
    tel = f'href="tel:{PHONE.replace(" ", "")}"'
    pages = {
        404: client.get("/no/such/page", headers={"Accept-Language": lang}),
        405: client.get("/signout", headers={"Accept-Language": lang}),  # a button's address typed in
        413: client.post("/prefs", data={"back": "x" * (300 * 1024)}, headers={"Accept-Language": lang}),
        500: client.get("/attention", headers={"Accept-Language": lang}),
    }
    for status, answer in pages.items():
        text = answer.get_data(as_text=True)
        assert answer.status_code == status, (status, text[:300])
        assert answer.mimetype == "text/html" and tel in text, (status, text[:500])
        assert all(word in text for word in says), (status, text[:800])
        assert ("Method Not Allowed" not in text and "Internal Server Error" not in text
                and "Request Entity Too Large" not in text), text[:300]


# -- hostile input on a page's form ---------------------------------------------------------------------------------

@pytest.mark.parametrize("year", ["²", "1948.5", "19480", "-194", "1e3", "¹⁹⁴"])
def test_a_year_of_birth_that_is_not_four_digits_is_a_sentence_naming_the_field_not_a_500(site, year):
    app, stand_in = site
    client = app.test_client()
    _sign_in(client)
    page = client.get("/me")
    answer = client.post("/me", data={"csrf_token": _csrf(page), "community_id": "lianxi", "building": "12",
                                      "room": "301", "birth_year": year})
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert "四位数字" in answer.get_data(as_text=True)
    assert not [c for c in stand_in.calls if c[1] == "/api/v1/me/profile"], "nothing half-read is saved"


def test_a_year_of_birth_in_full_width_digits_from_a_chinese_keyboard_is_read(site):
    app, stand_in = site
    client = app.test_client()
    _sign_in(client)
    page = client.get("/me")
    answer = client.post("/me", data={"csrf_token": _csrf(page), "community_id": "lianxi", "building": "12",
                                      "room": "301", "birth_year": "１９４８"})
    assert answer.status_code == 302
    saved = [c[2] for c in stand_in.calls if c[1] == "/api/v1/me/profile"]
    assert saved and saved[0]["birth_year"] == 1948
