"""The one error shape of the public HTTP contract: {"error": {"code", "message", "details"}}."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by a route or a rule to answer with a status, a stable code and a sentence a person can read."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found.")


def conflict(message: str, **details: Any) -> ApiError:
    return ApiError(409, "conflict", message, details)


def forbidden(message: str = "You are not allowed to do this.") -> ApiError:
    return ApiError(403, "forbidden", message)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_failed", f"{field}: {message}", {field: [message]})


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}
