"""The names of an import's life cycle and of each row's fate, shared by the server and every front end.

The enums are `str`-valued (`ImportStatus.COMMITTED == "Committed"`), so what the
server stores and sends, and what a results file says, is the text the seeds use;
a value read back from the database or JSON compares equal to its member. This
module imports nothing of BulkAssist: the client, Excel, the dashboard and the CLI
use it without the server.

The life cycle of an import (seed 000; `TRANSITIONS` is the whole diagram, the
server's `lifecycle.transition` refuses anything else):

    Created -> Uploading -> Validating -> Validated | ValidationFailed -> Committing -> Committed | CommitFailed
    Validating -> Uploading (the rows could not be validated: the message says why)
    any status before Committed -> Cancelled          CommitFailed -> Committing (retry)
    Committed | CommitFailed | Cancelled (rows written) -> Reverting -> Reverted | PartlyReverted
    PartlyReverted -> Reverting (undo again, e.g. forced over the conflicts)
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10 has no StrEnum: the same behaviour (str() is the value), which the seeds' texts rely on
    class StrEnum(str, Enum):
        def __str__(self) -> str:
            return str(self.value)


class ImportStatus(StrEnum):
    """Where an import is in its life cycle; the seed names the four an import ends in (`FINAL`)."""

    CREATED = "Created"
    UPLOADING = "Uploading"
    VALIDATING = "Validating"  # a job is validating the uploaded rows (the client polls)
    VALIDATED = "Validated"  # at least one row can be imported (rows with errors are skipped)
    VALIDATION_FAILED = "ValidationFailed"  # nothing can be imported; editing a row can bring it back
    COMMITTING = "Committing"  # a worker is writing the valid rows
    COMMITTED = "Committed"
    COMMIT_FAILED = "CommitFailed"  # rows failed while writing, or the worker died; retry writes the rest
    CANCELLED = "Cancelled"  # rows committed before the cancel stay committed
    REVERTING = "Reverting"  # a worker is undoing what the import wrote
    REVERTED = "Reverted"  # everything the import wrote is undone
    PARTLY_REVERTED = "PartlyReverted"  # undone except records changed since (conflicts), left as they are


class RowAction(StrEnum):
    """What validation decided for a row (the Action of the review and the results file)."""

    INSERT = "Insert"
    UPDATE = "Update"
    ERROR = "Error"  # the row has an error: it is not imported
    SKIP = "Skip"  # a blank row, or one a domain rule skips (a duplicate case under "Skip")
    # An Update whose every value equals the stored record's (blank cells keep stored values): the
    # commit writes nothing for it and it uses no usage allowance; the results file lists it.
    NO_CHANGE = "No change"


class RowStatus(StrEnum):
    """The Status of a row in the results file."""

    VALID = "Valid"  # before the commit: the row will be imported
    SUCCESS = "Success"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    NOT_IMPORTED = "Not Imported"  # a valid row the commit has not written (yet)
    CANCELLED = "Cancelled"  # a valid row left unwritten by a cancelled import


_S = ImportStatus
# Keyed by the status text as stored (a member equals its text), so `TRANSITIONS[imp.status]` works on a row.
TRANSITIONS: dict[str, frozenset[ImportStatus]] = {
    _S.CREATED: frozenset({_S.UPLOADING, _S.CANCELLED}),
    _S.UPLOADING: frozenset({_S.UPLOADING, _S.VALIDATING, _S.CANCELLED}),
    _S.VALIDATING: frozenset({_S.VALIDATED, _S.VALIDATION_FAILED, _S.UPLOADING, _S.CANCELLED}),
    _S.VALIDATED: frozenset({_S.VALIDATED, _S.VALIDATION_FAILED, _S.COMMITTING, _S.CANCELLED}),
    _S.VALIDATION_FAILED: frozenset({_S.VALIDATED, _S.VALIDATION_FAILED, _S.CANCELLED}),
    _S.COMMITTING: frozenset({_S.COMMITTED, _S.COMMIT_FAILED, _S.CANCELLED}),
    _S.COMMITTED: frozenset({_S.REVERTING}),
    _S.COMMIT_FAILED: frozenset({_S.COMMITTING, _S.CANCELLED, _S.REVERTING}),
    _S.CANCELLED: frozenset({_S.REVERTING}),
    _S.REVERTING: frozenset({_S.REVERTED, _S.PARTLY_REVERTED}),
    _S.REVERTED: frozenset(),
    _S.PARTLY_REVERTED: frozenset({_S.REVERTING}),
}

# The seed's four statuses an import ends in, in the seed's order (Import History offers them so):
# a client waiting for a commit stops at any of them.
FINAL: tuple[ImportStatus, ...] = (_S.COMMITTED, _S.VALIDATION_FAILED, _S.COMMIT_FAILED, _S.CANCELLED)
UPLOADABLE = frozenset({_S.CREATED, _S.UPLOADING})  # rows can still be uploaded
EDITABLE = frozenset({_S.VALIDATED, _S.VALIDATION_FAILED, _S.COMMIT_FAILED})  # rows can be edited and revalidated
FINISHED = frozenset({_S.COMMITTED, _S.COMMIT_FAILED, _S.CANCELLED})  # a commit ended, or the import was cancelled
VALID_ACTIONS = (RowAction.INSERT, RowAction.UPDATE)  # the rows a commit writes (No change rows are not)
UNDOABLE = frozenset({_S.COMMITTED, _S.COMMIT_FAILED, _S.CANCELLED, _S.PARTLY_REVERTED})  # may be undone
UNDONE = (_S.REVERTED, _S.PARTLY_REVERTED)  # an undo ended: a client waiting for one stops here


class UndoOutcome(StrEnum):
    """What an undo did to one record the import wrote (the Outcome of the undo's results file)."""

    REMOVED = "Removed"  # a record the import inserted, deleted
    RESTORED = "Restored"  # a record the import updated, its fields back to their values before
    CONFLICT = "Conflict"  # changed since (a later import or edit): left as it is
    GONE = "Gone"  # no longer exists: nothing to undo
    PENDING = "Pending"  # not undone yet (the undo is running)
