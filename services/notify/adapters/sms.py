"""SMS through a cloud provider, and a stub faithful to the big Chinese clouds' SMS APIs.

Alibaba Cloud `dysmsapi SendSms` (Tencent Cloud `SendSms` is the same in other words): a
registered signature (SignName), a pre-approved template (TemplateCode) and its parameters as a
JSON string (TemplateParam), the numbers, and an OutId of ours echoed in the delivery report.
Answers carry a Code: "OK" with a BizId, or e.g. `isv.BUSINESS_LIMIT_CONTROL` (the per-number flow
control: 1 a minute, 5 an hour, 10 a day by default), `isv.MOBILE_NUMBER_ILLEGAL`,
`isv.TEMPLATE_MISSING_PARAMETERS`, `isp.SYSTEM_ERROR`. Whether the phone got it arrives later as
a delivery report (SmsReport: phone_number, success, err_code DELIVERED, biz_id, out_id).

A real client replaces `SmsStub` with one calling the cloud's SDK (alibabacloud_dysmsapi20170525
or tencentcloud-sdk-python) with the same arguments; `SmsChannel` stays as it is.
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import datetime, timezone

from . import REFUSED, RETRY, SENT, Outcome, Outgoing, Receipt

SIGN_NAME = "邻里"
FLOW_LIMITS = ((60, 1), (3600, 5), (86400, 10))  # (window in seconds, messages per number)
TRANSIENT = {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY", "Throttling.User"}
_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")


def template_code(kind: str) -> str:
    """Each notice kind is one template registered (and approved) with the provider."""
    return f"SMS_LINLI_{kind.upper()}"


class SmsStub:
    """Behaves like SendSms: signature and template checks, flow control per number, an OutId kept
    (a second send with the same OutId answers the first BizId and sends nothing), and delivery
    reports that arrive `report_delay` seconds later. `outage` makes every call fail like the cloud's
    `isp.SYSTEM_ERROR`."""

    def __init__(self, report_delay: float = 1.0, clock=time.monotonic, flow_limits=FLOW_LIMITS):
        self.report_delay = report_delay
        self.clock = clock
        self.flow_limits = flow_limits
        self.outage = False
        self.sent: list[dict] = []          # what reached a phone, in order
        self._by_out_id: dict[str, str] = {}
        self._history: dict[str, deque] = defaultdict(deque)
        self._reports: list[tuple[float, dict]] = []
        self._lock = threading.Lock()
        self.calls = 0

    def send_sms(self, PhoneNumbers: str, SignName: str, TemplateCode: str, TemplateParam: str,
                 OutId: str | None = None) -> dict:
        with self._lock:
            self.calls += 1
            request_id = str(uuid.uuid4()).upper()
            if self.outage:
                return {"Code": "isp.SYSTEM_ERROR", "Message": "System error", "RequestId": request_id}
            if SignName != SIGN_NAME:
                return {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法", "RequestId": request_id}
            if not TemplateCode.startswith("SMS_"):
                return {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法", "RequestId": request_id}
            try:
                params = json.loads(TemplateParam)
            except ValueError:
                return {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法", "RequestId": request_id}
            phone = re.sub(r"[\s-]", "", PhoneNumbers)
            if not _MOBILE.match(phone):
                return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": request_id}
            if OutId and OutId in self._by_out_id:
                return {"Code": "OK", "Message": "OK", "BizId": self._by_out_id[OutId], "RequestId": request_id}
            now = self.clock()
            history = self._history[phone]
            for window, most in self.flow_limits:
                if sum(1 for t in history if t > now - window) >= most:
                    return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控Permits:10"
                            if window == 86400 else "触发分钟级流控Permits:1", "RequestId": request_id}
            history.append(now)
            while history and history[0] < now - max(w for w, _ in self.flow_limits):
                history.popleft()
            biz_id = f"{int(now * 1000) % 10**9:09d}^{uuid.uuid4().int % 10**10:010d}"
            if OutId:
                self._by_out_id[OutId] = biz_id
            self.sent.append({"phone": phone, "template": TemplateCode, "params": params, "out_id": OutId,
                              "biz_id": biz_id})
            self._reports.append((now + self.report_delay, {
                "phone_number": phone, "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功",
                "biz_id": biz_id, "out_id": OutId,
                "report_time": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")}))
            return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    def pull_reports(self) -> list[dict]:
        """The delivery reports due by now (the cloud pushes them to a message queue one pulls)."""
        with self._lock:
            now = self.clock()
            due = [r for at, r in self._reports if at <= now]
            self._reports = [(at, r) for at, r in self._reports if at > now]
            return due


class SmsChannel:
    name = "sms"

    def __init__(self, client, sign_name: str = SIGN_NAME):
        self.client = client
        self.sign_name = sign_name

    def send(self, message: Outgoing) -> Outcome:
        if not message.phone:
            return Outcome(REFUSED, "NO_PHONE", detail="the person has no phone number")
        params = {k: str(v)[:35] for k, v in message.params.items()}  # a variable holds at most 35 characters
        try:
            answer = self.client.send_sms(PhoneNumbers=message.phone, SignName=self.sign_name,
                                          TemplateCode=template_code(message.kind),
                                          TemplateParam=json.dumps(params, ensure_ascii=False), OutId=message.send_id)
        except (OSError, TimeoutError) as error:
            return Outcome(RETRY, "NETWORK", detail=repr(error))
        code = answer.get("Code", "")
        if code == "OK":
            return Outcome(SENT, code, answer.get("BizId"))
        return Outcome(RETRY if code in TRANSIENT else REFUSED, code, detail=answer.get("Message", ""))

    def receipts(self) -> list[Receipt]:
        return [Receipt(r["out_id"], bool(r["success"]), r["err_code"], r["report_time"])
                for r in self.client.pull_reports() if r.get("out_id")]
