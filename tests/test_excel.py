"""The Excel add-in's commands on the payload Excel sends, asserted on the actions Excel gets back.

Each test runs twice: on xlwings' real remote engine (the code of Excel on
the web, xlwings Server and xlwings Lite; needs XLWINGS_LICENSE_KEY) and on
the recording fake (always).
"""

from __future__ import annotations

import json
import re

import polars as pl

import bulkassist.excel as bx
from bulkassist.engine.selectlists import demo_lists
from bulkassist.excel.grid import write_block, write_frame
from bulkassist.excel.painter import COLORS, MAX_NOTES
from bulkassist.excel.settings import (
    ISSUES_COL,
    LISTS_SHEET,
    MARKS_COL,
    SETTINGS_SHEET,
    SUMMARY_COL,
)
from bulkassist.io.cells import FORMULA_START
from tests.test_excel_support import (
    DATA_SHEET,
    VBA_FUNCS,
    _offline,  # noqa: F401 - autouse fixture
    apply_actions,
    cell_ref,
    cells,
    client_rows,
    engine_fixture,  # noqa: F401 - the `engine` fixture
    make_payload,
    of,
    open_book,
    sheet_values,
    stored,
    template_book,
)

DATA = 0  # sheet position of the records sheet ("Client", the template's first sheet)

# The mistakes client_rows() makes, by cell (see its docstring).
ERROR_CELLS = {"J2", "B3", "D3", "E3", "F3", "G3", "H3", "L3", "D4", "D5", "C7"}
WARNING_CELLS = {"B4", "B5"}  # the same person twice
MARKED = ERROR_CELLS | WARNING_CELLS


def _validate(engine: str, payload: dict | None = None):
    payload = payload or make_payload(template_book("client", client_rows()))
    book = open_book(payload, engine)
    report = bx.validate(book)
    return payload, book, report, book.json()["actions"]


def _filled(actions: list[dict], color: str | None = None) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for a in of(actions, "setRangeColor", DATA):
        if color is None or a["args"] == [color]:
            out |= cells(a)
    return out


def test_validate_fills_exactly_the_invalid_cells(engine):
    _, _, report, actions = _validate(engine)
    assert _filled(actions) == {cell_ref(c) for c in MARKED}
    assert _filled(actions, COLORS["error"]) == {cell_ref(c) for c in ERROR_CELLS}
    assert _filled(actions, COLORS["warning"]) == {cell_ref(c) for c in WARNING_CELLS}
    # every fill is one rectangle (never a multi-area address) and no cell is painted twice
    fills = of(actions, "setRangeColor", DATA)
    assert all(a["row_count"] >= 1 and a["column_count"] >= 1 for a in fills)
    assert sum(a["row_count"] * a["column_count"] for a in fills) == len(MARKED)
    assert report.summary["errors"] == 5 and report.summary["valid"] == 1


def test_adjacent_invalid_cells_of_one_colour_are_one_fill(engine):
    _, _, _, actions = _validate(engine)
    emails = [a for a in of(actions, "setRangeColor", DATA) if a["start_column"] == 3]
    assert [(a["start_row"] + 1, a["row_count"]) for a in emails] == [(3, 3)]  # D3:D5 in one action
    row3 = [a for a in of(actions, "setRangeColor", DATA) if a["start_column"] == 4]
    assert [(a["start_row"] + 1, a["row_count"], a["column_count"]) for a in row3] == [(3, 1, 4)]  # E3:H3
    # 13 marked cells in 10 vertical runs, E3..H3 side by side: 7 rectangles, one action each
    assert len(of(actions, "setRangeColor", DATA)) == 7


def test_each_invalid_cell_gets_a_note_with_the_message_and_the_suggestion(engine):
    _, _, _, actions = _validate(engine)
    notes = {a["args"][0]: a["args"][1] for a in of(actions, "addNote", DATA)}
    assert {cell_ref(a) for a in notes} == {cell_ref(c) for c in MARKED}
    assert "'english'" in notes["$J$2"] and notes["$J$2"].endswith("Suggested: English")
    assert "Suggested: (727) 123-1234" in notes["$E$3"]
    assert "Suggested: 012345678" in notes["$F$3"]
    assert "Suggested:" not in notes["$G$3"]  # 13/25/1990 has no safe guess


