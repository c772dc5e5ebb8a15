"""A page form sent twice is done once: each rendering of a form carries a `form_key`, and every change the form
asks of the API goes with an Idempotency-Key made from it and what is asked (web/adapters/gateway.py)."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from web.adapters.gateway import form_key, idempotency_key

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
ORDER = {"listing_id": "lst_1", "quantity": 1}


def _key(form: dict, body=ORDER, method="POST", path="/api/v1/orders", http="POST") -> str:
    app = Flask(__name__)
    with app.test_request_context("/r/order", method=http, data=form):
        return idempotency_key(method, path, body)


def test_the_same_form_sent_again_asks_with_the_same_key_and_a_changed_one_with_another():
    rendered = form_key()
    first = _key({"form_key": rendered, "quantity": "1"})
    assert _key({"form_key": rendered, "quantity": "1"}) == first  # a double tap, a resent page
    assert _key({"form_key": rendered}, body={**ORDER, "quantity": 2}) != first  # changed, then sent
    assert _key({"form_key": rendered}, path="/api/v1/orders/ord_1/pay") != first  # the form's second call
    assert _key({"form_key": form_key()}) != first  # the same form shown again is a new request


def test_without_a_form_key_of_ours_each_call_has_a_key_of_its_own():
    for form in ({}, {"form_key": ""}, {"form_key": "x" * 32}, {"form_key": "0" * 31}, {"form_key": "A" * 32}):
        assert _key(form) != _key(form)
    app = Flask(__name__)
    with app.test_request_context("/r/orders?form_key=" + "a" * 32, method="GET"):
        assert idempotency_key("POST", "/api/v1/orders", ORDER) != idempotency_key("POST", "/api/v1/orders", ORDER)


def test_every_form_with_a_csrf_token_carries_a_form_key():
    checked = 0
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for form in re.findall(r"<form\b.*?</form>", text, flags=re.S):
            if "csrf" in form:
                checked += 1
                assert "form_key" in form or "csrf()" in form, f"{template.name}: a form without its form_key"
        if "macro csrf()" in text:
            assert 'name="form_key"' in text, f"{template.name}: the csrf() macro must add the form_key"
    assert checked >= 30, f"found only {checked} forms: the check is not looking at the templates"
