"""The Excel add-in against a real import server (uvicorn subprocess, SQLite): lists, Submit and the Confirm
step, Confirm & Import, Cancel, Retry failed, Import History and downloaded results, errors.

The server is this module's own, so changing a select list cannot disturb
other tests. Each test runs on the real remote engine (when licensed) and on
the recording fake.
"""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest

import bulkassist.excel as bx
from bulkassist.client import HISTORY_COLUMNS, Client
from bulkassist.excel.datasheet import RESULT_HEADERS
from bulkassist.excel.settings import CONFIRM_SHEET, HISTORY_SHEET, LISTS_SHEET, SETTINGS_SHEET
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

pytestmark = pytest.mark.xdist_group("excel_server")  # its server starts once, on one xdist worker

NEW_JOB_STATUS = "Seasonal Work"


@pytest.fixture(scope="module")
def excel_server(tmp_path_factory):
    from bulkassist.server.launch import start_server_process

    server = start_server_process(data_dir=tmp_path_factory.mktemp("excel-server"))
    admin = Client(server.url, server.tokens["admin"])
    options = [{"value": v, "label": lbl} for v, lbl in admin.lists("client").options("job_status")]
    admin.request("PUT", "/admin/lists/job_status", json=[*options, {"value": NEW_JOB_STATUS}])
    yield server
    server.stop()


@pytest.fixture
def as_user(excel_server, monkeypatch):
    """`as_user("importer")`: the add-in's config (environment) points at the server as that user."""

    def configure(role: str = "importer", token: str | None = None) -> Client:
        monkeypatch.setenv("BULKASSIST_URL", excel_server.url)
        monkeypatch.setenv("BULKASSIST_TOKEN", token or excel_server.tokens[role])
        return Client(excel_server.url, token or excel_server.tokens[role])

    return configure


def _new_clients(job_status: str = NEW_JOB_STATUS) -> list[list]:
    """Header + 4 new valid clients (no Client ID) + 1 invalid row."""
    rows = client_rows()
    header, good = rows[0], rows[6]  # row 7 of client_rows is valid but for its Last Name formula
    out = [header]
    for i, name in enumerate(["Nora", "Ivan", "Zoe", "Paul"]):
        record = dict(zip(header, good, strict=True))
        record.update({"Client ID": None, "First Name": name, "Last Name": f"Submit{i}",
                       "Email Address": f"{name.lower()}@example.org", "Job Status": job_status})
        out.append([record[h] for h in header])
    bad = dict(zip(header, good, strict=True))
    bad.update({"Client ID": None, "First Name": "Bad", "Last Name": "Row", "Date of Birth": "31/31/2000"})
    out.append([bad[h] for h in header])
    return out


def test_refresh_lists_puts_the_servers_values_in_the_dropdowns(engine, as_user):
    client = as_user("importer")
    book = open_book(make_payload(template_book("client", client_rows())), engine)
    assert bx.refresh_lists(book) == 9
    actions = book.json()["actions"]
    lists_pos = [s.name for s in book.sheets].index(LISTS_SHEET)
    block = of(actions, "setValues", lists_pos)[0]["values"]
    server = client.lists("client")
    names = [stored(name) for name in block[0]]  # the whole block is written as text
    for c, name in enumerate(names):
        assert [stored(row[c]) for row in block[1:] if row[c] != ""] == [v for v, _ in server.options(name)]
    assert NEW_JOB_STATUS in [stored(row[names.index("job_status")]) for row in block[1:]]
    assert len(of(actions, "setDataValidationList", 0)) == 9
    assert not of(actions, "setRangeColor")  # refreshing lists paints nothing else


def test_validate_checks_against_the_servers_lists(engine, as_user, excel_server):
    as_user("importer")
    book = open_book(make_payload(template_book("client", _new_clients())), engine)
    report = bx.validate(book)
    assert report.summary == {"total": 5, "valid": 4, "errors": 1, "skipped": 0, "insert": 4, "update": 0,
                              "no_change": 0}
    summary = [a for a in of(book.json()["actions"], "setValues") if a["values"][0][0] == "Last run"][0]
    assert ["Lists", f"server {excel_server.url}"] in summary["values"]


def _confirm_block(payload: dict) -> dict:
    """The Confirm sheet as {label: value} (labels stripped)."""
    return {str(k).strip(): v for k, v, *_ in sheet_values(payload, CONFIRM_SHEET) if k not in ("", None)}


