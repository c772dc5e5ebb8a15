"""The gateway's thin routes: accounts and sign-in (`auth`, `accounts`), the tracking view, the pages and the
docs, and the proxy to the services. Routes parse with a schema, call one command or one store read, and
serialise; only they raise HTTP errors."""
from __future__ import annotations

from flask import current_app

from linli.unit import Units


def gateway():
    """The gateway the app was built with (bootstrap.build), kept in app.extensions by app.py."""
    return current_app.extensions["linli_gateway"]


def units() -> Units:
    return gateway().units


def database():
    return gateway().db
