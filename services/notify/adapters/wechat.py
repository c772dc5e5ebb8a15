"""WeChat subscription messages, and a stub faithful to `subscribeMessage.send`.

POST https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token=...
{"touser": openid, "template_id": ..., "page": ..., "data": {"thing1": {"value": ...}, ...},
 "miniprogram_state": "formal", "lang": "zh_CN"} answers {"errcode": 0, "errmsg": "ok", "msgid": ...}
or an error: 43101 "user refuse to accept the msg" (no unused one-time subscription: each
wx.requestSubscribeMessage the person accepted allows exactly one message), 47003 "argument invalid!"
(a field longer than its kind allows: thing 20, phrase 5 Chinese characters, or a time not
written as a date-time), 40003 invalid openid, -1 system busy.

A real client posts the same body with an access token from `cgi-bin/token` (cached, refreshed
before its 2 hours run out); `WechatChannel` stays as it is.
"""
from __future__ import annotations

import re
import threading
import uuid
from collections import defaultdict

from . import REFUSED, RETRY, SENT, Outcome, Outgoing, Receipt

LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "amount": 32, "name": 10}
_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日( \d{2}:\d{2})?$|^\d{2}:\d{2}$")
TRANSIENT = {-1, 45009}


class WechatStub:
    def __init__(self):
        self.grants: dict[tuple[str, str], int] = defaultdict(int)
        self.sent: list[dict] = []
        self.busy = False
        self._lock = threading.Lock()

    def grant(self, openid: str, template_id: str) -> None:
        """The person pressed "allow" in wx.requestSubscribeMessage: one message may be sent."""
        with self._lock:
            self.grants[(openid, template_id)] += 1

    def subscribe_send(self, body: dict) -> dict:
        with self._lock:
            if self.busy:
                return {"errcode": -1, "errmsg": "system error"}
            openid, template = body.get("touser"), body.get("template_id")
            if not openid or not str(openid).startswith("o"):
                return {"errcode": 40003, "errmsg": "invalid openid"}
            for key, item in (body.get("data") or {}).items():
                kind = key.rstrip("0123456789")
                value = str((item or {}).get("value", ""))
                if kind == "time" and not _TIME.match(value):
                    return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
                if kind in LIMITS and len(value) > LIMITS[kind]:
                    return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value exceeds limit"}
            if self.grants[(openid, template)] < 1:
                return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            self.grants[(openid, template)] -= 1
            msgid = uuid.uuid4().int % 10**16
            self.sent.append({**body, "msgid": msgid})
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


class WechatChannel:
    name = "wechat"

    def __init__(self, client, page: str = "pages/inbox/index"):
        self.client = client
        self.page = page

    def send(self, message: Outgoing) -> Outcome:
        if not message.openid:
            return Outcome(REFUSED, "NO_OPENID", detail="the person has not bound WeChat")
        body = {"touser": message.openid, "template_id": message.template_id, "page": self.page,
                "data": message.wechat_data or {}, "miniprogram_state": "formal",
                "lang": "en_US" if message.language == "en" else "zh_CN"}
        try:
            answer = self.client.subscribe_send(body)
        except (OSError, TimeoutError) as error:
            return Outcome(RETRY, "NETWORK", detail=repr(error))
        code = answer.get("errcode", -1)
        if code == 0:
            return Outcome(SENT, "ok", str(answer.get("msgid")))
        return Outcome(RETRY if code in TRANSIENT else REFUSED, str(code), detail=answer.get("errmsg", ""))

    def receipts(self) -> list[Receipt]:
        return []
