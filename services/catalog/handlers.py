"""What events and timers do in catalog, each in the unit of work it is handed: capacity is reserved when
an order is placed and released when it is cancelled; what a provider's scorecard needs (when orders were
paid, answered, completed) is noted as orders report it; blind reviews are revealed by time."""
from __future__ import annotations

from datetime import date, datetime

from linli.contracts import catalog as contract
from linli.contracts.common import Event
from linli.unit import Unit

from . import store
from .rules import schedule


def _emit(u: Unit, event: Event, order_id: str) -> None:
    u.emit(event, f"reservation:{order_id}")


def on_order_placed(u: Unit, event: dict) -> None:
    data = event["data"]
    order_id = data["order_id"]
    if store.reservation(u, order_id):
        return  # one reservation per order, whatever arrives twice
    day = date.fromisoformat(data["slot_date"])
    listing = store.listing(u, data["listing_id"])
    provider = store.provider(u, listing["provider_id"]) if listing else None
    refusal = schedule.reservation_refusal(listing, provider, data["slot"], day, data["quantity"], u.now)
    record = {"_id": order_id, "listing_id": data["listing_id"], "date": day.isoformat(), "slot": data["slot"],
              "quantity": data["quantity"], "created_at": u.now}
    if refusal is None:
        capacity = schedule.listing_slot_day(listing, data["slot"], day).capacity
        taken, remaining = store.take_portions(u, listing["_id"], day, data["slot"], capacity, data["quantity"])
        if not taken:
            refusal = schedule.sold_out(data["slot"], day, remaining, data["quantity"])
    if refusal is not None:
        store.record_reservation(u, {**record, "status": "rejected", "code": refusal.code, "reason": refusal.reason})
        _emit(u, contract.reservation_rejected(order_id=order_id, code=refusal.code, reason=refusal.reason),
              order_id)
        return
    store.record_reservation(u, {**record, "status": "confirmed"})
    _emit(u, contract.reservation_confirmed(order_id=order_id, listing_id=listing["_id"], slot_date=day.isoformat(),
                                            slot=data["slot"], quantity=data["quantity"], remaining=remaining),
          order_id)


def on_order_cancelled(u: Unit, event: dict) -> None:
    order_id = event["data"]["order_id"]
    if event["data"]["by_role"] == "provider":  # a decline is an answer too
        store.note_order(u, order_id, set_={"answer": "declined"}, earliest={"answered_at": _at(event)})
    released = store.release_reservation(u, order_id)
    if released is None:
        # never held, already released, or rejected: nothing to give back. If the order's
        # placement has not arrived yet (a retry reordered them), leave a mark so it never holds a portion.
        store.mark_cancelled_before_reserved(u, order_id)
        return
    store.give_back_portions(u, released["listing_id"], date.fromisoformat(released["date"]), released["slot"],
                             released["quantity"])
    _emit(u, contract.reservation_released(order_id=order_id, quantity=released["quantity"]), order_id)


def _at(event: dict) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def on_order_paid(u: Unit, event: dict) -> None:
    """The provider's answer deadline runs from payment; orders decides it and says it (`answer_by`). The order's
    resident and provider are known from here on (who may review it, once it is completed)."""
    data = event["data"]
    store.note_order(u, data["order_id"], set_={"provider_id": data["provider_id"], "resident_id": data["resident_id"],
                                                "answer_by": datetime.fromisoformat(data["answer_by"])},
                     earliest={"paid_at": _at(event)})


def on_order_accepted(u: Unit, event: dict) -> None:
    data = event["data"]
    store.note_order(u, data["order_id"], set_={"provider_id": data["provider_id"], "answer": "accepted"},
                     earliest={"answered_at": _at(event)})


def on_order_completed(u: Unit, event: dict) -> None:
    """Opens the order for review by the people who took part in it."""
    data = event["data"]
    store.note_order(u, data["order_id"], set_={
        "provider_id": data["provider_id"], "resident_id": data["resident_id"], "listing_id": data["listing_id"],
        "volunteer_id": data["volunteer_id"]}, earliest={"completed_at": _at(event)})


def reveal_reviews(u: Unit) -> int:
    """The worker's timer: time alone reveals a blind review, and its stars then count in the provider's score."""
    return store.count_revealed(u)


HANDLERS = {
    "orders.order.placed": on_order_placed,
    "orders.order.cancelled": on_order_cancelled,
    "orders.order.paid": on_order_paid,
    "orders.order.accepted": on_order_accepted,
    "orders.order.completed": on_order_completed,
}
