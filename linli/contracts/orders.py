"""Events orders publishes (routing key = type). Edit only with the orders service."""
from marshmallow import fields, validate

from .common import Builder, Data, OrderRef, Point, registry

# The deadlines whose passing alerts the coordinator (orders.order.deadline_missed). Orders' deadline
# rules import this list, so the watcher can fire no kind this contract refuses.
MISSED_DEADLINE_KINDS = ("provider_answer", "ready_by", "remake_by")


class OrderPlaced(Data):
    order_id = fields.String(required=True)
    resident_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    listing_version = fields.Integer(required=True)
    provider_id = fields.String(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    slot_date = fields.String(required=True)
    slot = fields.String(required=True)
    amount_fen = fields.Integer(required=True, validate=validate.Range(min=0))


class OrderCancelled(OrderRef):
    reason = fields.String(required=True)
    by_role = fields.String(required=True)
    reservation_held = fields.Boolean(required=True)


class Place(Data):
    name = fields.String(required=True)
    address = fields.String(required=True)
    location = fields.Nested(Point, required=True)


class Contact(Data):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    relation = fields.String(load_default="")


class DropOff(Data):
    emergency_contact = fields.Nested(Contact)  # for a welfare check when nobody opens the door
    community_id = fields.String(required=True)
    building = fields.String(required=True)
    room = fields.String(required=True)
    phone = fields.String(required=True)
    contact_name = fields.String(required=True)
    location = fields.Nested(Point, required=True)


class Item(Data):
    title = fields.String(required=True)
    quantity = fields.Integer(required=True)


class Area(Data):
    """Where an order goes, without the person: the community alone."""
    community_id = fields.String(required=True)


class OrderPaid(OrderRef):
    """Heard by catalog, notify and anyone else: no address, phone, contact or code (those go to delivery alone,
    in orders.delivery.requested; docs/DESIGN.md, "Personal data in events")."""
    resident_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    fulfilment = fields.String(required=True, validate=validate.OneOf(["delivered", "on_site", "remote"]))
    amount_fen = fields.Integer(required=True)
    slot_start = fields.String(required=True)
    slot_end = fields.String(required=True)
    dropoff = fields.Nested(Area, required=True)
    items = fields.List(fields.Nested(Item), required=True)
    # the provider's answer deadline (orders' deadline rules): catalog's scorecard judges answers against it
    answer_by = fields.String(required=True)


class DeliveryRequested(OrderRef):
    """A paid meal to carry: what delivery alone needs to carry it (the resident's door, phone and emergency
    contact, the kitchen, both codes). Only delivery listens to it."""
    resident_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    slot_start = fields.String(required=True)
    slot_end = fields.String(required=True)
    pickup = fields.Nested(Place, required=True)
    dropoff = fields.Nested(DropOff, required=True)
    items = fields.List(fields.Nested(Item), required=True)
    pickup_code = fields.String(required=True)
    handover_code = fields.String(required=True)


class OrderAccepted(OrderRef):
    provider_id = fields.String(required=True)


class OrderReady(OrderRef):
    provider_id = fields.String(required=True)


class OrderCompleted(OrderRef):
    resident_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    volunteer_id = fields.String(required=True, allow_none=True)


class OrderAwaitingPayment(OrderRef):
    resident_id = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    expires_at = fields.String(required=True)


class OrderDeclined(OrderRef):
    provider_id = fields.String(required=True)
    reason = fields.String(required=True)


class OrderRefunded(OrderRef):
    refund_id = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    refunded_total_fen = fields.Integer(required=True)


class DeadlineMissed(OrderRef):
    kind = fields.String(required=True, validate=validate.OneOf(MISSED_DEADLINE_KINDS))
    due_at = fields.String(required=True)
    provider_id = fields.String(required=True)
    community_id = fields.String(required=True)


class RedeliveryRequested(OrderRef):
    """After delivery.task.failed the coordinator chose to deliver again: delivery puts the task back on offer."""
    task_id = fields.String(required=True, allow_none=True)
    attempt = fields.Integer(required=True, validate=validate.Range(min=2))
    reason = fields.String(required=True)
    # the corrected parts of the address, if any
    dropoff = fields.Nested(DropOff(only=("building", "room", "phone", "contact_name"), partial=True), required=True)
    community_id = fields.String(required=True)
    # the kitchen makes the meal again: delivery waits for orders.order.ready before offering it
    remake = fields.Boolean(load_default=False)


# One builder per event type this service emits (emit sites call these; the type is spelled only here).
order_placed = Builder("orders.order.placed", OrderPlaced)
order_awaiting_payment = Builder("orders.order.awaiting_payment", OrderAwaitingPayment)
order_paid = Builder("orders.order.paid", OrderPaid)
delivery_requested = Builder("orders.delivery.requested", DeliveryRequested)
order_accepted = Builder("orders.order.accepted", OrderAccepted)
order_declined = Builder("orders.order.declined", OrderDeclined)
order_ready = Builder("orders.order.ready", OrderReady)
order_service_done = Builder("orders.order.service_done", OrderReady)  # a job at home: the resident confirms it
order_completed = Builder("orders.order.completed", OrderCompleted)
order_cancelled = Builder("orders.order.cancelled", OrderCancelled)
order_refunded = Builder("orders.order.refunded", OrderRefunded)
order_deadline_missed = Builder("orders.order.deadline_missed", DeadlineMissed)
order_redelivery_requested = Builder("orders.order.redelivery_requested", RedeliveryRequested)

EVENTS = registry(
    order_placed, order_awaiting_payment, order_paid, delivery_requested, order_accepted, order_declined, order_ready,
    order_service_done, order_completed, order_cancelled, order_refunded, order_deadline_missed, order_redelivery_requested)
