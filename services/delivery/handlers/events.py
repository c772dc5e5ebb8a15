"""What delivery does when events arrive: a task for each paid delivered order, dispatch when it is
ready, the task closed when the order is cancelled, a failed task sent out again when the
coordinator asks. Each runs in the unit the consumer runner hands it (its transaction also records
the inbox entry), and each is written to change nothing when its event comes twice. Reviews of
volunteers arrive from catalog and make their average rating."""
from __future__ import annotations

from datetime import datetime, timedelta

from linli.contracts import delivery as contract
from linli.ids import new_id
from linli.unit import Unit

from .. import store
from ..rules import domain, ladder
from . import dispatch


def on_order_paid(u: Unit, event: dict, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> None:
    data = event["data"]
    if data.get("fulfilment", "delivered") != "delivered":  # orders sends only meals to carry
        return
    if store.task_of_order(u, data["order_id"]):
        return
    task = {
        "_id": new_id("tsk"), "order_id": data["order_id"], "status": "waiting", "meal_ready": False,
        "resident_id": data["resident_id"], "provider_id": data["provider_id"],
        "pickup": data["pickup"], "dropoff": data["dropoff"], "items": data["items"],
        "slot_start": datetime.fromisoformat(data["slot_start"]), "slot_end": datetime.fromisoformat(data["slot_end"]),
        "codes": {"pickup": data["pickup_code"], "handover": data["handover_code"]},
        "code_attempts": {}, "code_lock": None,
        "volunteer_id": None, "offer": None, "offers_made": 0, "ladder": {"singles": 0, "broadcasts": 0},
        "passed_over": [], "created_at": u.now,
    }
    store.insert_task(u, task)
    u.emit(contract.task_created(task_id=task["_id"], order_id=task["order_id"]), f"task:{task['_id']}")


def on_order_ready(u: Unit, event: dict, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> None:
    order_id = event["data"]["order_id"]
    task = store.task_of_order(u, order_id)
    if task is None:
        raise LookupError(f"no task yet for order {order_id}")  # paid not handled yet: retried later
    store.mark_meal_ready(u, task["_id"])
    if store.move_task(u, task["_id"], "meal_ready"):
        dispatch.dispatch_task(u, task["_id"], offer_timeout)


def on_order_cancelled(u: Unit, event: dict, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> None:
    task = store.task_of_order(u, event["data"]["order_id"])
    if task is None or task["status"] not in domain.sources_of("cancel"):
        return
    if not store.cancel_task(u, task):
        return
    dispatch.withdraw(u, [task["_id"]], "cancelled")
    if task["status"] == "offered":
        # the other meals of a batch offered with this one go back on the ladder at once, to travel
        # alone or in another batch, rather than wait for the withdrawn offer to lapse
        store.close_round(u, task["offer"]["round"], "withdrawn")
        for sibling_id in task["offer"]["task_ids"]:
            if sibling_id != task["_id"]:
                # conditional on the same round: a sibling that moved on meanwhile is left alone
                sibling = store.task(u, sibling_id)
                dispatch.end_round(u, {**sibling, "offer": task["offer"]}, [])
    if task["status"] in domain.HELD_STATES:
        store.change_load(u, task["volunteer_id"], -1)


def on_redelivery_requested(u: Unit, event: dict, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> None:
    """The coordinator chose to deliver a failed task again: it goes back on offer from the first rung, or,
    when the kitchen makes the meal again, waits for orders.order.ready as a new task does."""
    data = event["data"]
    task = store.task_of_order(u, data["order_id"])
    if task is None or task["status"] not in domain.sources_of("send_out_again"):
        return  # already sent out again (this event came twice), or cancelled meanwhile
    remake = data.get("remake", False)
    if store.send_out_again(u, task, data["dropoff"], remake) and task.get("meal_ready") and not remake:
        dispatch.dispatch_task(u, task["_id"], offer_timeout)


def on_review_posted(u: Unit, event: dict, offer_timeout: timedelta = ladder.OFFER_TIMEOUT) -> None:
    """A resident's stars for the volunteer who carried the meal, kept with the date catalog lets it show;
    any review of the same order may bring that date forward (both sides have written)."""
    data = event["data"]
    visible_from = datetime.fromisoformat(data["visible_from"])
    if data["direction"] == "resident_to_volunteer":
        store.keep_rating(u, {"_id": data["review_id"], "volunteer_id": data["subject_id"],
                              "order_id": data["order_id"], "stars": data["stars"], "visible_from": visible_from})
    store.show_order_reviews_from(u, data["order_id"], visible_from)


BY_TYPE = {
    "orders.delivery.requested": on_order_paid,  # a paid meal to carry (orders.order.paid carries no address)
    "orders.order.ready": on_order_ready,
    "orders.order.cancelled": on_order_cancelled,
    "orders.order.redelivery_requested": on_redelivery_requested,
    "catalog.review.posted": on_review_posted,
}
