"""Column mapping in the Excel add-in (issue 9): Validate lists the headers no field name matches with proposed
targets and marks them, Map columns checks and stores the chosen mapping (and saves it on the server), and
Validate and Submit use it. Each test runs on the real remote engine (when licensed) and the recording fake;
the server tests run against a real import server (uvicorn subprocess)."""

from __future__ import annotations

import uuid

import polars as pl
import pytest

import bulkassist.excel as bx
from bulkassist.client import Client
from bulkassist.excel.painter import COLORS
from bulkassist.excel.settings import CONFIRM_SHEET, MAPPING_COL, MAPPING_HEADERS, SETTINGS_SHEET
from tests.test_excel_server import (
    _new_clients,
    excel_server,  # noqa: F401 - a server of this module
)
from tests.test_excel_support import (
    DATA_SHEET,
    _offline,  # noqa: F401 - autouse fixture
    apply_actions,
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


@pytest.fixture(name="as_user")
def _as_user(excel_server, monkeypatch):  # noqa: F811 - the imported fixture, this module's own server
    """`as_user("importer")`: the add-in's config (environment) points at the server as that user."""

    def configure(role: str = "importer") -> Client:
        monkeypatch.setenv("BULKASSIST_URL", excel_server.url)
        monkeypatch.setenv("BULKASSIST_TOKEN", excel_server.tokens[role])
        return Client(excel_server.url, excel_server.tokens[role])

    return configure


RENAMED = {"Client ID": "Student Number", "Phone Number": "Mobile"}


def _renamed(rows: list[list], notes: str = "Notes") -> list[list]:
    """`rows` with the headers of RENAMED replaced and a `notes` column of free text added."""
    header = [RENAMED.get(h, h) for h in rows[0]] + [notes]
    return [header] + [list(r) + [f"note {i}"] for i, r in enumerate(rows[1:])]


def _mapping_block(payload: dict) -> dict[str, dict[str, object]]:
    """The Column mapping block of the BulkAssist sheet: {Import Field: {header: cell}}."""
    values = sheet_values(payload, SETTINGS_SHEET)
    first = MAPPING_COL - 1
    assert stored(values[0][first]) == "Column mapping"
    assert [stored(v) for v in values[1][first:first + len(MAPPING_HEADERS)]] == MAPPING_HEADERS
    out = {}
    for row in values[2:]:
        cells_ = [stored(v) for v in row[first:first + len(MAPPING_HEADERS)]]
        if cells_ and cells_[0] not in ("", None):
            entry = dict(zip(MAPPING_HEADERS, cells_, strict=True))
            out[entry["Import Field"]] = entry
    return out


def _choose(payload: dict, choices: dict[str, str]) -> dict:
    """The payload after the user typed `choices` ({Import Field: target}) into the Chosen Target cells."""
    values = sheet_values(payload, SETTINGS_SHEET)
    first = MAPPING_COL - 1
    chosen = first + MAPPING_HEADERS.index("Chosen Target")
    for row in values[2:]:
        if len(row) > chosen and stored(row[first + 2]) in choices:
            row[chosen] = choices[stored(row[first + 2])]
    return payload


def _run(command, payload: dict, engine: str):
    """Run a command on `payload`'s book: (what it returned, its actions, the payload after)."""
    book = open_book(payload, engine)
    answer = command(book)
    actions = book.json()["actions"]
    return answer, actions, apply_actions(payload, actions)


def _alert(actions: list[dict]) -> str:
    return of(actions, "alert")[-1]["args"][0]


def test_validate_lists_unmatched_headers_with_proposals_and_marks_their_headers(engine):
    payload = make_payload(template_book("client", _renamed(client_rows())))
    report, actions, after = _run(bx.validate, payload, engine)
    unmapped = report.file_issues.filter(pl.col("code") == "unmapped_column")["column"].to_list()
    assert unmapped == ["Student Number", "Mobile", "Notes"]
    block = _mapping_block(after)
    assert list(block) == ["Student Number", "Mobile", "Notes"]
    mobile = block["Mobile"]
    assert (mobile["Data sheet"], mobile["Domain"], mobile["Proposed Target"], mobile["Method"]) == \
        (DATA_SHEET, "client", "Phone Number", "values")
    assert 0 < mobile["Confidence"] < 1 and "(727) 123-1234" in mobile["Samples"]
    assert mobile["Chosen Target"] == "Phone Number" and mobile["Mapped To"] in ("", None)  # proposed, not stored
    assert block["Notes"]["Proposed Target"] in ("", None) and block["Notes"]["Chosen Target"] in ("", None)
    assert "note 0" in block["Notes"]["Samples"]
    header = _renamed(client_rows())[0]
    marked = set()
    for a in of(actions, "setRangeColor", 0):
        if a["args"] == [COLORS["error"]]:
            marked |= {c for c in cells(a) if c[0] == 1}
    assert marked == {(1, header.index(h) + 1) for h in unmapped}  # the headers of unmapped columns, no other
    assert "3 columns are not mapped" in _alert(actions) and "Map columns" in _alert(actions)
    assert not [a for a in of(actions, "setValues", 0)]  # the user's headers are not renamed


def test_map_columns_stores_the_mapping_and_a_later_validate_uses_it(engine):
    payload = make_payload(template_book("client", _renamed(client_rows())))
    _, _, after = _run(bx.validate, payload, engine)
    chosen = _choose(after, {"Student Number": "client id", "Notes": "Do not import"})  # Mobile: the proposal
    mapped, actions, stored_ = _run(bx.map_columns, chosen, engine)
    assert mapped == {"Student Number": "Client ID", "Mobile": "Phone Number", "Notes": "-"}
    assert not of(actions, "setValues", 0)  # headers not renamed
    block = _mapping_block(stored_)
    assert {c: (e["Chosen Target"], e["Mapped To"]) for c, e in block.items()} == {
        "Student Number": ("Client ID", "Client ID"), "Mobile": ("Phone Number", "Phone Number"), "Notes": ("-", "-")}
    assert "No server is configured" in _alert(actions)

    report, actions, again = _run(bx.validate, stored_, engine)
    assert report.file_issues.filter(pl.col("code") == "unmapped_column").height == 0
    assert report.file_issues.filter(pl.col("code") == "not_imported")["column"].to_list() == ["Notes"]
    assert report.mapping["Mobile"] == "Phone Number" and report.mapping["Notes"] == "-"
    fields = report.column_fields
    assert fields["Mobile"] == "Phone Number" and fields["Student Number"] == "Client ID"
    assert "Notes" not in report.normalized.columns  # the "-" column is not imported
    # the same mistakes as with the template's headers: the mapped columns are checked as their fields
    assert set(report.cell_issues.filter(pl.col("column") == "Mobile")["field"]) == {"Phone Number"}
    assert "2 columns mapped, 1 not imported" in _alert(actions)
    assert _mapping_block(again)["Notes"]["Mapped To"] == "-"  # Validate keeps what Map columns stored


def test_rename_headers_true_renames_the_mapped_headers_and_nothing_else(engine):
    payload = make_payload(template_book("client", _renamed(client_rows())))
    _, _, after = _run(bx.validate, payload, engine)
    settings = sheet_values(after, SETTINGS_SHEET)
    row = next(i for i, r in enumerate(settings) if stored(r[0]) in ("", None))
    settings[row][0], settings[row][1] = "Rename headers", True
    mapped, actions, renamed = _run(bx.map_columns, _choose(after, {"Student Number": "Client ID", "Notes": "-"}),
                                    engine)
    header = sheet_values(renamed, DATA_SHEET)[0]
    before = _renamed(client_rows())[0]
    assert [stored(h) for h in header[:len(before)]] == [
        {"Student Number": "Client ID", "Mobile": "Phone Number"}.get(h, h) for h in before]
    assert list(_mapping_block(renamed)) == ["Notes"]  # the renamed columns need no mapping any more
    assert "Headers renamed" in _alert(actions)
    report, _, _ = _run(bx.validate, renamed, engine)
    assert report.file_issues.filter(pl.col("code") == "unmapped_column").height == 0
    assert report.column_fields["Client ID"] == "Client ID" and report.mapping["Notes"] == "-"


def test_apply_suggestions_uses_the_stored_mapping(engine):
    payload = make_payload(template_book("client", _renamed(client_rows())))
    _, _, after = _run(bx.validate, payload, engine)
    _, _, stored_ = _run(bx.map_columns, _choose(after, {"Student Number": "Client ID", "Notes": "-"}), engine)
    report, actions, fixed = _run(bx.apply_suggestions, stored_, engine)
    assert report.file_issues.filter(pl.col("code") == "unmapped_column").height == 0
    mobile = _renamed(client_rows())[0].index("Mobile")
    assert stored(sheet_values(fixed, DATA_SHEET)[2][mobile]) == "(727) 123-1234"  # the phone typed as a number


@pytest.mark.parametrize(("choices", "message"), [
    ({"Notes": "First Name"}, "columns 'First Name' and 'Notes' both map to 'First Name'"),
    ({"Student Number": "Identifier"}, "column 'Student Number' -> 'Identifier': 'Identifier' is a field of "),
    ({"Mobile": "Cell"}, "column 'Mobile' -> 'Cell': Client has no field 'Cell'"),
])
def test_a_bad_mapping_is_refused_naming_column_and_target_and_nothing_is_written(engine, choices, message):
    payload = make_payload(template_book("client", _renamed(client_rows())))
    _, _, after = _run(bx.validate, payload, engine)
    answer, actions, _ = _run(bx.map_columns, _choose(after, choices), engine)
    assert answer is None
    assert [a["func"] for a in actions] == ["alert"]
    assert message in actions[0]["args"][0] and actions[0]["args"][3] == "critical"


def test_map_columns_before_validate_says_to_validate_first(engine):
    answer, actions, _ = _run(bx.map_columns, make_payload(template_book("client", _renamed(client_rows()))), engine)
    assert answer is None and [a["func"] for a in actions] == ["alert"]
    assert "press Validate first" in actions[0]["args"][0]


# ------------------------------------------------------------------ with a server
def test_map_columns_saves_on_the_server_and_submit_sends_the_mapping(engine, as_user):
    client = as_user("importer")
    notes = f"Notes {uuid.uuid4().hex[:8]}"  # a header set of this test's own: the server is shared
    payload = make_payload(template_book("client", _renamed(_new_clients(), notes)))
    report, actions, after = _run(bx.validate, payload, engine)
    assert report.file_issues.filter(pl.col("code") == "unmapped_column").height == 3
    mapped, actions, stored_ = _run(bx.map_columns, _choose(after, {"Student Number": "Client ID", notes: "-"}),
                                    engine)
    assert mapped == {"Student Number": "Client ID", "Mobile": "Phone Number", notes: "-"}
    saved = [m for m in client.mappings("client") if notes in m["headers"]]
    assert len(saved) == 1 and f"Saved on the server as {saved[0]['name']!r}" in _alert(actions)
    assert saved[0]["columns"]["Mobile"] == "Phone Number" and saved[0]["columns"][notes] == "-"
    assert saved[0]["columns"]["First Name"] == "First Name"  # the whole file's mapping

    # Without the server's copy, what the workbook stored is what maps the server's import.
    client.delete_mapping("client", saved[0]["id"])
    changes, actions, _ = _run(bx.validate_on_server, stored_, engine)
    assert "Validated on the server" in _alert(actions) and changes is not None
    written = [str(v) for a in of(actions, "setValues") for row in a["values"] for v in row]
    assert not [v for v in written if "is not mapped" in v]  # the server's review has no unmapped column
    assert [v for v in written if "is not imported (mapped to Do not import)" in v]

    _, actions, submitted = _run(bx.submit, stored_, engine)
    confirm = {str(k).strip(): v for k, v, *_ in sheet_values(submitted, CONFIRM_SHEET) if k not in ("", None)}
    assert (confirm["Rows to Import"], confirm["Errors Skipped"]) == (4, 1)
    assert confirm["Column mapping"] == "3 columns, by Map columns"
    imp = client.get_import(int(confirm["Import ID"]))
    answer = imp.mapping_answer()
    assert answer["unmapped"] == [] and answer["complete"]
    targets = {c["column"]: c["target"] for c in answer["columns"]}
    assert targets["Mobile"] == "Phone Number" and targets[notes] == "-"
    assert imp.issues.filter(pl.col("code") == "unmapped_column").height == 0
    imp.cancel()


def test_validate_with_a_server_uses_its_saved_mapping_and_says_so(engine, as_user):
    client = as_user("importer")
    notes = f"Notes {uuid.uuid4().hex[:8]}"
    rows = _renamed(_new_clients(), notes)
    name = f"Saved {notes}"
    client.save_mapping("client", {"Student Number": "Client ID", "Mobile": "Phone Number", notes: "-"}, name,
                        headers=rows[0])
    # a new workbook, its columns in another order: no BulkAssist sheet, nothing mapped in it yet
    order = list(reversed(range(len(rows[0]))))
    shuffled = [[r[i] for i in order] for r in rows]
    report, actions, after = _run(bx.validate, make_payload(template_book("client", shuffled)), engine)
    assert report.file_issues.filter(pl.col("code") == "unmapped_column").height == 0
    assert report.summary["valid"] == 4 and report.column_fields["Mobile"] == "Phone Number"
    assert f"the server's saved mapping {name!r}" in _alert(actions)
    block = _mapping_block(after)
    assert {c: (e["Method"], e["Mapped To"]) for c, e in block.items()} == {
        notes: ("saved", "-"), "Mobile": ("saved", "Phone Number"), "Student Number": ("saved", "Client ID")}
