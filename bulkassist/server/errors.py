"""API errors: one JSON shape, `{"error": {"code", "message"}, "detail"}`, for every 4xx.

The client maps `code` (and the status) onto `bulkassist.errors`; the
message is written for the person who will read it and says what to do.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}, "detail": self.message}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found in your organisation")


def conflict(message: str, **extra: Any) -> ApiError:
    return ApiError(409, "conflict", message, **extra)


def bad_request(message: str, **extra: Any) -> ApiError:
    return ApiError(400, "bad_request", message, **extra)
