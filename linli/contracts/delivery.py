"""Events delivery publishes (routing key = type). Edit only with the delivery service."""
from marshmallow import fields, validate

from .common import Data


class TaskRef(Data):
    task_id = fields.String(required=True)
    order_id = fields.String(required=True)


class TaskOffered(TaskRef):
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
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


class VolunteerVerified(Data):
    volunteer_id = fields.String(required=True)
    account_id = fields.String(required=True)


EVENTS = {
    "delivery.task.created": TaskRef,
    "delivery.task.offered": TaskOffered,
    "delivery.task.assigned": TaskWithVolunteer,
    "delivery.task.picked_up": TaskWithVolunteer,
    "delivery.task.delivered": TaskDelivered,
    "delivery.task.failed": TaskFailed,
    "delivery.task.escalated": TaskEscalated,
    "delivery.task.welfare_check": WelfareCheck,
    "delivery.volunteer.verified": VolunteerVerified,
}
