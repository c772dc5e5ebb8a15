"""The committee's board finishes what it shows (issue 14), in a real browser, with two communities: a welfare check
the volunteer could not close is closed from the board with what happened; a delivery whose hand-over code was
guessed wrong five times is unlocked after the calls; a volunteer's minutes are corrected with a reason. The other
community's coordinator sees none of it and is refused each action in words. The board speaks of the resident (never
"your home"), shows the coordinator its own committee's number (not the city hotline), draws the dispatch map over
the configured tile server's tiles, and keeps a volunteer standing at the kitchen apart from the kitchen."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.conftest import eventually
from tests.e2e.browser import Visit, sign_in
from tests.e2e.conftest import PASSWORD
from tests.e2e.town import carried, two_communities

A = {"id": "yuhe", "name": "雨荷社区", "center": {"lng": 121.3512, "lat": 30.8521}, "committee_phone": "021-5777 0001",
     "buildings": [{"name": "3", "entrance": {"lng": 121.3515, "lat": 30.8523}},
                   {"name": "6", "entrance": {"lng": 121.3509, "lat": 30.8518}}]}
B = {"id": "yubei", "name": "雨北社区", "center": {"lng": 121.3712, "lat": 30.8621}, "committee_phone": "021-5777 0002",
     "buildings": [{"name": "1", "entrance": {"lng": 121.3713, "lat": 30.8622}}]}
KITCHEN = {"lng": 121.3530, "lat": 30.8530}
NOT_FOUND = "没有找到，可能已被删除。"
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def this_month_in_shanghai() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


@pytest.fixture(scope="module")
def town(stack, staff):
    town = two_communities(stack, staff, home=A, other=B, coordinators=(("coord_yh", "余主任"), ("coord_yb", "白主任")),
                           canteen=("yh_canteen", "雨荷小灶", KITCHEN), lunch={"title": "雨荷午餐", "price_fen": 1200},
                           volunteers=(("yh_zhou", "小周", "138 0000 0081"), ("yh_wu", "小吴", "138 0000 0082")))
    town["welfare"] = _carried(stack, town, "201")
    town["welfare"]["holder"].post(f"/api/v1/delivery/tasks/{town['welfare']['task']}/fail", {
        "reason": "nobody_answers", "note": "敲了三次门"}, expect=200)
    town["locked"] = _carried(stack, town, "202")
    wrong = next(c for c in ("0000", "1111") if c != town["locked"]["code"])
    for _ in range(5):
        town["locked"]["holder"].post(f"/api/v1/delivery/tasks/{town['locked']['task']}/deliver", {"code": wrong},
                                      expect=422)
    return town


def _carried(stack, town, room: str) -> dict:
    """A resident's lunch in community A, paid, cooked, and picked up by whichever volunteer took the offer."""
    return carried(stack, town, f"yh_res_{room}", "周奶奶", {"community_id": "yuhe", "building": "6", "room": room,
                                                           "location": A["buildings"][1]["entrance"]})


def _post_as_page(visit: Visit, path: str, form: dict) -> str:
    """A form sent from this person's browser (its session and CSRF token) to a path its pages never offered it:
    what the next page says."""
    token = visit.page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = visit.page.request.post(path, form={"csrf_token": token, **form})
    assert answer.status == 200, answer.status
    return answer.text()


def _boxes_overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_other_community_sees_none_of_it_and_is_refused_each_action_in_words(stack, town, browser):
    welfare, locked, coordinator = town["welfare"], town["locked"], town["coordinator"]
    bai = Visit.open(browser, stack.url())
    page = bai.page
    sign_in(bai, "coord_yb", PASSWORD)
    expect(page.get_by_role("heading", name="居委会看板")).to_be_visible()
    assert page.locator(f"#task-{welfare['task']}").count() == 0
    assert page.locator(f"#locked-{locked['task']}").count() == 0
    expect(page.locator("main")).not_to_contain_text("验证码已锁定")
    expect(page.locator("header")).to_contain_text("雨北社区居委会：021-5777 0002")
    expect(page.locator("header")).not_to_contain_text("12345")
    expect(page.locator("header")).not_to_contain_text("雨荷社区")
    bai.check("c-board-b")

    said = _post_as_page(bai, f"/c/tasks/{welfare['task']}/welfare", {"outcome": "resident_safe", "note": "没事"})
    assert NOT_FOUND in said
    said = _post_as_page(bai, f"/c/tasks/{locked['task']}/unlock", {})
    assert NOT_FOUND in said
    assert coordinator.get(f"/api/v1/delivery/tasks/{welfare['task']}")["status"] == "welfare_check"
    assert coordinator.get(f"/api/v1/delivery/tasks/{locked['task']}")["code_lock"]["kind"] == "handover"


