"""The text of every notice kind, in Chinese and English: a title and one or two plain sentences a
person can act on. `{...}` are filled from the event and notify's read model (rules.texts.render)."""
from __future__ import annotations

from string import Formatter

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "payment_due": {
        "zh-CN": ("请付款", "您的订单{title}已为您留好，请在{expires}前付款{amount}元，过时订单会自动取消。"),
        "en": ("Please pay", "Your order {title} is held for you. Please pay {amount} yuan before {expires}, "
                              "or the order is cancelled."),
    },
    "payment_received": {
        "zh-CN": ("已付款", "订单{title}已收到您的付款{amount}元，正在等商家接单。"),
        "en": ("Paid", "We received {amount} yuan for your order {title}; the provider will answer soon."),
    },
    "new_order": {
        "zh-CN": ("新订单", "您有一份新订单：{title}，{slot}。请尽快接单或拒单，超时会提醒居委会。"),
        "en": ("New order", "A new order: {title}, {slot}. Please accept or decline it soon; "
                            "past the answer deadline the committee is told."),
    },
    "order_accepted": {
        "zh-CN": ("商家已接单", "订单{title}已被商家接单，会按时准备。"),
        "en": ("Order accepted", "The provider accepted your order {title} and will have it ready on time."),
    },
    "order_declined": {
        "zh-CN": ("商家未能接单", "很抱歉，商家无法接下订单{title}（{reason}），款项会原路退回。"),
        "en": ("Order declined", "Sorry, the provider cannot take your order {title} ({reason}). "
                                 "Your money goes back to where it came from."),
    },
    "order_ready": {
        "zh-CN": ("餐已备好", "订单{title}已备好，正在安排志愿者送达。"),
        "en": ("Ready", "Your order {title} is ready; a volunteer is being found to bring it."),
    },
    "confirm_job": {
        "zh-CN": ("请确认完工", "服务方说{title}已经做完了。如果确实做完了，请在订单里确认；如果没有，请给居委会打电话。"),
        "en": ("Please confirm the job", "The provider says {title} is done. If it is, please confirm it in your "
                                         "order; if it is not, call the committee."),
    },
    "volunteer_assigned": {
        "zh-CN": ("志愿者已接单", "一位志愿者接下了订单{title}，会去厨房取餐后送来。"),
        "en": ("A volunteer is coming", "A volunteer took your order {title} and will bring it from the kitchen."),
    },
    "out_for_delivery": {
        "zh-CN": ("正在配送", "志愿者已取到订单{title}，正在送来。开门时请告诉志愿者订单里的收货码。"),
        "en": ("On the way", "A volunteer picked up your order {title} and is on the way. "
                             "Tell them the handover code shown in your order at the door."),
    },
    "delivered": {
        "zh-CN": ("已送达", "{resident}的订单{title}已送达。"),
        "en": ("Delivered", "The order {title} for {resident} was delivered."),
    },
    "review_invitation": {
        "zh-CN": ("请评价", "订单{title}已完成。您满意吗？请给商家和志愿者打个分。"),
        "en": ("How was it?", "Your order {title} is complete. Please rate the provider and the volunteer."),
    },
    "order_cancelled": {
        "zh-CN": ("订单已取消", "订单{title}已取消（{reason}）。如已付款，款项会原路退回。"),
        "en": ("Order cancelled", "Your order {title} was cancelled ({reason}). "
                                  "Anything you paid goes back to where it came from."),
    },
    "order_cancelled_provider": {
        "zh-CN": ("订单已取消", "订单{title}（{slot}）已取消（{reason}），不用再准备。"),
        "en": ("Order cancelled", "The order {title} ({slot}) was cancelled ({reason}); there is no need to prepare it."),
    },
    "order_refunded": {
        "zh-CN": ("已退款", "订单{title}已退款{amount}元，一般几分钟内到账。"),
        "en": ("Refunded", "{amount} yuan for your order {title} is on its way back to you, usually within minutes."),
    },
    "offer": {
        "zh-CN": ("新的配送邀请", "距离取餐点约{distance}公里有一份配送，请在{expires}前接单。"),
        "en": ("A delivery for you", "A delivery about {distance} km from you is waiting. "
                                     "Accept it before {expires} if you can take it."),
    },
    "offer_withdrawn": {
        "zh-CN": ("配送已有人接", "这份配送已由其他志愿者接下，不用再处理，谢谢您。"),
        "en": ("Taken by someone else", "Another volunteer took this delivery; there is nothing more to do. Thank you."),
    },
    "offer_cancelled": {
        "zh-CN": ("配送已取消", "这份配送的订单已取消，不用再处理，谢谢您。"),
        "en": ("Delivery cancelled", "The order of this delivery was cancelled; there is nothing more to do. Thank you."),
    },
    "escalated": {
        "zh-CN": ("配送无人接单", "订单{title}（{community}）无人接单（{reason}），请在{slot_end}前手动指派志愿者。"),
        "en": ("Nobody took a delivery", "No volunteer took the order {title} in {community} ({reason}). "
                                         "Please assign one by hand before {slot_end}."),
    },
    "delivery_failed": {
        "zh-CN": ("配送未成功", "订单{title}这次没能送到（{reason}）。居委会会联系您安排重新配送或退款。"),
        "en": ("Not delivered", "Your order {title} could not be delivered ({reason}). "
                                "The committee will contact you to send it again or refund it."),
    },
    "delivery_failed_staff": {
        "zh-CN": ("配送失败待处理", "订单{title}（{resident}）配送失败（{reason}），请决定重新配送或取消退款。"),
        "en": ("A failed delivery needs you", "The order {title} for {resident} failed at the door ({reason}). "
                                              "Please send it again or cancel and refund it."),
    },
    "welfare_check": {
        "zh-CN": ("请确认老人安全", "志愿者给{resident}送餐时无人应门（{note}）。请尽快联系或上门看看。"),
        "en": ("Please check on them", "Nobody answered the door when a volunteer brought {resident}'s meal ({note}). "
                                       "Please call or visit soon."),
    },
    "deadline_missed": {
        "zh-CN": ("订单超时", "订单{title}已超时（{deadline}，应于{due}前完成），请跟进商家。"),
        "en": ("A deadline was missed", "The order {title} missed its deadline ({deadline}, due {due}). "
                                        "Please follow up with the provider."),
    },
    "deadline_missed_provider": {
        "zh-CN": ("订单已超时", "订单{title}已超过时限（{deadline}，应于{due}前完成），居委会已收到提醒。请尽快处理。"),
        "en": ("You missed a deadline", "The order {title} is past its deadline ({deadline}, due {due}); "
                                        "the committee was told. Please see to it now."),
    },
    "provider_verified": {
        "zh-CN": ("审核通过", "{name}已通过居委会审核，现在可以发布服务了。"),
        "en": ("Verified", "{name} was verified by the committee; you can publish your listings now."),
    },
    "volunteer_verified": {
        "zh-CN": ("审核通过", "您已通过志愿者审核。上岗后就能收到配送邀请。"),
        "en": ("Verified", "You are a verified volunteer now. Go on duty to receive delivery offers."),
    },
    "volunteer_refused": {
        "zh-CN": ("志愿者申请未通过", "居委会没有通过您的志愿者申请，原因：{reason}。如情况有变，请联系居委会。"),
        "en": ("Not accepted as a volunteer", "The committee did not accept you as a volunteer: {reason}. "
                                              "If anything changes, please talk to them."),
    },
}

# how a few machine values read in each language
WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {"provider_answer": "商家接单时限", "ready_by": "备餐时限", "your order": "您的订单",
              "the resident": "居民", "lunch": "午餐", "dinner": "晚餐", "breakfast": "早餐"},
    "en": {"provider_answer": "answering the order", "ready_by": "having it ready", "your order": "your order",
           "the resident": "the resident", "lunch": "lunch", "dinner": "dinner", "breakfast": "breakfast"},
}


def language_of(person: dict | None) -> str:
    language = (person or {}).get("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def word(language: str, key: str) -> str:
    return WORDS.get(language, WORDS[DEFAULT_LANGUAGE]).get(key, key)


class _Filled(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def render(kind: str, language: str, params: dict) -> tuple[str, str]:
    """(title, body) of a notice in `language` (Chinese when the language is unknown)."""
    title, body = TEXTS[kind].get(language) or TEXTS[kind][DEFAULT_LANGUAGE]
    values = _Filled({k: word(language, v) if isinstance(v, str) else v for k, v in params.items()})
    return title.format_map(values), body.format_map(values)


def placeholders(kind: str, language: str) -> set[str]:
    return {name for text in TEXTS[kind][language] for _, name, _, _ in Formatter().parse(text) if name}
