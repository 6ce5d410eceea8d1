"""One exception tree for every part of BulkAssist.

Messages name the file, row, column and value where there is one, and say
what to do about it.
"""

from __future__ import annotations


class BulkAssistError(Exception):
    """Base of every error BulkAssist raises on purpose."""


class FileFormatError(BulkAssistError):
    """The file cannot be read as a table (encoding, format, size, no header)."""


class TooManyRowsForExcel(FileFormatError):
    """The table has more rows than an Excel sheet holds (1,048,576): write CSV instead."""


class SchemaError(BulkAssistError):
    """The table does not fit the domain at all (wrong domain, operation or option)."""


class UnknownDomain(SchemaError):
    """No domain of that name exists (or is enabled)."""


class ServerError(BulkAssistError):
    """The import server answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, detail: object = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class ServerUnreachable(ServerError):
    """No answer from the import server."""


class AuthenticationFailed(ServerError):
    """The API token is missing, wrong or revoked."""


class PermissionDenied(ServerError):
    """The user's permission groups do not grant this."""


class NotLicensed(PermissionDenied):
    """Bulk import is a licensed feature the organisation does not have."""


class DomainNotEnabled(PermissionDenied):
    """The domain exists but is not enabled for this organisation (Payment in most environments)."""


class NotFound(ServerError):
    """The import, record or list does not exist (or belongs to another organisation)."""


class Conflict(ServerError):
    """The import is not in a state that allows this (e.g. committing a cancelled import)."""


class UsageLimitExceeded(ServerError):
    """Committing would exceed the organisation's licensed import usage."""


class PayloadTooLarge(ServerError):
    """A batch or file is larger than the server accepts."""
