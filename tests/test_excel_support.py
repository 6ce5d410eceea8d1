"""What the Excel tests stand on: the payload Excel sends, the actions it gets back, and a recording fake.

xlwings' remote engine is the code Excel on the web, xlwings Server and
xlwings Lite run: `xw.Book(json=payload)` builds a book from the JSON an
Excel client posts, and `book.json()["actions"]` is what the client then
applies. The engine is xlwings PRO code (PolyForm Noncommercial): it loads
only with `XLWINGS_LICENSE_KEY=noncommercial`. Without a key those tests skip
and `RecordingBook` — the same public signatures, recording the same action
JSON — runs the same assertions, so the add-in's logic is always tested.

`apply_actions` plays a response's actions back onto a payload, which is how
the tests get "the workbook after the last run" without a real Excel.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import xlwings as xw

from bulkassist.domains import get_domain

HAS_ENGINE = "remote" in [e.name for e in xw.engines]

# What the VBA remote client (xlwings' Remote.bas) can apply: nothing else may reach it.
VBA_FUNCS = {
    "setValues", "rangeClearContents", "rangeClearFormats", "rangeClear", "addSheet", "setSheetName",
    "setAutofit", "setRangeColor", "activateSheet", "addHyperlink", "setNumberFormat", "alert",
    "setRangeName", "namesAdd", "nameDelete", "runMacro", "rangeDelete", "rangeInsert", "rangeSelect",
    "sheetDelete", "sheetClear", "sheetClearContents", "sheetClearFormats",
}
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


# ----------------------------------------------------------------- payloads
def _json_cell(value: Any) -> Any:
    """A cell as an Excel client sends it: blanks as "", date cells as ISO strings."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00.000Z"
    return value


def make_payload(sheets: dict[str, list[list[Any]]], *, client: str = "Office.js", book: str = "clients.xlsx",
                 active: int = 0, notes: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The JSON an Excel client posts for a book whose sheets hold these 2-D values."""
    out_sheets = []
    for name, values in sheets.items():
        width = max((len(r) for r in values), default=0)
        sheet: dict[str, Any] = {
            "name": name,
            "values": [[_json_cell(v) for v in row] + [""] * (width - len(row)) for row in values] or [[]],
            "pictures": [],
            "tables": [],
        }
        if client == "Office.js":
            sheet.update(visibility="Visible", notes=[{"address": a} for a in (notes or {}).get(name, [])],
                         shapes=[], charts=[], pivot_tables=[], show_gridlines=True)
        out_sheets.append(sheet)
    return {
        "client": client,
        "version": xw.__version__,
        "book": {"name": book, "active_sheet_index": active, "selection": "A1"},
        "names": [],
        "sheets": out_sheets,
    }


def sheet_values(payload: dict[str, Any], name: str) -> list[list[Any]]:
    for sheet in payload["sheets"]:
        if sheet["name"] == name:
            return sheet["values"]
    raise KeyError(name)


def apply_actions(payload: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The payload Excel would send after applying `actions` (values, sheets, notes, visibility)."""
    new = copy.deepcopy(payload)
    sheets = new["sheets"]
    for a in actions:
        func = a["func"]
        if func == "addSheet":
            position, name = a["args"]
            sheet = {"name": name, "values": [[]], "pictures": [], "tables": []}
            if new["client"] == "Office.js":
                sheet.update(visibility="Visible", notes=[], shapes=[], charts=[], pivot_tables=[])
            sheets.insert(position, sheet)
        elif func == "setValues":
            grid = sheets[a["sheet_position"]]["values"]
            r0, c0 = a["start_row"], a["start_column"]
            for i, row in enumerate(a["values"]):
                while len(grid) <= r0 + i:
                    grid.append([])
                line = grid[r0 + i]
                line.extend([""] * (c0 + len(row) - len(line)))
                # Excel keeps a leading apostrophe (its text marker) out of the value
                line[c0:c0 + len(row)] = [_json_cell(stored(v)) for v in row]
            width = max(len(r) for r in grid)
            for line in grid:
                line.extend([""] * (width - len(line)))
        elif func == "addNote":
            sheets[a["sheet_position"]]["notes"].append({"address": a["args"][0]})
        elif func == "deleteNote":
            notes = sheets[a["sheet_position"]]["notes"]
            notes[:] = [n for n in notes if n["address"] != a["args"][0]]
        elif func == "setSheetVisibility":
            sheets[a["sheet_position"]]["visibility"] = a["args"][0]
        elif func == "activateSheet":
            new["book"]["active_sheet_index"] = a["args"][0]
    return new


def stored(value: Any) -> Any:
    """What Excel keeps of a written value: a leading apostrophe is its text marker, not part of the value."""
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def cells(action: dict[str, Any]) -> set[tuple[int, int]]:
    """The 1-based (row, column) cells an action targets."""
    return {(action["start_row"] + 1 + r, action["start_column"] + 1 + c)
            for r in range(action["row_count"]) for c in range(action["column_count"])}


def of(actions: list[dict[str, Any]], func: str, sheet: int | None = None) -> list[dict[str, Any]]:
    return [a for a in actions if a["func"] == func and (sheet is None or a["sheet_position"] == sheet)]


def cell_ref(ref: str) -> tuple[int, int]:
    """"B3" -> (3, 2)."""
    letters, digits = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref).groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits), col


