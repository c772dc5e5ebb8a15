"""Codes that can't be guessed (issue 12): after 5 wrong codes on a task its code entry locks, the
coordinator is alerted (delivery.task.escalated), and the volunteer reads what to do; a brute force,
one by one or all at once, stops at the limit. The coordinator unlocks, or confirms the hand-over."""
from __future__ import annotations

import threading

from services.delivery.rules import codes

from tests.integration.test_delivery_town import near_canteen, town  # noqa: F401  (fixture)

RIGHT_PICKUP, RIGHT_HANDOVER = "246810", "1357"


def _carrying(town, name="v"):
    volunteer_id, who = town.volunteer(name, near_canteen(100))
    task = town.order()
    [offer] = town.offers(who)
    town.call("POST", f"/offers/{offer['id']}/accept", who)
    town.call("POST", f"/tasks/{task['_id']}/pickup", who, {"code": RIGHT_PICKUP})
    return task["_id"], volunteer_id, who


def test_a_hand_over_code_guessed_one_by_one_locks_after_five_and_the_coordinator_is_alerted(town):
    task_id, _, who = _carrying(town)
    guesses = (f"{n:04d}" for n in range(10_000) if f"{n:04d}" != RIGHT_HANDOVER)
    answers = []
    for guess in guesses:
        response = town.http.post(f"/api/v1/delivery/tasks/{task_id}/deliver", headers=who, json={"code": guess})
        answers.append((response.status_code, response.get_json()["error"]))
        if response.status_code != 422:
            break
    assert [status for status, _ in answers] == [422] * codes.MAX_WRONG_CODES + [409]
    assert "4 tries left" in answers[0][1]["message"] and "1 try left" in answers[3][1]["message"]
    assert "locked" in answers[4][1]["message"] and "committee" in answers[4][1]["message"]
    assert answers[-1][1]["code"] == "code_locked"

    # the right code is refused now too: the odds of a guess were 5 in 10,000
    locked = town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": RIGHT_HANDOVER}, expect=409)
    assert locked["error"]["code"] == "code_locked" and "residents' committee" in locked["error"]["message"]
    assert town.task(task_id)["status"] == "picked_up" and town.events("delivery.task.delivered") == []
    [alert] = town.events("delivery.task.escalated")
    assert alert["task_id"] == task_id and alert["community_id"] == "lianxi" and "hand-over code" in alert["reason"]
    assert "code_attempts" not in town.call("GET", f"/tasks/{task_id}", town.coordinator)
    # the committee's board finds it locked in its list, and which code
    [listed] = [t for t in town.call("GET", "/tasks", town.coordinator)["items"] if t["id"] == task_id]
    assert listed["code_lock"]["kind"] == "handover" and listed["code_lock"]["at"]

    # the committee unlocks after calling the resident; the right code works again, from a clean count
    town.call("POST", f"/tasks/{task_id}/codes/unlock", who, expect=403)
    town.call("POST", f"/tasks/{task_id}/codes/unlock", town.coordinator)
    assert town.call("GET", f"/tasks/{task_id}", town.coordinator)["code_lock"] is None
    assert town.call("POST", f"/tasks/{task_id}/codes/unlock", town.coordinator, expect=409)["error"]["code"] == \
        "codes_not_locked"
    assert "4 tries left" in town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": "0000"},
                                       expect=422)["error"]["message"]
    assert town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": RIGHT_HANDOVER})["status"] == "delivered"


def test_twenty_guesses_at_once_count_exactly_five(town):
    task_id, _, who = _carrying(town)
    start, answers = threading.Barrier(20), [None] * 20

    def guess(i: int) -> None:
        client = town.app.test_client()
        start.wait()
        answers[i] = client.post(f"/api/v1/delivery/tasks/{task_id}/deliver", headers=who,
                                 json={"code": f"{9000 + i:04d}"})

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [409] * 15 + [422] * 5
    assert town.task(task_id)["code_attempts"] == {"handover": codes.MAX_WRONG_CODES}
    assert len(town.events("delivery.task.escalated")) == 1
    town.call("POST", f"/tasks/{task_id}/deliver", who, {"code": RIGHT_HANDOVER}, expect=409)


def test_the_pickup_code_locks_too_and_the_coordinator_can_still_confirm_the_hand_over(town):
    volunteer_id, who = town.volunteer("v", near_canteen(100))
    task = town.order()
    [offer] = town.offers(who)
    town.call("POST", f"/offers/{offer['id']}/accept", who)
    for n in range(codes.MAX_WRONG_CODES):
        town.call("POST", f"/tasks/{task['_id']}/pickup", who, {"code": f"{n:06d}"}, expect=422)
    assert town.call("POST", f"/tasks/{task['_id']}/pickup", who, {"code": RIGHT_PICKUP},
                     expect=409)["error"]["code"] == "code_locked"
    assert "pickup code" in town.events("delivery.task.escalated")[0]["reason"]
    town.call("POST", f"/tasks/{task['_id']}/codes/unlock", town.coordinator)
    town.call("POST", f"/tasks/{task['_id']}/pickup", who, {"code": RIGHT_PICKUP})
    for n in range(codes.MAX_WRONG_CODES):
        town.call("POST", f"/tasks/{task['_id']}/deliver", who, {"code": f"{n:04d}"}, expect=422)
    done = town.call("POST", f"/tasks/{task['_id']}/deliver", town.coordinator,
                     {"override_reason": "I called Mrs Wang: she has her lunch; her code card was smudged"})
    assert done["status"] == "delivered" and town.events("delivery.task.delivered")[0]["volunteer_id"] == volunteer_id
