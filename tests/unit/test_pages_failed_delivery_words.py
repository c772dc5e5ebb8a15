"""An order whose delivery failed reads as that, to the resident and to the committee, in both languages: never
"on its way to you" / "on the way to the resident" beside "delivery failed" (the API keeps the order "delivering"
and sets `delivery_problem` until the committee decides)."""
from __future__ import annotations

from flask import Flask
from flask_babel import Babel, force_locale

from web import i18n
from web.app import HERE

FAILED_NOTE = {"from": "delivering", "to": "delivering", "reason": "delivery failed (wrong_address); the coordinator "
               "decides: deliver again or refund", "at": "2026-12-01T03:10:00Z"}
ORDER = {"id": "o1", "status": "delivering", "delivery_problem": {"reason": "wrong_address", "at": "2026-12-01T03:10:00Z"},
         "timeline": [{"from": "ready", "to": "delivering", "reason": "picked up", "at": "2026-12-01T03:00:00Z"},
                      FAILED_NOTE]}


def _app() -> Flask:
    app = Flask("t")
    app.config.update(BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"))
    Babel(app)
    return app


def test_the_failed_state_and_its_moment_read_as_a_failure_to_both_in_both_languages():
    shown = i18n.as_shown(ORDER)
    assert shown["status"] == "delivery_failed" and ORDER["status"] == "delivering", "the order itself is untouched"
    assert [e["to"] for e in shown["timeline"]] == ["delivering", "delivery_failed_step"]
    with _app().test_request_context(), force_locale("zh_CN"):
        assert str(i18n.STAFF_STATUS[i18n.shown_status(ORDER)]) == "送餐失败，等您处理"
        assert str(i18n.STAFF_STATUS[i18n.shown_step(FAILED_NOTE)]) == "配送失败"
        assert "您家" not in str(i18n.STATUS[shown["status"]]) and "居委会" in str(i18n.STATUS[shown["status"]])
    with _app().test_request_context(), force_locale("en"):
        assert str(i18n.STAFF_STATUS[i18n.shown_status(ORDER)]) == "Delivery failed — waiting for you"
        assert "on its way" not in str(i18n.STATUS[shown["status"]]).lower()


def test_an_order_the_committee_decided_about_reads_as_its_state_again():
    for decided in (dict(ORDER, delivery_problem=None, status="ready"), dict(ORDER, status="cancelled"),
                    {"id": "o2", "status": "delivering"}):
        assert i18n.shown_status(decided) == decided["status"]
        assert i18n.as_shown(decided)["status"] == decided["status"]
