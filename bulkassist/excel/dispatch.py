"""One entry for every ribbon button: the button's Tag names the command.

The add-in's single VBA callback runs
``RunPython "import bulkassist.excel as b; b.dispatch('<tag>')"``, so a new
button is a new row in `COMMANDS` plus a line of ribbon XML — never a binary
VBA edit. xlwings Lite and xlwings Server call the same functions directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bulkassist.excel.columns import map_columns
from bulkassist.excel.commands import (
    TITLE,
    apply_suggestions,
    clear_marks,
    new_from_template,
    refresh_lists,
    validate,
    validate_on_server,
)
from bulkassist.excel.importing import (
    cancel_import,
    confirm_import,
    download_results,
    import_history,
    retry_failed,
    submit,
)

COMMANDS: dict[str, Callable[[Any], Any]] = {
    "validate": validate,
    "apply_suggestions": apply_suggestions,
    "map_columns": map_columns,
    "refresh_lists": refresh_lists,
    "validate_server": validate_on_server,
    "submit": submit,
    "confirm_import": confirm_import,
    "cancel_import": cancel_import,
    "retry_failed": retry_failed,
    "import_history": import_history,
    "download_results": download_results,
    "clear_marks": clear_marks,
    "new_from_template": new_from_template,
}


def dispatch(tag: str, book: Any = None) -> Any:
    """Run the command a ribbon button's Tag names, on `book` (default: the workbook that called)."""
    if book is None:
        import xlwings as xw  # the [excel] extra: only the desktop add-in's caller; Lite and Server pass the book

        book = xw.Book.caller()
    command = COMMANDS.get(tag.strip().lower())
    if command is None:
        book.app.alert(
            f"The ribbon button's Tag {tag!r} is not a BulkAssist command; known tags: {', '.join(COMMANDS)}. "
            f"Update the add-in and the bulkassist package to the same version.",
            title=TITLE, buttons="ok", mode="critical",
        )
        return None
    return command(book)
