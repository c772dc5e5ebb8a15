"""Event types used only by the plumbing's own tests."""
from marshmallow import fields

from .common import Builder, Data, registry


class ThingHappened(Data):
    n = fields.Integer(required=True)


thing_happened = Builder("test.thing.happened", ThingHappened)

EVENTS = registry(thing_happened)
