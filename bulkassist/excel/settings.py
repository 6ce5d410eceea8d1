"""The "BulkAssist" sheet: the import settings a user picks, and what the add-in keeps.

Layout (one sheet, four blocks side by side, so every block is one 2-D write)::

    A:B  settings     Domain | client, Operation | Add & Update, Data sheet | Clients,
                      Header row | 1, Course Code | (for New from template), then one
                      row per import option of the domain (Auto Create Invoices | FALSE)
    D:E  summary      of the last Validate / Submit (Total, Valid, Error, Skipped, Insert,
                      Update, Lists, Import ...)
    G:L  issues       Row | Column | Value | Severity | Message | Suggestion: every issue of
                      the last Validate (what notes cannot show, and all a VBA client gets)
    N:P  marks log    Sheet | Range | Kind: every rectangle BulkAssist painted, so the next
                      run removes exactly those and nothing of the user's
    R:Z  column mapping  Data sheet | Domain | Import Field | Proposed Target | Confidence |
                      Method | Samples | Chosen Target | Mapped To: the headers no field name
                      matches, as Validate proposes them; the user edits Chosen Target ("-" =
                      do not import) and Map columns checks it and stores it in Mapped To,
                      which Validate, Apply suggestions, Validate against the server and
                      Submit use (per data sheet and domain)

Dropdown sources live on a second, hidden sheet, "BulkAssist Lists" (one column
per select list). Server URL and token are never stored here (see `config.py`).
The sheet's values are read once from the payload; nothing is read back after
a write (the remote engine would return the old value).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from bulkassist.engine.report import SHEET_ERRORS_COLUMNS
from bulkassist.errors import SchemaError
from bulkassist.excel.grid import read_block, text, write_block, write_frame
from bulkassist.excel.painter import Mark
from bulkassist.spec import ADD_UPDATE, OPERATION_LABELS, Domain, name_key, parse_operation

SETTINGS_SHEET = "BulkAssist"
LISTS_SHEET = "BulkAssist Lists"
CONFIRM_SHEET = "BulkAssist Confirm"  # Submit's Confirm Import step (see `importing.py`)
HISTORY_SHEET = "BulkAssist History"  # Import History
RESULTS_PREFIX = "BulkAssist Results "  # + Import ID: a downloaded results file
CHANGES_SHEET = "BulkAssist Changes"  # Validate against the server: what committing would change (row, field, old, new)
OWN_SHEETS = (SETTINGS_SHEET, LISTS_SHEET, CONFIRM_SHEET, HISTORY_SHEET, CHANGES_SHEET)


def is_own_sheet(name: str) -> bool:
    """A sheet BulkAssist writes (settings, lists, confirm, history, results): never a sheet of records."""
    return name in OWN_SHEETS or name.startswith(RESULTS_PREFIX)


SETTINGS_COL, SUMMARY_COL, ISSUES_COL, MARKS_COL, MAPPING_COL = 1, 4, 7, 14, 18  # A, D, G, N, R
MARK_HEADERS = ["Sheet", "Range", "Kind"]
MAPPING_TITLE = "Column mapping"
MAPPING_HEADERS = ["Data sheet", "Domain", "Import Field", "Proposed Target", "Confidence", "Method", "Samples",
                   "Chosen Target", "Mapped To"]
CHOSEN_COL = MAPPING_COL + MAPPING_HEADERS.index("Chosen Target")  # the cell a user edits
SUMMARY_TITLE = "Last run"
SETTINGS_TITLE = "BulkAssist settings"



@contextmanager
def _in_sheet(what: str) -> Iterator[None]:
    """A setting the spec refuses: say where in the book it is."""
    try:
        yield
    except SchemaError as exc:
        raise SchemaError(f"{what} in the {SETTINGS_SHEET!r} sheet: {exc}.") from None


@dataclass
class Settings:
    """What the BulkAssist sheet says (or the defaults when there is no such sheet)."""

    domain: str | None = None
    operation: str = ADD_UPDATE
    data_sheet: str | None = None
    header_row: int = 1
    course_code: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # option label -> raw cell value
    exists: bool = False

    def operation_for(self, domain: Domain) -> str:
        with _in_sheet("Operation"):
            return domain.parse_operation(self.operation)

    def options_for(self, domain: Domain, operation: str) -> dict[str, Any]:
        """The domain's options offered under `operation`, parsed from the sheet (default otherwise)."""
        given = {name_key(k): v for k, v in self.options.items()}
        chosen: dict[str, Any] = {}
        for option in domain.options_for(operation):
            raw = given.get(name_key(option.label), given.get(name_key(option.name)))
            with _in_sheet(option.label):
                chosen[option.name] = option.default if raw in (None, "") else option.parse(raw)
        return chosen


@dataclass
class MappingRow:
    """One row of the Column mapping block: an Import Field of a data sheet, its proposal and what was chosen."""

    sheet: str
    domain: str
    column: str
    proposed: str = ""
    confidence: Any = None
    method: str = ""
    samples: str = ""
    chosen: str = ""  # what the user typed (or the proposal, until they change it)
    mapped: str = ""  # what Map columns stored: the target Validate and Submit use

    def cells(self) -> list[Any]:
        return [self.sheet, self.domain, self.column, self.proposed, self.confidence, self.method, self.samples,
                self.chosen, self.mapped]


