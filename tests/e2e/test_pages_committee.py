"""The residents' committee's and the admin's pages in a real browser, in Chinese, on the whole running system: a
coordinator enrols an elder who has no smartphone and orders lunch for him (at his price, paid at the desk); a
delivery that failed at the door is sent out again from the board to the corrected room; the other community's
coordinator does not see it on its board and is refused it in words; the admin adds a building to a community.
Every page visited is checked (tests/e2e/browser.py): no console error, no failed request, no serious axe
violation, nothing left in English."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import eventually
from tests.e2e.browser import Visit, sign_in
from tests.e2e.conftest import PASSWORD, tomorrow_in_shanghai
from tests.e2e.town import carried, two_communities

# two communities of their own, far from the other tests' volunteers and kitchens
HOME = {"id": "hetang", "name": "荷塘社区", "center": {"lng": 121.4512, "lat": 30.9521},
        "committee_phone": "021-5666 0001",
        "buildings": [{"name": "5", "entrance": {"lng": 121.4515, "lat": 30.9523}},
                      {"name": "8", "entrance": {"lng": 121.4509, "lat": 30.9518}}]}
OTHER = {"id": "hexi", "name": "河西社区", "center": {"lng": 121.4712, "lat": 30.9621},
         "committee_phone": "021-5666 0002", "buildings": [{"name": "1", "entrance": {"lng": 121.4713, "lat": 30.9622}}]}
KITCHEN = {"lng": 121.4530, "lat": 30.9530}


@pytest.fixture(scope="module")
def town(stack, staff):
    town = two_communities(stack, staff, home=HOME, other=OTHER,
                           coordinators=(("coord_ht", "何主任"), ("coord_hx", "许主任")),
                           canteen=("ht_canteen", "荷塘医院食堂", KITCHEN), lunch={"title": "荷塘爱心午餐", "price_fen": 1500},
                           tiers=[{"tag": "elder70", "resident_pays_fen": 300,
                                   "shares": [{"funder": "镇政府", "amount_fen": 1200}]}],
                           volunteers=(("ht_chen", "小陈", "138 0000 0071"),))
    town["volunteer"] = town["volunteers"][0]
    # one waiting for the committee's verification, whom it turns down
    town["waiting"] = town["api"].register("ht_luo", PASSWORD, "小罗", "volunteer")
    town["waiting"].post("/api/v1/delivery/volunteers", {
        "name": "小罗", "phone": "138 0000 0072", "community_ids": ["hetang"], "vehicle": "foot"}, expect=201)
    return town


def _until_shown(page, locator: str, text: str, seconds: float = 30) -> None:
    """A page that does not update itself, reloaded until it shows `text` (the system moves on its own)."""
    deadline = time.monotonic() + seconds
    while text not in page.locator(locator).inner_text():
        assert time.monotonic() < deadline, f"{locator} never showed {text!r}"
        time.sleep(0.5)
        page.reload()


def test_a_coordinator_enrols_an_elder_without_a_smartphone_and_orders_lunch_for_him(stack, town, browser):
    lin = Visit.open(browser, stack.url())
    page = lin.page
    sign_in(lin, "coord_ht", PASSWORD)
    expect(page.get_by_role("heading", name="居委会看板")).to_be_visible()
    lin.check("c-board-first", elder=False)

    page.get_by_role("navigation").get_by_role("link", name="居民").click()
    lin.check("c-residents")
    page.get_by_label("老人的姓名").fill("赵大爷")
    page.get_by_label("社区").select_option("hetang")
    page.get_by_label("楼号").fill("5")
    page.get_by_label("房号").fill("102")
    page.get_by_label("出生年份").fill("1939")
    page.get_by_label("70 岁及以上（已看过身份证）").check()
    page.get_by_label("姓名", exact=True).fill("赵小梅")
    page.get_by_label("电话号码", exact=True).fill("139 5555 6666")
    page.get_by_label("关系（例如女儿）").fill("女儿")
    page.locator("#enrol-button").click()
    expect(page.get_by_role("status")).to_contain_text("赵大爷 已登记")
    expect(page.locator("main")).to_contain_text("紧急联系人：赵小梅 139 5555 6666")
    lin.check("c-elder-enrolled")
    elder_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # found again by name, his eligibility in words
    page.get_by_role("navigation").get_by_role("link", name="居民").click()
    page.get_by_label("姓名，或电话号码中的至少四位数字").fill("赵大")
    page.get_by_role("button", name="查找").click()
    found = page.locator("#found")
    expect(found).to_contain_text("赵大爷")
    expect(found).to_contain_text("70 岁及以上")
    lin.check("c-residents-found")
    found.get_by_role("link", name="赵大爷").click()

    # lunch for tomorrow, at his price (the town pays the rest), paid at the committee's desk
    page.get_by_label("餐品").select_option(town["lunch"]["id"])
    page.get_by_label("日期（午餐）").select_option(tomorrow_in_shanghai())
    page.locator("#order-for").click()
    expect(page.get_by_role("status")).to_contain_text("已为 赵大爷 下单")
    expect(page.locator("main")).to_contain_text("居民应付：¥3.00")
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]
    order = town["coordinator"].get(f"/api/v1/orders/{order_id}")
    assert order["resident_id"] == elder_id and order["ordered_by"]["role"] == "coordinator"
    assert (order["address"]["building"], order["address"]["room"]) == ("5", "102")
    assert order["address"]["location"] == HOME["buildings"][0]["entrance"], "the volunteer goes to his entrance"
    _until_shown(page, "main", "在居委会代付")
    lin.check("c-order-to-pay")
    page.locator("#pay").click()
    expect(page.get_by_role("heading", name="收银台")).to_be_visible()
    page.get_by_role("button", name="确认支付").click()
    expect(page).to_have_url(re.compile(f"/c/orders/{order_id}$"))
    _until_shown(page, "#status", "已付款")
    lin.check("c-order-paid")


def _failed_delivery(stack, town, room: str = "301") -> str:
    """A resident's lunch, paid, cooked, picked up, and failed at the door (wrong address): through the API."""
    trip = carried(stack, town, f"ht_res_{room}", "孙奶奶", {"community_id": "hetang", "building": "8", "room": room,
                                                          "location": HOME["buildings"][1]["entrance"]})
    trip["holder"].post(f"/api/v1/delivery/tasks/{trip['task']}/fail", {"reason": "wrong_address",
                                                                       "note": "301 is empty"}, expect=200)
    eventually(lambda: trip["resident"].get(f"/api/v1/orders/{trip['order']}").get("delivery_problem") or None,
               what="orders to hear of the failure")
    return trip["order"]