# ------------------------------------------------------------ realistic data
DATA_SHEET = "Client"  # the records sheet of templates/client.xlsx


def template_headers(domain: str) -> list[str]:
    """The headers of the domain's shipped template (templates/<domain>.xlsx), else the spec's fields."""
    return [h for h in _template_sheets(domain).get(DATA_SHEET, [get_domain(domain).field_names])[0] if h]


def _template_sheets(domain: str) -> dict[str, list[list[Any]]]:
    path = TEMPLATES / f"{domain}.xlsx"
    if not path.is_file():
        return {}
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def template_book(domain: str, records: list[list[Any]]) -> dict[str, list[list[Any]]]:
    """Every sheet of the domain's template as Excel would send it, `records` typed into its first sheet."""
    sheets = _template_sheets(domain) or {get_domain(domain).title: []}
    first = next(iter(sheets))
    sheets[first] = records
    return sheets


def client_rows() -> list[list[Any]]:
    """A client sheet (header + 6 rows) with the mistakes people make, as Excel holds the cells.

    Row 2: a lower-case select value (a safe fix). Row 3: a blank First Name,
    a bad e-mail, a phone and an SSN typed as numbers (the SSN lost its leading
    zero), an impossible date, an unknown sponsor, a mistyped staff name.
    Rows 4-5: bad e-mails (with row 3, a vertical run of three) and the same
    person twice (a warning). Row 6: an update (Client ID given) with a date
    cell — valid. Row 7: text that would start a formula.
    """
    headers = template_headers("client")
    good = {
        "First Name": "Maria", "Last Name": "Lopez", "Email Address": "maria.lopez@example.org",
        "Phone Number": "(727) 123-1234", "SSN": "123456789", "Date of Birth": "02/03/1990",
        "Sponsor Name": "CareerSource Tampa Bay", "Ethnicity": "Hispanic or Latino", "Language": "English",
        "Funding Source": "WIOA Adult", "Staff Name": "Aaron Harris", "Diploma Status": "GED",
        "Job Status": "Unemployed", "Adult Client": "Yes", "Client Type": "Adult Education",
    }
    changes = [
        {"Language": "english"},
        {"First Name": None, "Last Name": "Smith", "Email Address": "maria(at)example",
         "Phone Number": 7271231234.0, "SSN": 12345678.0, "Date of Birth": "13/25/1990",
         "Sponsor Name": "Nope Inc", "Staff Name": "Aron Harris"},
        {"First Name": "Ann", "Last Name": "Lee", "Email Address": "no-at-sign.example.org"},
        {"First Name": "Ann", "Last Name": "Lee", "Email Address": "two@@example.org"},
        {"Client ID": 100234.0, "First Name": "Tom", "Date of Birth": dt.datetime(1985, 7, 14)},
        {"First Name": "Eve", "Last Name": "=HYPERLINK(\"http://evil\",\"x\")"},
    ]
    rows = []
    for change in changes:
        record = {**good, **change}
        rows.append([record.get(h) for h in headers])
    return [headers, *rows]


# ------------------------------------------------------------ recording fake
def _col_letters(col: int) -> str:
    out = ""
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def _python_cell(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, str) and _ISO.match(value):
        return dt.datetime.fromisoformat(value[:19])
    return value


class _Engine:
    name = "remote"


