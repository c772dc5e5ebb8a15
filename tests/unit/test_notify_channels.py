"""The channel stubs behave like the providers they stand for."""
from __future__ import annotations

from services.notify.adapters import REFUSED, RETRY, SENT, Outgoing
from services.notify.adapters.sms import SmsChannel, SmsStub
from services.notify.adapters.wechat import WechatChannel, WechatStub


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _sms(send_id="s1", phone="139 1234 5678"):
    return Outgoing(send_id=send_id, channel="sms", kind="offer", language="zh-CN", title="t", body="b",
                    params={"distance": "0.4", "expires": "11:02"}, phone=phone)


def test_sms_is_sent_once_per_out_id_with_template_and_params_and_reported_later():
    clock = Clock()
    stub = SmsStub(report_delay=5, clock=clock)
    channel = SmsChannel(stub)
    first = channel.send(_sms())
    again = channel.send(_sms())  # a resend after a crash: same OutId, nothing sent twice
    assert first.status == SENT and again.provider_ref == first.provider_ref
    assert [(s["phone"], s["template"], s["params"]) for s in stub.sent] == \
        [("13912345678", "SMS_LINLI_OFFER", {"distance": "0.4", "expires": "11:02"})]
    assert channel.receipts() == []
    clock.now += 5
    [receipt] = channel.receipts()
    assert receipt.send_id == "s1" and receipt.delivered and receipt.code == "DELIVERED"


def test_sms_flow_control_per_number_refuses_for_now_and_bad_numbers_for_good():
    clock = Clock()
    channel = SmsChannel(SmsStub(clock=clock))
    assert channel.send(_sms("a")).status == SENT
    limited = channel.send(_sms("b"))
    assert limited.status == RETRY and limited.code == "isv.BUSINESS_LIMIT_CONTROL"
    assert channel.send(_sms("c", phone="13800000000")).status == SENT  # another number has its own count
    clock.now += 61
    assert channel.send(_sms("b")).status == SENT
    assert channel.send(_sms("d", phone="12345")).status == REFUSED
    assert channel.send(_sms("e", phone=None)).code == "NO_PHONE"


def test_an_sms_outage_asks_for_a_retry():
    stub = SmsStub()
    stub.outage = True
    outcome = SmsChannel(stub).send(_sms())
    assert outcome.status == RETRY and outcome.code == "isp.SYSTEM_ERROR" and stub.sent == []


def _wechat(data=None, openid="oWang"):
    return Outgoing(send_id="w1", channel="wechat", kind="offer", language="zh-CN", title="t", body="b",
                    openid=openid, template_id="LINLI-TASK-ALERT",
                    wechat_data=data or {"thing1": {"value": "新的配送邀请"}, "time3": {"value": "2026年11月30日 12:00"}})


def test_each_one_time_subscription_allows_one_wechat_message():
    stub = WechatStub()
    channel = WechatChannel(stub)
    refused = channel.send(_wechat())
    assert refused.status == REFUSED and refused.code == "43101"
    stub.grant("oWang", "LINLI-TASK-ALERT")
    assert channel.send(_wechat()).status == SENT
    assert channel.send(_wechat()).code == "43101"
    assert stub.sent[0]["data"]["thing1"]["value"] == "新的配送邀请" and stub.sent[0]["lang"] == "zh_CN"


def test_wechat_refuses_fields_beyond_their_limits():
    stub = WechatStub()
    stub.grant("oWang", "LINLI-TASK-ALERT")
    too_long = WechatChannel(stub).send(_wechat({"thing1": {"value": "字" * 21}}))
    assert too_long.status == REFUSED and too_long.code == "47003"
    bad_time = WechatChannel(stub).send(_wechat({"time3": {"value": "tomorrow"}}))
    assert bad_time.code == "47003"
    assert WechatChannel(stub).send(_wechat(openid="nobody")).code == "40003"
    assert stub.grants[("oWang", "LINLI-TASK-ALERT")] == 1  # refused messages spend no subscription
