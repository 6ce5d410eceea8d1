"""Domain behaviours beyond Client / Client Assignment: BrightClient parents (seed 003), course record
lock and unlock (seed 004), duplicate case actions (seed 001), qualification matching (seed 002)."""

from __future__ import annotations

import json
import re
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from bulkassist.errors import Conflict
from tests.commands import bulkassist
from tests.test_server_lifecycle import csv_bytes


def ref() -> str:
    return uuid.uuid4().hex[:8].upper()


def committed(client, domain: str, header: list[str], rows: list[list[str]], operation: str = "add", **kw):
    imp = client.start_import(csv_bytes(header, rows), domain, operation, name=f"{domain}.csv", **kw)
    final = imp.commit(timeout=60)
    return imp, final


BC = ["Client Reference", "Registered Name", "Client Type"]
CONTACT = ["Contact Reference", "Client Reference", "First Name", "Last Name"]
ADDRESS = ["Client Reference", "Contact Reference", "Address Line 1", "Town/City", "Postcode", "Date From"]


def test_children_of_a_failed_parent_fail_and_retry_imports_only_them(client):
    good, bad = f"G{ref()}", f"B{ref()}"
    parents = client.start_import(csv_bytes(BC, [[good, "Good Ltd", "Limited Company"],
                                                 [bad, "", "Limited Company"]]),  # no Registered Name
                                  "business_client", "add", name="clients.csv")
    assert parents.review()["summary"]["errors"] == 1
    parents.commit(timeout=60)

    contacts, final = committed(client, "contact", CONTACT, [[f"C1{good}", good, "Ann", "Lee"],
                                                             [f"C2{bad}", bad, "Bob", "Ray"]])
    assert final["status"] == "CommitFailed" and final["committed"] == {"inserted": 1, "updated": 0, "failed": 1}
    res = {r["Row Number"]: r for r in contacts.results().to_dicts()}
    assert res[2]["Status"] == "Success"
    assert res[3]["Status"] == "Failed" and bad in res[3]["Error Messages"] and "fix the parent" in res[3]["Error Messages"]
    errors = pl.read_csv(contacts.errors_file(), infer_schema=False)
    # Seed 003: the error file names the record, its client reference, the field and the reason.
    failure = errors.filter(pl.col("Row") == "3").row(0, named=True)
    assert (failure["Record"], failure["Client Reference"]) == ("Bob Ray", bad)
    assert f"parent business client with Client Reference '{bad}' is not imported" in failure["Message"]
    parent_errors = pl.read_csv(parents.errors_file(), infer_schema=False).row(0, named=True)
    assert (parent_errors["Client Reference"], parent_errors["Field"]) == (bad, "Registered Name")
    assert "Registered Name is required" in parent_errors["Message"]

    addresses, final = committed(client, "address_history", ADDRESS, [
        ["", f"C1{good}", "1 High St", "London", "SW1A 1AA", "01/02/2020"],
        [bad, "", "2 Low St", "Leeds", "LS1 4AB", "01/02/2020"]])
    assert final["status"] == "CommitFailed"
    assert addresses.results()["Status"].to_list() == ["Success", "Failed"]

    # fix the parent in a new import, then retry: only the failed rows are processed
    committed(client, "business_client", BC, [[bad, "Bad Fixed Ltd", "Limited Company"]])
    again = contacts.retry(timeout=60)
    assert again["status"] == "Committed"
    after = contacts.results()
    assert after["Status"].to_list() == ["Success", "Success"]
    assert after["Created/Updated ID"][0] == res[2]["Created/Updated ID"]  # not written again
    assert addresses.retry(timeout=60)["status"] == "Committed"
    with pytest.raises(Conflict, match="CommitFailed"):
        contacts.retry()


COURSE = ["username", "course_code", "complete", "credit_type", "credits"]


