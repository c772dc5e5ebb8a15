"""Refusing a volunteer (issue 14): the committee of the volunteer's community (or an admin) turns a volunteer
down with a reason the volunteer reads; a refused volunteer gets no offers and cannot go on duty, and may be
verified later. Two communities, two coordinators, two volunteers."""
from __future__ import annotations

from tests.integration.test_delivery_town import near_canteen, town  # noqa: F401  (fixture)


def _cast(town):
    lianxi = town.login("acc_coord_lianxi", "coordinator", "林主任", communities=("lianxi",))
    beicai = town.login("acc_coord_beicai", "coordinator", "蔡主任", communities=("beicai",))
    admin = town.login("acc_admin", "admin", "管理员")
    return lianxi, beicai, admin


def test_a_refused_volunteer_reads_why_cannot_go_on_duty_and_can_be_verified_later(town):
    lianxi, beicai, admin = _cast(town)
    liu_id, liu = town.volunteer("liu", near_canteen(100), verified=False)
    cai_id, cai = town.volunteer("cai", near_canteen(200), communities=("beicai",), verified=False)

    # the other community's coordinator: no such volunteer for it, and nothing changes
    assert town.call("POST", f"/volunteers/{liu_id}/refuse", beicai, {"reason": "不认识此人"},
                     expect=404)["error"]["code"] == "not_found"
    assert town.call("GET", "/volunteers/me", liu)["status"] == "pending"
    # a reason is required, and words, not spaces; nothing changes either way
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        error = town.call("POST", f"/volunteers/{liu_id}/refuse", lianxi, body, expect=422)["error"]
        assert "reason" in str(error["details"]), error
    assert town.call("GET", "/volunteers/me", liu)["status"] == "pending"

    refused = town.call("POST", f"/volunteers/{liu_id}/refuse", lianxi, {"reason": "  请先来居委会面谈  "})
    assert refused["status"] == "refused" and refused["refused_reason"] == "请先来居委会面谈"
    again = town.call("POST", f"/volunteers/{liu_id}/refuse", lianxi, {"reason": "another reason"})
    assert again["refused_reason"] == "请先来居委会面谈"  # refusing twice changes nothing
    # the volunteer is told (notify hears delivery.volunteer.refused), once, with the reason; the refusals
    # refused above (another community's coordinator, no reason) told nobody anything
    assert [(e["volunteer_id"], e["account_id"], e["reason"]) for e in town.events("delivery.volunteer.refused")
            ] == [(liu_id, "acc_liu", "请先来居委会面谈")]
    me = town.call("GET", "/volunteers/me", liu)
    assert me["status"] == "refused" and me["refused_reason"] == "请先来居委会面谈"
    answer = town.call("PUT", "/volunteers/me/duty", liu, {"on_duty": True, "location": near_canteen(100)},
                       expect=409)
    assert answer["error"]["code"] == "volunteer_refused"
    assert answer["error"]["details"]["reason"] == "请先来居委会面谈"
    assert town.call("GET", "/volunteers/me", liu)["on_duty"] is False
    assert [v["id"] for v in town.call("GET", "/volunteers?status=refused", lianxi)["items"]] == [liu_id]
    assert town.call("GET", "/volunteers?status=refused", beicai)["items"] == []

    # the other community's volunteer is its own coordinator's (or an admin's) to refuse
    town.call("POST", f"/volunteers/{cai_id}/refuse", lianxi, {"reason": "x"}, expect=404)
    assert town.call("POST", f"/volunteers/{cai_id}/refuse", admin, {"reason": "资料不全"})["status"] == "refused"
    assert town.call("GET", "/volunteers/me", cai)["refused_reason"] == "资料不全"

    # the committee changes its mind: verified, the reason gone, on duty, and offered a ready meal
    town.call("POST", f"/volunteers/{liu_id}/verify", beicai, expect=404)
    verified = town.call("POST", f"/volunteers/{liu_id}/verify", lianxi)
    assert verified["status"] == "verified" and "refused_reason" not in verified
    town.call("PUT", "/volunteers/me/duty", liu, {"on_duty": True, "location": near_canteen(100)})
    task = town.order()
    assert [o["task_id"] for o in town.offers(liu)] == [task["_id"]]
    assert town.offers(cai) == []


def test_a_volunteer_refused_while_an_offer_is_open_cannot_take_it_and_one_carrying_a_meal_is_not_refused(town):
    lianxi, _, _ = _cast(town)
    liu_id, liu = town.volunteer("liu", near_canteen(100))
    task = town.order()
    [offer] = town.offers(liu)
    # off duty with an offer still open, then refused: the offer cannot be taken
    town.call("PUT", "/volunteers/me/duty", liu, {"on_duty": False})
    town.call("POST", f"/volunteers/{liu_id}/refuse", lianxi, {"reason": "投诉较多，暂停"})
    assert town.call("POST", f"/offers/{offer['id']}/accept", liu, expect=409)["error"]["code"] == "volunteer_refused"
    assert town.task(task["_id"]).get("volunteer_id") is None

    # a volunteer carrying a meal is not refused mid-trip
    zhou_id, zhou = town.volunteer("zhou", near_canteen(150))
    other = town.order(resident="res_2")
    town.dispatch()
    offers = town.offers(zhou)
    assert offers, "zhou is offered a meal"
    town.call("POST", f"/offers/{offers[0]['id']}/accept", zhou)
    busy = town.call("POST", f"/volunteers/{zhou_id}/refuse", lianxi, {"reason": "x"}, expect=409)
    assert busy["error"]["code"] == "volunteer_busy"
    assert town.call("GET", "/volunteers/me", zhou)["status"] == "verified"
    assert other["_id"]