class RecordingApp:
    engine = _Engine()

    def __init__(self, book: RecordingBook):
        self._book = book

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None,
              callback: str | None = None) -> None:
        self._book._act("alert", [prompt, title or "", buttons or "", mode or "", callback or ""])

    @property
    def status_bar(self) -> str:
        raise NotImplementedError("App.status_bar is not supported on this engine")

    @status_bar.setter
    def status_bar(self, value: Any) -> None:
        raise NotImplementedError("App.status_bar is not supported on this engine")


class RecordingBook:
    """`xw.Book(json=payload)` without the PRO engine: same public calls, same action JSON."""

    def __init__(self, payload: dict[str, Any]):
        self.api = copy.deepcopy(payload)
        self._actions: list[dict[str, Any]] = []
        self.app = RecordingApp(self)
        self.sheets = RecordingSheets(self)

    @property
    def name(self) -> str:
        return self.api["book"]["name"]

    @property
    def selection(self) -> RecordingRange:
        """As the remote engine: the payload's selection address, on the active sheet."""
        return self.sheets.active.range(self.api["book"]["selection"])

    def json(self) -> dict[str, Any]:
        return {"actions": self._actions}

    def _act(self, func: str, args: Any = None, values: Any = None, sheet: int | None = None,
             box: tuple[int, int, int, int] | None = None) -> None:
        r, c, h, w = box or (None, None, None, None)
        self._actions.append({"func": func, "args": args if isinstance(args, list) else [args], "values": values,
                              "sheet_position": sheet, "start_row": r, "start_column": c, "row_count": h,
                              "column_count": w})


class RecordingSheets:
    def __init__(self, book: RecordingBook):
        self.book = book

    def _sheet(self, index: int) -> RecordingSheet:
        return RecordingSheet(self.book, self.book.api["sheets"][index])

    def __iter__(self):
        return (self._sheet(i) for i in range(len(self.book.api["sheets"])))

    def __len__(self) -> int:
        return len(self.book.api["sheets"])

    def __getitem__(self, key: int | str) -> RecordingSheet:
        if isinstance(key, int):
            return self._sheet(key % len(self))
        for i, s in enumerate(self.book.api["sheets"]):
            if s["name"].casefold() == key.casefold():
                return self._sheet(i)
        raise KeyError(key)

    @property
    def active(self) -> RecordingSheet:
        return self._sheet(self.book.api["book"]["active_sheet_index"])

    def add(self, name: str | None = None, before: Any = None, after: Any = None) -> RecordingSheet:
        ix = after.index + 1 if after is not None else len(self) + 1
        api = {"name": name, "values": [[]], "pictures": [], "tables": []}
        if self.book.api["client"] == "Office.js":
            api.update(visibility="Visible", notes=[])
        self.book.api["sheets"].insert(ix - 1, api)
        self.book._act("addSheet", [ix - 1, name])
        self.book.api["book"]["active_sheet_index"] = ix - 1
        return self._sheet(ix - 1)


class RecordingSheet:
    def __init__(self, book: RecordingBook, api: dict[str, Any]):
        self.book, self.api = book, api

    @property
    def name(self) -> str:
        return self.api["name"]

    @property
    def index(self) -> int:
        return next(i for i, s in enumerate(self.book.api["sheets"]) if s is self.api) + 1

    def range(self, arg1: Any, arg2: Any = None) -> RecordingRange:
        if isinstance(arg1, str):
            parts = [cell_ref(p) for p in arg1.split(":")]
            return RecordingRange(self, parts[0], parts[-1])
        return RecordingRange(self, arg1, arg2 or arg1)

    @property
    def used_range(self) -> RecordingRange:
        values = self.api["values"]
        return RecordingRange(self, (1, 1), (max(1, len(values)), max(1, max((len(r) for r in values), default=1))))

    def activate(self) -> None:
        self.book.api["book"]["active_sheet_index"] = self.index - 1
        self.book._act("activateSheet", [self.index - 1], sheet=self.index - 1)

    @property
    def visible(self) -> bool:
        return self.api.get("visibility", "Visible") == "Visible"

    @visible.setter
    def visible(self, value: bool) -> None:
        self.api["visibility"] = "Visible" if value else "Hidden"
        self.book._act("setSheetVisibility", [self.api["visibility"]], sheet=self.index - 1)