def test_a_failed_delivery_is_sent_out_again_from_the_board_and_the_other_community_does_not_see_it(
        stack, town, browser):
    order_id = _failed_delivery(stack, town)

    # the resident reads that the meal did not come and what happens next, never "on its way to your home"
    sun = Visit.open(browser, stack.url())
    sign_in(sun, "ht_res_301", PASSWORD)
    sun.page.goto(f"/r/orders/{order_id}")
    expect(sun.page.locator("#live p.status")).to_have_text("这次没送成，居委会会给您打电话，重新送或者退款")
    expect(sun.page.locator("ol.timeline li").last).to_contain_text("这次没送成")
    expect(sun.page.locator("ol.timeline li").last).not_to_contain_text("正在送往您家")
    sun.check("r-order-delivery-failed")
    sun.page.goto("/r/orders")
    expect(sun.page.locator("main")).to_contain_text("这次没送成")
    expect(sun.page.locator("main")).not_to_contain_text("正在送往您家")

    # the other community's coordinator: not on its board, and the order itself is refused in words
    xu = Visit.open(browser, stack.url())
    sign_in(xu, "coord_hx", PASSWORD)
    expect(xu.page.get_by_role("heading", name="居委会看板")).to_be_visible()
    expect(xu.page.locator("main")).not_to_contain_text("孙奶奶")
    assert xu.page.locator(f"#order-{order_id}").count() == 0
    xu.check("c-board-other-community")
    answer = xu.page.goto(f"/c/orders/{order_id}")
    assert answer.status == 404
    expect(xu.page.get_by_role("alert")).to_have_text("没有找到，可能已被删除。")
    xu.problems.clear()  # the refusal answers 404 on purpose
    xu.check("c-order-of-another-community")

    # its own coordinator sees it failed on the board and sends it out again to room 302
    he = Visit.open(browser, stack.url())
    page = he.page
    sign_in(he, "coord_ht", PASSWORD)
    card = page.locator(f"#order-{order_id}")
    expect(card).to_contain_text("送餐失败：地址不对")
    expect(card).to_contain_text("8 号楼 301 室")
    # its state says what happened and that it waits for the committee, not "on the way to the resident"
    expect(card.locator("p.status").last).to_have_text("送餐失败，等您处理")
    expect(card).not_to_contain_text("正在送往居民家")
    expect(page.locator("svg.map")).to_be_visible()
    expect(page.locator("ol.legend")).to_contain_text("值班志愿者：小陈")
    he.check("c-board")
    card.get_by_role("link", name="孙奶奶 · 荷塘爱心午餐").click()
    expect(page.locator("#status")).to_have_text("送餐失败，等您处理")
    # the moment it failed reads as the failure, not as "on the way" once more
    expect(page.locator("ol.timeline li").last).to_contain_text("配送失败")
    expect(page.locator("ol.timeline li").last).not_to_contain_text("正在送往居民家")
    he.check("c-order-failed")
    page.go_back()
    card = page.locator(f"#order-{order_id}")
    card.get_by_label("房号（写错了才填）").fill("302")
    card.get_by_role("button", name="重新配送").click()
    expect(page.get_by_role("status")).to_contain_text("已重新配送")
    he.check("c-board-sent-again")
    again = town["coordinator"].get(f"/api/v1/orders/{order_id}")
    assert again["status"] == "ready" and again["address"]["room"] == "302" and again["redeliveries"] == 1
    assert not again.get("delivery_problem")
    offer = eventually(lambda: next((o for o in town["volunteer"].get("/api/v1/delivery/offers")["items"]
                                     if o["order_id"] == order_id), None), timeout=30, what="a new offer")
    assert offer["dropoff"]["building"] == "8"
    expect(page.locator(f"#order-{order_id}")).to_have_count(0)

    # the rest of the committee's pages: the verification queues, this week's figures, the downloads
    page.get_by_role("navigation").get_by_role("link", name="审核").click()
    expect(page.get_by_role("heading", name="等待审核")).to_be_visible()
    he.check("c-verify")
    # a volunteer turned down: a reason is asked for, the volunteer reads it and cannot go on duty
    luo = page.locator("li.card", has_text="小罗")
    luo.get_by_role("button", name="不通过").click()
    expect(page.get_by_role("status").first).to_have_text("请简单写明不通过的原因。")
    luo.get_by_label("不通过的原因（志愿者会看到）").fill("请先来居委会面谈一次")
    luo.get_by_role("button", name="不通过").click()
    expect(page.get_by_role("status").first).to_contain_text("这位志愿者未通过审核")
    expect(page.locator("li.card", has_text="小罗")).to_contain_text("未通过：请先来居委会面谈一次")
    assert town["waiting"].get("/api/v1/delivery/volunteers/me")["status"] == "refused"
    assert town["waiting"].request("PUT", "/api/v1/delivery/volunteers/me/duty", json={
        "on_duty": True, "location": KITCHEN}).json()["error"]["code"] == "volunteer_refused"
    he.check("c-verify-refused")
    luo_visit = Visit.open(browser, stack.url())
    sign_in(luo_visit, "ht_luo", PASSWORD)
    expect(luo_visit.page.locator("#refused")).to_contain_text("原因：请先来居委会面谈一次")
    expect(luo_visit.page.locator("#go-on-duty")).to_have_count(0)
    luo_visit.check("v-refused", elder=False)
    page.get_by_role("navigation").get_by_role("link", name="本周").click()
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.locator("#deadlines")).to_have_text(re.compile(r"^\d+$"))
    he.check("c-figures")
    page.get_by_role("navigation").get_by_role("link", name="下载").click()
    he.check("c-downloads")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载服务时长").click()
    saved = download.value.path()
    with open(saved, "rb") as f:
        assert f.read(3) == b"\xef\xbb\xbf", "the hours open in Excel and WPS with Chinese intact (UTF-8 with BOM)"
    assert download.value.suggested_filename.startswith("volunteer-hours-")