def test_course_record_importer_locks_after_a_failed_import_until_an_admin_unlocks(client_for):
    importer, admin = client_for("importer"), client_for("admin")
    learner = f"{ref().lower()}@example.org"
    row = [learner, "PHARM-101", "1", "CPE", "1.5"]
    first = importer.start_import(csv_bytes(COURSE, [row]), "course_record", "add", name="a.csv")
    second = importer.start_import(csv_bytes(COURSE, [row]), "course_record", "add", name="b.csv")
    assert first.commit(timeout=60)["status"] == "Committed"
    # the same learner + course + credit type was imported meanwhile: not written twice, import fails
    final = second.commit(timeout=60)
    assert final["status"] == "CommitFailed" and "not added twice" in second.results()["Error Messages"][0]
    with pytest.raises(Conflict, match="locked"):
        importer.start_import(csv_bytes(COURSE, [[learner, "PHARM-102", "1", "CPE", "1"]]), "course_record",
                              "add", name="c.csv")
    locks = admin.request("GET", "/admin/locks").json()
    assert [lk["import_id"] for lk in locks if lk["domain"] == "course_record"] == [second.id]
    assert admin.request("POST", "/admin/locks/course_record/unlock", idempotent=True).json()["unlocked"]
    third = importer.start_import(csv_bytes(COURSE, [[learner, "PHARM-102", "1", "CPE", "1"]]), "course_record",
                                  "add", name="c.csv")
    assert third.commit(timeout=60)["status"] == "Committed"


def test_course_record_credits_on_an_incomplete_record_is_an_error(client):
    imp = client.start_import(csv_bytes(COURSE, [[f"{ref()}@example.org", "PHARM-101", "0", "CPE", "2"]]),
                              "course_record", "add", name="d.csv")
    assert imp.review()["rows"][0]["action"] == "Error"
    imp.cancel()


CASE = ["Identifier", "FirstName", "LastName", "Status", "TreatmentPeriod"]


@pytest.mark.parametrize("action, statuses, periods", [
    ("create", ["Success"], ["1", "1"]),
    ("create_increment", ["Success"], ["1", "2"]),
    ("skip", ["Skipped"], ["1"]),
])
def test_duplicate_case_action(server, client, action, statuses, periods):
    ident = f"id{ref().lower()}"
    committed(client, "case", CASE, [[ident, "John", "Doe", "ACTIVE", "1"]])
    imp, final = committed(client, "case", CASE, [[ident, "John", "Doe", "ACTIVE", "1"]],
                           options={"duplicate_action": action})
    assert final["status"] == "Committed"
    assert imp.results()["Status"].to_list() == statuses
    assert stored_periods(server.database_url, ident) == periods