def _submitted(payload: dict, engine: str) -> tuple[dict, list[dict], object]:
    """Submit `payload`'s book: (the payload after Submit, Submit's actions, what Submit returned)."""
    book = open_book(payload, engine)
    answer = bx.submit(book)
    actions = book.json()["actions"]
    return apply_actions(payload, actions), actions, answer


def _confirmed(payload: dict, engine: str) -> tuple[dict, list[dict], object]:
    """Press Confirm & Import on `payload`'s book: (payload after, its actions, the results)."""
    book = open_book(payload, engine)
    results = bx.confirm_import(book)
    actions = book.json()["actions"]
    return apply_actions(payload, actions), actions, results


def test_submit_shows_the_confirm_step_and_imports_only_on_confirm(engine, as_user):
    client = as_user("importer")
    usage_before = client.usage()
    payload, actions, confirm = _submitted(make_payload(template_book("client", _new_clients())), engine)
    assert not of(actions, "setValues", 0)  # nothing written next to the records yet
    shown = _confirm_block(payload)
    assert (shown["File Name"], shown["Rows to Import"], shown["Total Rows"], shown["Errors Skipped"]) == \
        ("clients.xlsx", 4, 5, 1)
    usage = client.usage()
    assert usage == usage_before  # Submit imported nothing
    limits = usage["limits"]
    for label, key in (("Today", "today"), ("This Week", "week"), ("This Month", "month")):
        expected = f"{usage[key]} of {limits[key]} rows" if limits[key] is not None else f"{usage[key]} rows (no limit)"
        assert shown[label] == expected
    import_id = shown["Import ID"]
    assert client.get_import(import_id).status()["status"] == "Validated"
    assert shown["Status"] == "Validated" and "Confirm & Import" in shown["Next"]
    message = of(actions, "alert")[-1]["args"][0]
    assert f"Import {import_id} is ready" in message and CONFIRM_SHEET in message
    assert payload["book"]["active_sheet_index"] == [s["name"] for s in payload["sheets"]].index(CONFIRM_SHEET)

    after, actions, results = _confirmed(payload, engine)
    assert client.get_import(import_id).status()["status"] == "Committed"
    assert results.height == 5 and _confirm_block(after)["Status"] == "Committed"
    assert sheet_values(after, DATA_SHEET)[0][-4:] == RESULT_HEADERS
    again, actions, _ = _confirmed(after, engine)  # confirming twice imports nothing more
    assert [a["func"] for a in actions] == ["alert"] and "is Committed" in actions[0]["args"][0]
    assert client.usage()["today"] == usage_before["today"] + 4


def test_confirm_writes_results_and_new_ids_so_the_next_submit_updates(engine, as_user):
    client = as_user("importer")
    before = client.imports()["total"]
    payload, _, _ = _submitted(make_payload(template_book("client", _new_clients())), engine)
    book = open_book(payload, engine)
    results = bx.confirm_import(book)
    actions = book.json()["actions"]
    width = len(_new_clients()[0])

    block = [a for a in of(actions, "setValues", 0) if a["start_column"] == width][0]
    assert block["values"][0] == RESULT_HEADERS and block["start_row"] == 0
    rows = block["values"][1:]
    assert [r[0] for r in rows] == ["Success"] * 4 + ["Failed"]
    assert [r[1] for r in rows[:4]] == ["Insert"] * 4
    assert "31/31/2000" in rows[4][3]
    ids = [r[2] for r in rows[:4]]
    assert all(ids) and len(set(ids)) == 4

    id_writes = [a for a in of(actions, "setValues", 0) if a["start_column"] == 0]
    assert [(a["start_row"] + 1, a["row_count"]) for a in id_writes] == [(2, 4)]  # one write for rows 2-5
    assert [str(v[0]) for v in id_writes[0]["values"]] == [str(i) for i in ids]
    assert results.height == 5 and client.imports()["total"] == before + 1

    # the next Submit of the same sheet matches those clients instead of creating them again: unchanged,
    # they are No change rows, and nothing is left waiting
    same, _, unchanged = _submitted(apply_actions(payload, actions), engine)
    assert unchanged["summary"]["no_change"] == 4 and unchanged["summary"]["insert"] == 0
    assert unchanged["status"] == "Cancelled"
    # changed, they update those clients
    records = sheet_values(same, DATA_SHEET)
    first_name = records[0].index("First Name")
    changed = [list(r) for r in records]
    for r in changed[1:5]:
        r[first_name] = f"{r[first_name]}x"
    payload2, _, _ = _submitted(make_payload(template_book("client", changed)), engine)
    book2 = open_book(payload2, engine)
    again = bx.confirm_import(book2)
    assert again.filter(again["Status"] == "Success")["Action"].to_list() == ["Update"] * 4
    assert sorted(again["Created/Updated ID"].drop_nulls().to_list()) == sorted(ids)
    latest = client.imports()["items"][0]
    assert latest["total"] == 5 and latest["valid"] == 4
    second = [a for a in of(book2.json()["actions"], "setValues", 0) if a["start_column"] == width][0]
    assert [r[1] for r in second["values"][1:5]] == ["Update"] * 4
    assert not [a for a in of(book2.json()["actions"], "setValues", 0) if a["start_column"] == 0]


