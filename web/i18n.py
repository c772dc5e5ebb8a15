"""Languages: zh-CN first, English second, chosen by the person (remembered) or by the browser. Times in the
community's time zone in each language's local form; money as ¥ with two decimals; the API's error codes and
order states as translated sentences."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_month_names
from flask import g, request, session
from flask_babel import gettext as _, lazy_gettext as _l

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
FALLBACK_ZONE = "Asia/Shanghai"  # when the community is not known (the communities' own zone comes from catalog)


def choose_locale() -> str:
    chosen = getattr(g, "preferences", {}).get("lang") or session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return "en" if best == "en" else DEFAULT


def html_lang() -> str:
    return "en" if choose_locale() == "en" else "zh-CN"


def when(value, zone: str | None = None) -> str:
    """12月1日 周二 11:30 / Tue 1 Dec 11:30, in the community's time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    local = value.astimezone(ZoneInfo(zone or FALLBACK_ZONE))
    if choose_locale() == "en":
        return format_datetime(local, "EEE d MMM HH:mm", locale="en")
    return format_datetime(local, "M月d日 EEE HH:mm", locale="zh_CN")


def day(value) -> str:
    """12月1日 周二 / Tue 1 Dec."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if choose_locale() == "en":
        return format_date(value, "EEE d MMM", locale="en")
    return format_date(value, "M月d日 EEE", locale="zh_CN")


def month_names() -> list[tuple[int, str]]:
    """The months as the page's language names them in a list: 1月 ... 12月 / January ... December (never the
    browser's own month picker, which speaks the browser's language)."""
    if choose_locale() == "en":
        names = get_month_names("wide", locale="en")
        return [(m, names[m]) for m in range(1, 13)]
    return [(m, f"{m}月") for m in range(1, 13)]


def year_name(year: int) -> str:
    """2026年 / 2026."""
    return str(year) if choose_locale() == "en" else f"{year}年"


def month_years(month: str, back: int = 3) -> list[int]:
    """The years a month list offers: the last few up to this one, and the month shown."""
    shown, now = int(month[:4]), datetime.now().year
    return list(range(min(shown, now - back), max(shown, now) + 1))


def money(fen) -> str:
    return f"¥{(fen or 0) / 100:.2f}"


STATUS = {
    "placed": _l("Placed: the kitchen is holding your portion"),
    "awaiting_payment": _l("Waiting for your payment"),
    "paid": _l("Paid: waiting for the kitchen to accept"),
    "accepted": _l("The kitchen accepted it and is cooking"),
    "ready": _l("Ready: waiting for a volunteer to pick it up"),
    "delivering": _l("On its way to you"),
    "service_done": _l("The job is done: please confirm"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    # shown only (see shown_status): the API keeps the order's state and sets delivery_problem
    "delivery_failed": _l("The meal could not be delivered: the committee will call you to send it again or "
                          "refund it"),
    "delivery_failed_step": _l("The delivery did not succeed"),  # the timeline's entry of that moment
}

DELIVERY = {
    "waiting": _l("Waiting for the meal to be ready"),
    "ready": _l("The meal is ready; looking for a volunteer"),
    "offered": _l("Looking for a volunteer"),
    "escalated": _l("The committee is finding a volunteer"),
    "welfare_check": _l("Nobody answered the door; the volunteer is checking that you are well"),
    "assigned": _l("A volunteer is on the way to the kitchen"),
    "picked_up": _l("The volunteer has your meal and is coming"),
    "delivered": _l("Delivered"),
    "failed": _l("The delivery did not succeed; the committee will call you"),
    "cancelled": _l("Cancelled"),
}

# the same states as the committee and the staff read them: about the resident, never "your" or "you"
STAFF_STATUS = {
    "placed": _l("Placed: the kitchen is holding the portion"),
    "awaiting_payment": _l("Waiting for the resident's payment"),
    "paid": _l("Paid: waiting for the kitchen to accept"),
    "accepted": _l("The kitchen accepted it and is cooking"),
    "ready": _l("Ready: waiting for a volunteer to pick it up"),
    "delivering": _l("On the way to the resident"),
    "service_done": _l("The job is done: waiting for the resident to confirm"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "delivery_failed": _l("Delivery failed — waiting for you"),
    "delivery_failed_step": _l("The delivery failed"),
}

STAFF_DELIVERY = {
    "waiting": _l("Waiting for the meal to be ready"),
    "ready": _l("The meal is ready; looking for a volunteer"),
    "offered": _l("Offered to volunteers; nobody has accepted yet"),
    "escalated": _l("No volunteer accepted it: assign one by hand"),
    "welfare_check": _l("Nobody answered the door: the volunteer is checking on the resident"),
    "assigned": _l("A volunteer is on the way to the kitchen"),
    "picked_up": _l("On the way to the resident"),
    "delivered": _l("Delivered"),
    "failed": _l("The delivery failed"),
    "cancelled": _l("Cancelled"),
}

FAILED, FAILED_STEP = "delivery_failed", "delivery_failed_step"
FAILURE_NOTE = "delivery failed"  # how orders' timeline notes the moment (services/orders/saga.on_task_failed)


def shown_status(order: dict) -> str:
    """The state a person reads: an open order whose delivery failed (the API keeps its state, "delivering" or
    "ready", and sets `delivery_problem`) waits for the committee, and says so, in STATUS and STAFF_STATUS alike."""
    if order.get("delivery_problem") and order.get("status") not in ("completed", "cancelled"):
        return FAILED
    return order.get("status", "")


def shown_step(entry: dict) -> str:
    """A timeline entry as a person reads it: the note of a failed delivery (a note keeps the state it was in,
    "delivering") is that failure, not the state once more."""
    if entry.get("from") == entry.get("to") and str(entry.get("reason", "")).startswith(FAILURE_NOTE):
        return FAILED_STEP
    return entry.get("to", "")


def as_shown(order: dict) -> dict:
    """The order with the state and the timeline a person reads, for the resident's pages (their order and
    tracking parts, which read `status` and each entry's `to`)."""
    timeline = [dict(e, to=shown_step(e)) for e in order.get("timeline") or []]
    return dict(order, status=shown_status(order), **({"timeline": timeline} if "timeline" in order else {}))


