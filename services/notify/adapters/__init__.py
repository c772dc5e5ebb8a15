"""Channels behind one provider interface: `Channel.send(Outgoing) -> Outcome`.

Plugging in a real provider means writing one class with this method (and `receipts()` when the
provider reports delivery later) and choosing it in bootstrap.py: see sms.py for the shape of
Alibaba Cloud's / Tencent Cloud's SMS API and wechat.py for WeChat's subscribeMessage.send.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

SENT, RETRY, REFUSED = "sent", "retry", "refused"


@dataclass(frozen=True)
class Outgoing:
    send_id: str          # unique per (message, channel): the provider's OutId, so a resend is recognised
    channel: str
    kind: str
    language: str
    title: str
    body: str
    params: dict = field(default_factory=dict)
    phone: str | None = None
    openid: str | None = None
    template_id: str | None = None
    wechat_data: dict | None = None


@dataclass(frozen=True)
class Outcome:
    status: str           # sent | retry | refused
    code: str = "OK"
    provider_ref: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Receipt:
    """A delivery report that arrives after the send (SMS): delivered or not, and why."""
    send_id: str
    delivered: bool
    code: str
    at: str


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> Outcome: ...

    def receipts(self) -> list[Receipt]: ...


class InApp:
    """The inbox and its live stream: the message is stored with the event's transaction, so sending is done."""
    name = "in_app"

    def send(self, message: Outgoing) -> Outcome:
        return Outcome(SENT, provider_ref=message.send_id)

    def receipts(self) -> list[Receipt]:
        return []