class SettingsSheet:
    """The BulkAssist sheet of one book, read once from its values."""

    def __init__(self, book: Any):
        self.book = book
        names = [s.name for s in book.sheets]
        self.sheet = book.sheets[SETTINGS_SHEET] if SETTINGS_SHEET in names else None
        self.values: list[list[Any]] = _values(self.sheet) if self.sheet is not None else []

    # ---------------------------------------------------------------- read
    def _column(self, col: int, first_row: int, width: int) -> list[list[Any]]:
        """Rows of the block starting at (first_row, col) until the first blank first cell."""
        rows = []
        for row in self.values[first_row - 1:]:
            cells = (list(row[col - 1:col - 1 + width]) + [None] * width)[:width]
            if cells[0] in (None, ""):
                break
            rows.append(cells)
        return rows

    def settings(self) -> Settings:
        result = Settings(exists=self.sheet is not None)
        for key, value in self._column(SETTINGS_COL, 2, 2):
            k = name_key(key)
            if k == "domain":
                result.domain = str(value).strip() if value not in (None, "") else None
            elif k == "operation":
                if value not in (None, ""):
                    with _in_sheet("Operation"):
                        result.operation = parse_operation(value)
            elif k == "datasheet":
                result.data_sheet = str(value).strip() if value not in (None, "") else None
            elif k == "headerrow":
                result.header_row = _positive_int(value, "Header row")
            elif k == "coursecode":
                result.course_code = str(value).strip() if value not in (None, "") else None
            else:
                result.options[str(key)] = value
        return result

    def marks(self) -> list[Mark]:
        return [Mark(str(s), str(a), str(k)) for s, a, k in self._column(MARKS_COL, 2, 3)]

    def mapping_rows(self) -> list[MappingRow]:
        """The Column mapping block (below its title and header row)."""
        return [MappingRow(text(a).strip(), text(b).strip(), text(c).strip(), text(d).strip(), e, text(f).strip(),
                           text(g), text(h).strip(), text(i).strip())
                for a, b, c, d, e, f, g, h, i in self._column(MAPPING_COL, 3, len(MAPPING_HEADERS))]

    def stored_mapping(self, sheet: str, domain: str) -> dict[str, str]:
        """{header: target or "-"} Map columns stored for this data sheet and domain."""
        return {r.column: r.mapped for r in self.mapping_rows()
                if r.sheet == sheet and r.domain == domain and r.column and r.mapped}

    def _length(self, col: int) -> int:
        """How many rows (header included) a block currently fills."""
        return 1 + len(self._column(col, 2, 1)) if len(self.values) else 0

    # --------------------------------------------------------------- write
    def ensure(self, domain: Domain, settings: Settings, data_sheet: str) -> None:
        """Create the sheet with the settings block when the book has none yet."""
        if self.sheet is not None:
            return
        current = self.book.sheets.active
        self.sheet = self.book.sheets.add(SETTINGS_SHEET, after=self.book.sheets[-1])
        operation = settings.operation if settings.operation in domain.operations else domain.operations[-1]
        rows: list[list[Any]] = [
            [SETTINGS_TITLE, None],
            ["Domain", domain.name],
            ["Operation", OPERATION_LABELS[operation]],
            ["Data sheet", data_sheet],
            ["Header row", settings.header_row],
            ["Course Code", None],
        ]
        rows += [[o.label, o.default] for o in domain.options]
        write_block(self.sheet, 1, SETTINGS_COL, rows)
        # What we just wrote is what the sheet holds: remember it rather than read it back.
        self.values = [list(row) for row in rows]
        current.activate()

    def set(self, key: str, value: Any) -> None:
        """Write one setting next to its label (appending the label when it is missing)."""
        rows = self._column(SETTINGS_COL, 2, 2)
        keys = [name_key(k) for k, _ in rows]
        row = 2 + (keys.index(name_key(key)) if name_key(key) in keys else len(rows))
        write_block(self.sheet, row, SETTINGS_COL, [[key, value]])
        while len(self.values) < row:
            self.values.append([None, None])
        self.values[row - 1] = [key, value] + list(self.values[row - 1][2:])

    def write_summary(self, pairs: list[tuple[str, Any]]) -> None:
        rows = [[SUMMARY_TITLE, None]] + [[k, v] for k, v in pairs]
        rows += [[None, None]] * max(0, self._length(SUMMARY_COL) - len(rows))
        write_block(self.sheet, 1, SUMMARY_COL, rows)

    def write_issues(self, issues: pl.DataFrame) -> None:
        """`issues` in the errors layout (`errors_table`): its SHEET_ERRORS_COLUMNS are written."""
        write_frame(self.sheet, 1, ISSUES_COL, issues.select(SHEET_ERRORS_COLUMNS), SHEET_ERRORS_COLUMNS,
                    pad_to=self._length(ISSUES_COL))

    def write_mapping(self, rows: list[MappingRow]) -> None:
        """The Column mapping block: title, header row, `rows`, padded over the rows it held before."""
        block: list[list[Any]] = [[MAPPING_TITLE] + [None] * (len(MAPPING_HEADERS) - 1), list(MAPPING_HEADERS)]
        block += [r.cells() for r in rows]
        old = 2 + len(self.mapping_rows()) if self.values else 0
        block += [[None] * len(MAPPING_HEADERS) for _ in range(max(0, old - len(block)))]
        write_block(self.sheet, 1, MAPPING_COL, block)

    def write_marks(self, marks: list[Mark]) -> None:
        frame = pl.DataFrame([(m.sheet, m.address, m.kind) for m in marks], schema=MARK_HEADERS, orient="row")
        write_frame(self.sheet, 1, MARKS_COL, frame, MARK_HEADERS, pad_to=self._length(MARKS_COL))


def _values(sheet: Any) -> list[list[Any]]:
    last = sheet.used_range.last_cell
    return [[None if v == "" else v for v in row] for row in read_block(sheet, (1, 1), (last.row, last.column))]


def _positive_int(value: Any, label: str) -> int:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise SchemaError(f"{label} in the {SETTINGS_SHEET!r} sheet must be a row number such as 1, not {value!r}.")
    return number
