"""The resident's pages in a real browser, phone-sized and in Chinese, on the whole running system: Auntie Wang
signs up, saves her address, is confirmed as 70 and over by the committee, and in elder mode orders the next
lunch with one tap and pays at the cashier with the second; the canteen and the volunteer do their part through
the API (their pages come next); she follows the meal, reads the hand-over code from her screen, sees the order
completed and reviews the kitchen and the volunteer. Every page she sees is checked (tests/e2e/browser.py)."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import eventually
from tests.e2e.browser import Visit
from tests.e2e.conftest import PASSWORD
from tests.e2e.town import two_communities, verified_volunteer

# a community of its own, far from the other tests' (their volunteers and radius listings never reach it)
HOME = {"id": "qiaotou", "name": "桥头社区", "center": {"lng": 121.3012, "lat": 31.0521},
        "committee_phone": "021-5777 0001",
        "buildings": [{"name": "12", "entrance": {"lng": 121.3015, "lat": 31.0523}},
                      {"name": "7", "entrance": {"lng": 121.3009, "lat": 31.0518}}]}
ELSEWHERE = {"id": "qiaowei", "name": "桥尾社区", "center": {"lng": 121.3212, "lat": 31.0621},
             "committee_phone": "021-5777 0002", "buildings": [{"name": "3", "entrance": {"lng": 121.3213, "lat": 31.0622}}]}


@pytest.fixture(scope="module")
def town(stack, staff):
    town = two_communities(stack, staff, home=HOME, other=ELSEWHERE,
                           coordinators=(("coord_qt", "周主任"), ("coord_qw", "吴主任")),
                           canteen=("qt_canteen", "桥头医院食堂", {"lng": 121.3030, "lat": 31.0530}),
                           lunch={"title": "爱心午餐", "price_fen": 1500},
                           tiers=[{"tag": "elder70", "resident_pays_fen": 300,
                                   "shares": [{"funder": "镇政府", "amount_fen": 1200}]}], volunteers=())
    town["volunteer"] = verified_volunteer(town["api"], town["coordinator"], "qt_zhang", "小张", "138 0000 0091",
                                           "qiaotou", {"lng": 121.3020, "lat": 31.0525})
    return town


def test_auntie_wang_in_elder_mode_orders_tomorrows_lunch_pays_follows_it_and_reviews(stack, town, browser):
    username = f"wang{uuid.uuid4().hex[:6]}"
    wang = Visit.open(browser, stack.url())
    page = wang.page

    # signs up (Chinese by default), and saves her address: community, building, room — no coordinates
    page.goto("/")
    wang.check("welcome")
    page.get_by_role("link", name="注册").first.click()
    wang.check("signup")
    page.get_by_label("您的姓名").fill("王阿姨")
    page.get_by_label("用户名（字母和数字，或您的手机号）").fill(username)
    page.get_by_label("密码（至少 8 位）").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_role("heading", name="我的资料")).to_be_visible()
    wang.check("profile", elder=False)
    page.get_by_label("社区").select_option("qiaotou")
    page.get_by_label("楼号").fill("12")
    page.get_by_label("房号").fill("301")
    page.get_by_label("我的电话").fill("139 1234 5678")
    page.get_by_label("出生年份").fill("nineteen")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("出生年份请写四位数字")
    expect(page.get_by_label("房号")).to_have_value("301")  # nothing typed twice
    wang.problems.clear()  # the refused form answers 400 on purpose
    page.get_by_label("出生年份").fill("1948")
    page.get_by_label("姓名", exact=True).fill("王小丽")
    page.get_by_label("电话号码", exact=True).fill("139 8765 4321")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("您的资料已保存")
    # born in 1948: elder mode is on by default, the committee's number one tap away
    wang.check("home-first", elder=True)
    expect(page.locator("a.call")).to_have_attribute("href", "tel:021-57770001")

    # the committee (of her community, not the other one) confirms she is 70 and over; she signs in again
    account = town["api"].login(username, PASSWORD).get("/api/v1/me")
    assert town["other_coordinator"].request("PUT", f"/api/v1/accounts/{account['id']}/tags",
                                             json={"tags": ["elder70"], "checked": "saw her ID card"}).status_code == 404
    town["coordinator"].put(f"/api/v1/accounts/{account['id']}/tags", {"tags": ["elder70"], "checked": "saw her ID card"})
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("用户名或密码不对"))
    wang.problems.clear()  # the refused sign-in answers 400 on purpose
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    # tap one: the large action leads the home page: the usual lunch, the next open day, to her saved address
    big = page.locator("#quick-lunch")
    expect(big).to_contain_text(re.compile("订(今|明)天的午餐"))
    expect(big).to_contain_text("送到 12 号楼 301 室")
    wang.check("home-elder", elder=True)
    big.click()
    expect(page.locator("main")).to_contain_text("等待您付款")
    expect(page.locator("main")).to_contain_text("应付：¥3.00")
    expect(page.locator("main")).to_contain_text("镇政府 补贴 ¥12.00")
    wang.check("order-to-pay", elder=True)
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # tap two: the cashier, in Chinese; paying brings her back to the order on its own
    page.locator("#pay").click()
    expect(page.get_by_role("heading", name="收银台")).to_be_visible()
    expect(page.locator("main")).to_contain_text("¥3.00")
    wang.check("cashier")
    page.get_by_role("button", name="确认支付").click()
    expect(page).to_have_url(re.compile(f"/r/orders/{order_id}$"))
    expect(page.locator(".status")).to_have_text("已付款：等待厨房接单", timeout=20_000)  # the page updates itself
    code = page.locator("#handover-code")
    expect(code).to_have_text(re.compile(r"^\d{4}$"))
    assert float(code.evaluate("e => getComputedStyle(e).fontSize").rstrip("px")) >= 30
    wang.check("order-paid", elder=True)

    # the canteen and the volunteer, through the API until their pages exist
    canteen, volunteer = town["canteen"], town["volunteer"]
    pickup = canteen.post(f"/api/v1/orders/{order_id}/accept", expect=200)["pickup_code"]
    canteen.post(f"/api/v1/orders/{order_id}/ready", expect=200)
    offer = eventually(lambda: next((o for o in volunteer.get("/api/v1/delivery/offers")["items"]
                                     if o["order_id"] == order_id), None), timeout=30, what="the offer")
    task = volunteer.post(f"/api/v1/delivery/offers/{offer['id']}/accept", expect=200)
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/pickup", {"code": pickup}, expect=200)

    # she follows it: the tracking page names the kitchen and the volunteer, and shows the code large
    page.get_by_role("link", name="我的饭到哪了？").click()
    expect(page.locator("#track")).to_contain_text("为您送餐的志愿者：小张", timeout=20_000)
    expect(page.locator("#track")).to_contain_text("厨房：桥头医院食堂")
    handover = page.locator("#track .code").inner_text()
    wang.check("track", elder=True)

    # the volunteer hands over with the code she reads out; her tracking page sees it complete by itself
    volunteer.post(f"/api/v1/delivery/tasks/{task['id']}/deliver", {"code": handover}, expect=200)
    expect(page.locator("#track .status")).to_have_text("已完成", timeout=30_000)
    wang.check("track-done", elder=True)

    # completed: she reviews the kitchen and the volunteer
    page.get_by_role("link", name="回到订单").click()
    expect(page.locator(".status")).to_have_text("已完成")
    timeline = page.locator("ol.timeline li")
    expect(timeline).to_have_count(7)
    wang.check("order-completed", elder=True)
    page.locator("form:has(#review-provider) label.choice").first.click()
    page.locator("#review-provider").click()
    expect(page.get_by_role("status").first).to_have_text("谢谢您的评价。")
    page.locator("#review-volunteer").click()
    expect(page.get_by_role("status").first).to_have_text("谢谢您的评价。")
    page.locator("#review-volunteer").click()  # a second review of the same is refused in words
    expect(page.get_by_role("status").first).to_have_text("您已经评价过了，谢谢！")
    wang.check("reviewed", elder=True)

    # her orders, in words; a search; the lunch's page with her price and who pays the rest
    page.get_by_role("link", name="我的订单").click()
    expect(page.locator("main .status").first).to_have_text("已完成")
    wang.check("orders", elder=True)
    page.get_by_role("link", name="搜索").click()
    page.get_by_label("关键词").fill("午餐")
    page.get_by_label("最高价（元）").fill("abc")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("alert")).to_contain_text("价格请用元来写")
    wang.problems.clear()  # the refused search answers 400 on purpose
    page.get_by_label("最高价（元）").fill("20")
    page.get_by_role("button", name="搜索").click()
    wang.check("search", elder=True)
    page.get_by_role("link", name="爱心午餐").first.click()
    expect(page.locator("main")).to_contain_text("您付 ¥3.00 / 份")
    expect(page.locator("main")).to_contain_text("镇政府 补贴 ¥12.00")
    wang.check("listing", elder=True)
    page.get_by_role("link", name="待我处理").click()
    wang.check("attention", elder=True)

    # elder mode is her switch: off, and the pages are the normal size (and remembered)
    page.get_by_role("button", name="长辈模式：已开（点此关闭）").click()
    wang.check("attention-normal", elder=False)
    page.reload()
    assert "elder" not in (page.get_attribute("html", "class") or "")

    # someone else's browser at the same address is nobody until they sign in (the gateway keeps no cookie)
    stranger = Visit.open(browser, stack.url())
    stranger.page.goto("/r/orders")
    expect(stranger.page.get_by_role("heading", name="登录")).to_be_visible()
    stranger.page.goto(f"/r/orders/{order_id}/track")
    expect(stranger.page.get_by_role("heading", name="登录")).to_be_visible()
    stranger.check("stranger-sign-in", elder=False)
