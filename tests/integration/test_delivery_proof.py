"""Proof of pickup and hand-over, failures, the welfare check, and who sees the resident's address."""
from __future__ import annotations

from tests.integration.test_delivery_town import near_canteen, town  # noqa: F401  (fixture)

CONTACT = {"name": "Wang Jun (son)", "phone": "137 0000 1111"}


def _accepted(town, name="v", **order):
    volunteer_id, who = town.volunteer(name, near_canteen(100))
    task = town.order(**order)
    [offer] = town.offers(who)
    town.call("POST", f"/offers/{offer['id']}/accept", who)
    return task["_id"], volunteer_id, who


def test_an_unassigned_volunteer_never_sees_the_address_and_lists_always_mask_it(town):
    _, bystander = town.volunteer("bystander", near_canteen(900))
    task_id, _, who = _accepted(town)
    mine = town.call("GET", f"/tasks/{task_id}", who)
    assert mine["dropoff"]["room"] == "301" and mine["dropoff"]["phone"] == "139 1234 5678"
    assert "codes" not in mine
    assert town.call("GET", f"/tasks/{task_id}", bystander, expect=404)["error"]["code"] == "not_found"
    assert town.call("GET", "/tasks", bystander)["items"] == []
    for lister in (who, town.coordinator):
        [listed] = town.call("GET", "/tasks", lister)["items"]
        assert "room" not in listed["dropoff"] and "phone" not in listed["dropoff"]
    assert town.call("GET", f"/tasks/{task_id}", town.coordinator)["dropoff"]["phone"] == "139 1234 5678"


def test_pickup_needs_the_providers_code_and_hand_over_the_residents(town):
    task_id, volunteer_id, who = _accepted(town)
    wrong = town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "000000"}, expect=422)
    assert "code" in wrong["error"]["details"]
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    assert town.call("POST", f"/tasks/{task_id}/deliver", who, {}, expect=422)["error"]["details"].keys() == {"code"}
    assert "code" in town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": "9999"}, expect=422)["error"]["details"]
    done = town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": "1357"})
    assert done["status"] == "delivered" and done["minutes"] >= 1 and done["dropoff"]["room"] == "301"
    assert town.events("delivery.task.delivered")[0]["volunteer_id"] == volunteer_id
    me = town.call("GET", "/volunteers/me", who)
    assert me["active_tasks"] == 0 and me["served_minutes"] == done["minutes"]


def test_only_the_coordinator_overrides_the_code_and_must_say_why(town):
    task_id, volunteer_id, who = _accepted(town)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    refused = town.call("POST", f"/tasks/{task_id}/deliver", who, {"override_reason": "she lost her phone"}, expect=403)
    assert refused["error"]["code"] == "forbidden"
    unexplained = town.call("POST", f"/tasks/{task_id}/deliver", town.coordinator, {}, expect=422)
    assert "override_reason" in unexplained["error"]["details"]
    done = town.call("POST", f"/tasks/{task_id}/deliver", town.coordinator,
                     {"override_reason": "Auntie Wang lost her phone; I called her and she has the meal"})
    assert done["status"] == "delivered"
    assert town.task(task_id)["handover"]["by"] == "override"
    assert town.events("delivery.task.delivered")[0]["volunteer_id"] == volunteer_id


def test_nobody_answering_starts_a_welfare_check_the_coordinator_is_alerted_to(town):
    task_id, volunteer_id, who = _accepted(town, emergency_contact=CONTACT)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    waiting = town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "nobody_answers", "note": "knocked twice"})
    assert waiting["status"] == "welfare_check"
    [alert] = town.events("delivery.task.welfare_check")
    assert alert["community_id"] == "lianxi" and alert["note"] == "knocked twice"
    assert "emergency_contact" not in alert, "the contact stays in delivery: the coordinator reads it on the task"
    assert town.events("delivery.task.failed") == []  # not a failed parcel, yet
    board = town.call("GET", "/tasks?status=welfare_check", town.coordinator)["items"]
    assert [t["id"] for t in board] == [task_id]
    seen = town.call("GET", f"/tasks/{task_id}", town.coordinator)
    assert seen["welfare"]["emergency_contact"] == CONTACT and seen["dropoff"]["phone"] == "139 1234 5678"

    closed = town.call("POST", f"/tasks/{task_id}/welfare", who,
                       {"outcome": "family_reached", "note": "her son says she is at the clinic, all well"})
    assert closed["status"] == "failed" and closed["welfare"]["outcome"] == "family_reached"
    [failed] = town.events("delivery.task.failed")
    assert failed == {"task_id": task_id, "order_id": town.task(task_id)["order_id"], "volunteer_id": volunteer_id,
                      "reason": "nobody_answers", "welfare_outcome": "family_reached"}
    me = town.call("GET", "/volunteers/me", who)
    assert me["active_tasks"] == 0 and me["served_minutes"] >= 1, "the time spent checking on her counts"
    assert town.db.hours.find_one({"task_id": task_id})["kind"] == "welfare_check"