ROLES = {"resident": _l("resident"), "provider": _l("provider"), "volunteer": _l("volunteer"),
         "coordinator": _l("residents' committee"), "admin": _l("administrator"), "system": _l("Linli")}

TAGS = {"elder70": _l("aged 70 and over"), "low_income": _l("low income"), "living_alone": _l("living alone"),
        "disabled": _l("with a disability")}

SLOTS = {"breakfast": _l("breakfast"), "lunch": _l("lunch"), "dinner": _l("dinner"),  # a provider names its slots;
         "morning": _l("morning"), "afternoon": _l("afternoon"), "evening": _l("evening")}  # these read translated

ERRORS = {
    "bad_credentials": _l("The username or the password is wrong."),
    "unauthenticated": _l("Please sign in again."),
    "forbidden": _l("Your account may not do this."),
    "not_found": _l("This could not be found. It may have been removed."),
    "conflict": _l("This cannot be done now; the page shows why."),
    "illegal_transition": _l("This order has moved on and cannot be changed that way now."),
    "listing_unavailable": _l("This service cannot be ordered now. Please choose another day or service."),
    "validation_failed": _l("Please check what you entered."),
    "rate_limited": _l("Too many tries. Please wait a few minutes and try again."),
    "unavailable": _l("Linli is not answering just now. Please try again in a minute."),
    "already_reviewed": _l("You have reviewed this already. Thank you!"),
    "not_completed": _l("You can review once the order is completed."),
    "request_in_progress": _l("This is being done already. Please wait a moment."),
    "request_already_done": _l("This was done already, but the answer got lost on the way. Please look at your "
                               "orders before trying again."),
    "provider_suspended": _l("This provider is paused just now."),
    "provider_not_verified": _l("This provider is not verified yet."),
    # the volunteer's and the provider's pages
    "offer_closed": _l("This offer is no longer open: it expired, was taken by someone else or was withdrawn."),
    "volunteer_not_verified": _l("The residents' committee has not verified you yet; you can go on duty after that."),
    "no_volunteer_profile": _l("Please register as a volunteer first."),
    "no_provider_profile": _l("Please fill in your provider profile first."),
    "code_locked": _l("Too many wrong codes: code entry is locked and the committee has been told. Please call them."),
    "already_replied": _l("You have replied to this review already."),
    "listing_changed": _l("The listing changed meanwhile. Please reload the page and try again."),
    # fair holds (orders): the limit is the one orders applied, from the refusal's details
    "hold_limit_slot": _l("You already have an unpaid order for this meal (at most %(limit)s at a time). Pay for it "
                          "or cancel it, then order again."),
    "hold_limit_overall": _l("You already have %(limit)s unpaid orders, the most one person may hold at once. Pay "
                             "for one or cancel one, then order again."),
}

