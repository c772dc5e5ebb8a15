"""Events delivery publishes (routing key = type). Edit only with the delivery service."""
from marshmallow import fields

from .common import Data


class TaskRef(Data):
    task_id = fields.String(required=True)
    order_id = fields.String(required=True)


class TaskOffered(TaskRef):
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    expires_at = fields.String(required=True)
    distance_m = fields.Float(required=True)


class TaskWithVolunteer(TaskRef):
    volunteer_id = fields.String(required=True)


class TaskDelivered(TaskWithVolunteer):
    minutes = fields.Integer(required=True)


class TaskFailed(TaskWithVolunteer):
    reason = fields.String(required=True)


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
    "delivery.volunteer.verified": VolunteerVerified,
}
