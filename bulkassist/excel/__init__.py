"""The Excel add-in: validate, fix and submit inside the user's own workbook (xlwings).

Each command takes the workbook (`book: xw.Book`) and works the same under the
classic desktop add-in, xlwings Server and xlwings Lite:

- `validate(book)`: fill invalid cells (errors red, warnings amber), a note with
  the message and "Suggested: X", dropdowns on select-list columns, summary;
- `apply_suggestions(book)`: write every safe fix, mark it, revalidate;
- `refresh_lists(book)`: fetch the select lists from the server again;
- `validate_on_server(book)`: the server's review painted, what committing would change listed on a
  Changes sheet and the changed cells marked (nothing committed);
- `submit(book)`: review + commit through the server, results next to each row;
- `clear_marks(book)`, `new_from_template(book)`;
- `dispatch(tag)`: what the ribbon calls (see `addin/`).

The workbook layout is described in `settings.py` and `datasheet.py`.
"""

from bulkassist.excel.commands import (
    apply_suggestions,
    clear_marks,
    new_from_template,
    refresh_lists,
    submit,
    validate,
    validate_on_server,
)
from bulkassist.excel.config import load_config
from bulkassist.excel.dispatch import COMMANDS, dispatch

__all__ = [
    "COMMANDS",
    "apply_suggestions",
    "clear_marks",
    "dispatch",
    "load_config",
    "new_from_template",
    "refresh_lists",
    "submit",
    "validate",
    "validate_on_server",
]