def test_select_columns_get_dropdowns_listing_the_lists_values(engine):
    payload, book, report, actions = _validate(engine)
    lists_pos = [s.name for s in book.sheets].index(LISTS_SHEET)
    block = of(actions, "setValues", lists_pos)[0]["values"]
    columns = {block[0][c]: [stored(row[c]) for row in block[1:] if row[c] != ""] for c in range(len(block[0]))}
    dropdowns = of(actions, "setDataValidationList", DATA)
    headers = client_rows()[0]
    selects = {h for h in headers if report.domain.field(h).select_list}
    assert {headers[a["start_column"]] for a in dropdowns} == selects
    for a in dropdowns:
        field = report.domain.field(headers[a["start_column"]])
        source = a["args"][0]
        assert source["sheet_position"] == lists_pos and source["column_count"] == 1
        listed = columns[block[0][source["start_column"]]][: source["row_count"]]
        assert listed == [v for v, _ in demo_lists().options(field.select_list)]
        assert a["start_row"] == 1 and a["args"][1] is True
    assert of(actions, "setSheetVisibility", lists_pos)[0]["args"] == ["Hidden"]


def test_summary_issue_list_and_alert(engine):
    payload, book, report, actions = _validate(engine)
    settings_pos = [s.name for s in book.sheets].index(SETTINGS_SHEET)
    writes = {a["start_column"] + 1: a["values"] for a in of(actions, "setValues", settings_pos)}
    summary = dict((r[0], r[1]) for r in writes[SUMMARY_COL][1:])
    assert (summary["Total"], summary["Valid"], summary["Error"], summary["Skipped"]) == (6, 1, 5, 0)
    assert (summary["Insert"], summary["Update"]) == (0, 1)
    issues = writes[ISSUES_COL]
    assert issues[0] == ["Row", "Column", "Value", "Severity", "Message", "Suggestion"]
    assert len(issues) - 1 == report.issues.height
    alert = of(actions, "alert")[-1]["args"]
    assert "Total 6" in alert[0] and "Error 5" in alert[0] and alert[1] == "BulkAssist"


def test_the_alert_says_the_reports_summary_sentence(engine):
    _, _, report, actions = _validate(engine)
    assert of(actions, "alert")[-1]["args"][0].startswith(f"Client · Add & Update: {report.summary_sentence()}.")


def test_the_settings_sheet_reads_an_operation_as_the_spec_does(engine):
    settings = [["BulkAssist settings", None], ["Domain", "client"], ["Operation", "create"]]
    payload = make_payload({**template_book("client", client_rows()), SETTINGS_SHEET: settings})
    _, _, report, _ = _validate(engine, payload)
    assert report.operation == "add"


def test_no_written_cell_can_start_a_formula(engine):
    _, _, _, actions = _validate(engine)
    written = [v for a in of(actions, "setValues") for row in a["values"] for v in row]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in written)
    assert not [v for v in written if isinstance(v, str) and v[:1] and v[0] in "=+-@"]


HOSTILE = ["+1 727 555 0101", "-5", "-5.25", "=1+1", "＝1+1", "@SUM(A1)", "'quoted", "plain"]


def test_every_grid_write_keeps_formula_like_text_exactly_as_text(engine):
    """Excel takes an apostrophe typed through its API as its text marker (the quote prefix), not as part of
    the value: whatever way the add-in writes a text, Excel ends up holding exactly that text."""
    payload = make_payload({"Sheet1": [["x"]]})
    book = open_book(payload, engine)
    sheet = book.sheets[0]
    write_block(sheet, 1, 1, [[v] for v in HOSTILE])
    write_block(sheet, 1, 2, [[v] for v in HOSTILE], text=True)
    write_frame(sheet, 1, 3, pl.DataFrame({"v": HOSTILE}))
    write_frame(sheet, 1, 4, pl.DataFrame({"v": HOSTILE}), text=True)
    actions = book.json()["actions"]
    written = [v for a in of(actions, "setValues") for row in a["values"] for v in row]
    assert not [v for v in written if isinstance(v, str) and re.match(FORMULA_START, v)]
    grid = sheet_values(apply_actions(payload, actions), "Sheet1")
    assert [row[:4] for row in grid[:len(HOSTILE)]] == [[v] * 4 for v in HOSTILE]


def test_issue_values_reach_the_issue_list_exactly_as_typed(engine):
    rows = client_rows()
    header = rows[0]
    extra = list(rows[1])
    for name, value in {"First Name": "＝1+1", "Last Name": "+1 727 555 0101", "Email Address": "-5"}.items():
        extra[header.index(name)] = value
    payload = make_payload(template_book("client", [*rows, extra]))
    book = open_book(payload, engine)
    report = bx.validate(book)
    grid = sheet_values(apply_actions(payload, book.json()["actions"]), SETTINGS_SHEET)
    listed = [row[ISSUES_COL - 1 + 2] for row in grid[1:report.issues.height + 1]]  # the Value column
    assert {"＝1+1", "+1 727 555 0101", "-5"} <= set(listed)
    assert listed == [("" if v is None else v) for v in report.issues["value"].to_list()]


