"""Events delivery publishes (routing key = type). Edit only with the delivery service."""
from marshmallow import fields, validate

from .common import Builder, Data, registry


class TaskRef(Data):
    task_id = fields.String(required=True)
    order_id = fields.String(required=True)


class TaskOffered(TaskRef):
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    account_id = fields.String(required=True)  # the volunteer's account: whom notify tells, without a lookup
    expires_at = fields.String(required=True)
    distance_m = fields.Float(required=True)
    mode = fields.String(load_default="single", validate=validate.OneOf(["single", "broadcast"]))
    batch_size = fields.Integer(load_default=1, validate=validate.Range(min=1))


class TaskWithVolunteer(TaskRef):
    volunteer_id = fields.String(required=True)


class TaskDelivered(TaskWithVolunteer):
    minutes = fields.Integer(required=True)


class TaskFailed(TaskWithVolunteer):
    reason = fields.String(required=True)
    welfare_outcome = fields.String(load_default=None, allow_none=True)


class TaskEscalated(TaskRef):
    """No volunteer took the task in time: it waits on the coordinator's board to be assigned by hand."""
    reason = fields.String(required=True)
    community_id = fields.String(required=True)
    slot_end = fields.String(required=True)


class WelfareCheck(TaskWithVolunteer):
    """Nobody answered the door: the coordinator checks on the resident (emergency contact when known)."""
    community_id = fields.String(required=True)
    note = fields.String(required=True)
    # the emergency contact stays in delivery (the task, read by the coordinator): no listener needs it


class OfferWithdrawn(TaskRef):
    """An offer a volunteer held is no longer open: another volunteer took the task (or a coordinator assigned
    it), `taken`; or its order was cancelled, `cancelled`. One event per volunteer who held an offer."""
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    account_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["taken", "cancelled"]))


class VolunteerVerified(Data):
    volunteer_id = fields.String(required=True)
    account_id = fields.String(required=True)


class VolunteerRefused(Data):
    """The committee turned a volunteer down, with the reason the volunteer reads."""
    volunteer_id = fields.String(required=True)
    account_id = fields.String(required=True)
    reason = fields.String(required=True)


# One builder per event type this service emits (emit sites call these; the type is spelled only here).
task_created = Builder("delivery.task.created", TaskRef)
task_offered = Builder("delivery.task.offered", TaskOffered)
offer_withdrawn = Builder("delivery.offer.withdrawn", OfferWithdrawn)
task_assigned = Builder("delivery.task.assigned", TaskWithVolunteer)
task_picked_up = Builder("delivery.task.picked_up", TaskWithVolunteer)
task_delivered = Builder("delivery.task.delivered", TaskDelivered)
task_failed = Builder("delivery.task.failed", TaskFailed)
task_escalated = Builder("delivery.task.escalated", TaskEscalated)
task_welfare_check = Builder("delivery.task.welfare_check", WelfareCheck)
volunteer_verified = Builder("delivery.volunteer.verified", VolunteerVerified)
volunteer_refused = Builder("delivery.volunteer.refused", VolunteerRefused)

EVENTS = registry(
    task_created, task_offered, offer_withdrawn, task_assigned, task_picked_up, task_delivered, task_failed, task_escalated,
    task_welfare_check, volunteer_verified, volunteer_refused)
