"""Seed 001's Info and Records tabs (Successful %, Errors, each record openable, each error's reason) and
seed 002's three roles and export: Bulk Upload, Manage Registration & Certification, Data Export as
separate permissions; the export's learner columns come from the organisation's learners."""

from __future__ import annotations

import io
import uuid

import openpyxl
import polars as pl
import pytest

from bulkassist.client import Client, read_results_csv
from bulkassist.errors import NotFound, PermissionDenied
from bulkassist.server.records import LEARNER_EXPORT, QUALIFICATION_EXPORT
from tests.test_server_domains import BC, CONTACT, QUAL, committed, ref
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes, new_clients


def test_successful_percent_and_errors_on_the_import_and_its_history(client):
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [
        ["", "Maria", "Lopez", "02/03/1990", "English", ""],
        ["", "Ana", "Smith", "02/03/1991", "Spanish", ""],
        ["", "Bad", "Date", "13/25/1990", "English", ""],
        ["", "", "", "", "", ""],  # blank: skipped, counts in neither
        ["", "Kim", "Park", "01/01/1990", "English", ""],
    ]), "client", "add", name="percent.csv")
    before = imp.status()
    assert before["successful_percent"] is None and before["error_count"] == 1  # not committed yet
    final = imp.commit(timeout=60)
    assert (final["successful_percent"], final["error_count"]) == (75.0, 1)  # 3 of 3 written + 1 error
    assert (imp.successful_percent, imp.error_count) == (75.0, 1)
    row = client.history(domain="client").filter(pl.col("Import ID") == imp.id).row(0, named=True)
    assert (row["Successful %"], row["Errors"]) == (75.0, 1)
    item = next(i for i in client.imports(domain="client")["items"] if i["id"] == imp.id)
    assert (item["successful_percent"], item["error_count"]) == (75.0, 1)


def test_rows_the_commit_failed_count_as_errors(client):
    good, bad = f"G{ref()}", f"B{ref()}"
    committed(client, "business_client", BC, [[good, "Good Ltd", "Limited Company"], [bad, "", "Limited Company"]])
    contacts, final = committed(client, "contact", CONTACT, [[f"C1{good}", good, "Ann", "Lee"],
                                                             [f"C2{bad}", bad, "Bob", "Ray"]])
    assert final["status"] == "CommitFailed"
    assert (final["successful_percent"], final["error_count"]) == (50.0, 1)


def test_records_tab_links_each_record_and_gives_each_error_its_reason(client_for):
    importer = client_for("importer")
    existing = new_clients(importer, 1)[0]
    imp = importer.start_import(csv_bytes(CLIENT_HEADER, [
        ["", "Maria", "Lopez", "02/03/1990", "English", ""],  # 2 created
        [str(existing), "Ana", "Updated", "", "", ""],  # 3 updated
        ["", "Bad", "List", "01/01/1990", "Englsh", ""],  # 4 error
    ]), "client", "add_update", name="records.csv")
    imp.commit(timeout=60)
    records = imp.records()
    assert records.columns == ["Row Number", "Status", "Action", "Record ID", "Link", "Error"]
    by_row = {r["Row Number"]: r for r in records.to_dicts()}
    created, updated, failed = by_row[2], by_row[3], by_row[4]
    assert (created["Status"], created["Action"], created["Error"]) == ("Success", "Insert", None)
    assert created["Link"] == f"/api/v1/records/client/{created['Record ID']}"
    assert (updated["Action"], updated["Record ID"]) == ("Update", existing)
    assert failed["Status"] == "Failed" and failed["Link"] is None and "Language" in failed["Error"]
    opened = importer.request("GET", created["Link"].removeprefix("/api/v1")).json()
    assert opened["id"] == created["Record ID"] and opened["import_id"] == imp.id
    assert opened["fields"]["First Name"] == "Maria" and opened["fields"]["Last Name"] == "Lopez"
    assert importer.record("client", existing)["fields"]["Last Name"] == "Updated"

    with pytest.raises(NotFound, match=f"no Client record with ID {existing}"):
        client_for("other_org").record("client", existing)
    with pytest.raises(NotFound):
        client_for("other_org").request("GET", f"/imports/{imp.id}/records")
    with pytest.raises(NotFound):  # a record of another domain is not this domain's
        importer.record("case", existing)
    with pytest.raises(PermissionDenied):
        client_for("viewer").record("client", existing)