def test_second_validate_clears_its_own_marks_and_nothing_else(engine):
    payload, book, _, first = _validate(engine)
    after = apply_actions(payload, first)
    grid = sheet_values(after, DATA_SHEET)
    grid[1][9] = "English"  # the user fixes J2 and D4
    grid[3][3] = "ann@example.org"
    book2 = open_book(after, engine)
    bx.validate(book2)
    second = book2.json()["actions"]
    painted = set().union(*(cells(a) for a in of(first, "setRangeColor", DATA)))
    cleared = set().union(*(cells(a) for a in of(second, "rangeClearFormats", DATA)))
    assert cleared == painted  # exactly the cells painted before, no user formatting elsewhere
    assert {a["args"][0] for a in of(second, "deleteNote", DATA)} == {a["args"][0] for a in of(first, "addNote")}
    assert len(of(second, "deleteDataValidation", DATA)) == len(of(first, "setDataValidationList", DATA))
    assert _filled(second) == {cell_ref(c) for c in MARKED - {"J2", "D4"}}
    # the order matters: everything is cleared before anything is painted again
    funcs = [a["func"] for a in second]
    assert max(i for i, f in enumerate(funcs) if f == "rangeClearFormats") < funcs.index("setRangeColor")
    assert not of(second, "addSheet")  # the BulkAssist sheets are reused


def test_a_users_own_note_is_left_alone(engine):
    payload = make_payload(template_book("client", client_rows()), notes={DATA_SHEET: ["$H$3"]})
    _, _, _, actions = _validate(engine, payload)
    notes = {a["args"][0] for a in of(actions, "addNote")}
    assert "$H$3" not in notes and "$G$3" in notes
    assert not of(actions, "deleteNote")
    assert cell_ref("H3") in _filled(actions)


def test_apply_suggestions_writes_safe_fixes_marks_them_and_revalidates_in_memory(engine):
    payload = make_payload(template_book("client", client_rows()))
    book = open_book(payload, engine)
    report = bx.apply_suggestions(book)
    actions = book.json()["actions"]
    writes = {(a["start_row"] + 1, a["start_column"] + 1): a for a in of(actions, "setValues", DATA)}
    # written as text (Excel's leading apostrophe), so Excel does not turn "012345678" into a number again
    assert writes[cell_ref("J2")]["values"] == [["'English"]]
    assert writes[cell_ref("E3")]["values"] == [["'(727) 123-1234"]]
    assert writes[cell_ref("F3")]["values"] == [["'012345678"]]
    fixed = _filled(actions, COLORS["changed"])
    assert cell_ref("J2") in fixed and cell_ref("E3") in fixed
    # revalidated on the fixed values (a read-back would still see 'english'): J2 is valid now
    assert cell_ref("J2") not in _filled(actions, COLORS["error"])
    assert report.summary["valid"] == 2
    # every fix write is one rectangle of one column
    assert all(a["column_count"] == 1 for a in of(actions, "setValues", DATA))


def test_a_vba_client_gets_fills_and_the_issue_list_but_no_notes_or_dropdowns(engine):
    payload = make_payload(template_book("client", client_rows()), client="VBA")
    _, book, _, actions = _validate(engine, payload)
    assert {a["func"] for a in actions} <= VBA_FUNCS
    assert _filled(actions) == {cell_ref(c) for c in MARKED}
    assert LISTS_SHEET not in [s.name for s in book.sheets]
    assert "listed in the 'BulkAssist' sheet" in of(actions, "alert")[-1]["args"][0]
    # and a second run clears with what the VBA client has
    book2 = open_book(apply_actions(payload, actions), engine)
    bx.validate(book2)
    assert {a["func"] for a in book2.json()["actions"]} <= VBA_FUNCS
    assert of(book2.json()["actions"], "rangeClearFormats", DATA)


def test_clear_marks_removes_what_validate_painted(engine):
    payload, _, _, first = _validate(engine)
    book = open_book(apply_actions(payload, first), engine)
    assert bx.clear_marks(book) == len(of(first, "setRangeColor")) + len(of(first, "addNote")) + len(
        of(first, "setDataValidationList"))
    actions = book.json()["actions"]
    assert not of(actions, "setRangeColor") and not of(actions, "addNote")
    assert len(of(actions, "deleteNote")) == len(of(first, "addNote"))
    settings_pos = [s.name for s in book.sheets].index(SETTINGS_SHEET)
    marks = [a for a in of(actions, "setValues", settings_pos) if a["start_column"] + 1 == MARKS_COL][0]
    assert all(v == "" for row in marks["values"][1:] for v in row)


