"""Orders' event handlers: the saga's steps that other services' events move."""
from . import saga

HANDLERS = {
    "catalog.reservation.confirmed": saga.on_reservation_confirmed,
    "catalog.reservation.rejected": saga.on_reservation_rejected,
    "delivery.task.assigned": saga.on_task_assigned,
    "delivery.task.picked_up": saga.on_task_picked_up,
    "delivery.task.delivered": saga.on_task_delivered,
    "delivery.task.failed": saga.on_task_failed,
}