def test_confirm_refuses_when_the_records_changed_since_submit(engine, as_user):
    client = as_user("importer")
    payload, _, _ = _submitted(make_payload(template_book("client", _new_clients())), engine)
    import_id = _confirm_block(payload)["Import ID"]
    sheet_values(payload, DATA_SHEET)[2][1] = "Changed"  # a first name typed after Submit
    _, actions, results = _confirmed(payload, engine)
    assert results is None and [a["func"] for a in actions] == ["alert"]
    assert "changed since Submit" in actions[0]["args"][0] and DATA_SHEET in actions[0]["args"][0]
    assert client.get_import(import_id).status()["status"] == "Validated"


def test_cancel_ends_the_waiting_import_and_submit_again_replaces_it(engine, as_user):
    client = as_user("importer")
    payload, _, _ = _submitted(make_payload(template_book("client", _new_clients())), engine)
    first = _confirm_block(payload)["Import ID"]
    payload, actions, _ = _submitted(payload, engine)  # Submit again: the waiting import is replaced
    second = _confirm_block(payload)["Import ID"]
    assert second != first and f"Import {first}, which was waiting for confirmation, is cancelled" in \
        of(actions, "alert")[-1]["args"][0]
    assert client.get_import(first).status()["status"] == "Cancelled"

    book = open_book(payload, engine)
    assert bx.cancel_import(book)["status"] == "Cancelled"
    payload = apply_actions(payload, book.json()["actions"])
    assert _confirm_block(payload)["Status"] == "Cancelled"
    assert client.get_import(second).status()["status"] == "Cancelled"
    _, actions, results = _confirmed(payload, engine)
    assert results is None and "is Cancelled" in actions[0]["args"][0]


def test_confirm_and_cancel_without_a_submit_say_what_to_do(engine, as_user):
    as_user("importer")
    for run in (bx.confirm_import, bx.cancel_import, bx.retry_failed):
        book = open_book(make_payload(template_book("client", _new_clients())), engine)
        assert run(book) is None
        actions = book.json()["actions"]
        assert [a["func"] for a in actions] == ["alert"] and "press Submit first" in actions[0]["args"][0]


CONTACTS = "Contacts"


def test_retry_failed_imports_only_the_rows_that_failed(engine, as_user):
    client = as_user("importer")
    good, bad = f"G{uuid.uuid4().hex[:8].upper()}", f"B{uuid.uuid4().hex[:8].upper()}"
    parents = client.start_import(pl.DataFrame({"Client Reference": [good], "Registered Name": ["Good Ltd"],
                                                "Client Type": ["Limited Company"]}), "business_client", "add")
    assert parents.commit(timeout=60)["status"] == "Committed"
    settings = [["BulkAssist settings", None], ["Domain", "contact"], ["Operation", "Add"],
                ["Data sheet", CONTACTS], ["Header row", 1]]
    records = [["Contact Reference", "Client Reference", "First Name", "Last Name"],
               [f"C1{good}", good, "Ann", "Lee"], [f"C2{bad}", bad, "Bob", "Ray"]]
    payload = make_payload({CONTACTS: records, SETTINGS_SHEET: settings})
    payload, _, _ = _submitted(payload, engine)
    payload, actions, results = _confirmed(payload, engine)
    assert results["Status"].to_list() == ["Success", "Failed"]
    assert _confirm_block(payload)["Status"] == "CommitFailed"
    assert "Retry failed" in of(actions, "alert")[-1]["args"][0]

    fixed = client.start_import(pl.DataFrame({"Client Reference": [bad], "Registered Name": ["Bad Ltd"],
                                              "Client Type": ["Limited Company"]}), "business_client", "add")
    assert fixed.commit(timeout=60)["status"] == "Committed"
    book = open_book(payload, engine)
    again = bx.retry_failed(book)
    assert again["Status"].to_list() == ["Success", "Success"]
    assert again["Created/Updated ID"][0] == results["Created/Updated ID"][0]  # row 2 was not written again
    after = apply_actions(payload, book.json()["actions"])
    assert [r[4] for r in sheet_values(after, CONTACTS)[1:3]] == ["Success", "Success"]
    assert _confirm_block(after)["Status"] == "Committed"
    _, actions, _ = _confirmed(after, engine)
    assert "is Committed" in actions[0]["args"][0]


