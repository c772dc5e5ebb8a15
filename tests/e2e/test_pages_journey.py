"""One lunch through the canteen's and the volunteer's pages, in a real browser, phone-sized and in Chinese, on the
whole running system. The canteen adds its lunch on its pages; a resident orders tomorrow's lunch and pays (through
the API: her pages have their own test); the order appears on the canteen's board without reloading, with a banner
in words and a chime; the canteen accepts it, reads the pickup code and marks it ready. Xiao Zhang signs up as a
volunteer, is verified by his committee, goes on duty where his phone says he is, sees the offer appear without
reloading (with its countdown and why it came to him), accepts, picks up with the canteen's code (a wrong one first
is refused in words), and hands over with the resident's code; the resident sees her order completed. The other
community's canteen and volunteer see none of it. Every page visited is checked (tests/e2e/browser.py)."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from devstack.client import Client
from gateway.admin import create_account
from tests.conftest import configured_as, eventually
from tests.e2e.browser import Visit, sign_in
from tests.e2e.conftest import PASSWORD, pay_at_cashier, tomorrow_in_shanghai, verified_canteen, verified_profile

# communities of their own, far from the other tests' (their volunteers and radius listings never reach them)
HOME = {"id": "hexin", "name": "河心社区", "center": {"lng": 121.2012, "lat": 30.9521},
        "committee_phone": "021-5766 0001",
        "buildings": [{"name": "5", "entrance": {"lng": 121.2016, "lat": 30.9524}}]}
ELSEWHERE = {"id": "hewai", "name": "河外社区", "center": {"lng": 121.1012, "lat": 30.8521},
             "committee_phone": "021-5766 0002", "buildings": [{"name": "1", "entrance": {"lng": 121.1013, "lat": 30.8522}}]}
KITCHEN = {"lng": 121.2030, "lat": 30.9530}
ZHANG_IS_AT = {"latitude": 30.9528, "longitude": 121.2024}  # a few hundred metres from the kitchen


@pytest.fixture(scope="module")
def town(stack, staff):
    admin, _ = staff
    for community in (HOME, ELSEWHERE):
        admin.request("POST", "/api/v1/catalog/communities", json=community, expect=(201, 409))
    with configured_as(stack.env):
        create_account("coord_hexin", PASSWORD, "何主任", "coordinator", ("hexin",))
        create_account("coord_hw", PASSWORD, "韩主任", "coordinator", ("hewai",))
    api = Client(stack.url())
    coordinator, other_coordinator = api.login("coord_hexin", PASSWORD), api.login("coord_hw", PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    canteen_name = f"hx_canteen{suffix}"
    canteen = api.register(canteen_name, PASSWORD, "河心医院食堂", "provider")
    verified_profile(canteen, coordinator, "河心医院食堂", KITCHEN, "hexin")
    other_canteen = verified_canteen(api, other_coordinator, f"hw_canteen{suffix}", "河外食堂", ELSEWHERE["center"],
                                     "hewai")
    other_volunteer = api.register(f"hw_li{suffix}", PASSWORD, "小李", "volunteer")
    profile = other_volunteer.post("/api/v1/delivery/volunteers", {
        "name": "小李", "phone": "138 0000 0092", "community_ids": ["hewai"], "vehicle": "bike"}, expect=201)
    other_coordinator.post(f"/api/v1/delivery/volunteers/{profile['id']}/verify", expect=200)
    other_volunteer.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": ELSEWHERE["center"]})
    resident = api.register(f"hx_wang{suffix}", PASSWORD, "王阿姨", "resident")
    resident.put("/api/v1/me/profile", {"community_id": "hexin", "phone": "139 1234 5670",
                                        "addresses": [{"label": "home", "community_id": "hexin", "building": "5",
                                                       "room": "301"}]})
    return {"api": api, "coordinator": coordinator, "canteen": canteen, "canteen_username": canteen_name,
            "other_canteen": other_canteen, "other_volunteer": other_volunteer, "resident": resident,
            "suffix": suffix}


def _order_and_pay(stack, town, listing_id: str, **more) -> dict:
    resident = town["resident"]
    order = resident.post("/api/v1/orders", {
        "listing_id": listing_id, "quantity": 1, "slot_date": tomorrow_in_shanghai(), "slot": "lunch",
        "address": {"community_id": "hexin", "building": "5", "room": "301", "contact_name": "王阿姨",
                    "phone": "139 1234 5670", "location": HOME["buildings"][0]["entrance"], **more}}, expect=201)
    status = lambda: resident.get(f"/api/v1/orders/{order['id']}")["status"]  # noqa: E731
    eventually(lambda: status() == "awaiting_payment", timeout=30, what="the kitchen to hold the portion")
    pay_at_cashier(stack, resident.post(f"/api/v1/orders/{order['id']}/pay", expect=200))
    eventually(lambda: status() == "paid", timeout=30, what="the payment")
    return resident.get(f"/api/v1/orders/{order['id']}")


def test_the_canteen_and_xiao_zhang_carry_a_lunch_through_their_pages(stack, town, browser):
    # -- the canteen, on its phone: verified; adds its lunch with a slot, a cut-off, an exception and a tier
    canteen = Visit.open(browser, stack.url())
    page = canteen.page
    sign_in(canteen, town["canteen_username"], PASSWORD)
    expect(page.get_by_role("heading", name="河心医院食堂")).to_be_visible()
    expect(page.locator("#p-live")).to_contain_text("暂无待处理订单")
    canteen.check("p-board-empty", elder=False)
    page.get_by_role("link", name="我的", exact=True).click()
    expect(page.locator("#verification")).to_have_text("已审核通过")
    canteen.check("p-profile", elder=False)
    page.get_by_role("link", name="我的服务项目").click()
    page.get_by_role("link", name="新增服务项目").click()
    page.get_by_label("名称", exact=True).fill("河心爱心午餐")
    page.get_by_label("价格（元）").fill("15.00")
    page.get_by_label("单位（如 份、小时、次）").fill("份")
    page.get_by_label("河心社区").check()
    page.locator("#slot0_name").fill("lunch")
    page.locator("#slot0_start").fill("11:00")
    page.locator("#slot0_end").fill("12:30")
    page.locator("#slot0_capacity").fill("lots")  # refused in words, and nothing typed is lost
    page.locator("#slot0_cutoff").fill("09:30")
    page.get_by_label("特殊日期，每行一条（例如：2026-10-01 lunch closed，或 2026-10-02 +10）").fill("2030-10-01 lunch closed")
    page.locator("#tier0_tag").select_option("elder70")
    page.locator("#tier0_pays").fill("3")
    page.locator("#tier0_funder").fill("镇政府")
    page.locator("#tier0_share").fill("12")
    page.locator("#save-listing").click()
    expect(page.get_by_role("alert")).to_contain_text("时段 1：请填写名称")
    expect(page.locator("#slot0_start")).to_have_value("11:00")
    canteen.problems.clear()  # the refused form answers 400 on purpose
    page.locator("#slot0_capacity").fill("20")
    page.locator("#save-listing").click()
    expect(page.get_by_role("status").first).to_have_text("服务项目已保存。")
    expect(page.locator("main")).to_contain_text("河心爱心午餐")
    expect(page.locator("main")).to_contain_text("每天 20 份")
    expect(page.locator("main")).to_contain_text("09:30 截单")
    expect(page.locator("main")).to_contain_text("新的价格档等待居委会批准")  # the town's share is the committee's deal
    canteen.check("p-listings", elder=False)
    listing = town["canteen"].get("/api/v1/catalog/providers/me/listings")["items"][0]
    assert listing["exceptions"] == [{"date": "2030-10-01", "slot": "lunch", "closed": True, "extra": None}]
    assert listing["slots"][0]["cutoff"] == "09:30" and listing["price_fen"] == 1500

    # the board is open; the sound is turned on (a browser plays sound only after a tap)
    page.goto("/p")
    page.locator("#sound-on").click()
    expect(page.locator("#sound-on")).to_have_text("提示音已打开")
    expect(page.locator("#new-order-alert")).to_be_hidden()
    url_before = page.url
    # the board listens to the canteen's live stream (a one-use ticket; the token stays on the server): no timer
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    board_reads = []
    page.on("request", lambda r: "/p/live" in r.url and board_reads.append(r.url))

    # -- a resident of the community orders tomorrow's lunch and pays
    order = _order_and_pay(stack, town, listing["id"])

    # the order arrives on the board by itself: a banner in words, a chime, the order marked NEW
    card = page.locator(f"#o-{order['id']}")
    expect(card).to_contain_text("新单", timeout=20_000)
    expect(page.locator("#new-order-alert")).to_have_text(re.compile("有新订单"))
    expect(page.locator("body")).to_have_attribute("data-chimes", re.compile(r"^[1-9]"), timeout=5_000)
    assert page.url == url_before  # never reloaded
    # it came because the stream said so, and the board was not read on a timer meanwhile (it was every 3 s);
    # a screen reader reads out what came (a polite live region)
    assert int(page.locator("body").get_attribute("data-live-messages") or 0) >= 1
    expect(page.locator("#live-news")).to_contain_text("新订单：您有一份新订单：河心爱心午餐")
    assert page.locator("#live-news").get_attribute("aria-live") == "polite"
    assert len(board_reads) <= int(page.locator("body").get_attribute("data-live-refreshes")) <= 3, board_reads
    expect(card).to_contain_text("河心社区 5 号楼")
    expect(card).not_to_contain_text("301")  # the room shows once the order is accepted, not before
    canteen.check("p-board-new", elder=False)
    assert not town["other_canteen"].get("/api/v1/orders")["items"]  # the other community's kitchen sees nothing

    card.get_by_role("button", name="接单").click()
    expect(page.get_by_role("status").first).to_contain_text("已接单")
    pickup = page.locator(f"#o-{order['id']} .pickup-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", pickup)
    canteen.check("p-board-accepted", elder=False)
    page.locator(f"#o-{order['id']}").get_by_role("button", name="餐已做好").click()
    expect(page.get_by_role("status").first).to_contain_text("已标记出餐")
    expect(page.locator(f"#o-{order['id']} .status")).to_have_text("已做好：等待志愿者取餐")

    # -- Xiao Zhang signs up as a volunteer on his phone and registers for his community
    zhang = Visit.open(browser, stack.url())
    zpage = zhang.page
    zpage.context.grant_permissions(["geolocation"])
    zpage.context.set_geolocation(ZHANG_IS_AT)
    zpage.goto("/signup")
    zpage.get_by_label("您的姓名").fill("小张")
    zpage.get_by_label("用户名（字母和数字，或您的手机号）").fill(f"hx_zhang{town['suffix']}")
    zpage.get_by_label("密码（至少 8 位）").fill(PASSWORD)
    zpage.locator("input[name=role][value=volunteer]").check()
    zpage.get_by_role("button", name="注册").click()
    expect(zpage.get_by_role("heading", name="成为志愿者")).to_be_visible()
    zhang.check("v-register", elder=False)
    zpage.get_by_label("我的电话").fill("138 0000 0093")
    zpage.get_by_label("河心社区").check()
    zpage.get_by_label("骑电动车").check()
    zpage.get_by_role("button", name="登记").click()
    expect(zpage.get_by_role("status").first).to_contain_text("感谢您登记")
    expect(zpage.locator("main")).to_contain_text("居委会还没有审核您")
    # his committee verifies him (the coordinator's pages are another engineer's); the other committee cannot
    pending = town["coordinator"].get("/api/v1/delivery/volunteers?status=pending")["items"]
    mine = next(v for v in pending if v["phone"] == "138 0000 0093")
    assert town["api"].login("coord_hw", PASSWORD).request(
        "POST", f"/api/v1/delivery/volunteers/{mine['id']}/verify").status_code == 404
    town["coordinator"].post(f"/api/v1/delivery/volunteers/{mine['id']}/verify", expect=200)

    # he goes on duty where his phone says he is; the offer appears by itself, with its countdown and why
    zpage.goto("/v")
    expect(zpage.locator("#duty-state")).to_have_text("未上岗：不会给您派单。")
    zpage.locator("#go-on-duty").click()
    expect(zpage.locator("#duty-state")).to_have_text("在岗：新单会自动出现在这里。")
    expect(zpage.locator("a.call")).to_have_attribute("href", "tel:021-57660001")  # his community's committee
    url_before = zpage.url
    expect(zpage.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    offer = zpage.locator("section.offer")
    expect(offer).to_contain_text("河心爱心午餐", timeout=30_000)
    assert zpage.url == url_before  # never reloaded
    assert int(zpage.locator("body").get_attribute("data-live-messages") or 0) >= 1  # the offer came by the stream
    expect(offer).to_contain_text("取餐：河心医院食堂")
    expect(offer).to_contain_text("送到：河心社区 5 号楼")
    expect(offer).not_to_contain_text("301")  # the room shows once he has accepted
    expect(offer.locator(".why")).to_contain_text(re.compile(r"离厨房 0\.\d 公里"))
    expect(offer.locator(".countdown")).to_contain_text(re.compile(r"请在 \d+ 秒内回复"))
    box = offer.get_by_role("button", name="接这单").bounding_box()
    assert box["height"] >= 60 and box["width"] >= 60  # a thumb on the move
    assert not town["other_volunteer"].get("/api/v1/delivery/offers")["items"]
    zhang.check("v-offer", elder=False)

    # accepts: the trip, with the address and a call button now that it is his
    offer.get_by_role("button", name="接这单").click()
    expect(zpage.get_by_role("heading", name="我的送餐任务")).to_be_visible()
    expect(zpage.locator("#dropoff")).to_contain_text("河心社区 5 号楼 301 室")
    expect(zpage.locator("#call-resident")).to_have_attribute("href", "tel:13912345670")
    zhang.check("v-task-assigned", elder=False)
    wrong = "000000" if pickup != "000000" else "111111"
    zpage.get_by_label("厨房给您的取餐码（6 位数字）").fill(wrong)
    zpage.get_by_role("button", name="我已取到餐").click()
    expect(zpage.get_by_role("status").first).to_contain_text("还可以试 4 次")
    zpage.get_by_label("厨房给您的取餐码（6 位数字）").fill(pickup)
    zpage.get_by_role("button", name="我已取到餐").click()
    expect(zpage.get_by_role("status").first).to_have_text("已取餐。请把餐送到居民家。")
    expect(zpage.locator("#task-status")).to_have_text("餐在您手上：请送到居民家")
    zhang.check("v-task-picked-up", elder=False)
    zpage.get_by_label("居民的交接码（4 位数字，在居民的订单上）").fill(order["handover_code"])
    zpage.get_by_role("button", name="已交到居民手中").click()
    expect(zpage.get_by_role("status").first).to_have_text("已送达。感谢您的付出！")
    expect(zpage.locator("#call-resident")).to_have_count(0)  # his to call during the task only
    zhang.check("v-task-delivered", elder=False)
    zpage.get_by_role("link", name="我的服务时长").first.click()
    expect(zpage.locator("#hours-total")).to_contain_text("共送餐 1 次")
    zhang.check("v-hours", elder=False)
    # elder mode holds on his pages too (the same base): larger text, every target 60 px and more
    zpage.get_by_role("button", name="长辈模式：已关（点此打开）").click()
    zhang.check("v-hours-elder", elder=True)
    zpage.get_by_role("button", name="长辈模式：已开（点此关闭）").click()
    zpage.get_by_role("link", name="回到我的送餐").click()
    zpage.get_by_role("button", name="下岗").click()
    expect(zpage.get_by_role("status").first).to_have_text("您已下岗，辛苦了！")
    expect(zpage.locator("#duty-state")).to_have_text("未上岗：不会给您派单。")

    # -- the resident sees her order completed
    wang = Visit.open(browser, stack.url())
    sign_in(wang, f"hx_wang{town['suffix']}", PASSWORD)
    wang.page.goto(f"/r/orders/{order['id']}")
    expect(wang.page.locator(".status").first).to_have_text("已完成", timeout=30_000)
    wang.check("r-order-completed")

    # -- the canteen: her review and its reply; the month's statement, on screen and as a spreadsheet
    resident = town["resident"]
    review = {"order_id": order["id"], "direction": "resident_to_provider", "stars": 5, "text": "饭菜很香，还热乎"}
    eventually(lambda: resident.request("POST", "/api/v1/catalog/reviews", json=review).status_code in (201, 409),
               timeout=30, what="catalog to know the order is completed")
    town["canteen"].post("/api/v1/catalog/reviews", {"order_id": order["id"], "direction": "provider_to_resident",
                                                    "stars": 5, "text": "谢谢王阿姨"}, expect=201)
    page.get_by_role("link", name="评价").click()
    item = page.locator("li.card", has_text="饭菜很香，还热乎")
    item.get_by_label("您的回复（显示在评价下方）").fill("谢谢您，明天见！")
    item.get_by_role("button", name="回复").click()
    expect(page.get_by_role("status").first).to_have_text("您的回复已显示在评价下方。")
    expect(page.locator("li.card", has_text="饭菜很香，还热乎")).to_contain_text("您的回复：谢谢您，明天见！")
    canteen.check("p-reviews", elder=False)
    page.get_by_role("link", name="对账单").click()
    expect(page.locator("#statement-total")).to_contain_text("1 单，共 ¥15.00")
    expect(page.locator("main")).to_contain_text("居民 支付：¥15.00")
    canteen.check("p-statement", elder=False)
    with page.expect_download() as download:
        page.locator("#download-statement").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("\ufeff") and order["id"] in text and "河心爱心午餐" in text
    assert text.strip().splitlines()[-1] == "total,,,15.00,,"


def test_a_declined_order_says_why_and_nobody_answering_leads_the_volunteer_through_the_welfare_check(
        stack, town, browser):
    api, canteen_api = town["api"], town["canteen"]
    listing = next((i for i in canteen_api.get("/api/v1/catalog/providers/me/listings")["items"]
                    if i["status"] == "published"), None) or canteen_api.post("/api/v1/catalog/listings", {
                        "title": "河心爱心午餐", "category": "charity_meals", "fulfilment": "delivered",
                        "price_fen": 1500, "community_ids": ["hexin"],
                        "slots": [{"name": "lunch", "start": "11:00", "end": "12:30", "capacity": 20}]}, expect=201)
    # Xiao Liu is on duty at the kitchen's door (Xiao Zhang went off duty after his delivery)
    liu = api.register(f"hx_liu{town['suffix']}", PASSWORD, "小刘", "volunteer")
    profile = liu.post("/api/v1/delivery/volunteers", {"name": "小刘", "phone": "138 0000 0094",
                                                       "community_ids": ["hexin"], "vehicle": "foot"}, expect=201)
    town["coordinator"].post(f"/api/v1/delivery/volunteers/{profile['id']}/verify", expect=200)
    liu.put("/api/v1/delivery/volunteers/me/duty", {"on_duty": True, "location": KITCHEN})
    daughter = {"name": "王小丽", "phone": "139 8765 4321", "relation": "女儿"}  # on her order, as her pages send it
    declined = _order_and_pay(stack, town, listing["id"])
    kept = _order_and_pay(stack, town, listing["id"], emergency_contact=daughter)

    # the canteen cannot take one: a decline needs a reason the resident reads
    canteen = Visit.open(browser, stack.url())
    page = canteen.page
    sign_in(canteen, town["canteen_username"], PASSWORD)
    card = page.locator(f"#o-{declined['id']}")
    card.get_by_role("button", name="拒单").click()
    expect(page.get_by_role("status").first).to_have_text("请说明不能接单的原因：居民会看到。")
    card.get_by_label("接不了？请说明原因（居民会看到）").fill("今天后厨检修，做不了")
    card.get_by_role("button", name="拒单").click()
    expect(page.get_by_role("status").first).to_have_text("已拒单。系统会通知居民并退款。")
    expect(page.locator(f"#o-{declined['id']}")).to_have_count(0)
    assert town["resident"].get(f"/api/v1/orders/{declined['id']}")["cancel_reason"].endswith("今天后厨检修，做不了")
    page.locator(f"#o-{kept['id']}").get_by_role("button", name="接单").click()
    pickup = page.locator(f"#o-{kept['id']} .pickup-code").inner_text().strip()
    page.locator(f"#o-{kept['id']}").get_by_role("button", name="餐已做好").click()
    expect(page.get_by_role("status").first).to_contain_text("已标记出餐")
    canteen.check("p-board-declined", elder=False)

    # the committee's board is open on the desk (its stream carries the community's board messages)
    desk = Visit.open(browser, stack.url())
    sign_in(desk, "coord_hexin", PASSWORD)
    expect(desk.page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    desk_url = desk.page.url

    # Xiao Liu takes it and picks it up; nobody answers the door
    visit = Visit.open(browser, stack.url())
    vpage = visit.page
    sign_in(visit, f"hx_liu{town['suffix']}", PASSWORD)
    offer = vpage.locator("section.offer")
    expect(offer).to_contain_text("河心爱心午餐", timeout=30_000)
    offer.get_by_role("button", name="接这单").click()
    vpage.get_by_label("厨房给您的取餐码（6 位数字）").fill(pickup)
    vpage.get_by_role("button", name="我已取到餐").click()
    expect(vpage.locator("#task-status")).to_have_text("餐在您手上：请送到居民家")
    vpage.get_by_role("button", name="敲门没人应").click()
    expect(vpage.get_by_role("status").first).to_have_text("已通知居委会。请按下面的步骤做。")
    expect(vpage.locator("#task-status")).to_have_text("没人应门：请确认居民是否安好")
    # the welfare check appears on the committee's board by itself, never reloaded
    expect(desk.page.locator("#c-attention")).to_contain_text("敲门没人应：志愿者正在确认居民是否安好", timeout=20_000)
    assert desk.page.url == desk_url and int(desk.page.locator("body").get_attribute("data-live-messages")) >= 1

    # the welfare check, step by step: the resident, her daughter, the committee, 120; then what happened
    steps = vpage.locator("ol.steps li")
    expect(steps).to_have_count(5)
    expect(steps.nth(0).get_by_role("link")).to_have_attribute("href", "tel:13912345670")
    expect(steps.nth(1)).to_contain_text("王小丽（女儿）")
    expect(steps.nth(1).get_by_role("link")).to_have_attribute("href", "tel:13987654321")
    expect(steps.nth(2).get_by_role("link")).to_have_attribute("href", "tel:021-57660001")
    expect(steps.nth(3).get_by_role("link")).to_have_attribute("href", "tel:120")
    visit.check("v-welfare-check", elder=False)
    vpage.get_by_label("我联系上了家属或紧急联系人").check()
    vpage.get_by_label("您看到或听到的情况").fill("女儿说她去医院复查了，晚上回来")
    vpage.get_by_role("button", name="发给居委会").click()
    expect(vpage.get_by_role("status").first).to_have_text("谢谢您去探望。居委会已收到您的记录。")
    expect(vpage.locator("#task-status")).to_have_text("没有送达：由居委会接手处理")
    expect(vpage.locator("#call-resident")).to_have_count(0)  # no longer his to call
    visit.check("v-welfare-closed", elder=False)
    order = town["resident"].get(f"/api/v1/orders/{kept['id']}")
    assert order["delivery_problem"]["reason"] == "nobody_answers"
