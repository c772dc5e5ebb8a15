"""What rules and commands raise when they refuse: plain exceptions that know nothing of HTTP.

The web layer maps each to the one HTTP error shape (linli.web); the consumer treats them like
any other failure of a handler. A refusal is a sentence written for the person who asked,
per action — never built from a verb by grammar.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a person can read: `code` is stable for programs, `message` is for people."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class RuleBroken(DomainError):
    """The input breaks a rule; `field` names what to change (HTTP 422)."""

    code = "validation_failed"

    def __init__(self, field: str, message: str, *, code: str | None = None):
        super().__init__(f"{field}: {message}", code=code)
        self.field = field
        self.problem = message
        self.details = {field: [message]}


class Conflict(DomainError):
    """The request is well formed, but the state of things refuses it now (HTTP 409)."""

    code = "conflict"


class NotFound(DomainError):
    """No such thing — or none this person may see, which must look the same (HTTP 404)."""

    code = "not_found"

    def __init__(self, what: str):
        super().__init__(f"{what} was not found.")


class Forbidden(DomainError):
    """This person may not do this at all (HTTP 403)."""

    code = "forbidden"

    def __init__(self, message: str = "You are not allowed to do this."):
        super().__init__(message)


class IllegalMove(Conflict):
    """A state machine refuses a move from the current state (HTTP 409, the current state in details)."""

    code = "illegal_transition"

    def __init__(self, current: str, message: str, *, code: str | None = None):
        super().__init__(message, code=code, current_status=current)
        self.current = current


HTTP_STATUS = {RuleBroken: 422, IllegalMove: 409, Conflict: 409, NotFound: 404, Forbidden: 403}


def http_status(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return 409
