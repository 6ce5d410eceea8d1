"""BulkAssist: validate, fix and submit bulk-import spreadsheets against one rule set.

    import bulkassist
    report = bulkassist.validate("clients.xlsx", domain="client", operation="add")
    report.summary            # {'total': .., 'valid': .., 'errors': .., 'skipped': ..}
    report.styled()           # colour-coded pandas Styler in a notebook
    client = bulkassist.Client(url, token)
    imp = client.start_import("clients.xlsx", domain="client", operation="add_update")
"""

from bulkassist import schema
from bulkassist.client import Client, Import
from bulkassist.domains import all_domains, get_domain
from bulkassist.engine.report import Report
from bulkassist.engine.selectlists import StaticLists, demo_lists
from bulkassist.engine.validation import validate
from bulkassist.errors import (
    AuthenticationFailed,
    BulkAssistError,
    Conflict,
    DomainNotEnabled,
    FileFormatError,
    FileTooLarge,
    InvalidRequest,
    InvalidToken,
    Locked,
    MalformedRequest,
    NotFound,
    NotLicensed,
    PayloadTooLarge,
    PermissionDenied,
    SchemaError,
    ServerError,
    ServerUnreachable,
    UnknownDomain,
    UsageLimitExceeded,
)
from bulkassist.io.reading import Table, read_table
from bulkassist.spec import Domain, Field, Kind, Option
from bulkassist.status import ImportStatus, RowAction, RowStatus

__all__ = [
    "AuthenticationFailed", "BulkAssistError", "Client", "Conflict", "Domain", "DomainNotEnabled", "Field",
    "FileFormatError", "FileTooLarge", "Import", "ImportStatus", "InvalidRequest", "InvalidToken", "Kind", "Locked", "MalformedRequest", "NotFound",
    "NotLicensed", "Option", "PayloadTooLarge", "PermissionDenied", "Report", "RowAction", "RowStatus",
    "SchemaError", "ServerError", "ServerUnreachable", "StaticLists", "Table", "UnknownDomain",
    "UsageLimitExceeded", "all_domains", "demo_lists", "get_domain", "read_table", "schema", "validate",
]
