"""Event types used only by the plumbing's own tests."""
from marshmallow import fields

from .common import Data


class ThingHappened(Data):
    n = fields.Integer(required=True)


EVENTS = {"test.thing.happened": ThingHappened}
