"""The one error type, rendered as PocketBase's `{"data":{…},"message":"…","status":N}` body."""

from __future__ import annotations

from typing import Any


def sentenize(message: str) -> str:
    """Uppercase the first letter and end with a dot, as PocketBase does to every message."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


class ApiError(Exception):
    def __init__(self, status: int, message: str, data: dict[str, Any] | None = None, details: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = sentenize(message)
        self.data = data or {}
        self.details = details  # for the request log only: the reference's raw error behind the answer

    def body(self) -> dict[str, Any]:
        return {"data": self.data, "message": self.message, "status": self.status}


def bad_request(message: str = "Something went wrong while processing your request.", data=None) -> ApiError:
    return ApiError(400, message, data)


def forbidden(message: str = "You are not allowed to perform this request.") -> ApiError:
    return ApiError(403, message)


def not_found(message: str = "The requested resource wasn't found.") -> ApiError:
    return ApiError(404, message)


def too_large() -> ApiError:
    return ApiError(413, "Request entity too large.")


def field_error(code: str, message: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One entry of an error's `data`: `params` only appears when it has something in it."""
    item: dict[str, Any] = {"code": code, "message": message}
    if params:
        item["params"] = params
    return item