def test_the_admin_adds_a_building_to_a_community(stack, town, browser):
    admin = Visit.open(browser, stack.url())
    page = admin.page
    sign_in(admin, "admin1", PASSWORD)
    expect(page.get_by_role("heading", name="管理")).to_be_visible()
    admin.check("a-home")
    card = page.locator("#community-hetang")
    card.get_by_label("楼栋（名称或号码）").fill("12")
    card.get_by_label("入口经度").fill("not a number")
    card.get_by_label("入口纬度").fill("30.9530")
    card.get_by_role("button", name="保存楼栋").click()
    expect(page.get_by_role("status")).to_contain_text("经度和纬度请写数字")
    card = page.locator("#community-hetang")
    card.get_by_label("楼栋（名称或号码）").fill("12")
    card.get_by_label("入口经度").fill("121.4520")
    card.get_by_label("入口纬度").fill("30.9530")
    card.get_by_role("button", name="保存楼栋").click()
    expect(page.get_by_role("status")).to_contain_text("荷塘社区 12 号楼已保存")
    expect(page.locator("#community-hetang .buildings")).to_contain_text("12 号楼：入口位置 121.452, 30.953")
    admin.check("a-building-added")
    hetang = next(c for c in town["api"].get("/api/v1/catalog/communities") if c["id"] == "hetang")
    assert [b["name"] for b in hetang["buildings"]] == ["5", "8", "12"]
    assert hetang["buildings"][2]["entrance"] == {"lng": 121.452, "lat": 30.953}

    # staff: a coordinator for the community, then (it was a trial) found by name and disabled
    page.locator("#s-name").fill("临时主任")
    page.locator("#s-username").fill("coord_tmp_ht")
    page.locator("#s-password").fill(PASSWORD)
    page.locator("form:has(#s-name)").get_by_label("荷塘社区").check()
    page.get_by_role("button", name="添加工作人员").click()
    expect(page.get_by_role("status")).to_contain_text("临时主任 现在可以用 coord_tmp_ht 登录了")
    assert town["api"].login("coord_tmp_ht", PASSWORD).get("/api/v1/me")["communities"] == ["hetang"]
    page.locator("#q").fill("临时")
    page.locator("#find-role").select_option("coordinator")
    page.get_by_role("button", name="查找").click()
    page.get_by_label("停用原因").fill("只是试用")
    admin.check("a-staff-found")
    page.get_by_role("button", name="停用账号").click()
    expect(page.get_by_role("status")).to_contain_text("临时主任 的账号已停用")
    admin.check("a-staff-disabled")
    refused = town["api"].request("POST", "/api/v1/auth/login", json={"username": "coord_tmp_ht", "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_disabled"


def test_a_daughter_asks_to_be_linked_to_her_father_orders_his_lunch_and_sees_his_orders(stack, town, browser):
    coordinator, api = town["coordinator"], town["api"]
    elder = coordinator.post("/api/v1/accounts/residents", {
        "name": "钱大爷", "username": "qian_ht", "community_id": "hetang", "birth_year": 1938,
        "addresses": [{"community_id": "hetang", "building": "5", "room": "201"}]}, expect=201)
    api.register("qian_daughter", PASSWORD, "钱小红", "resident")
    api.register("ht_neighbour", PASSWORD, "邻居吴", "resident")

    hong = Visit.open(browser, stack.url())
    page = hong.page
    sign_in(hong, "qian_daughter", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="家人").click()
    hong.check("r-family-first")
    page.get_by_label("老人的用户名（可以问居委会）").fill("qian_ht")
    page.get_by_label("关系（例如女儿）").fill("女儿")
    page.get_by_role("button", name="发出申请").click()
    expect(page.get_by_role("status")).to_contain_text("申请已发出")
    expect(page.locator("main")).to_contain_text("等待批准")
    hong.check("r-family-asked")

    # the committee of his community approves it; she signs in again and may order for him
    daughter = api.login("qian_daughter", PASSWORD)
    link = next(x for x in daughter.get("/api/v1/me/family") if x["elder_id"] == elder["id"])
    coordinator.post(f"/api/v1/family/{link['id']}/approve", expect=200)
    page.get_by_role("button", name="退出登录").click()
    sign_in(hong, "qian_daughter", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="家人").click()
    page.get_by_role("link", name="为 钱大爷 订餐").click()
    page.get_by_label("餐品").select_option(town["lunch"]["id"])
    page.get_by_label("日期（午餐）").select_option(tomorrow_in_shanghai())
    page.get_by_label("社区").select_option("hetang")
    page.get_by_label("楼号").fill("5")
    page.get_by_label("房号").fill("201")
    page.get_by_label("志愿者联系的电话").fill("139 7777 8888")
    hong.check("r-family-order-form")
    page.get_by_role("button", name="订午餐").click()
    expect(page.locator(".flash")).to_contain_text("已为 钱大爷 下单")
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]
    hong.check("r-family-ordered")
    order = coordinator.get(f"/api/v1/orders/{order_id}")
    assert order["resident_id"] == elder["id"] and order["ordered_by"]["id"] == daughter.get("/api/v1/me")["id"]
    assert order["amount"]["payable_fen"] == 1500, "no tag on him yet: the full price"

    # his orders, on her family page; a neighbour without a link sees none of them
    page.get_by_role("navigation").get_by_role("link", name="家人").click()
    expect(page.locator("#elder-orders")).to_contain_text("钱大爷 · 荷塘爱心午餐")
    hong.check("r-family-orders")
    neighbour = api.login("ht_neighbour", PASSWORD)
    assert neighbour.request("GET", f"/api/v1/orders/{order_id}").status_code == 404
    assert neighbour.get("/api/v1/orders")["total"] == 0
