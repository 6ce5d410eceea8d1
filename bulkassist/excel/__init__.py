"""The Excel add-in: validate, fix and import inside the user's own workbook (xlwings).

Each command takes the workbook (`book: xw.Book`) and works the same under the
classic desktop add-in, xlwings Server and xlwings Lite:

- `validate(book)`: fill invalid cells (errors red, warnings amber), a note with
  the message and "Suggested: X", dropdowns on select-list columns, summary;
- `apply_suggestions(book)`: write every safe fix, mark it, revalidate;
- `map_columns(book)`: check and store the column mapping chosen on the BulkAssist sheet, and save it
  on the server (`columns.py`);
- `refresh_lists(book)`: fetch the select lists from the server again;
- `submit(book)`: the server's review, then the Confirm Import step (a sheet);
  `confirm_import(book)` commits it (results next to each row), `cancel_import(book)`,
  `retry_failed(book)`, `import_history(book)`, `download_results(book)` (`importing.py`);
- `validate_on_server(book)`: the server's review painted, what committing would change listed on a
  Changes sheet and the changed cells marked (nothing committed);
- `clear_marks(book)`, `new_from_template(book)`;
- `dispatch(tag)`: what the ribbon calls (see `addin/`).

The workbook layout is described in `settings.py` and `datasheet.py`.
"""

from bulkassist.excel.columns import map_columns
from bulkassist.excel.commands import (
    apply_suggestions,
    clear_marks,
    new_from_template,
    refresh_lists,
    validate,
    validate_on_server,
)
from bulkassist.excel.config import load_config
from bulkassist.excel.dispatch import COMMANDS, dispatch
from bulkassist.excel.importing import (
    cancel_import,
    confirm_import,
    download_results,
    import_history,
    retry_failed,
    submit,
)

__all__ = [
    "COMMANDS",
    "apply_suggestions",
    "cancel_import",
    "clear_marks",
    "confirm_import",
    "dispatch",
    "download_results",
    "import_history",
    "load_config",
    "map_columns",
    "new_from_template",
    "refresh_lists",
    "retry_failed",
    "submit",
    "validate",
    "validate_on_server",
]
