"""Notify's pure rules: who is told what, in which words, on which channels and when."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from linli import topology
from linli.contracts import REGISTRY
from services.notify.rules import channels, sending, texts, wechat, who
from services.notify.rules.who import NORMAL, QUIET, URGENT

NOON_SHANGHAI = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)      # 12:00 in Shanghai
NIGHT_SHANGHAI = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)   # 23:30 in Shanghai


def _told(event_type: str) -> dict[str, tuple[tuple[str, ...], str]]:
    return {n.kind: (n.to, n.urgency) for n in who.notices(event_type)}


def test_the_table_tells_each_party_what_needs_them():
    assert _told("orders.order.paid")["new_order"] == (("provider",), URGENT)
    assert _told("delivery.task.offered") == {"offer": (("volunteer",), URGENT)}
    assert _told("delivery.offer.withdrawn") == {"offer_withdrawn": (("volunteer",), QUIET),
                                                 "offer_cancelled": (("volunteer",), QUIET)}
    assert [n.kind for n in who.notices("delivery.offer.withdrawn", {"reason": "taken"})] == ["offer_withdrawn"]
    assert [n.kind for n in who.notices("delivery.offer.withdrawn", {"reason": "cancelled"})] == ["offer_cancelled"]
    assert _told("delivery.task.welfare_check") == {"welfare_check": (("coordinators", "family"), URGENT)}
    assert _told("delivery.task.delivered") == {"delivered": (("resident", "family"), NORMAL)}
    assert _told("orders.order.completed") == {"review_invitation": (("resident",), QUIET)}
    assert _told("orders.order.awaiting_payment") == {"payment_due": (("resident",), URGENT)}
    for staff_event in ("delivery.task.escalated", "delivery.task.failed", "orders.order.deadline_missed"):
        assert any("coordinators" in to and urgency == URGENT for to, urgency in _told(staff_event).values())
    assert _told("catalog.provider.verified") == {"provider_verified": (("account",), NORMAL)}
    assert _told("delivery.volunteer.verified") == {"volunteer_verified": (("account",), NORMAL)}
    for event_type in ("orders.order.accepted", "orders.order.declined", "orders.order.ready",
                       "delivery.task.picked_up", "orders.order.cancelled", "orders.order.refunded"):
        assert any("resident" in to for to, _ in _told(event_type).values()), event_type


def test_every_row_is_a_known_event_with_known_recipients_texts_in_both_languages_and_is_subscribed():
    subscribed = set(topology.subscriptions()["notify"])
    assert subscribed == set(who.TABLE) | set(who.READ_MODEL_ONLY)
    for event_type, notices in who.TABLE.items():
        assert event_type in REGISTRY
        for notice in notices:
            assert set(notice.to) <= set(who.RECIPIENT_ROLES) and notice.urgency in who.URGENCIES
            assert set(texts.TEXTS[notice.kind]) == {"zh-CN", "en"}, notice.kind
            # the same facts in both languages
            assert texts.placeholders(notice.kind, "zh-CN") == texts.placeholders(notice.kind, "en"), notice.kind


def test_texts_come_in_the_recipients_language_and_never_show_a_raw_placeholder():
    params = {"title": "爱心午餐", "amount": "3.00", "expires": "11:15"}
    title, body = texts.render("payment_due", "zh-CN", params)
    assert title == "请付款" and "3.00元" in body and "11:15" in body
    title, body = texts.render("payment_due", "en", params)
    assert title == "Please pay" and "3.00 yuan before 11:15" in body
    assert texts.language_of({"language": "en"}) == "en"
    assert texts.language_of({"language": "fr"}) == "zh-CN" and texts.language_of(None) == "zh-CN"
    _, body = texts.render("deadline_missed", "en", {"deadline": "provider_answer"})
    assert "answering the order" in body and "{" not in body and "-" in body  # unknown facts show as "-"


def test_a_person_who_signs_in_always_gets_the_inbox_and_one_outside_channel_at_most():
    person = {"phone": "13912345678", "wechat_openid": "oABC", "wechat_grants": {"LINLI-TASK-ALERT": 1}}
    routes = channels.routes(person, URGENT, NOON_SHANGHAI, wechat_template="LINLI-TASK-ALERT")
    assert [r.channel for r in routes] == ["in_app", "wechat"]
    assert [r.channel for r in channels.routes(person, QUIET, NOON_SHANGHAI, wechat_template="LINLI-TASK-ALERT")] \
        == ["in_app"]


def test_urgent_messages_without_a_wechat_subscription_fall_back_to_sms_but_normal_ones_do_not():
    person = {"phone": "13912345678", "wechat_openid": "oABC", "wechat_grants": {}}
    assert [r.channel for r in channels.routes(person, URGENT, NOON_SHANGHAI, wechat_template="T")] == ["in_app", "sms"]
    assert [r.channel for r in channels.routes(person, NORMAL, NOON_SHANGHAI, wechat_template="T")] == ["in_app"]
    chose_sms = {**person, "channels": ["in_app", "sms"]}
    assert [r.channel for r in channels.routes(chose_sms, NORMAL, NOON_SHANGHAI, wechat_template="T")] == ["in_app", "sms"]
    no_sms = {**person, "channels": ["in_app", "wechat"]}
    assert [r.channel for r in channels.routes(no_sms, URGENT, NOON_SHANGHAI, wechat_template="T")] == ["in_app"]
    assert [r.channel for r in channels.routes({}, URGENT, NOON_SHANGHAI, wechat_template="T")] == ["in_app"]


def test_quiet_hours_hold_normal_messages_until_they_end_but_not_urgent_ones():
    person = {"phone": "13912345678", "channels": ["in_app", "sms"], "quiet_hours": {"start": "22:00", "end": "07:00"}}
    [inbox, sms] = channels.routes(person, NORMAL, NIGHT_SHANGHAI, wechat_template="T")
    assert inbox.not_before is None  # the inbox never disturbs
    assert sms.not_before == datetime(2026, 11, 30, 23, 0, tzinfo=timezone.utc)  # 07:00 next morning in Shanghai
    [_, urgent] = channels.routes(person, URGENT, NIGHT_SHANGHAI, wechat_template="T")
    assert urgent.not_before is None
    assert channels.routes(person, NORMAL, NOON_SHANGHAI, wechat_template="T")[1].not_before is None
    daytime_nap = {**person, "quiet_hours": {"start": "12:00", "end": "14:00"}}
    assert channels.quiet_until(daytime_nap, NOON_SHANGHAI) == datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)


def test_an_elder_who_cannot_sign_in_is_reached_through_others_and_by_sms_only():
    elder = {"signs_in": False, "phone": "13912345678"}
    assert who.reaches_resident_through_others(elder)
    assert not who.reaches_resident_through_others({"signs_in": True}) and not who.reaches_resident_through_others(None)
    assert [r.channel for r in channels.routes(elder, NORMAL, NOON_SHANGHAI, wechat_template="T", signs_in=False)] \
        == ["sms"]
    assert channels.routes({"signs_in": False}, URGENT, NOON_SHANGHAI, wechat_template="T", signs_in=False) == []
    assert [r.channel for r in channels.routes(None, URGENT, NOON_SHANGHAI, wechat_template="T", board=True)] == ["in_app"]
    assert who.board_id("lianxi") == "board:lianxi" and who.is_board("board:lianxi")


def test_retries_grow_then_stop_and_urgent_wechat_falls_back_to_sms():
    delays = (1.0, 5.0, 30.0)
    assert sending.next_try(1, delays, NOON_SHANGHAI) == datetime(2026, 11, 30, 4, 0, 1, tzinfo=timezone.utc)
    assert sending.next_try(3, delays, NOON_SHANGHAI) == datetime(2026, 11, 30, 4, 0, 30, tzinfo=timezone.utc)
    assert sending.next_try(4, delays, NOON_SHANGHAI) is None
    assert sending.fallback("wechat", "43101", urgent=True) == "sms"
    assert sending.fallback("wechat", "43101", urgent=False) is None and sending.fallback("sms", "x", True) is None


def test_wechat_fields_keep_their_kinds_limits():
    fields = wechat.fields_for("offer", "一份很长很长很长很长很长很长很长很长的配送邀请标题", "正文", NOON_SHANGHAI)
    assert len(fields["thing1"]["value"]) == 20 and fields["thing1"]["value"].endswith("…")
    assert fields["time3"]["value"] == "2026年11月30日 12:00"
    order = wechat.fields_for("order_accepted", "商家已接单啦啦啦", "x", NOON_SHANGHAI)
    assert len(order["phrase2"]["value"]) <= 5
    assert wechat.template_for("offer")["id"] != wechat.template_for("delivered")["id"]


@pytest.mark.parametrize("kind", sorted(texts.TEXTS))
def test_every_text_renders_in_both_languages(kind):
    for language in texts.LANGUAGES:
        title, body = texts.render(kind, language, {})
        assert title and body and "{" not in body


def test_the_docs_say_who_is_told_what_exactly_as_the_table_does():
    """DESIGN and the README carry the table generated from rules/who.py: a changed rule fails here until
    the docs are regenerated (python -m services.notify.rules.who)."""
    from linli.config import ROOT

    for doc in ("docs/DESIGN.md", "README.md"):
        text = (ROOT / doc).read_text()
        copy = text.split("<!-- who-table:start -->\n", 1)[1].split("\n<!-- who-table:end -->", 1)[0]
        assert copy == who.markdown_table(), f"{doc}: regenerate with python -m services.notify.rules.who"
    assert all(f"`{event_type}`" in who.markdown_table() for event_type in who.TABLE)
