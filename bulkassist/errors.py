"""One exception tree for every part of BulkAssist.

Messages name the file, row, column and value where there is one, and say
what to do about it.

The tree is also the server's error vocabulary. Each class knows the HTTP
status and the error `code` the import server answers with when one of its
services raises it (`{"error": {"code", "message", ...}, "detail"}`), and the
client turns that answer back into the same class with `error_class`: one
table, read in both directions.
"""

from __future__ import annotations

from typing import Any, ClassVar

# error code -> the class that answers with it, filled as the classes below are defined
# (a parent before its children, so the first class with a status is the most general).
_BY_CODE: dict[str, type[BulkAssistError]] = {}


class BulkAssistError(Exception):
    """Base of every error BulkAssist raises on purpose.

    `fields` are further members of the server's error answer (e.g. `usage`). An error
    without a status of its own is, on the server, the server's own failure: 500.
    """

    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "server_error"

    def __init__(self, message: str = "", **fields: Any):
        super().__init__(message)
        self.fields = fields

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in vars(cls):
            if cls.code in _BY_CODE:
                raise TypeError(f"error code {cls.code!r} of {cls.__name__} is {_BY_CODE[cls.code].__name__}'s")
            _BY_CODE[cls.code] = cls


class FileFormatError(BulkAssistError):
    """The file cannot be read as a table (encoding, format, size, no header)."""


class TooManyRowsForExcel(FileFormatError):
    """The table has more rows than an Excel sheet holds (1,048,576): write CSV instead."""


class SchemaError(BulkAssistError):
    """The table does not fit the domain at all (wrong domain, operation or option)."""


class UnknownDomain(SchemaError):
    """No domain of that name exists (or is enabled)."""

    http_status = 404
    code = "unknown_domain"


class ServerError(BulkAssistError):
    """The import server refused a request or failed (raised by its services; the client raises the
    same class when it gets the answer, with the answer's `status` and body as `detail`)."""

    code = "server_error"

    def __init__(self, message: str, status: int | None = None, detail: object = None, **fields: Any):
        super().__init__(message, **fields)
        self.status = status
        self.detail = detail


class ServerUnreachable(ServerError):
    """No answer from the import server."""


class InvalidRequest(ServerError):
    """The request cannot be acted on as sent (a missing or malformed value, an unknown column)."""

    http_status = 400
    code = "bad_request"


class MalformedRequest(InvalidRequest):
    """The request does not match the API's OpenAPI document (JSON that does not parse, a missing member, a
    value of the wrong type or out of range): the server answers 422."""

    http_status = 422
    code = "invalid_request"


class AuthenticationFailed(ServerError):
    """The API token is missing, wrong or revoked."""

    http_status = 401
    code = "not_authenticated"


class InvalidToken(AuthenticationFailed):
    """The API token is unknown or revoked."""

    code = "invalid_token"


class SignInFailed(AuthenticationFailed):
    """The user name and password (or the API token) given to sign in do not match: one answer for a wrong
    name and a wrong password, so a caller cannot learn which names exist."""

    code = "sign_in_failed"


class SessionExpired(AuthenticationFailed):
    """The sign-in session has expired or was ended (signed out, password changed): sign in again."""

    code = "session_expired"


class PermissionDenied(ServerError):
    """The user's permission groups do not grant this."""

    http_status = 403
    code = "permission_denied"


class NotLicensed(PermissionDenied):
    """Bulk import is a licensed feature the organisation does not have."""

    code = "not_licensed"


class DomainNotEnabled(PermissionDenied):
    """The domain exists but is not enabled for this organisation (Payment in most environments)."""

    code = "domain_not_enabled"


class NotFound(ServerError):
    """The import, record or list does not exist (or belongs to another organisation)."""

    http_status = 404
    code = "not_found"


class Conflict(ServerError):
    """The import is not in a state that allows this (e.g. committing a cancelled import)."""

    http_status = 409
    code = "conflict"


class Locked(Conflict):
    """The domain's importer is locked (course records, seed 004) until a site admin unlocks it."""

    http_status = 423
    code = "locked"


class UndoExpired(Conflict):
    """The import committed longer ago than the organisation's undo retention period."""

    code = "undo_expired"


class PayloadTooLarge(ServerError):
    """A batch or file is larger than the server accepts."""

    http_status = 413
    code = "payload_too_large"


class FileTooLarge(PayloadTooLarge):
    """A file is over its domain's file limit (seed 002: Registration & Certification files under 2 MB):
    refused by the client before uploading and by the server, with the same message naming both sizes."""

    code = "file_too_large"


class UsageLimitExceeded(ServerError):
    """Committing would exceed the organisation's licensed import usage."""

    http_status = 429
    code = "usage_limit_exceeded"


class TooManySignInAttempts(ServerError):
    """Too many failed sign-ins for one user name in a short time: that name is refused for a while."""

    http_status = 429
    code = "too_many_sign_in_attempts"


def error_class(code: str, status: int) -> type[BulkAssistError]:
    """The class of an error answer: by its `code`; an answer without a known code (a proxy's 413,
    a gateway's 502) by its `status`, as the most general server error answering with it."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    return next((cls for cls in _BY_CODE.values() if issubclass(cls, ServerError) and cls.http_status == status),
                ServerError)