class _Options:
    def __init__(self, rng: RecordingRange):
        self.rng = rng

    @property
    def value(self) -> list[list[Any]]:
        (r1, c1), (r2, c2) = self.rng.first, self.rng.last
        grid = self.rng.sheet.api["values"]
        out = []
        for r in range(r1, r2 + 1):
            line = grid[r - 1] if r - 1 < len(grid) else []
            out.append([_python_cell(line[c - 1]) if c - 1 < len(line) else None for c in range(c1, c2 + 1)])
        return out


class RecordingNote:
    def __init__(self, rng: RecordingRange):
        self.rng = rng

    def delete(self) -> None:
        notes = self.rng.sheet.api["notes"]
        notes[:] = [n for n in notes if n["address"] != self.rng.address]
        self.rng._act("deleteNote", [self.rng.address])


class RecordingValidation:
    def __init__(self, rng: RecordingRange):
        self.rng = rng

    def _require(self) -> None:
        if self.rng.sheet.book.api["client"] != "Office.js":
            raise NotImplementedError("Range.data_validation is only supported with Office.js clients")

    def set_list(self, source: RecordingRange, *, in_cell_dropdown: bool = True) -> None:
        self._require()
        (r, c), (r2, c2) = source.first, source.last
        self.rng._act("setDataValidationList", [
            {"type": "range", "sheet_position": source.sheet.index - 1, "start_row": r - 1, "start_column": c - 1,
             "row_count": r2 - r + 1, "column_count": c2 - c + 1}, in_cell_dropdown])

    def delete(self) -> None:
        self._require()
        self.rng._act("deleteDataValidation")


class RecordingRange:
    def __init__(self, sheet: RecordingSheet, first: tuple[int, int], last: tuple[int, int]):
        self.sheet, self.first, self.last = sheet, tuple(first), tuple(last)

    @property
    def row(self) -> int:
        return self.first[0]

    @property
    def column(self) -> int:
        return self.first[1]

    @property
    def last_cell(self) -> RecordingRange:
        return RecordingRange(self.sheet, self.last, self.last)

    @property
    def address(self) -> str:
        a = f"${_col_letters(self.first[1])}${self.first[0]}"
        if self.first == self.last:
            return a
        return f"{a}:${_col_letters(self.last[1])}${self.last[0]}"

    def options(self, **_: Any) -> _Options:
        return _Options(self)

    def _act(self, func: str, args: Any = None, values: Any = None) -> None:
        (r1, c1), (r2, c2) = self.first, self.last
        self.sheet.book._act(func, args, values, self.sheet.index - 1, (r1 - 1, c1 - 1, r2 - r1 + 1, c2 - c1 + 1))

    @property
    def value(self) -> Any:
        return self.options().value

    @property
    def raw_value(self) -> list[tuple[Any, ...]]:
        """As the remote engine: the payload's cells untouched, None outside the sent block."""
        (r1, c1), (r2, c2) = self.first, self.last
        grid = self.sheet.api["values"]
        return [tuple(grid[r - 1][c - 1] if r - 1 < len(grid) and c - 1 < len(grid[r - 1]) else None
                      for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1)]

    @raw_value.setter
    def raw_value(self, values: list[list[Any]]) -> None:
        self._act("setValues", None, values)

    @value.setter
    def value(self, values: list[list[Any]]) -> None:
        # Like xlwings: a 2-D list written at a cell fills a block of its own shape.
        self.last = (self.first[0] + len(values) - 1, self.first[1] + len(values[0]) - 1)
        self._act("setValues", None, [[_json_cell(v) for v in row] for row in values])

    @property
    def color(self) -> Any:
        raise NotImplementedError("Reading the fill color synchronously isn't supported")

    @color.setter
    def color(self, value: str) -> None:
        self._act("setRangeColor", value)

    def clear_formats(self) -> None:
        self._act("rangeClearFormats")

    @property
    def note(self) -> RecordingNote | None:
        notes = self.sheet.api.get("notes") or []
        return RecordingNote(self) if any(n["address"] == self.address for n in notes) else None

    def add_note(self, text: str) -> RecordingNote:
        if self.sheet.book.api["client"] != "Office.js":
            raise NotImplementedError("Adding notes requires an Office.js client")
        if self.note is not None:
            raise ValueError("This cell already has a note")
        self._act("addNote", [self.address, text])
        self.sheet.api["notes"].append({"address": self.address})
        return RecordingNote(self)

    @property
    def data_validation(self) -> RecordingValidation:
        return RecordingValidation(self)