def test_the_board_closes_a_welfare_check_unlocks_codes_and_corrects_hours(stack, town, browser, tile_server):
    welfare, locked, coordinator = town["welfare"], town["locked"], town["coordinator"]
    yu = Visit.open(browser, stack.url())
    page = yu.page
    asked_before = len(tile_server.asked)
    sign_in(yu, "coord_yh", PASSWORD)
    expect(page.get_by_role("heading", name="居委会看板")).to_be_visible()
    # staff read staff words, and their own committee's number
    header = page.locator("header")
    expect(header).to_contain_text("雨荷社区居委会：021-5777 0001")
    expect(header).not_to_contain_text("12345")
    assert page.locator("header a.call").count() == 0, "the committee is not asked to call itself"
    main = page.locator("main")
    expect(main).not_to_contain_text("您家")
    lock_card = page.locator(f"#locked-{locked['task']}")
    expect(lock_card).to_contain_text("验证码已锁定：居民的交接码输错次数太多")
    expect(lock_card).to_contain_text("正在送往居民家")

    # the map: over the tile server's tiles, and the volunteers at the kitchen do not hide it
    tiles = page.locator("svg.map image")
    assert tiles.count() >= 2
    hrefs = [tiles.nth(i).get_attribute("href") for i in range(tiles.count())]
    assert all(re.fullmatch(rf"http://127\.0\.0\.1:{tile_server.server_port}/\d+/\d+/\d+\.png", h) for h in hrefs)
    eventually(lambda: len(tile_server.asked) >= asked_before + len(hrefs) or None, timeout=10,
               what="the browser to fetch the tiles")
    kitchen = page.locator("svg.map g.spot.kitchen rect").first.bounding_box()
    for i in range(page.locator("svg.map g.spot.volunteer").count()):
        volunteer = page.locator("svg.map g.spot.volunteer polygon").nth(i).bounding_box()
        assert not _boxes_overlap(kitchen, volunteer), "the kitchen's square stays visible"
    expect(page.locator("ol.legend")).to_contain_text("厨房：雨荷小灶")
    expect(page.locator("ol.legend")).to_contain_text("值班志愿者：小周")
    expect(page.locator("figcaption")).to_contain_text(f"地图底图：127.0.0.1:{tile_server.server_port}")
    yu.check("c-board-a")

    # the welfare check: what happened is asked for, then recorded
    card = page.locator(f"#task-{welfare['task']}")
    card.get_by_label("看到或听到的情况").fill("邻居说她去女儿家了，电话里确认平安")
    card.get_by_label("居民平安").check()
    card.get_by_role("button", name="结束探视").click()
    expect(page.get_by_role("status")).to_contain_text("探视已结束")
    closed = coordinator.get(f"/api/v1/delivery/tasks/{welfare['task']}")
    assert closed["welfare"]["outcome"] == "resident_safe" and "女儿家" in closed["welfare"]["note"]
    expect(page.locator(f"#task-{welfare['task']}")).to_have_count(0)
    yu.check("c-board-welfare-closed")

    # the locked codes: unlocked after the calls; the volunteer hands over with the right code
    page.locator(f"#locked-{locked['task']}").get_by_role("button", name="允许重新输入验证码").click()
    expect(page.get_by_role("status")).to_contain_text("可以重新输入验证码了")
    expect(page.locator(f"#locked-{locked['task']}")).to_have_count(0)
    assert coordinator.get(f"/api/v1/delivery/tasks/{locked['task']}")["code_lock"] is None
    done = locked["holder"].post(f"/api/v1/delivery/tasks/{locked['task']}/deliver", {"code": locked["code"]},
                                 expect=200)
    assert done["status"] == "delivered"
    yu.check("c-board-unlocked")

    # the hours: the welfare check's volunteer's minutes corrected, with a reason; a wrong number changes nothing
    page.get_by_role("link", name="查看并修改本月服务时长").click()
    expect(page.get_by_role("heading", name="志愿者服务时长")).to_be_visible()
    # the month as our own lists in the page's language (not the browser's "December 2026"): this month in the
    # community's zone
    month = this_month_in_shanghai()
    expect(page.locator("#year option:checked")).to_have_text(f"{month[:4]}年")
    expect(page.locator("#month option:checked")).to_have_text(f"{int(month[5:])}月")
    assert page.locator("input[type=month]").count() == 0
    entries = coordinator.get(f"/api/v1/delivery/hours?month={month}")["entries"]
    entry = next(e for e in entries if e["task_id"] == welfare["task"])
    box = page.locator(f'[id="entry-{entry["id"]}"]')
    expect(box).to_be_visible()
    yu.check("c-hours-a")
    box.get_by_label("改正后的分钟数").fill("abc")
    box.get_by_label("原因（志愿者会看到）").fill("等了很久，又陪邻居找人")
    box.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("请把分钟数写成 0 到 1440 之间的整数")
    box = page.locator(f'[id="entry-{entry["id"]}"]')
    box.get_by_label("改正后的分钟数").fill("45")
    box.get_by_label("原因（志愿者会看到）").fill("等了很久，又陪邻居找人")
    box.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("时长已改为 45 分钟")
    expect(page.locator(f'[id="entry-{entry["id"]}"]')).to_contain_text(f"余主任 把 {entry['minutes']} 分钟改为 45 分钟")
    yu.check("c-hours-corrected")
    after = next(e for e in coordinator.get(f"/api/v1/delivery/hours?month={month}")["entries"]
                 if e["id"] == entry["id"])
    assert after["minutes"] == 45 and [c["to"] for c in after["corrections"]] == [45]

    # another month chosen from the lists; the older ?month=YYYY-MM still opens; what is no month is a sentence
    before = f"{int(month[:4]) - 1}-{month[5:]}"
    page.locator("#year").select_option(before[:4])
    page.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(rf"/c/hours\?year={before[:4]}&month={before[5:]}$"))
    expect(page.locator("#year option:checked")).to_have_text(f"{before[:4]}年")
    expect(page.locator(f'[id="entry-{entry["id"]}"]')).to_have_count(0)
    page.goto(f"/c/hours?month={month}")
    expect(page.locator(f'[id="entry-{entry["id"]}"]')).to_be_visible()
    expect(page.locator("#month option:checked")).to_have_text(f"{int(month[5:])}月")
    for bad in ("/c/hours?month=2026-13", "/c/hours?year=abc&month=12", "/c/hours?year=2026&month=13",
                "/c/hours?year=1899&month=1"):
        answer = page.goto(bad)
        assert answer.status == 400, bad
        expect(page.get_by_role("alert")).to_have_text("没能读懂所选的月份，现在显示的是本月。请从列表中选择年份和月份。")
        expect(page.locator("#year option:checked")).to_have_text(f"{month[:4]}年")
    yu.problems.clear()  # the refusals answer 400 on purpose
    yu.check("c-hours-bad-month")