def test_the_three_roles_are_separate_permissions(client_for, server):
    registrar, importer, viewer, admin = (client_for(r) for r in ("registrar", "importer", "viewer", "admin"))
    me = registrar.me()
    assert (me["import_domains"], me["record_domains"], me["export_domains"]) == ([], ["qualification"],
                                                                                 ["qualification"])
    # Manage Registration & Certification: the screen and its records ...
    page = registrar.records("qualification", page_size=5)
    assert page["total"] >= 20 and len(page["items"]) == 5
    assert registrar.record("qualification", page["items"][0]["id"])["fields"]["ULN"]
    # ... Data Export: the export ...
    assert read_results_csv(registrar.export("qualification", [page["items"][0]["id"]])).height == 1
    # ... but no Bulk Upload, and nothing of other domains.
    with pytest.raises(PermissionDenied, match="no import permission"):
        registrar.start_import(csv_bytes(QUAL, [["60312345", "1000000001", "Registered", "R", "", "", "", "", "",
                                                 ""]]), "qualification", "add_update", name="q.csv")
    with pytest.raises(PermissionDenied, match="manage 'client' records"):
        registrar.records("client")
    # Bulk Upload alone neither shows the screen nor exports; no permission at all shows nothing.
    with pytest.raises(PermissionDenied, match="manage 'qualification' records"):
        importer.records("qualification")
    with pytest.raises(PermissionDenied, match="no Data Export permission"):
        importer.export("qualification")
    for call in (lambda: viewer.records("qualification"), lambda: viewer.export("qualification"),
                 lambda: viewer.record("qualification", page["items"][0]["id"])):
        with pytest.raises(PermissionDenied):
            call()
    assert admin.records("qualification")["total"] == page["total"]  # administrators have all three

    # An administrator grants export alone: that user exports, but does not see the screen.
    group = f"Exporters {uuid.uuid4().hex[:6]}"
    admin.request("POST", "/admin/groups", json={"name": group, "export_domains": ["qualification"]},
                  idempotent=False)
    listed = next(g for g in admin.request("GET", "/admin/groups").json() if g["name"] == group)
    assert (listed["import_domains"], listed["record_domains"], listed["export_domains"]) == ([], [], ["qualification"])
    made = admin.request("POST", "/admin/users", json={"name": f"x{uuid.uuid4().hex[:6]}", "groups": [group]},
                         idempotent=False).json()
    exporter = Client(server.url, made["token"])
    assert read_results_csv(exporter.export("qualification", page=1, page_size=3)).height == 3
    with pytest.raises(PermissionDenied):
        exporter.records("qualification")


def test_export_learner_columns_come_from_the_organisations_learners(client_for):
    """Seed 002: none of the 20 learner columns (nor Qualification Name / Awarding Organisation) is blank
    when the organisation has the learner; by selected IDs, by page, or all; CSV or XLSX."""
    registrar = client_for("registrar")
    page = registrar.records("qualification", page=1, page_size=4)
    ids = [r["id"] for r in page["items"]]
    chosen = read_results_csv(registrar.export("qualification", ids[:2]))
    learner_columns = list(LEARNER_EXPORT)
    assert len(learner_columns) == 20 and len(chosen.columns) == 32
    assert chosen["ULN"].to_list() == [r["fields"]["ULN"] for r in page["items"][:2]]
    for column in [*learner_columns, *QUALIFICATION_EXPORT]:
        assert chosen[column].null_count() == 0 and (chosen[column] != "").all(), column
    assert (chosen["Full Name"] == chosen["First Name"] + " " + chosen["Last Name"]).all()
    assert set(chosen["QA Verified"]) <= {"Yes", "No"}

    by_page = read_results_csv(registrar.export("qualification", page=1, page_size=4))
    assert by_page["ULN"].to_list() == [r["fields"]["ULN"] for r in page["items"]]
    everything = read_results_csv(registrar.export("qualification"))
    assert everything.height == registrar.records("qualification")["total"]

    book = openpyxl.load_workbook(io.BytesIO(registrar.export("qualification", ids[:1], fmt="xlsx")))
    sheet = book.active
    header, values = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    assert header == chosen.columns and values[header.index("First Name")] == chosen["First Name"][0]

    # A learner the organisation does not have: the learner columns are blank, the record's are not.
    uln = str(uuid.uuid4().int)[:10]
    imp, _ = committed(client_for("admin"), "qualification", QUAL,
                       [["60312345", uln, "Registered", f"REG-{ref()}", "15/09/2026", "", "", "", "", ""]],
                       "add_update")
    unknown = read_results_csv(registrar.export("qualification", [int(imp.results()["Created/Updated ID"][0])]))
    assert unknown["First Name"].to_list() == [None] and unknown["ULN"].to_list() == [uln]
    assert unknown["Qualification Name"].to_list() == ["Level 3 Diploma in Adult Care"]