def test_the_resident_found_during_a_welfare_check_still_gets_the_meal(town):
    task_id, _, who = _accepted(town)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "nobody_answers"})
    assert town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": "1357"})["status"] == "delivered"


def test_other_failures_end_the_task_with_their_reason(town):
    task_id, _, who = _accepted(town)
    assert "reason" in town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "lost"}, expect=422)["error"]["details"]
    failed = town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "wrong_address", "note": "no room 301"})
    assert failed["status"] == "failed" and failed["failure"]["reason"] == "wrong_address"
    assert town.events("delivery.task.failed")[0]["reason"] == "wrong_address"
    assert town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"}, expect=409)["error"]["code"] == \
        "illegal_transition"


def test_a_failed_delivery_sent_out_again_is_offered_afresh_to_the_corrected_address(town):
    from services.delivery import handlers

    task_id, volunteer_id, who = _accepted(town)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "wrong_address", "note": "no room 301"})
    assert town.offers(who) == []
    assert town.call("GET", "/volunteers/me", who)["active_tasks"] == 0

    redelivery = {"order_id": town.task(task_id)["order_id"], "task_id": task_id, "attempt": 2,
                  "reason": "she lives in 302", "dropoff": {"room": "302"}, "community_id": "lianxi"}
    town.event("orders.order.redelivery_requested", redelivery, handlers.on_redelivery_requested)
    [offer] = town.offers(who)
    assert offer["task_id"] == task_id and offer["mode"] == "single", "back on the first rung of the ladder"
    again = town.call("POST", f"/offers/{offer['id']}/accept", who)
    assert again["status"] == "assigned" and again["dropoff"]["room"] == "302"
    assert again["dropoff"]["building"] == "12", "only what the coordinator corrected changes"
    assert [(a["volunteer_id"], a["reason"]) for a in again["attempts"]] == [(volunteer_id, "wrong_address")]

    # the same request heard twice (another event id) finds the task no longer failed: nothing changes
    town.event("orders.order.redelivery_requested", redelivery, handlers.on_redelivery_requested)
    assert town.task(task_id)["status"] == "assigned" and len(town.task(task_id)["attempts"]) == 1
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    assert town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": "1357"})["status"] == "delivered"


def test_a_hand_over_retried_on_a_weak_signal_is_answered_again_not_refused(town):
    task_id, _, who = _accepted(town)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    retry = {**who, "Idempotency-Key": "deliver-once"}
    first = town.http.post(f"/api/v1/delivery/tasks/{task_id}/deliver", headers=retry, json={"code": "1357"})
    again = town.http.post(f"/api/v1/delivery/tasks/{task_id}/deliver", headers=retry, json={"code": "1357"})
    assert (first.status_code, again.status_code) == (200, 200) and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["status"] == "delivered" and len(town.events("delivery.task.delivered")) == 1


def test_a_meal_the_kitchen_makes_again_is_offered_only_once_it_is_ready_again(town):
    from services.delivery import handlers

    task_id, volunteer_id, who = _accepted(town)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "meal_damaged", "note": "dropped the box"})
    order_id = town.task(task_id)["order_id"]
    town.event("orders.order.redelivery_requested", {
        "order_id": order_id, "task_id": task_id, "attempt": 2, "reason": "spilled", "dropoff": {},
        "community_id": "lianxi", "remake": True}, handlers.on_redelivery_requested)
    assert (town.task(task_id)["status"], town.task(task_id)["meal_ready"]) == ("waiting", False)
    assert town.offers(who) == [], "nobody is sent to fetch a meal still being made"
    town.event("orders.order.ready", {"order_id": order_id, "provider_id": "prv_1"}, handlers.on_order_ready)
    [offer] = town.offers(who)
    assert offer["task_id"] == task_id and town.task(task_id)["status"] == "offered"


def test_a_meal_sent_out_again_after_a_welfare_check_credits_both_trips(town):
    from services.delivery import handlers

    task_id, volunteer_id, who = _accepted(town)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    town.call("POST", f"/tasks/{task_id}/fail", who, {"reason": "nobody_answers"})
    town.call("POST", f"/tasks/{task_id}/welfare", who, {"outcome": "family_reached", "note": "at her daughter's"})
    town.event("orders.order.redelivery_requested", {
        "order_id": town.task(task_id)["order_id"], "task_id": task_id, "attempt": 2, "reason": "she is home now",
        "dropoff": {}, "community_id": "lianxi"}, handlers.on_redelivery_requested)
    [offer] = town.offers(who)
    town.call("POST", f"/offers/{offer['id']}/accept", who)
    town.call("POST", f"/tasks/{task_id}/pickup", who, {"code": "246810"})
    town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": "1357"})
    kinds = sorted(e["kind"] for e in town.db.hours.find({"task_id": task_id}))
    assert kinds == ["delivery", "welfare_check"]
