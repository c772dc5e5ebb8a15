"""Staff act only within their communities (issue 12): a coordinator of beicai tries every staff route of
delivery on lianxi's tasks, volunteers and hours, and is refused (404: for it they do not exist) with
nothing changed; lianxi's coordinator and an admin get through. Two of everything: two communities,
two coordinators, two volunteers, two residents."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from linli.ids import utcnow
from services.delivery.rules import domain

from tests.integration.test_delivery_town import near_canteen, town  # noqa: F401  (fixture)


def _cast(town):
    lianxi = town.login("acc_coord_lianxi", "coordinator", "林主任", communities=("lianxi",))
    beicai = town.login("acc_coord_beicai", "coordinator", "蔡主任", communities=("beicai",))
    admin = town.login("acc_admin", "admin", "管理员")
    return lianxi, beicai, admin


def test_a_coordinator_of_another_community_reaches_nothing_of_lianxi(town):
    lianxi, beicai, admin = _cast(town)
    waiting = town.order(resident="res_a", starts_in=timedelta(hours=5), ready=False)  # nobody will be offered it
    v1_id, v1 = town.volunteer("v1", near_canteen(100))
    pending_id, _ = town.volunteer("pending", near_canteen(200), verified=False)
    town.volunteer("beicai_v", near_canteen(300), communities=("beicai",), on_duty=False)
    carried = town.order(resident="res_b")
    [offer] = town.offers(v1)
    town.call("POST", f"/offers/{offer['id']}/accept", v1)
    town.call("POST", f"/tasks/{carried['_id']}/pickup", v1, {"code": "246810"})
    month = domain.local_date(utcnow())[:7]
    before = {t: town.task(t) for t in (waiting["_id"], carried["_id"])}

    # reads: the task with the resident's room and phone, the board, the volunteers with their phones, the hours
    assert town.call("GET", f"/tasks/{carried['_id']}", beicai, expect=404)["error"]["code"] == "not_found"
    assert town.call("GET", f"/tasks/{carried['_id']}", lianxi)["dropoff"]["phone"] == "139 1234 5678"
    assert town.call("GET", "/tasks", beicai)["items"] == []
    assert town.call("GET", "/tasks?status=waiting", beicai)["items"] == []
    assert {t["id"] for t in town.call("GET", "/tasks", lianxi)["items"]} == {waiting["_id"], carried["_id"]}
    assert {v["name"] for v in town.call("GET", "/volunteers", beicai)["items"]} == {"beicai_v"}
    assert {v["name"] for v in town.call("GET", "/volunteers", lianxi)["items"]} == {"v1", "pending"}
    assert len(town.call("GET", "/volunteers", admin)["items"]) == 3
    assert town.call("GET", f"/tracking/{carried['order_id']}", beicai, expect=404)["error"]["code"] == "not_found"
    assert town.call("GET", f"/tracking/{carried['order_id']}", lianxi)["status"] == "picked_up"

    # writes: verify, assign, confirm a hand-over without the code, close a welfare check, unlock codes
    town.call("POST", f"/volunteers/{pending_id}/verify", beicai, expect=404)
    town.call("POST", f"/tasks/{waiting['_id']}/assign", beicai, {"volunteer_id": v1_id}, expect=404)
    town.call("POST", f"/tasks/{carried['_id']}/deliver", beicai, {"override_reason": "I say she has it"},
              expect=404)
    town.call("POST", f"/tasks/{carried['_id']}/welfare", beicai, {"outcome": "resident_safe", "note": "x"},
              expect=404)
    town.call("POST", f"/tasks/{carried['_id']}/codes/unlock", beicai, expect=404)
    assert {t: town.task(t) for t in before} == before, "nothing changed"
    assert town.call("GET", "/volunteers?status=pending", lianxi)["items"][0]["id"] == pending_id
    assert town.events("delivery.task.delivered") == [] and town.events("delivery.volunteer.verified") != []
    verified_before = len(town.events("delivery.volunteer.verified"))

    # the hours of lianxi: not in beicai's month, its export, nor its corrections
    done = town.call("POST", f"/tasks/{carried['_id']}/deliver", v1, {"code": "1357"})
    entry_id = f"hrs:{carried['_id']}"
    assert town.call("GET", f"/hours?month={month}", beicai) == {"month": month, "totals": [], "entries": []}
    assert town.call("GET", f"/hours?month={month}&volunteer_id={v1_id}", beicai)["entries"] == []
    assert list(csv.DictReader(io.StringIO(town.call("GET", f"/hours/export?month={month}", beicai)))) == []
    town.call("POST", f"/hours/{entry_id}/corrections", beicai, {"minutes": 600, "reason": "generous today"},
              expect=404)
    assert [e["id"] for e in town.call("GET", f"/hours?month={month}", lianxi)["entries"]] == [entry_id]
    assert town.call("GET", f"/hours?month={month}", lianxi)["entries"][0]["minutes"] == done["minutes"]
    assert len(town.call("GET", f"/hours/export?month={month}", admin).splitlines()) == 2

    # lianxi's own coordinator and the admin get through
    town.call("POST", f"/volunteers/{pending_id}/verify", lianxi)
    assert len(town.events("delivery.volunteer.verified")) == verified_before + 1
    assert town.call("POST", f"/tasks/{waiting['_id']}/assign", admin, {"volunteer_id": v1_id})["status"] == "assigned"
    corrected = town.call("POST", f"/hours/{entry_id}/corrections", lianxi,
                          {"minutes": 30, "reason": "carried it up six floors; confirmed by phone"})
    assert corrected["minutes"] == 30


def test_a_coordinator_sees_the_board_of_its_own_community(town):
    lianxi, beicai, _ = _cast(town)
    mine = town.order(resident="res_b", ready=False, community_id="beicai")
    theirs = town.order(resident="res_a", ready=False)
    assert [t["id"] for t in town.call("GET", "/tasks", beicai)["items"]] == [mine["_id"]]
    assert [t["id"] for t in town.call("GET", "/tasks", lianxi)["items"]] == [theirs["_id"]]
    assert town.call("GET", f"/tasks/{mine['_id']}", beicai)["dropoff"]["room"] == "301"
