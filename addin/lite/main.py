"""BulkAssist for xlwings Lite (Excel on the web, Windows and macOS without a local Python).

Paste this file into xlwings Lite's main.py tab and requirements.txt into its
requirements.txt tab. Each script below is one ribbon button of the desktop
add-in and calls the very same function (`bulkassist.excel`), which xlwings
Lite hands the workbook as `book`.

The import server is configured with the environment variables BULKASSIST_URL
and BULKASSIST_TOKEN in xlwings Lite's settings (never in the workbook); the
server must allow the add-in's origin (CORS). Without them, Validate and
Apply suggestions use the packaged demo select lists.
"""

import sys

import xlwings as xw

import bulkassist.excel as bx

if sys.platform == "emscripten":  # Pyodide: let `requests` (bulkassist.Client) use the browser's fetch
    import pyodide_http

    pyodide_http.patch_all()


@xw.script
def validate(book: xw.Book):
    """Fill invalid cells, add notes with suggestions and dropdowns, show a summary."""
    bx.validate(book)


@xw.script
def apply_suggestions(book: xw.Book):
    """Write every safe fix, mark it, and validate again."""
    bx.apply_suggestions(book)


@xw.script
def map_columns(book: xw.Book):
    """Check and store the column mapping chosen on the BulkAssist sheet; save it on the server."""
    bx.map_columns(book)


@xw.script
def refresh_lists(book: xw.Book):
    """Fetch the select lists from the import server again."""
    bx.refresh_lists(book)


@xw.script
def validate_server(book: xw.Book):
    """Validate against the import server; what committing would change on a Changes sheet."""
    bx.validate_on_server(book)


@xw.script
def submit(book: xw.Book):
    """The server's review, then the Confirm Import step on the BulkAssist Confirm sheet."""
    bx.submit(book)


@xw.script
def confirm_import(book: xw.Book):
    """Confirm & Import: import the rows on the Confirm sheet; results next to each row."""
    bx.confirm_import(book)


@xw.script
def cancel_import(book: xw.Book):
    """Cancel the import on the Confirm sheet."""
    bx.cancel_import(book)


@xw.script
def retry_failed(book: xw.Book):
    """Import again only the rows of the last import that failed."""
    bx.retry_failed(book)


@xw.script
def import_history(book: xw.Book):
    """List the organisation's imports on the BulkAssist History sheet."""
    bx.import_history(book)


@xw.script
def download_results(book: xw.Book):
    """The results of the selected History row, into a new sheet."""
    bx.download_results(book)


@xw.script
def clear_marks(book: xw.Book):
    """Remove every BulkAssist fill, note and dropdown."""
    bx.clear_marks(book)


@xw.script
def new_from_template(book: xw.Book):
    """A new sheet from the import's template (pre-filled when a Course Code is set)."""
    bx.new_from_template(book)
