"""A refused action's sentence shows once on the page the person lands on: a double tap, a form sent again or a
second tab sends the same refused form twice (the API answers the second with the first answer), and each post
queued its sentence, so the order page said it twice. Cancel, review and the committee's cancel alike; and a
resident's cancel the kitchen has already accepted says that it is too late and what to do, not "your account may
not do this". On web/ alone, with the API played by the stand-in of test_pages_door."""
from __future__ import annotations

import re

import pytest

from tests.integration.test_pages_door import StandIn, _csrf, _sign_in
from web.adapters.gateway import ApiProblem

ORDER = {"id": "ord_1", "status": "accepted", "listing": {"id": "lst_1", "title": "爱心午餐"},
         "provider": {"id": "prv_1", "name": "桥头食堂"}, "slot": {"date": "2026-12-02", "name": "lunch"},
         "quantity": 1, "amount": {"payable_fen": 1500}, "address": {"community_id": "lianxi", "building": "12",
                                                                    "room": "301", "contact_name": "王阿姨"},
         "handover_code": "1234", "timeline": []}
TOO_LATE = "厨房已经开始做了，这里不能再取消。如有需要，请打居委会的电话。"


class Refusing(StandIn):
    """The stand-in with one order that moved on: the resident may no longer cancel it (the API's 403, as orders
    answers a resident's cancel after the kitchen accepted), a review is refused (not completed) and the committee's
    cancel meets a finished order (409)."""

    def request(self, method, path, *, token=None, json=None, params=None, request_id=None, raw=False):
        if path == "/api/v1/orders/ord_1" and method == "GET":
            self.calls.append((method, path, json))
            return ORDER
        if path == "/api/v1/orders/ord_1/cancel":
            self.calls.append((method, path, json))
            role = self.live.get(token)
            if role == "lin":
                raise ApiProblem(409, "illegal_transition", "This order cannot be called off now: it is completed.")
            raise ApiProblem(403, "forbidden", "You are not allowed to do this to the order.")
        if path == "/api/v1/catalog/reviews":
            self.calls.append((method, path, json))
            raise ApiProblem(409, "not_completed", "Only a completed order can be reviewed.")
        return super().request(method, path, token=token, json=json, params=params, request_id=request_id, raw=raw)


@pytest.fixture
def refusing(mongo_env):
    from web.app import create_app

    app = create_app()
    app.extensions["linli_gateway"] = Refusing()
    return app


def _sent_twice(client, path: str, form: dict, page: str) -> str:
    """The same form (its token and form key) sent twice, as a double tap does, then the page it leads to."""
    token = _csrf(client.get(page))
    for _ in range(2):
        answer = client.post(path, data={"csrf_token": token, "form_key": "f" * 32, **form})
        assert answer.status_code == 303, answer.status_code
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def _said(html: str, sentence: str) -> int:
    return len(re.findall(re.escape(sentence), html))


def test_a_refused_cancel_sent_twice_says_once_that_it_is_too_late(refusing):
    client = refusing.test_client()
    _sign_in(client, "wang")
    html = _sent_twice(client, "/r/orders/ord_1/cancel", {}, "/r/orders/ord_1")
    assert _said(html, TOO_LATE) == 1, html
    assert "您的账号不能做这件事" not in html


def test_a_refused_review_sent_twice_says_so_once(refusing):
    client = refusing.test_client()
    _sign_in(client, "wang")
    html = _sent_twice(client, "/r/orders/ord_1/review", {"about": "provider", "stars": "5"}, "/r/orders/ord_1")
    assert _said(html, "订单完成后才能评价。") == 1, html


def test_the_committees_refused_cancel_sent_twice_says_so_once(refusing):
    client = refusing.test_client()
    _sign_in(client, "lin")
    html = _sent_twice(client, "/c/orders/ord_1/cancel", {"reason": "居民来电"}, "/c/orders/ord_1")
    assert _said(html, "订单已经往下走了，现在不能这样改。") == 1, html


def test_two_different_sentences_are_both_shown(refusing):
    client = refusing.test_client()
    _sign_in(client, "wang")
    token = _csrf(client.get("/r/orders/ord_1"))
    client.post("/r/orders/ord_1/cancel", data={"csrf_token": token, "form_key": "a" * 32})
    client.post("/r/orders/ord_1/review", data={"csrf_token": token, "form_key": "b" * 32, "about": "provider",
                                                "stars": "5"})
    html = client.get("/r/orders/ord_1").get_data(as_text=True)
    assert _said(html, TOO_LATE) == 1 and _said(html, "订单完成后才能评价。") == 1


def test_a_review_sent_before_reviews_have_heard_of_the_completion_says_to_send_it_again_soon(mongo_env):
    """Her order is completed (orders says so, and the page shows the form), but catalog has not yet heard: it
    cannot tell her order from a stranger's and answers 404. The page says to send it again in a minute, not that
    the order is gone."""
    from web.app import create_app

    completed = {**ORDER, "status": "completed"}

    class NotYetHeard(Refusing):
        def request(self, method, path, *, token=None, json=None, params=None, request_id=None, raw=False):
            if path == "/api/v1/orders/ord_1" and method == "GET":
                return completed
            if path == "/api/v1/catalog/reviews":
                self.calls.append((method, path, json))
                raise ApiProblem(404, "not_found", "The order was not found.")
            return super().request(method, path, token=token, json=json, params=params, request_id=request_id,
                                   raw=raw)

    app = create_app()
    app.extensions["linli_gateway"] = NotYetHeard()
    client = app.test_client()
    _sign_in(client, "wang")
    html = _sent_twice(client, "/r/orders/ord_1/review", {"about": "provider", "stars": "5"}, "/r/orders/ord_1")
    assert _said(html, "订单完成后稍等片刻才能评价。请过一分钟再发送一次。") == 1, html
    assert "可能已被删除" not in html
