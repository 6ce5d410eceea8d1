"""The import life cycle of seed 000 over real HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import uuid

import openpyxl
import polars as pl
import pytest

from bulkassist.client import read_results_csv
from bulkassist.errors import Conflict


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


CLIENT_HEADER = ["Client ID", "First Name", "Last Name", "Date of Birth", "Language", "Phone Number"]


def unique_name() -> str:
    return "T" + uuid.uuid4().hex[:8]


def new_clients(client, n: int = 3) -> list[int]:
    """Insert n clients through an import; their Client IDs."""
    last = unique_name()
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", f"F{i}", last, "01/02/1990", "English", ""]
                                                        for i in range(n)]),
                              "client", "add", name="new.csv")
    imp.commit(timeout=60)
    return [int(x) for x in imp.results()["Created/Updated ID"].to_list()]


def test_client_add_update_life_cycle(client):
    existing = new_clients(client, 1)[0]
    data = csv_bytes(CLIENT_HEADER, [
        ["", "Maria", "Lopez", "02/03/1990", "English", "(727) 123-1234"],  # 2 insert
        [str(existing), "Ana", "Smith", "02/03/1991", "Spanish", ""],  # 3 update
        ["", "Bad", "Date", "13/25/1990", "English", ""],  # 4 error: date
        ["", "Bad", "List", "01/01/1990", "Englsh", ""],  # 5 error: select list
        ["", "", "", "", "", ""],  # 6 blank: skipped
        ["99999999", "No", "Such", "", "", ""],  # 7 error: unknown Client ID
    ])
    imp = client.start_import(data, "client", "add_update", name="clients.csv")
    review = imp.review()
    assert review["summary"] == {"total": 5, "valid": 2, "errors": 3, "skipped": 1, "insert": 1, "update": 1,
                                 "no_change": 0}
    actions = {r["row"]: r["action"] for r in review["rows"]}
    assert actions == {2: "Insert", 3: "Update", 4: "Error", 5: "Error", 6: "Skip", 7: "Error"}
    issues = imp.issues
    assert set(issues.columns) >= {"row", "column", "field", "value", "code", "severity", "message", "suggestion"}
    unknown = issues.filter(pl.col("row") == 7).row(0, named=True)
    assert unknown["column"] == "Client ID" and unknown["code"] == "not_found" and unknown["col_index"] == 0
    assert "99999999" in unknown["message"]

    edited = imp.edit_row(4, {"Date of Birth": "12/25/1990"})
    assert edited["action"] == "Insert" and edited["issues"] == []
    assert edited["summary"]["valid"] == 3

    confirm = imp.confirm()
    assert confirm["File Name"] == "clients.csv"
    assert confirm["Rows to Import"] == 3 and confirm["Total Rows"] == 5 and confirm["Errors Skipped"] == 2
    assert set(confirm["Import Usage"]) == {"today", "week", "month", "limits"}

    seen = []
    final = imp.commit(progress=lambda done, total: seen.append((done, total)), timeout=60)
    assert final["status"] == "Committed"
    assert final["committed"] == {"inserted": 2, "updated": 1, "failed": 0}
    assert seen[-1] == (3, 3)

    results = imp.results()
    assert results.columns == ["Row Number", "Status", "Action", "Created/Updated ID", "Error Messages"]
    by_row = {r["Row Number"]: r for r in results.to_dicts()}
    assert set(by_row) == {2, 3, 4, 5, 7}  # the blank row is not a record
    assert by_row[3]["Status"] == "Success" and by_row[3]["Action"] == "Update"
    assert by_row[3]["Created/Updated ID"] == str(existing)
    assert by_row[2]["Action"] == "Insert" and by_row[2]["Created/Updated ID"].isdigit()
    assert by_row[5]["Status"] == "Failed" and "Language" in by_row[5]["Error Messages"]

    csv = read_results_csv(imp.results_file("csv"))
    assert csv["Row Number"].to_list() == ["2", "3", "4", "5", "7"]
    book = openpyxl.load_workbook(io.BytesIO(imp.results_file("xlsx")))
    sheet = book.active
    assert [c.value for c in sheet[1]] == results.columns
    assert sheet.max_row == 6
    errors = read_results_csv(imp.errors_file())
    assert {"5", "7"} <= set(errors["Row"].to_list())

    # the committed import is final: a second commit under another key is a conflict
    with pytest.raises(Conflict):
        imp.commit()
    history = client.history(domain="client")
    row = history.filter(pl.col("Import ID") == imp.id).row(0, named=True)
    assert row["Status"] == "Committed" and row["File Name"] == "clients.csv" and row["User"] == "importer"
    assert row["Total Records"] == 5 and row["Valid Records"] == 3 and row["Errors"] == 2


def test_client_add_with_client_id_is_an_update(client):
    existing = new_clients(client, 1)[0]
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [[str(existing), "New", "Name", "", "", ""]]),
                              "client", "add", name="add.csv")
    assert imp.review()["rows"] == [{"row": 2, "action": "Update"}]
    imp.commit(timeout=60)
    assert imp.results()["Created/Updated ID"].to_list() == [str(existing)]


def test_update_needs_an_existing_client_id(client):
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", "No", "Id", "", "", ""], ["98765432", "A", "B", "", "", ""]]),
                              "client", "update", name="upd.csv")
    review = imp.review()
    assert review["summary"]["valid"] == 0
    assert imp.status()["status"] == "ValidationFailed"
    with pytest.raises(Conflict, match="no valid row"):
        imp.commit()


def test_zero_row_file_is_validation_failed_with_a_message(client):
    imp = client.start_import(csv_bytes(CLIENT_HEADER, []), "client", "add", name="empty.csv")
    info = imp.status()
    assert info["status"] == "ValidationFailed" and "no data rows" in info["message"]


def assignment_header():
    return ["Client ID", "CourseID", "SectionID", "Enrollment Status"]


def test_assignments_match_on_client_course_section_and_invoice_only_new_ones(client):
    cid = new_clients(client, 1)[0]
    first = client.start_import(csv_bytes(assignment_header(), [[str(cid), "MATH101", "01", "Enrolled"]]),
                                "client_assignment", "add", options={"auto_create_invoices": True},
                                name="a1.csv")
    first.commit(timeout=60)
    r1 = first.results().row(0, named=True)
    assert r1["Action"] == "Insert" and r1["Invoice ID"] and r1["Invoice ID"].isdigit()

    again = client.start_import(csv_bytes(assignment_header(), [
        [str(cid), "MATH101", "01", "Withdrawn"],  # same key: update, no invoice
        [str(cid), "MATH101", "02", "Enrolled"],  # changed SectionID: a new assignment (Add)
        ["98765432", "MATH101", "01", "Enrolled"],  # unknown client
        [str(cid), "NOPE999", "01", "Enrolled"],  # unknown course
    ]), "client_assignment", "add_update", options={"auto_create_invoices": True}, name="a2.csv")
    actions = {r["row"]: r["action"] for r in again.review()["rows"]}
    assert actions == {2: "Update", 3: "Insert", 4: "Error", 5: "Error"}
    again.commit(timeout=60)
    res = {r["Row Number"]: r for r in again.results().to_dicts()}
    assert res[2]["Action"] == "Update" and res[2]["Invoice ID"] is None
    assert res[2]["Created/Updated ID"] == r1["Created/Updated ID"]
    assert res[3]["Action"] == "Insert" and res[3]["Invoice ID"].isdigit()
    assert "Client ID 98765432 does not exist" in res[4]["Error Messages"]
    assert "NOPE999" in res[5]["Error Messages"]


def test_assignment_add_of_an_existing_assignment_is_refused(client):
    cid = new_clients(client, 1)[0]
    client.start_import(csv_bytes(assignment_header(), [[str(cid), "ENG201", "01", "Enrolled"]]),
                        "client_assignment", "add", name="x.csv").commit(timeout=60)
    imp = client.start_import(csv_bytes(assignment_header(), [[str(cid), "ENG201", "01", "Enrolled"]]),
                              "client_assignment", "add", name="y.csv")
    issue = imp.issues.row(0, named=True)
    assert issue["code"] == "already_exists" and "Add & Update" in issue["message"]


def test_batch_resend_is_stored_once_and_commit_resend_writes_once(client):
    last = unique_name()
    imp = client.create_import("client", "add", file_name="resend.csv")
    rows = pl.DataFrame([["", f"F{i}", last, "", "", ""] for i in range(4)], schema=CLIENT_HEADER, orient="row")
    imp.upload(CLIENT_HEADER, rows)
    imp.upload(CLIENT_HEADER, rows)  # the same batches again (a client that lost the answer)
    imp.validate()
    assert imp.review()["summary"]["total"] == 4
    key = uuid.uuid4().hex
    imp.commit(wait=False, idempotency_key=key)
    imp.commit(wait=False, idempotency_key=key)  # resent commit: no second commit, no error
    final = imp.wait(timeout=60)
    assert final["committed"]["inserted"] == 4
    assert imp.results()["Status"].to_list() == ["Success"] * 4


def test_the_server_reads_operations_and_options_as_the_spec_does(client):
    imp = client.create_import("case", "Create", options={"duplicate_action": "Skip", "run_workflow": "no"})
    assert imp.info["operation"] == "add"
    assert imp.info["options"] == {"run_workflow": False, "duplicate_action": "skip"}
    assert client.create_import("Client", "Add and Update").info["operation"] == "add_update"


def test_cancel_before_commit(client):
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", "A", "B", "", "", ""]]), "client", "add",
                              name="c.csv")
    assert imp.cancel()["status"] == "Cancelled"
    with pytest.raises(Conflict):
        imp.commit()
    assert imp.results()["Status"].to_list() == ["Cancelled"]


def test_a_status_change_the_life_cycle_does_not_allow_is_refused(server, client):
    """`transition` is the one place a status changes: it refuses a move the life cycle does not have,
    and a move from a status another request has already left."""
    from bulkassist.server.db import make_engine, sessions
    from bulkassist.server.lifecycle import transition
    from bulkassist.server.models import Import
    from bulkassist.status import ImportStatus

    rows = [["", "Ann", unique_name(), "01/02/1990", "English", ""]]
    committed = client.start_import(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="done.csv")
    committed.commit(timeout=60)
    validated = client.start_import(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="stale.csv")
    engine = make_engine(server.database_url)
    maker = sessions(engine)
    try:
        with maker.begin() as session:
            imp = session.get(Import, committed.id)
            with pytest.raises(Conflict, match=f"import {committed.id} is Committed; it cannot become Uploading"):
                transition(session, imp, ImportStatus.UPLOADING)
        with maker() as session:
            stale = session.get(Import, validated.id)
            session.expunge(stale)  # holds on to "Validated", as a request that read it would
        validated.cancel()
        with maker.begin() as session:
            session.add(stale)
            with pytest.raises(Conflict, match="changed by another request"):
                transition(session, stale, ImportStatus.COMMITTING)
    finally:
        engine.dispose()
    assert committed.status()["status"] == "Committed"
    assert validated.status()["status"] == "Cancelled"


def test_template_blank_and_prefilled_from_a_course(client):
    blank = client.template("client")
    sheet = openpyxl.load_workbook(io.BytesIO(blank)).active
    assert [c.value for c in sheet[1]][:3] == ["Client ID", "First Name", "Last Name"]
    assert client.courses("M") == []
    codes = [c["code"] for c in client.courses("ma")]
    assert "MATH101" in codes and "MATH102" in codes and all(c.startswith("MATH") for c in codes)
    cid = new_clients(client, 1)[0]
    client.start_import(csv_bytes(assignment_header(), [[str(cid), "HIST150", "02", "Enrolled"]]),
                        "client_assignment", "add", name="h.csv").commit(timeout=60)
    filled = pl.read_csv(io.BytesIO(client.template("client", course_code="HIST150", fmt="csv")),
                         infer_schema=False)
    assert str(cid) in filled["Client ID"].to_list()


def test_select_lists_etag_and_suggest(client):
    lists = client.lists("client")
    assert "English" in [v for v, _ in lists.options("language")]
    etag = client._lists["client"][0]
    again = client.request("GET", "/domains/client/lists", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.lists("client").options("language") == lists.options("language")
    top = client.suggest("language", "englsh")[0]
    assert top["value"] == "English" and top["score"] > 80


def test_domain_spec_round_trips(client):
    dom = client.domain("client_assignment")
    assert dom.match_key == ("Client ID", "CourseID", "SectionID")
    assert [o.name for o in dom.options] == ["auto_create_invoices"]


def test_usage_counts_committed_rows(client):
    before = client.usage()["today"]
    new_clients(client, 2)
    assert client.usage()["today"] >= before + 2


def test_xlsx_date_cells_stay_dates_through_upload_and_edits(client, tmp_path):
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Client ID", "First Name", "Last Name", "Date of Birth"])
    sheet.append([None, "Dee", "Cell", datetime.datetime(1990, 2, 3)])  # a real date cell
    sheet.append([None, "Bad", "Text", "13/25/1990"])
    path = tmp_path / "typed.xlsx"
    book.save(path)
    imp = client.start_import(path, "client", "add")
    assert {r["row"]: r["action"] for r in imp.review()["rows"]} == {2: "Insert", 3: "Error"}
    assert imp.edit_row(2, {"Last Name": "Cells"})["action"] == "Insert"  # the date cell is still a date
    assert imp.edit_row(3, {"Date of Birth": "02/03/1990"})["action"] == "Insert"


def test_downloaded_files_never_start_a_formula(client):
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", "=HYPERLINK(\"x\")", "Doe", "=1+1", "", ""]]),
                              "client", "add", name="formula.csv")
    errors = read_results_csv(imp.errors_file())
    values = [v for v in errors["Value"].to_list() if v]
    assert "'=1+1" in values and not any(v.startswith(("=", "+", "-", "@")) for v in values)
    sheet = openpyxl.load_workbook(io.BytesIO(imp.results_file("xlsx"))).active
    cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


def test_two_commits_started_together_cannot_both_pass_the_usage_limit(tmp_path):
    """The limited organisation may import 5 rows a day: a second commit started while the first is still
    writing counts the first one's rows, so 3 + 3 rows are refused instead of both passing the check."""
    from bulkassist.client import Client
    from bulkassist.errors import UsageLimitExceeded
    from bulkassist.server.launch import start_server_process

    server = start_server_process(data_dir=tmp_path, env={"BULKASSIST_CHUNK_ROWS": "1",
                                                          "BULKASSIST_CHUNK_PAUSE": "0.5"})
    try:
        client = Client(server.url, server.tokens["limited"])
        rows = [["", f"F{i}", "Race", "", "", ""] for i in range(3)]
        first = client.start_import(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="first.csv")
        second = client.start_import(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="second.csv")
        first.commit(wait=False)
        with pytest.raises(UsageLimitExceeded, match=r"including \d rows of imports still committing"):
            second.commit(wait=False)
        assert first.wait(timeout=60)["status"] == "Committed"
        assert client.usage()["today"] == 3
    finally:
        server.stop()