# ------------------------------------------------------------------ fixtures
ENGINES = [
    pytest.param("remote", marks=[pytest.mark.xlwings_engine,
                                  pytest.mark.skipif(not HAS_ENGINE, reason="xlwings remote engine needs "
                                                     "XLWINGS_LICENSE_KEY=noncommercial")]),
    "fake",
]


def open_book(payload: dict[str, Any], engine: str) -> Any:
    """The book an Excel client's payload becomes: the real remote engine or the recording fake."""
    return xw.Book(json=copy.deepcopy(payload)) if engine == "remote" else RecordingBook(payload)


@pytest.fixture(name="engine", params=ENGINES)
def engine_fixture(request: pytest.FixtureRequest) -> str:
    """Each test on the real remote engine (when licensed) and on the recording fake."""
    return request.param


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No server unless a test configures one; never the developer's own config file."""
    monkeypatch.delenv("BULKASSIST_URL", raising=False)
    monkeypatch.delenv("BULKASSIST_TOKEN", raising=False)
    monkeypatch.setenv("BULKASSIST_CONFIG", str(tmp_path / "no-config.toml"))


# --------------------------------------------------- the fake is the engine
def _exercise(book: Any) -> None:
    sheet = book.sheets[0]
    sheet.range((5, 1), (6, 2)).raw_value = [["a", ""], [1, 2]]
    sheet.range((2, 2), (4, 2)).color = "#FFC7CE"
    sheet.range((3, 3)).add_note("a note")
    sheet.range((3, 3)).note.delete()
    sheet.range((2, 2), (4, 2)).clear_formats()
    sheet.range((1, 1)).value = [["a", None], [1, 2.5]]
    new = book.sheets.add("Lists", after=book.sheets[-1])
    new.visible = False
    sheet.activate()
    sheet.range((2, 1), (9, 1)).data_validation.set_list(new.range((2, 1), (5, 1)), in_cell_dropdown=True)
    sheet.range((2, 1), (9, 1)).data_validation.delete()
    book.sheets[0].range((1, 1)).value = [[book.selection.row, book.selection.column, book.selection.sheet.name]]
    book.app.alert("done", title="BulkAssist", buttons="ok", mode="info")


@pytest.mark.xlwings_engine
@pytest.mark.skipif(not HAS_ENGINE, reason="needs XLWINGS_LICENSE_KEY=noncommercial")
def test_the_recording_fake_records_what_the_remote_engine_does():
    payload = make_payload({"Data": [["h1", "h2", "h3"], ["x", "y", "z"], ["1", "2", "3"], ["4", "5", "6"]]})
    payload["book"]["selection"] = "B3:C3"
    real, fake = xw.Book(json=copy.deepcopy(payload)), RecordingBook(payload)
    _exercise(real)
    _exercise(fake)
    assert fake.json()["actions"] == real.json()["actions"]


@pytest.mark.xlwings_engine
@pytest.mark.skipif(not HAS_ENGINE, reason="needs XLWINGS_LICENSE_KEY=noncommercial")
def test_the_fake_reads_a_payload_as_the_remote_engine_does():
    payload = make_payload({"Data": client_rows()})
    real, fake = xw.Book(json=copy.deepcopy(payload)), RecordingBook(payload)
    for book in (real, fake):
        assert book.sheets[0].used_range.last_cell.row == 7
    last = real.sheets[0].used_range.last_cell
    area = ((1, 1), (last.row, last.column))
    assert fake.sheets[0].range(*area).options(ndim=2).value == real.sheets[0].range(*area).options(ndim=2).value
    assert fake.sheets[0].range(*area).raw_value == real.sheets[0].range(*area).raw_value


def test_apply_actions_plays_writes_back_onto_the_payload():
    payload = make_payload({"Data": [["a", "b"], ["1", "2"]]})
    book = RecordingBook(payload)
    book.sheets[0].range((3, 1)).value = [["x", "y", "z"]]
    book.sheets.add("New", after=book.sheets[-1])
    after = apply_actions(payload, book.json()["actions"])
    assert sheet_values(after, "Data") == [["a", "b", ""], ["1", "2", ""], ["x", "y", "z"]]
    assert [s["name"] for s in after["sheets"]] == ["Data", "New"]
