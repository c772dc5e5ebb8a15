"""The month on the hours and statement pages: two lists in the page's language (2026年 / 12月, 2026 / December), not
the browser's own month picker; this month in the community's zone by default; the older ?month=YYYY-MM still read;
what is no month gives this month and a sentence, never a 5xx."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel

from web import i18n
from web.app import HERE
from web.pages import common

ZONE = "Asia/Shanghai"
PICKER = '{% from "parts/month.html" import month_picker %}{{ month_picker(month) }}'


def _app() -> Flask:
    app = Flask("t", template_folder=str(HERE / "templates"))
    app.config.update(BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"), SECRET_KEY="t")
    Babel(app, locale_selector=i18n.choose_locale)  # the browser's language, as for a person not signed in
    app.jinja_env.globals.update(month_names=i18n.month_names, year_name=i18n.year_name, month_years=i18n.month_years)
    return app


def _asked(query: str) -> tuple[str, str | None]:
    with _app().test_request_context(f"/c/hours{query}", headers={"Accept-Language": "zh-CN"}):
        month, error = common.asked_month(ZONE)
        return month, (str(error) if error else None)


def _now() -> str:
    return datetime.now(ZoneInfo(ZONE)).strftime("%Y-%m")


@pytest.mark.parametrize("query, month", [("?year=2025&month=12", "2025-12"), ("?year=2025&month=3", "2025-03"),
                                          ("?month=2025-07", "2025-07"), ("", None), ("?year=&month=", None)])
def test_the_lists_and_the_older_query_are_read_and_nothing_asked_is_this_month_in_the_zone(query, month):
    assert _asked(query) == (month or _now(), None)


@pytest.mark.parametrize("query", ["?month=2025-13", "?month=December", "?year=abc&month=12", "?year=2025&month=13",
                                   "?year=2025&month=%D9%A1%D9%A2", "?year=1899&month=1", "?year=9999&month=1",
                                   "?month=2025-1", "?year=2025&month=-1", "?month=%00"])
def test_what_is_no_month_gives_this_month_and_a_sentence(query):
    month, error = _asked(query)
    assert month == _now()
    assert error == "没能读懂所选的月份，现在显示的是本月。请从列表中选择年份和月份。"


def test_the_lists_speak_the_pages_language_with_the_month_chosen():
    with _app().test_request_context(headers={"Accept-Language": "zh-CN"}):
        html = render_template_string(PICKER, month="2026-12")
    assert '<option value="2026" selected>2026年</option>' in html
    assert '<option value="12" selected>12月</option>' in html and '<option value="01">1月</option>' in html
    assert 'type="month"' not in html and "December" not in html
    assert '<label for="year">年份</label>' in html and '<label for="month">月份</label>' in html
    with _app().test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string(PICKER, month="2026-12")
    assert '<option value="2026" selected>2026</option>' in html and "年" not in html
    assert '<option value="12" selected>December</option>' in html and '<option value="01">January</option>' in html
    assert '<label for="year">Year</label>' in html


def test_a_month_long_ago_is_offered_in_the_year_list():
    years = i18n.month_years("2019-05")
    assert years[0] == 2019 and years[-1] == datetime.now().year