def test_a_committed_record_keeps_backslashes_quotes_and_null_markers_as_typed(client):
    """What COPY's text format would escape comes back as typed (PostgreSQL receives the records in COPY's
    binary format, which escapes nothing)."""
    names = ["Back\\slash", 'Say "hi"', "\\N", "O'Brien\\t", "Tab\\\\Two"]
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", n, "Lopez", "02/03/1990", "English", ""] for n in names]),
                              "client", "add", name="escapes.csv")
    assert imp.commit(timeout=60)["committed"]["inserted"] == len(names)
    ids = imp.results()["Created/Updated ID"].to_list()
    assert [client.record("client", int(i))["fields"]["First Name"] for i in ids] == names


def test_a_record_keeps_every_value_exactly_through_commit_update_and_undo(client):
    """Newlines, tabs, quotes, unicode, leading zeros and blank cells round-trip exactly: through the commit,
    the records API, an update (which reads the stored record and merges it) and its undo (which logs the
    record and puts it back)."""
    last = f"Ünïcødé 名前 🙂 {uuid.uuid4().hex[:6]}"
    firsts = ["Line\none", "Tab\there", 'Quote " and \' and ,comma', "Carriage\r\nreturn", "NULL", "0042"]
    rows = pl.DataFrame({"Client ID": [""] * len(firsts), "First Name": firsts, "Last Name": [last] * len(firsts),
                         "SSN": ["001234567", "", "012345678", "", "000000001", ""],
                         "Language": ["English", "", "Spanish", "", "English", ""]})
    buffer = io.BytesIO()
    rows.write_csv(buffer)
    imp = client.start_import(buffer.getvalue(), "client", "add", name="exact.csv")
    assert imp.commit(timeout=60)["committed"]["inserted"] == len(firsts)
    ids = [int(i) for i in imp.results()["Created/Updated ID"].to_list()]
    expected = [{"First Name": f, "Last Name": last, **({"SSN": s} if s else {}), **({"Language": g} if g else {})}
                for f, s, g in zip(firsts, rows["SSN"], rows["Language"], strict=True)]
    assert [client.record("client", i)["fields"] for i in ids] == expected  # a blank cell is no field at all

    # An update of two fields keeps the others exactly; its undo puts every record back exactly.
    update = pl.DataFrame({"Client ID": [str(i) for i in ids], "Last Name": ["Changed\n\"name\""] * len(ids),
                           "Phone Number": ["(727) 123-1234"] * len(ids)})
    buffer = io.BytesIO()
    update.write_csv(buffer)
    changed = client.start_import(buffer.getvalue(), "client", "update", name="exact-update.csv")
    assert changed.commit(timeout=60)["committed"]["updated"] == len(ids)
    assert [client.record("client", i)["fields"] for i in ids] == [
        {**e, "Last Name": 'Changed\n"name"', "Phone Number": "(727) 123-1234"} for e in expected]
    changed.undo()
    assert [client.record("client", i)["fields"] for i in ids] == expected
