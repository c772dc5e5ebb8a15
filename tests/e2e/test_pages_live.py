"""The pages' live parts in a real browser on the whole running system: a resident's order page changes by itself
when the kitchen acts, because her live stream (notify, opened with a one-use ticket from /live/ticket; the token
stays on the server) says so; a stream that breaks is opened again with a new ticket and misses nothing; and a
browser that cannot open the stream at all (the ticket refused) still sees the change, by polling every 4 s."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from devstack.client import Client
from gateway.admin import create_account
from tests.conftest import configured_as, eventually
from tests.e2e.browser import Visit, sign_in
from tests.e2e.conftest import PASSWORD, lunch, pay_at_cashier, tomorrow_in_shanghai, verified_canteen

HOME = {"id": "liveshe", "name": "活水社区", "center": {"lng": 121.4012, "lat": 31.1521},
        "committee_phone": "021-5777 0101", "buildings": [{"name": "2", "entrance": {"lng": 121.4013, "lat": 31.1522}}]}


@pytest.fixture(scope="module")
def town(stack, staff):
    admin, _ = staff
    admin.request("POST", "/api/v1/catalog/communities", json=HOME, expect=(201, 409))
    with configured_as(stack.env):
        create_account("coord_live", PASSWORD, "钱主任", "coordinator", ("liveshe",))
    api = Client(stack.url())
    coordinator = api.login("coord_live", PASSWORD)
    canteen = verified_canteen(api, coordinator, "live_canteen", "活水食堂", {"lng": 121.4030, "lat": 31.1530}, "liveshe")
    return {"api": api, "canteen": canteen, "lunch": lunch(canteen, "活水午餐", "liveshe", capacity=20)}


def _paid_order(stack, town, resident: Client, listing: dict | None = None, slot: str = "lunch") -> dict:
    order = resident.post("/api/v1/orders", {
        "listing_id": (listing or town["lunch"])["id"], "quantity": 1, "slot_date": tomorrow_in_shanghai(),
        "slot": slot, "address": {"community_id": "liveshe", "building": "2", "room": "101", "contact_name": "孙阿姨",
                                  "phone": "139 1234 5601", "location": HOME["buildings"][0]["entrance"]}}, expect=201)
    status = lambda: resident.get(f"/api/v1/orders/{order['id']}")["status"]  # noqa: E731
    eventually(lambda: status() == "awaiting_payment", timeout=30, what="the kitchen to hold the portion")
    pay_at_cashier(stack, resident.post(f"/api/v1/orders/{order['id']}/pay", expect=200))
    eventually(lambda: status() == "paid", timeout=30, what="the payment")
    return order


def _reads(page, order_id: str) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: f"/r/orders/{order_id}/live" in r.url and seen.append(r.url))
    return seen


def test_the_order_page_follows_the_kitchen_by_its_stream_reopens_a_broken_one_and_polls_without_one(
        stack, town, browser):
    username = f"sun{uuid.uuid4().hex[:6]}"
    resident = town["api"].register(username, PASSWORD, "孙阿姨", "resident")
    order = _paid_order(stack, town, resident)

    # the committee's board lists the kitchen's running answer deadline (asked for as such, not picked out of
    # the newest orders), with how many there are
    qian = Visit.open(browser, stack.url())
    sign_in(qian, "coord_live", PASSWORD)
    deadlines = qian.page.locator("section[aria-labelledby=h-deadlines]")
    expect(deadlines.locator("h2")).to_have_text("未到期的时限 (1)")
    expect(deadlines).to_contain_text("孙阿姨 · 活水午餐")
    expect(deadlines).to_contain_text("厨房还没有答复")

    # one tab as it should be: the stream opens, and nothing is read on a timer
    sun = Visit.open(browser, stack.url())
    sign_in(sun, username, PASSWORD)
    sun.page.goto(f"/r/orders/{order['id']}")
    live = sun.page.locator("#live .status")
    expect(live).to_have_text("已付款：等待厨房接单")
    expect(sun.page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    reads = _reads(sun.page, order["id"])

    # a second tab whose first stream breaks at once (the network drops): it asks for a new ticket and reopens
    broken = Visit.open(browser, stack.url())
    sign_in(broken, username, PASSWORD)
    cuts = []

    def cut_the_first(route):
        if not cuts:
            cuts.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    broken.page.route("**/api/v1/notify/stream?*", cut_the_first)
    tickets = []
    broken.page.on("request", lambda r: r.url.endswith("/live/ticket") and tickets.append(r.url))
    broken.page.goto(f"/r/orders/{order['id']}")
    expect(broken.page.locator("body")).to_have_attribute("data-live", "on", timeout=20_000)
    assert len(cuts) == 1 and len(tickets) >= 2  # the used ticket was not tried again: a new one opened it

    # a third tab that cannot have a stream (its ticket is refused): it falls back to reading every 4 s
    polling = Visit.open(browser, stack.url())
    sign_in(polling, username, PASSWORD)
    polling.page.route("**/live/ticket", lambda route: route.fulfill(status=503, body="{}",
                                                                     content_type="application/json"))
    polling.page.goto(f"/r/orders/{order['id']}")
    expect(polling.page.locator("body")).to_have_attribute("data-live", "off", timeout=10_000)

    # the kitchen accepts, then marks it ready: every tab shows each change by itself, never reloaded
    town["canteen"].post(f"/api/v1/orders/{order['id']}/accept", expect=200)
    for tab in (sun, broken, polling):
        expect(tab.page.locator("#live .status")).to_have_text("厨房已接单，正在制作", timeout=20_000)
    town["canteen"].post(f"/api/v1/orders/{order['id']}/ready", expect=200)
    for tab in (sun, broken, polling):
        expect(tab.page.locator("#live .status")).to_have_text("已做好：等待志愿者取餐", timeout=20_000)
        assert tab.page.url.endswith(f"/r/orders/{order['id']}")
    assert int(sun.page.locator("body").get_attribute("data-live-messages")) >= 2  # "accepted", "ready"
    assert len(reads) <= int(sun.page.locator("body").get_attribute("data-live-refreshes")) <= 3, reads
    assert polling.page.locator("body").get_attribute("data-live-messages") is None
    sun.check("r-order-live", elder=False)


def test_a_new_order_waits_while_the_canteen_types_a_reason_and_shows_when_it_is_done(stack, town, browser):
    """A refresh never happens under the person's fingers: the canteen is typing why it cannot take an order when
    another one comes in; the half-typed reason stays, and the new order shows once the field is left."""
    resident = town["api"].register(f"zhou{uuid.uuid4().hex[:6]}", PASSWORD, "周大爷", "resident")
    first = _paid_order(stack, town, resident)
    canteen = Visit.open(browser, stack.url())
    page = canteen.page
    sign_in(canteen, "live_canteen", PASSWORD)
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    reason = page.locator(f"#reason-{first['id']}")
    reason.click()
    reason.press_sequentially("今天后厨")

    second = _paid_order(stack, town, resident)
    expect(page.locator("#p-live")).to_have_attribute("data-stale", "1", timeout=20_000)  # the stream said so
    expect(page.locator(f"#o-{second['id']}")).to_have_count(0)  # ... but the board waits for her
    assert reason.input_value() == "今天后厨" and page.evaluate("document.activeElement.id") == f"reason-{first['id']}"

    page.locator("h1").first.click()  # she leaves the field
    expect(page.locator(f"#o-{second['id']}")).to_contain_text("新单", timeout=10_000)
    expect(page.locator("#new-order-alert")).to_have_text(re.compile("有新订单"))
    canteen.check("p-board-waited", elder=False)


def test_a_page_whose_session_ended_goes_to_sign_in_and_back_rather_than_drawing_the_form_in_its_part(
        stack, town, browser):
    username = f"wu{uuid.uuid4().hex[:6]}"
    resident = town["api"].register(username, PASSWORD, "吴奶奶", "resident")
    order = _paid_order(stack, town, resident)
    wu = Visit.open(browser, stack.url())
    sign_in(wu, username, PASSWORD)
    page = wu.page
    page.goto(f"/r/orders/{order['id']}")
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)

    # she signs out in another tab of the same phone; then the kitchen accepts, and her stream says so
    other = page.context.new_page()
    other.goto("/me")
    other.get_by_role("button", name="退出登录").click()
    other.close()
    town["canteen"].post(f"/api/v1/orders/{order['id']}/accept", expect=200)
    expect(page).to_have_url(re.compile(r"/signin\?next=/r/orders/" + order["id"] + "$"), timeout=20_000)
    assert page.locator("#live form input[name=password]").count() == 0  # no sign-in form inside the part

    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(f"/r/orders/{order['id']}$"))
    expect(page.locator("#live .status")).to_have_text("厨房已接单，正在制作")


def test_a_job_at_home_is_marked_done_by_the_craftsman_and_confirmed_by_the_resident_on_her_page(
        stack, town, browser):
    """An on-site job: the craftsman's board has "done" instead of "ready"; the resident's page, open meanwhile,
    asks her to confirm by itself, and her confirmation completes it (then she may review)."""
    from tests.e2e.conftest import verified_profile

    api = town["api"]
    fixer = f"live_fix{uuid.uuid4().hex[:4]}"
    craftsman = api.register(fixer, PASSWORD, "活水家电维修", "provider")
    verified_profile(craftsman, api.login("coord_live", PASSWORD), "活水家电维修", {"lng": 121.4020, "lat": 31.1525},
                     "liveshe", kind="craftsman")
    visit = craftsman.post("/api/v1/catalog/listings", {
        "title": "上门修电饭煲", "category": "appliance_repair", "fulfilment": "on_site", "price_fen": 3000,
        "unit": "次", "community_ids": ["liveshe"], "max_quantity": 1,
        "slots": [{"name": "morning", "start": "09:00", "end": "12:00", "capacity": 4}]}, expect=201)
    username = f"zheng{uuid.uuid4().hex[:6]}"
    resident = api.register(username, PASSWORD, "郑阿姨", "resident")
    order = _paid_order(stack, town, resident, listing=visit, slot="morning")
    status = lambda: resident.get(f"/api/v1/orders/{order['id']}")["status"]  # noqa: E731
    craftsman.post(f"/api/v1/orders/{order['id']}/accept", expect=200)

    zheng = Visit.open(browser, stack.url())
    sign_in(zheng, username, PASSWORD)
    page = zheng.page
    page.goto(f"/r/orders/{order['id']}")
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    expect(page.locator("#confirm-done")).to_have_count(0)

    # the craftsman marks it done on his board, where a job at home has "done" instead of "ready"
    fix = Visit.open(browser, stack.url())
    sign_in(fix, fixer, PASSWORD)
    fix.page.wait_for_load_state("load")  # its scripts loaded before he taps (a tap while they load aborts them)
    expect(fix.page.locator("body")).to_have_attribute("data-live", "on", timeout=10_000)
    card = fix.page.locator(f"#o-{order['id']}")
    expect(card.get_by_role("button", name="餐已做好")).to_have_count(0)
    card.locator("form[action$='/done'] button").click()
    fix.check("p-board-job-done", elder=False)

    expect(page.locator("#live .status")).to_have_text("服务已完成：请您确认", timeout=20_000)
    expect(page.locator("main")).to_contain_text("上午")  # the craftsman's "morning" slot, in her language
    # only she confirms it: another resident's or the craftsman's confirmation changes nothing
    stranger = api.register(f"zheng_no{uuid.uuid4().hex[:4]}", PASSWORD, "路人", "resident")
    assert stranger.request("POST", f"/api/v1/orders/{order['id']}/complete").status_code == 404
    assert craftsman.request("POST", f"/api/v1/orders/{order['id']}/complete").status_code == 403
    assert status() == "service_done"
    zheng.check("r-order-confirm", elder=False)
    page.locator("#confirm-done").click()
    expect(page.get_by_role("status").first).to_have_text("谢谢您。已确认完工，可以在下面评价。")
    expect(page.locator("#live .status")).to_have_text("已完成")
    expect(page.locator("#review-provider")).to_be_visible()
    assert status() == "completed"