def test_import_history_lists_imports_and_downloads_results_into_a_new_sheet(engine, as_user):
    client = as_user("importer")
    payload, _, _ = _submitted(make_payload(template_book("client", _new_clients())), engine)
    payload, _, _ = _confirmed(payload, engine)
    import_id = _confirm_block(payload)["Import ID"]

    book = open_book(payload, engine)
    frame = bx.import_history(book)
    payload = apply_actions(payload, book.json()["actions"])
    listed = sheet_values(payload, HISTORY_SHEET)
    assert listed[0] == list(HISTORY_COLUMNS.values())
    expected = client.history(page_size=200)
    assert frame.height == expected.height and len(listed) == expected.height + 1
    ids = [int(r[0]) for r in listed[1:]]
    assert ids == expected["Import ID"].to_list() and ids[0] == import_id
    assert [r[2] for r in listed[1:]][0] == "Committed"

    # select a cell of the import's row, then Download results
    payload["book"]["active_sheet_index"] = [s["name"] for s in payload["sheets"]].index(HISTORY_SHEET)
    payload["book"]["selection"] = "C2"
    book = open_book(payload, engine)
    name = bx.download_results(book)
    assert name == f"BulkAssist Results {import_id}"
    after = apply_actions(payload, book.json()["actions"])
    got = sheet_values(after, name)
    results = client.get_import(import_id).results()
    assert got[0] == results.columns
    assert [r[1] for r in got[1:]] == results["Status"].to_list() == ["Success"] * 4 + ["Failed"]
    assert [str(r[3]) for r in got[1:5]] == [str(v) for v in results["Created/Updated ID"].to_list()[:4]]

    # a second download does not overwrite the first sheet (the new sheet is active: go back to History)
    assert after["book"]["active_sheet_index"] == [s["name"] for s in after["sheets"]].index(name)
    after["book"]["active_sheet_index"] = [s["name"] for s in after["sheets"]].index(HISTORY_SHEET)
    assert bx.download_results(open_book(after, engine)) == f"BulkAssist Results {import_id} (2)"
    after["book"]["selection"] = "A1"  # the header row holds no import
    book = open_book(after, engine)
    assert bx.download_results(book) is None and "holds no Import ID" in book.json()["actions"][0]["args"][0]
    after["book"]["active_sheet_index"] = 0
    book = open_book(after, engine)
    assert bx.download_results(book) is None and HISTORY_SHEET in book.json()["actions"][0]["args"][0]


def test_a_wrong_token_is_a_message_box_and_nothing_is_written(engine, as_user):
    as_user(token="not-a-real-token")
    book = open_book(make_payload(template_book("client", _new_clients())), engine)
    assert bx.submit(book) is None
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "token" in actions[0]["args"][0].lower() and actions[0]["args"][3] == "critical"
    assert "not-a-real-token" not in json.dumps(actions)


def test_missing_permission_is_a_message_box_and_nothing_is_written(engine, as_user):
    as_user("viewer")
    book = open_book(make_payload(template_book("client", _new_clients())), engine)
    assert bx.submit(book) is None
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert "permission" in actions[0]["args"][0].lower()


def test_a_usage_limit_is_a_message_box_and_nothing_is_written(engine, as_user):
    client = as_user("limited")  # 5 rows a day; this organisation has the standard Job Status list
    rows = _new_clients(job_status="Unemployed")
    payload = make_payload(template_book("client", [rows[0], *rows[1:5] * 2]))  # 8 valid rows
    payload, _, _ = _submitted(payload, engine)
    shown = _confirm_block(payload)
    assert shown["Rows to Import"] == 8 and shown["Today"] == f"{client.usage()['today']} of 5 rows"
    _, actions, results = _confirmed(payload, engine)
    assert results is None and [a["func"] for a in actions] == ["alert"]
    assert "limit" in actions[0]["args"][0].lower()
    assert client.get_import(shown["Import ID"]).status()["status"] == "Validated"


