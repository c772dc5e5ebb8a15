"""Notify's routes under /api/v1/notify: the inbox (inbox.py) and the live stream (stream.py)."""
from flask_smorest import Blueprint

blp = Blueprint("notify", __name__, url_prefix="/api/v1/notify",
                description="Each person's messages: inbox, unread count, live stream, preferences")

from . import inbox, stream  # noqa: E402,F401  (routes register on blp)
