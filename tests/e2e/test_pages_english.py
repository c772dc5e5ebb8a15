"""The same lunch once in English (issue 14), in a real browser at phone size, on the whole running system. Mrs Chen
signs in on a Chinese page and picks English there (remembered: a browser that asks for Chinese later still gets
English); she orders a lunch and cancels it before paying (the cancel button), orders again and pays at the stub
cashier (the payment provider's own page, in Chinese as a Chinese provider's is); the canteen, whose browser asks
for English, accepts and marks it ready on its board; Xiao Zhou, in English too, goes on duty, accepts the offer,
picks up with the kitchen's code and hands over with hers; she sees it completed. Every page of ours is checked
(tests/e2e/browser.py), in English: no Chinese sentence of our catalog on it, times in the English form (Tue 1 Dec
11:30), money as ¥0.00. Names people gave (the community, the kitchen, the lunch) stay as they were written."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from devstack.client import Client
from gateway.admin import create_account
from tests.conftest import configured_as
from tests.e2e.browser import CJK, Visit, sign_in
from tests.e2e.conftest import PASSWORD, verified_profile

# a community of its own, far from the other tests' (their volunteers and radius listings never reach it)
HOME = {"id": "jiangbei", "name": "江北社区", "center": {"lng": 121.6012, "lat": 30.8521},
        "committee_phone": "021-5788 0001",
        "buildings": [{"name": "3", "entrance": {"lng": 121.6016, "lat": 30.8524}}]}
KITCHEN = {"lng": 121.6030, "lat": 30.8530}
ZHOU_IS_AT = {"latitude": 30.8528, "longitude": 121.6024}
ENGLISH_TIME = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                          r"\d{2}:\d{2}\b")


@pytest.fixture(scope="module")
def town(stack, staff):
    admin, _ = staff
    admin.request("POST", "/api/v1/catalog/communities", json=HOME, expect=(201, 409))
    with configured_as(stack.env):
        create_account("coord_jb", PASSWORD, "江主任", "coordinator", ("jiangbei",))
    api = Client(stack.url())
    coordinator = api.login("coord_jb", PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    canteen = api.register(f"jb_canteen{suffix}", PASSWORD, "江北人民食堂", "provider")
    verified_profile(canteen, coordinator, "江北人民食堂", KITCHEN, "jiangbei")
    lunch = canteen.post("/api/v1/catalog/listings", {
        "title": "江北爱心午餐", "category": "charity_meals", "fulfilment": "delivered", "price_fen": 1500, "unit": "份",
        "community_ids": ["jiangbei"],
        "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 20}]}, expect=201)
    zhou = api.register(f"jb_zhou{suffix}", PASSWORD, "小周", "volunteer")
    profile = zhou.post("/api/v1/delivery/volunteers", {
        "name": "小周", "phone": "138 0000 0081", "community_ids": ["jiangbei"], "vehicle": "bike"}, expect=201)
    coordinator.post(f"/api/v1/delivery/volunteers/{profile['id']}/verify", expect=200)
    chen = api.register(f"jb_chen{suffix}", PASSWORD, "陈阿姨", "resident")
    chen.put("/api/v1/me/profile", {"community_id": "jiangbei", "phone": "139 1234 5681",
                                    "addresses": [{"label": "home", "community_id": "jiangbei", "building": "3",
                                                   "room": "502"}]})
    return {"suffix": suffix, "lunch": lunch, "resident": chen}


def _english_times_and_money(visit: Visit, name: str) -> None:
    """Times in the English local form and money as ¥0.00; no Chinese date or weekday."""
    text = visit.page.inner_text("main")
    assert ENGLISH_TIME.search(text), f"{name}: no time in the English form in {text[:300]!r}"
    assert not re.search(r"\d+月\d+日|周[一二三四五六日]", text), f"{name}: a Chinese date on an English page"
    assert re.search(r"¥\d+\.\d{2}\b", text), f"{name}: no ¥0.00 amount"


def _place_lunch(page, listing_id: str) -> str:
    page.goto(f"/r/listings/{listing_id}")
    page.get_by_role("link", name="Order this").click()
    page.get_by_role("button", name="Place the order").click()
    expect(page.locator(".status").first).to_have_text("Waiting for your payment", timeout=30_000)
    return page.url.rstrip("/").rsplit("/", 1)[1]


def test_a_lunch_ordered_paid_cooked_and_delivered_all_in_english(stack, town, browser):
    suffix = town["suffix"]
    # -- Mrs Chen: a Chinese page first (her browser asks for Chinese); she picks English on it
    chen = Visit.open(browser, stack.url(), lang="zh-CN")
    page = chen.page
    sign_in(chen, f"jb_chen{suffix}", PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("button", name="English").click()
    chen.lang = "en"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    chen.check("r-home", elder=False)

    # an order she changes her mind about: cancelled from its page before paying
    first = _place_lunch(page, town["lunch"]["id"])
    expect(page.locator("main")).to_contain_text("¥15.00")
    chen.check("r-order-unpaid", elder=False)
    _english_times_and_money(chen, "r-order-unpaid")
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.get_by_role("status").first).to_have_text("Your order is cancelled. Anything you paid is refunded.")
    expect(page.locator("#live .status")).to_have_text("Cancelled")
    expect(page.locator("#pay")).to_have_count(0)
    chen.check("r-order-cancelled", elder=False)
    assert town["resident"].get(f"/api/v1/orders/{first}")["status"] == "cancelled"

    # the lunch she keeps: ordered, paid at the provider's cashier, and back to her order on its own
    order_id = _place_lunch(page, town["lunch"]["id"])
    expect(page.locator("#pay")).to_have_text("Pay ¥15.00")
    page.locator("#pay").click()
    page.get_by_role("button", name="确认支付").click()  # the payment provider's page, not ours
    expect(page).to_have_url(re.compile(f"/r/orders/{order_id}$"))
    expect(page.locator(".status").first).to_have_text("Paid: waiting for the kitchen to accept", timeout=20_000)
    handover = page.locator("#handover-code").inner_text().strip()
    assert re.fullmatch(r"\d{4}", handover)
    chen.check("r-order-paid", elder=False)
    _english_times_and_money(chen, "r-order-paid")

    # -- the canteen's browser asks for English: its board, accept, the pickup code, ready
    canteen = Visit.open(browser, stack.url(), lang="en")
    cpage = canteen.page
    sign_in(canteen, f"jb_canteen{suffix}", PASSWORD)
    card = cpage.locator(f"#o-{order_id}")
    expect(card).to_contain_text("江北社区", timeout=20_000)
    canteen.check("p-board-new", elder=False)
    card.get_by_role("button", name="Accept", exact=True).click()
    expect(cpage.get_by_role("status").first).to_contain_text("Accepted.")
    pickup = cpage.locator(f"#o-{order_id} .pickup-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", pickup)
    canteen.check("p-board-accepted", elder=False)
    cpage.locator(f"#o-{order_id}").get_by_role("button", name="The meal is ready").click()
    expect(cpage.get_by_role("status").first).to_contain_text("Marked ready.")
    expect(cpage.locator(f"#o-{order_id} .status")).to_have_text("Ready: waiting for a volunteer to pick it up")
    canteen.check("p-board-ready", elder=False)

    # -- Xiao Zhou, in English: on duty where his phone says, the offer, pickup and hand-over
    zhou = Visit.open(browser, stack.url(), lang="en")
    zpage = zhou.page
    zpage.context.grant_permissions(["geolocation"])
    zpage.context.set_geolocation(ZHOU_IS_AT)
    sign_in(zhou, f"jb_zhou{suffix}", PASSWORD)
    expect(zpage.locator("#duty-state")).to_have_text("Off duty: no offers come to you.")
    zpage.locator("#go-on-duty").click()
    expect(zpage.locator("#duty-state")).to_have_text("On duty: offers appear here by themselves.")
    offer = zpage.locator("section.offer")
    expect(offer).to_contain_text("江北爱心午餐", timeout=30_000)
    zhou.check("v-offer", elder=False)
    offer.get_by_role("button", name="Accept this delivery").click()
    expect(zpage.get_by_role("heading", name="My delivery")).to_be_visible()
    zhou.check("v-task-assigned", elder=False)
    zpage.get_by_label("The pickup code the kitchen gives you (6 digits)").fill(pickup)
    zpage.get_by_role("button", name="I have the meal").click()
    expect(zpage.get_by_role("status").first).to_have_text("Picked up. Now take the meal to the resident.")
    zpage.get_by_label("The resident's hand-over code (4 digits, on their order)").fill(handover)
    zpage.get_by_role("button", name="Handed over").click()
    expect(zpage.get_by_role("status").first).to_have_text("Delivered. Thank you for your time!")
    zhou.check("v-task-delivered", elder=False)

    # -- Mrs Chen, on another browser that asks for Chinese: English is remembered; her lunch is completed
    again = Visit.open(browser, stack.url(), lang="zh-CN")
    sign_in(again, f"jb_chen{suffix}", PASSWORD)
    again.lang = "en"
    again.page.goto(f"/r/orders/{order_id}")
    expect(again.page.locator("html")).to_have_attribute("lang", "en")
    expect(again.page.locator(".status").first).to_have_text("Completed", timeout=30_000)
    again.check("r-order-completed", elder=False)
    _english_times_and_money(again, "r-order-completed")
    # only names people gave are in Chinese on her page: the kitchen's, the lunch's, the community's, hers
    text = again.page.inner_text("main")
    for given in ("江北爱心午餐", "江北人民食堂", "江北社区", "陈阿姨", "小周", "份"):
        text = text.replace(given, "")
    assert not CJK.search(text), f"Chinese left on her English order page: {CJK.findall(text)[:20]}"