FIELDS = {"username": _l("username"), "password": _l("password"), "name": _l("name"), "room": _l("room"),
          "building": _l("building"), "phone": _l("phone number"), "community_id": _l("community"),
          "birth_year": _l("year of birth"), "stars": _l("stars"), "slot_date": _l("day"), "quantity": _l("quantity"),
          # the volunteer's and the provider's pages
          "code": _l("code"), "reason": _l("reason"), "note": _l("note"), "outcome": _l("what happened"),
          "vehicle": _l("how you travel"), "community_ids": _l("communities"), "title": _l("title"),
          "price_fen": _l("price"), "slots": _l("time slots"), "exceptions": _l("dated exceptions"),
          "tiers": _l("price tiers"), "address": _l("address"), "text": _l("reply")}


def problem_text(problem) -> str:
    """An API error as a sentence in the person's language, naming the fields it concerns."""
    text = str(ERRORS.get(problem.code) or _("That did not work. Please try again."))
    if "%(limit)s" in text:
        text = text % {"limit": (problem.details or {}).get("limit", "")}
    fields = [str(FIELDS[f.split(".")[-1]]) for f in (problem.details or {}) if f.split(".")[-1] in FIELDS]
    if fields and problem.status in (400, 422):
        text += " " + _("Check: %(fields)s.", fields=", ".join(fields))
    return text

# -- the committee's and the admin's pages: the codes and fields their actions can meet ---------------------------
ERRORS.update({
    "refused": _l("This cannot be done. Please check and try again."),
    "no_failed_delivery": _l("This order has no failed delivery to send out again."),
    "nothing_to_refund": _l("Nothing was paid for this order, so there is nothing to refund."),
    "refund_too_large": _l("The refund is more than what is left of the payment."),
    "not_refundable": _l("This order cannot be refunded now."),
    "volunteer_not_verified": _l("This volunteer is not verified yet."),
    "code_locked": _l("The codes of this delivery are locked after too many wrong tries."),
    "codes_not_locked": _l("The codes of this delivery are not locked."),
    "account_disabled": _l("This account is disabled."),
    "offer_closed": _l("This offer is closed already."),
    "listing_changed": _l("The service changed meanwhile. Please load the page again."),
    "nothing_to_approve": _l("There is nothing waiting for approval."),
    "bad_request": _l("Please check what you entered."),
    # refusing a volunteer: the coordinator meets the first, the volunteer the second
    "volunteer_busy": _l("This volunteer is carrying a delivery now; refuse them once it is over."),
    "volunteer_refused": _l("The residents' committee did not accept you as a volunteer. Please ask them if "
                            "anything has changed."),
})
FIELDS.update({"reason": _l("reason"), "amount_fen": _l("amount"), "volunteer_id": _l("volunteer"),
               "for_resident_id": _l("resident"), "tags": _l("eligibility"), "checked": _l("how it was checked"),
               "listing_id": _l("service"), "slot": _l("time"), "month": _l("month"), "party": _l("who pays"),
               "id": _l("short name (letters)"), "name_zh": _l("Chinese name"), "name_en": _l("English name"),
               "center": _l("centre"), "entrance": _l("entrance"), "lng": _l("longitude"), "lat": _l("latitude"),
               "buildings": _l("buildings"), "community_ids": _l("communities"), "committee_phone": _l("committee phone"),
               "elder_username": _l("the elder's username"), "relation": _l("relation")})


# the refusals a person can meet on any page, each saying what to do next (the committee's number is at the top of
# every page, problem.html included)
TROUBLE = {
    400: _l("This request could not be read. Please go back, reload the page and try again."),
    405: _l("This page does not open that way. Please go back and use the buttons on the page."),
    413: _l("What you sent is too long. Please shorten it and send it again."),
    429: _l("Too many tries in a short time. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again in a minute; if it keeps happening, call the "
            "committee."),
    503: _l("Linli is not answering just now. Please try again in a minute; if it is urgent, call the committee."),
}
PLAIN_TROUBLE = ("出了点问题，请过一分钟再试；如果一直这样，请打社区居委会的电话或 12345。"
                 "Something went wrong; please try again in a minute. If it keeps happening, call the residents' "
                 "committee or 12345.")
