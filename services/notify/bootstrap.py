"""Builds notify for its web process, its worker and the tests: the database, the units of work,
the channels (stubs here; a real SMS or WeChat client is chosen in `channels()`), the stream hub."""
from __future__ import annotations

from dataclasses import dataclass, field

from linli.config import settings
from linli.ids import utcnow
from linli.unit import Units
from linli.web import ensure_idempotency_index

from . import store
from .adapters import InApp
from .adapters.sms import SmsChannel, SmsStub
from .adapters.wechat import WechatChannel, WechatStub

SOURCE = "notify"


@dataclass
class Notify:
    units: Units
    sms: SmsStub
    wechat: WechatStub
    channels: dict = field(default_factory=dict)
    hub: object | None = None

    @property
    def delays(self) -> tuple[float, ...]:
        return settings().retry_delays


def channels(sms_client, wechat_client) -> dict:
    """The one place that chooses providers: replace a stub client with a real SDK client here."""
    return {"in_app": InApp(), "sms": SmsChannel(sms_client), "wechat": WechatChannel(wechat_client)}


def build(clock=utcnow, sms_report_delay: float = 1.0) -> Notify:
    db = store.database()
    store.prepare(db)
    ensure_idempotency_index(db)
    sms, wechat = SmsStub(report_delay=sms_report_delay), WechatStub()
    return Notify(units=Units(db, SOURCE, clock), sms=sms, wechat=wechat, channels=channels(sms, wechat))
