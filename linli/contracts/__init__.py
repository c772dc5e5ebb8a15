"""One marshmallow schema per event type, one module per producing service.

Each producer owns its module (catalog.py, orders.py, delivery.py, gateway.py); `linli.events.REGISTRY`
joins them. A contract test checks every type published or consumed anywhere is here.
"""
from . import catalog, delivery, gateway, orders, testing

REGISTRY = {**catalog.EVENTS, **orders.EVENTS, **delivery.EVENTS, **gateway.EVENTS, **testing.EVENTS}