def test_new_from_template_prefills_from_a_course(engine, as_user):
    client = as_user("importer")
    settings = [["BulkAssist settings", None], ["Domain", "client"], ["Operation", "Update"],
                ["Data sheet", None], ["Header row", 1], ["Course Code", "MATH101"]]
    book = open_book(make_payload({SETTINGS_SHEET: settings}), engine)
    name = bx.new_from_template(book)
    actions = book.json()["actions"]
    position = [s.name for s in book.sheets].index(name)
    block = of(actions, "setValues", position)[0]["values"]
    from bulkassist.io.reading import read_table

    expected = read_table(client.template("client", course_code="MATH101"), name="t.xlsx")
    assert block[0] == expected.headers
    assert len(block) - 1 == expected.height > 0
    ids = [r[0] for r in block[1:]]
    assert all(ids)  # pre-filled rows carry their Client ID, so Submit updates them


def test_the_vba_client_submits_and_gets_results_without_notes(engine, as_user):
    as_user("importer")
    payload = make_payload(template_book("client", _new_clients()), client="VBA")
    payload, submitted, _ = _submitted(payload, engine)
    after, confirmed, results = _confirmed(payload, engine)
    assert results is not None and results.height == 5
    funcs = {a["func"] for a in submitted + confirmed}
    assert funcs <= {"setValues", "addSheet", "activateSheet", "alert"}
    assert sheet_values(after, DATA_SHEET)[0][-4:] == RESULT_HEADERS


def test_validate_against_the_server_writes_a_changes_sheet_and_marks_changed_cells(engine, as_user):
    from bulkassist.excel.painter import COLORS
    from bulkassist.excel.settings import CHANGES_SHEET

    client = as_user("importer")
    submitted, _, _ = _submitted(make_payload(template_book("client", _new_clients())), engine)
    payload, _, results = _confirmed(submitted, engine)
    ids = [r for r in results["Created/Updated ID"].to_list() if r]  # four new clients
    rows = sheet_values(payload, DATA_SHEET)
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    records = [list(r[:len(header)]) for r in rows[1:5]]
    assert [str(r[col["Client ID"]]) for r in records] == [str(i) for i in ids]
    records[0][col["First Name"]] = "Norah"  # row 2: one field changes
    records[1][col["Phone Number"]] = None  # row 3: a blank cell keeps the stored phone, nothing else: No change
    records[2][col["Date of Birth"]] = "03/04/1991"  # row 4: a date-like value changes
    book = open_book(make_payload(template_book("client", [header, *records[:3]])), engine)

    changes = bx.validate_on_server(book)
    assert changes.select("row", "field", "old", "new", "change").rows() == [
        (2, "First Name", "Nora", "Norah", "changed"),
        (3, "Phone Number", "(727) 123-1234", None, "kept"),
        (4, "Date of Birth", "02/03/1990", "03/04/1991", "changed"),
    ]
    actions = book.json()["actions"]
    names = [s.name for s in book.sheets]
    position = names.index(CHANGES_SHEET)
    block = of(actions, "setValues", position)[0]["values"]
    assert block[0] == ["Row", "Field", "Old value", "New value", "Change"]
    assert block[1] == [2, "'First Name", "'Nora", "'Norah", "'changed"]
    assert block[3] == [4, "'Date of Birth", "'02/03/1990", "'03/04/1991", "'changed"]  # text, never retyped
    assert [stored(v) for v in block[2]] == [3, "Phone Number", "(727) 123-1234", "", "kept"]

    data = names.index(DATA_SHEET)
    lavender = [a for a in of(actions, "setRangeColor", data) if a["args"] == [COLORS["update"]]]
    marked = set().union(*(cells(a) for a in lavender))
    assert marked == {(2, col["First Name"] + 1), (4, col["Date of Birth"] + 1)}
    assert COLORS["update"] not in (COLORS["error"], COLORS["warning"], COLORS["changed"])

    summary = [a for a in of(actions, "setValues") if a["values"][0][0] == "Last run"][0]["values"]
    assert ["No change", 1] in summary and ["Changed cells", 2] in summary
    latest = client.imports()["items"][0]
    assert latest["status"] == "Cancelled"  # a preview: nothing committed
    assert latest["summary"]["no_change"] == 1 and latest["summary"]["update"] == 2
