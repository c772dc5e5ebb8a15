"""Delivery's event handlers: a task for each paid delivered order, dispatch when it is ready."""
from __future__ import annotations

from datetime import datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database

from linli.ids import new_id, utcnow

from . import dispatch, store


def on_order_paid(db: Database, session: ClientSession, event: dict) -> None:
    data = event["data"]
    if data["fulfilment"] != "delivered":
        return
    if db.tasks.find_one({"order_id": data["order_id"]}, {"_id": 1}, session=session):
        return
    task = {
        "_id": new_id("tsk"), "order_id": data["order_id"], "status": "waiting",
        "pickup": data["pickup"], "dropoff": data["dropoff"], "items": data["items"],
        "slot_start": datetime.fromisoformat(data["slot_start"]), "slot_end": datetime.fromisoformat(data["slot_end"]),
        "codes": {"pickup": data["pickup_code"], "handover": data["handover_code"]},
        "volunteer_id": None, "offer": None, "offers_made": 0, "passed_over": [], "created_at": utcnow(),
    }
    db.tasks.insert_one(task, session=session)
    store.emit(db, session, task["_id"], "delivery.task.created", {"task_id": task["_id"], "order_id": task["order_id"]})


def on_order_ready(db: Database, session: ClientSession, event: dict) -> None:
    order_id = event["data"]["order_id"]
    task = db.tasks.find_one({"order_id": order_id}, session=session)
    if task is None:
        raise LookupError(f"no task yet for order {order_id}")  # paid not handled yet: retried later
    if db.tasks.update_one({"_id": task["_id"], "status": "waiting"}, {"$set": {"status": "ready", "ready_at": utcnow()}},
                           session=session).modified_count:
        dispatch.offer_next(db, session, {**task, "status": "ready"}, utcnow())


def on_order_cancelled(db: Database, session: ClientSession, event: dict) -> None:
    order_id = event["data"]["order_id"]
    task = db.tasks.find_one({"order_id": order_id}, session=session)
    if task is None or task["status"] not in ("waiting", "ready", "offered", "assigned"):
        return
    db.tasks.update_one({"_id": task["_id"]}, {"$set": {"status": "cancelled", "cancelled_at": utcnow()}},
                        session=session)
    db.offers.update_many({"task_id": task["_id"], "status": "pending"}, {"$set": {"status": "withdrawn"}},
                          session=session)
    if task.get("volunteer_id"):
        db.volunteers.update_one({"_id": task["volunteer_id"]}, {"$inc": {"active_tasks": -1}}, session=session)


HANDLERS = {
    "orders.order.paid": on_order_paid,
    "orders.order.ready": on_order_ready,
    "orders.order.cancelled": on_order_cancelled,
}
