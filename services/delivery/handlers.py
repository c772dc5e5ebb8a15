"""Delivery's event handlers: a task for each paid delivered order, dispatch when it is ready,
the task closed when the order is cancelled, a failed task sent out again when the coordinator
asks. Each runs inside linli.consumer.apply_once's transaction, and each is written to change
nothing when its event comes twice. Reviews of volunteers arrive from catalog and make their
average rating."""
from __future__ import annotations

from datetime import datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli.unit import Unit
from linli.ids import new_id, utcnow

from . import dispatch, domain, store


def on_order_paid(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    data = event["data"]
    if data["fulfilment"] != "delivered":
        return
    if store.task_of_order(db, data["order_id"], session):
        return
    task = {
        "_id": new_id("tsk"), "order_id": data["order_id"], "status": "waiting", "meal_ready": False,
        "resident_id": data["resident_id"], "provider_id": data["provider_id"],
        "pickup": data["pickup"], "dropoff": data["dropoff"], "items": data["items"],
        "slot_start": datetime.fromisoformat(data["slot_start"]), "slot_end": datetime.fromisoformat(data["slot_end"]),
        "codes": {"pickup": data["pickup_code"], "handover": data["handover_code"]},
        "volunteer_id": None, "offer": None, "offers_made": 0, "ladder": {"singles": 0, "broadcasts": 0},
        "passed_over": [], "created_at": utcnow(),
    }
    store.insert_task(db, session, task)
    store.emit(db, session, task["_id"], "delivery.task.created", {"task_id": task["_id"], "order_id": task["order_id"]})


def on_order_ready(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    order_id = event["data"]["order_id"]
    task = store.task_of_order(db, order_id, session)
    if task is None:
        raise LookupError(f"no task yet for order {order_id}")  # paid not handled yet: retried later
    now = utcnow()
    store.mark_meal_ready(db, session, task["_id"], now)
    if store.move_task(db, session, task["_id"], "waiting", {"$set": {"status": "ready"}}):
        dispatch.dispatch_task(db, session, task["_id"], now)


def on_order_cancelled(u: Unit, event: dict) -> None:
    db, session = u.db, u.session
    task = store.task_of_order(db, event["data"]["order_id"], session)
    if task is None or task["status"] not in domain.UNHELD_STATES + domain.HELD_STATES:
        return
    now = utcnow()
    if not store.move_task(db, session, task["_id"], task["status"],
                           {"$set": {"status": "cancelled", "cancelled_at": now, "offer": None}}):
        return
    store.withdraw_offers(db, session, [task["_id"]], now)
    if task["status"] == "offered":
        # the other meals of a batch offered with this one go back on the ladder at once, to travel
        # alone or in another batch, rather than wait for the withdrawn offer to lapse
        store.close_round(db, session, task["offer"]["round"], "withdrawn", now)
        for sibling_id in task["offer"]["task_ids"]:
            if sibling_id != task["_id"]:
                # conditional on the same round: a sibling that moved on meanwhile is left alone
                sibling = store.task(db, sibling_id, session)
                dispatch.end_round(db, session, {**sibling, "offer": task["offer"]}, [])
    if task["status"] in domain.HELD_STATES:
        store.change_load(db, session, task["volunteer_id"], -1)


def on_redelivery_requested(u: Unit, event: dict) -> None:
    """The coordinator chose to deliver a failed task again: it goes back on offer from the first rung, or,
    when the kitchen makes the meal again, waits for orders.order.ready as a new task does."""
    db, session = u.db, u.session
    data = event["data"]
    task = store.task_of_order(db, data["order_id"], session)
    if task is None or task["status"] != "failed":
        return  # already sent out again (this event came twice), or cancelled meanwhile
    now = utcnow()
    remake = data.get("remake", False)
    if store.send_out_again(db, session, task, data["dropoff"], now, remake) and task.get("meal_ready") and not remake:
        dispatch.dispatch_task(db, session, task["_id"], now)


def on_review_posted(u: Unit, event: dict) -> None:
    """A resident's stars for the volunteer who carried the meal, kept with the date catalog lets it show;
    any review of the same order may bring that date forward (both sides have written)."""
    db, session = u.db, u.session
    data = event["data"]
    visible_from = datetime.fromisoformat(data["visible_from"])
    if data["direction"] == "resident_to_volunteer":
        store.keep_rating(db, session, {"_id": data["review_id"], "volunteer_id": data["subject_id"],
                                        "order_id": data["order_id"], "stars": data["stars"],
                                        "visible_from": visible_from})
    store.show_order_reviews_from(db, session, data["order_id"], visible_from)


HANDLERS = {
    "orders.order.paid": on_order_paid,
    "orders.order.ready": on_order_ready,
    "orders.order.cancelled": on_order_cancelled,
    "orders.order.redelivery_requested": on_redelivery_requested,
    "catalog.review.posted": on_review_posted,
}
