"""One marshmallow schema and one builder per event type, one module per producing service.

Each producer owns its module (catalog.py, orders.py, delivery.py, gateway.py): a schema per payload and one
builder per event type (`task_offered = Builder("delivery.task.offered", TaskOffered)`), its EVENTS made from
the builders. Producers emit only built events: `u.emit(contract.task_offered(task_id=..., ...), aggregate)`.
`linli.events.REGISTRY` joins the modules. A contract test checks every type published or consumed anywhere is
here, and that no producer spells a type string.
"""
from . import catalog, delivery, gateway, orders, testing

REGISTRY = {**catalog.EVENTS, **orders.EVENTS, **delivery.EVENTS, **gateway.EVENTS, **testing.EVENTS}