def test_the_other_community_neither_sees_nor_corrects_the_hours_of_the_first(stack, town, browser):
    coordinator = town["coordinator"]
    bai = Visit.open(browser, stack.url())
    page = bai.page
    sign_in(bai, "coord_yb", PASSWORD)
    page.get_by_role("link", name="查看并修改本月服务时长").click()
    expect(page.get_by_role("heading", name="志愿者服务时长")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("小周")
    expect(page.locator("main")).not_to_contain_text("小吴")
    bai.check("c-hours-b")
    month = this_month_in_shanghai()
    entries = coordinator.get(f"/api/v1/delivery/hours?month={month}")["entries"]
    assert entries, "A's welfare check and delivery were credited this month (the test before)"
    for entry in entries:
        assert page.locator(f'[id="entry-{entry["id"]}"]').count() == 0
    said = _post_as_page(bai, f"/c/hours/{entries[0]['id']}/correct", {"minutes": "1", "reason": "不该改的时长"})
    assert NOT_FOUND in said
    again = next(e for e in coordinator.get(f"/api/v1/delivery/hours?month={month}")["entries"]
                 if e["id"] == entries[0]["id"])
    assert again["minutes"] == entries[0]["minutes"] and again.get("corrections") == entries[0].get("corrections")


def test_the_board_in_english_speaks_of_the_resident_and_names_the_committee(stack, town, browser):
    yu = Visit.open(browser, stack.url(), lang="en")
    page = yu.page
    sign_in(yu, "coord_yh", PASSWORD)
    expect(page.get_by_role("heading", name="The committee’s board")).to_be_visible()
    expect(page.locator("header")).to_contain_text("雨荷社区 committee: 021-5777 0001")
    expect(page.locator("header")).not_to_contain_text("12345")
    expect(page.locator("main")).not_to_contain_text("your home")
    expect(page.locator("figcaption")).to_contain_text("Map tiles: 127.0.0.1:")
    yu.check("c-board-en")
    page.get_by_role("link", name="See and correct this month’s hours").click()
    month = this_month_in_shanghai()
    expect(page.locator("#year option:checked")).to_have_text(month[:4])
    expect(page.locator("#month option:checked")).to_have_text(MONTHS_EN[int(month[5:]) - 1])
    yu.check("c-hours-en")