def test_many_invalid_cells_keep_notes_to_the_first_ones(engine):
    rows = client_rows()
    bad = [[f"Ann{i}" if h == "First Name" else v for h, v in zip(rows[0], rows[4], strict=False)]
           for i in range(MAX_NOTES + 50)]  # one bad e-mail each
    payload = make_payload(template_book("client", [rows[0], *bad]))
    _, _, _, actions = _validate(engine, payload)
    assert len(of(actions, "addNote")) == MAX_NOTES
    assert len(of(actions, "setRangeColor", DATA)) == 1  # the whole column run in one action
    assert "notes are kept to the first cells" in of(actions, "alert")[-1]["args"][0]


def test_a_header_below_a_settings_area_maps_rows_correctly(engine):
    rows = client_rows()
    settings = [["BulkAssist settings", None], ["Domain", "client"], ["Operation", "Add & Update"],
                ["Data sheet", DATA_SHEET], ["Header row", 3]]
    payload = make_payload({**template_book("client", [["Client import"], [], *rows]), SETTINGS_SHEET: settings})
    _, _, _, actions = _validate(engine, payload)
    assert _filled(actions) == {(r + 2, c) for r, c in (cell_ref(x) for x in MARKED)}


def test_operation_and_options_come_from_the_settings_sheet(engine):
    settings = [["BulkAssist settings", None], ["Domain", "client"], ["Operation", "Update"]]
    payload = make_payload({**template_book("client", client_rows()), SETTINGS_SHEET: settings})
    _, _, report, _ = _validate(engine, payload)
    assert report.operation == "update"
    # Update needs a Client ID: only row 6 has one; row 2 (valid as an add) is now an error
    assert (report.summary["update"], report.summary["insert"]) == (1, 0)
    assert 2 in report.error_rows


def test_a_bad_setting_is_a_message_box_and_nothing_is_written(engine):
    settings = [["BulkAssist settings", None], ["Domain", "client"], ["Operation", "Sometimes"]]
    payload = make_payload({**template_book("client", client_rows()), SETTINGS_SHEET: settings})
    _, _, report, actions = _validate(engine, payload)
    assert report is None
    assert [a["func"] for a in actions] == ["alert"]
    assert "'Sometimes'" in actions[0]["args"][0] and actions[0]["args"][3] == "critical"


def test_an_unreachable_server_is_a_message_box_and_nothing_is_written(engine, monkeypatch):
    monkeypatch.setenv("BULKASSIST_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BULKASSIST_TOKEN", "secret-token-value")
    _, _, report, actions = _validate(engine)
    assert report is None and [a["func"] for a in actions] == ["alert"]
    assert "did not answer" in actions[0]["args"][0]
    assert "secret-token-value" not in json.dumps(actions)


def test_new_from_template_adds_a_sheet_with_headers_and_dropdowns(engine):
    payload = make_payload({"Sheet1": [[None]]})
    book = open_book(payload, engine)
    name = bx.new_from_template(book)
    actions = book.json()["actions"]
    assert name == "Client"
    position = [s.name for s in book.sheets].index("Client")
    header = of(actions, "setValues", position)[0]["values"][0]
    assert header == client_rows()[0]
    assert len(of(actions, "setDataValidationList", position)) == 9
    settings_pos = [s.name for s in book.sheets].index(SETTINGS_SHEET)
    block = of(actions, "setValues", settings_pos)[0]["values"]
    assert ["Data sheet", "Client"] in block


def test_dispatch_runs_the_command_a_tag_names(engine):
    payload = make_payload(template_book("client", client_rows()))
    book = open_book(payload, engine)
    assert bx.dispatch("validate", book).summary["errors"] == 5
    book = open_book(payload, engine)
    assert bx.dispatch("no_such_button", book) is None
    assert "not a BulkAssist command" in of(book.json()["actions"], "alert")[0]["args"][0]


def test_server_settings_come_from_the_environment_before_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[server]\nurl = "https://imports.example.org"\ntoken = "file-token"\n', encoding="utf-8")
    monkeypatch.setenv("BULKASSIST_CONFIG", str(config))
    loaded = bx.load_config()
    assert (loaded.url, loaded.token, loaded.source) == ("https://imports.example.org", "file-token", str(config))
    monkeypatch.setenv("BULKASSIST_TOKEN", "env-token")
    loaded = bx.load_config()
    assert (loaded.url, loaded.token) == ("https://imports.example.org", "env-token")


def test_a_broken_config_file_is_a_message_box_naming_the_file(engine, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text("[server\nurl = ", encoding="utf-8")
    monkeypatch.setenv("BULKASSIST_CONFIG", str(config))
    _, _, report, actions = _validate(engine)
    assert report is None and [a["func"] for a in actions] == ["alert"]
    assert str(config) in actions[0]["args"][0]


def test_submit_without_a_server_says_how_to_configure_one(engine):
    book = open_book(make_payload(template_book("client", client_rows())), engine)
    assert bx.submit(book) is None
    message = book.json()["actions"][0]["args"][0]
    assert "BULKASSIST_URL" in message and "config.toml" in message