def stored_periods(database_url: str, ident: str) -> list[str]:
    """TreatmentPeriod of every stored case with this Identifier, oldest first."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        docs = conn.execute(sa.text("SELECT data FROM records WHERE domain = 'case' AND key = :k ORDER BY id"),
                            {"k": ident}).scalars().all()
    engine.dispose()
    return [str((d if isinstance(d, dict) else json.loads(d)).get("TreatmentPeriod")) for d in docs]


QUAL = ["Qualification Number", "ULN", "Status", "Registration number", "Registration date",
        "Certificate claimed date", "Achieved date", "Certificate received Date", "Certificate Sent Date",
        "Postal Tracking Reference"]


def test_qualification_matches_on_uln_and_qualification_number(client):
    uln = str(uuid.uuid4().int)[:10]
    first, _ = committed(client, "qualification", QUAL,
                         [["60312345", uln, "Registered", "REG-1", "15/09/2026", "", "", "", "", ""]], "add_update")
    second, _ = committed(client, "qualification", QUAL,
                          [["60312345", uln, "Achieved", "REG-1", "15/09/2026", "", "20/06/2027", "", "", ""]],
                          "add_update")
    assert first.results()["Action"].to_list() == ["Insert"]
    assert second.results()["Action"].to_list() == ["Update"]
    assert second.results()["Created/Updated ID"].to_list() == first.results()["Created/Updated ID"].to_list()


@pytest.mark.postgres
def test_a_row_the_database_refuses_fails_alone_and_retry_completes_after_an_edit(pg_server):
    """A database error half way: a real constraint of the database refuses one row at commit (validation
    cannot know it); that row fails, the others are written, the import ends CommitFailed; fixing the row
    and retrying completes it."""
    from bulkassist.client import Client

    client = Client(pg_server.url, pg_server.tokens["importer"])
    ident = f"id{ref().lower()}"
    constraint = f"refuse_{ident}"
    engine = sa.create_engine(pg_server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE records ADD CONSTRAINT {constraint} CHECK (key <> '{ident}b')"))
    try:
        frame = pl.DataFrame({"Identifier": [f"{ident}a", f"{ident}b", f"{ident}c"],
                              "FirstName": ["A", "B", "C"], "Status": ["ACTIVE"] * 3})
        imp = client.start_import(frame, "case", "add", name="refused.csv")
        final = imp.commit(timeout=60)
        assert final["status"] == "CommitFailed"
        results = imp.results()
        assert results["Status"].to_list() == ["Success", "Failed", "Success"]
        assert "the database refused the row" in results["Error Messages"][1]
        imp.edit_row(3, {"Identifier": f"{ident}bb"})
        assert imp.retry(timeout=60)["status"] == "Committed"
        after = imp.results()
        assert after["Status"].to_list() == ["Success"] * 3
        assert after["Created/Updated ID"][0] == results["Created/Updated ID"][0]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"ALTER TABLE records DROP CONSTRAINT IF EXISTS {constraint}"))
        engine.dispose()


def test_registration_and_certification_export_has_the_seed_columns(server, client_for):
    """Seed 002: an administrator (who has every permission) exports chosen records (or all) with the export's
    columns, in order; an importer without the Data Export permission cannot."""
    from bulkassist.client import Client, read_results_csv
    from bulkassist.domains import get_domain
    from bulkassist.errors import NotFound, PermissionDenied

    admin = client_for("admin")
    uln = str(uuid.uuid4().int)[:10]
    imp, final = committed(admin, "qualification", QUAL, [
        ["60312345", uln, "Registered", "REG-9", "15/09/2026", "", "", "", "", "-RT 4471"],
        ["60399999", uln, "Exempt", "", "", "", "", "", "", ""]], "add_update")
    assert final["status"] == "Committed"
    ids = [int(i) for i in imp.results()["Created/Updated ID"]]

    chosen = read_results_csv(admin.export("qualification", [ids[0]]))
    assert chosen.columns == [header for header, _ in get_domain("qualification").export_columns]
    assert chosen.columns[:3] == ["Title", "First Name", "Last Name"] and chosen.columns[-1] == "QA Verified"
    row = chosen.row(0, named=True)
    assert (row["ULN"], row["Qualification number"], row["Status"], row["Registration number"],
            row["Registered Date"]) == (uln, "60312345", "Registered", "REG-9", "15/09/2026")
    assert row["Postal Tracking Reference"] == "'-RT 4471"  # an exported cell never starts a formula
    everything = read_results_csv(admin.export("qualification"))
    assert {uln} <= set(everything["ULN"]) and everything.height >= 2

    with pytest.raises(PermissionDenied, match="no Data Export permission"):
        client_for("importer").export("qualification", ids)
    # An administrator of another organisation, made the way an operator would, sees none of it.
    made = bulkassist("admin", "create-user", "Other Organisation", f"exporter{ref()}", "--group", "Administrators",
                      "--database-url", server.database_url)
    assert made.returncode == 0, made.stderr
    token = re.search(r"ba_[\w-]+", made.stdout).group(0)
    other_admin = Client(server.url, token)
    with pytest.raises(NotFound, match=f"no Registration & Certification record with ID {ids[0]}"):
        other_admin.export("qualification", [ids[0]])
    assert uln not in set(read_results_csv(other_admin.export("qualification"))["ULN"])


def test_registration_number_matching_follows_the_seed(client):
    """Seed 002 notes 1-3: without a Registration number a record is matched by ULN + Qualification Number;
    the first upload with a number finds that record and gives it the number; from then on the number is
    needed to update it, and a row without it creates a second record (with a warning)."""
    uln = str(uuid.uuid4().int)[:10]

    def row(status: str, reg: str = "") -> list[str]:
        return ["60312345", uln, status, reg, "15/09/2026" if reg else "", "", "", "", "", ""]

    first, _ = committed(client, "qualification", QUAL, [row("Not registered")], "add_update")
    record = first.results()["Created/Updated ID"][0]
    registered, _ = committed(client, "qualification", QUAL, [row("Registered", "REG-7")], "add_update")
    assert registered.results().select("Action", "Created/Updated ID").row(0) == ("Update", record)
    again, _ = committed(client, "qualification", QUAL, [row("Achieved", "REG-7")], "add_update")
    assert again.results().select("Action", "Created/Updated ID").row(0) == ("Update", record)

    without = client.start_import(csv_bytes(QUAL, [row("Not registered")]), "qualification", "add_update",
                                  name="noreg.csv")
    warning = without.issues.row(0, named=True)
    assert warning["severity"] == "warning" and warning["code"] == "registered_elsewhere"
    assert "already have a record with Registration number REG-7" in warning["message"]
    without.commit(timeout=60)
    second = without.results().select("Action", "Created/Updated ID").row(0)
    assert second[0] == "Insert" and second[1] != record
