"""Seed rules the server enforces for every client (issue 10), each over HTTP on SQLite and PostgreSQL.

One test per rule; the README's "Seed rules: where each lives" table names them.
"""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from tests.commands import bulkassist
from tests.test_server_domains import CASE, committed, ref, stored_periods
from tests.test_server_lifecycle import csv_bytes


# ------------------------------------------------------------------ seed 001: cases
def test_create_increment_keeps_a_new_cases_treatment_period_and_increments_only_duplicates(server, client):
    """Seed 001: "Create case and increment treatment period" increments a *duplicate* by 1 from the existing
    case's period; a new Identifier keeps the TreatmentPeriod the file gives it (3 stays 3)."""
    old, new = f"inc{ref().lower()}", f"new{ref().lower()}"
    committed(client, "case", CASE, [[old, "John", "Doe", "ACTIVE", "4"]])
    _, final = committed(client, "case", CASE, [[new, "Jane", "Roe", "ACTIVE", "3"],
                                                [old, "John", "Doe", "ACTIVE", "1"],
                                                [new, "Jane", "Roe", "ACTIVE", "3"]],
                         options={"duplicate_action": "create_increment"})
    assert final["status"] == "Committed"
    assert stored_periods(server.database_url, new) == ["3", "4"]  # the first keeps 3, its repeat is 3 + 1
    assert stored_periods(server.database_url, old) == ["4", "5"]  # the existing case had 4



def test_provider_and_created_by_must_name_users_of_the_organisation(client_for):
    """Seed 001: ProviderUserID and CreatedByID are User IDs of the organisation (an error names the row,
    the column and the value otherwise); CreatedByID should be the user running the import (a warning)."""
    importer, admin = client_for("importer"), client_for("admin")
    mine, theirs = importer.me()["user_ref"], admin.me()["user_ref"]
    stranger = client_for("other_org").me()["user_ref"]  # a user, but of another organisation
    header = ["Identifier", "FirstName", "Status", "ProviderUserID", "CreatedByID"]
    ident = f"usr{ref().lower()}"
    imp = importer.start_import(pl.DataFrame([
        [f"{ident}1", "Ann", "ACTIVE", theirs, mine],       # fine
        [f"{ident}2", "Bob", "ACTIVE", stranger, mine],     # provider of another organisation
        [f"{ident}3", "Cy", "ACTIVE", theirs, "user_999999999"],  # no such user
        [f"{ident}4", "Di", "ACTIVE", mine, theirs],        # created by someone else: a warning
    ], schema=header, orient="row"), "case", "add", name="cases.csv")
    review = imp.review()
    assert [r["action"] for r in review["rows"]] == ["Insert", "Error", "Error", "Insert"]
    issues = {(i["row"], i["column"]): i for i in review["issues"]}
    assert issues[(3, "ProviderUserID")]["value"] == stranger and issues[(3, "ProviderUserID")]["severity"] == "error"
    assert f"ProviderUserID '{stranger}' is not a user of your organisation" in issues[(3, "ProviderUserID")]["message"]
    assert "CreatedByID 'user_999999999' is not a user of your organisation" in issues[(4, "CreatedByID")]["message"]
    warning = issues[(5, "CreatedByID")]
    assert warning["severity"] == "warning" and f"'{theirs}' is not you" in warning["message"] and mine in warning["message"]
    assert (2, "CreatedByID") not in issues and (2, "ProviderUserID") not in issues
    imp.cancel()


# ------------------------------------------------------ seed 002: Registration & Certification
QUAL = ["Qualification Number", "ULN", "Status", "Registration number", "Registration date",
        "Certificate claimed date", "Achieved date", "Certificate received Date", "Certificate Sent Date",
        "Postal Tracking Reference"]


def qualification_csv(rows: int) -> bytes:
    """A qualification CSV of `rows` rows (about 120 bytes each)."""
    line = "60312345,{uln},Not registered,,,,,,,Tracking reference of the certificate posted to the learner {i:06d}"
    body = [",".join(QUAL)] + [line.format(uln=1000000000 + i, i=i) for i in range(rows)]
    return ("\n".join(body) + "\n").encode()


def test_a_file_over_the_domains_limit_is_refused_by_the_client_and_the_server(server, client, tmp_path):
    """Seed 002: the file must be less than 2 MB. `bulkassist submit` (and every front end, through
    Client.start_import) refuses before uploading; the server refuses the declared size (413) with the same
    sentence, and the rows it receives when a client declares nothing."""
    from bulkassist.errors import FileTooLarge, PayloadTooLarge
    from tests.test_server_faults import call, message

    big = qualification_csv(20_000)
    assert len(big) > 2 * 2**20
    path = tmp_path / "qualifications.csv"
    path.write_bytes(big)
    before = client.imports(domain="qualification")["total"]
    with pytest.raises(PayloadTooLarge) as local:
        client.start_import(str(path), "qualification", "add_update")
    assert isinstance(local.value, FileTooLarge)
    expected = (f"qualifications.csv is {len(big) / 2**20:.1f} MB ({len(big):,} bytes); Registration & "
                f"Certification files must be under 2 MB (2,097,152 bytes). Split it into smaller files.")
    assert str(local.value) == expected
    assert client.imports(domain="qualification")["total"] == before  # nothing reached the server

    declared = call(server, "POST", "/imports", json={"domain": "qualification", "operation": "add_update",
                                                      "file_name": "qualifications.csv", "file_size": len(big)})
    assert declared.status_code == 413 and message(declared) == expected

    # A client that declares no size: the rows are counted as they arrive, and the batch that passes 2 MB is
    # refused naming the size and the limit.
    imp = client.create_import("qualification", "add_update", file_name="undeclared.csv")
    frame = pl.read_csv(big, infer_schema=False)
    imp.upload(QUAL, frame.head(10_000))
    with pytest.raises(FileTooLarge, match=r"undeclared.csv \(as uploaded to import \d+\) is 2\.\d MB .* must be "
                                           r"under 2 MB \(2,097,152 bytes\)") as served:
        imp.upload(QUAL, frame.slice(10_000), first_row=10_000)
    assert served.value.status == 413
    imp.validate()
    assert imp.review(issues_limit=0)["summary"]["total"] == 10_000  # what was refused is not half stored
    imp.cancel()


def test_cli_submit_of_a_file_over_the_limit_exits_2_and_imports_nothing(server, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(qualification_csv(20_000))
    done = bulkassist("submit", str(path), "-d", "qualification", "-p", "add_update", "--yes", "--server", server.url,
                      "--token", server.tokens["importer"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert "big.csv is 2." in done.stderr and "must be under 2 MB" in done.stderr


def stored_data(database_url: str, record_id: int | str) -> dict:
    """The fields of a stored record, read from the database itself."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        data = conn.execute(sa.text("SELECT data FROM records WHERE id = :i"), {"i": int(record_id)}).scalar_one()
    engine.dispose()
    return data if isinstance(data, dict) else json.loads(data)


def test_a_status_that_needs_a_registration_number_reverts_without_one(server, client):
    """Seed 002 note 4: updating to a status that is not permitted without a Registration number reverts the
    status: to the record's previous status, or 'Not registered' for a new record. The results row says which
    status was kept and why."""
    uln_new, uln_old = str(uuid.uuid4().int)[:10], str(uuid.uuid4().int)[:10]

    def row(uln: str, status: str) -> list[str]:
        return ["60312345", uln, status, "", "", "", "", "", "", ""]

    first, _ = committed(client, "qualification", QUAL, [row(uln_old, "Exempt")], "add_update")
    old_id = first.results()["Created/Updated ID"][0]
    imp, final = committed(client, "qualification", QUAL, [row(uln_new, "Achieved"), row(uln_old, "Certificate Sent")],
                           "add_update")
    assert final["status"] == "Committed"
    results = imp.results().to_dicts()
    assert [(r["Status"], r["Action"]) for r in results] == [("Success", "Insert"), ("Success", "Update")]
    assert results[1]["Created/Updated ID"] == old_id
    assert stored_data(server.database_url, results[0]["Created/Updated ID"])["Status"] == "Not registered"
    assert stored_data(server.database_url, old_id)["Status"] == "Exempt"
    assert ("Status 'Achieved' is not permitted without a Registration number, so the status reverted: kept "
            "'Not registered' (the status of a new record)") in results[0]["Error Messages"]
    assert "Status 'Certificate Sent' is not permitted" in results[1]["Error Messages"]
    assert "kept 'Exempt' (the record's previous status)" in results[1]["Error Messages"]


# ------------------------------------------------------------------ seed 003: BrightClient
def test_a_record_whose_parent_failed_names_the_link_field_in_the_errors_file(client):
    """Seed 003: "If a client fails, its addresses fail too"; the errors file gives, for each failed record,
    the field that caused the failure: for a child of a failed parent, the field that links it to the parent."""
    from tests.test_server_domains import ADDRESS, BC, CONTACT

    bad = f"B{ref()}"
    parents = client.start_import(csv_bytes(BC, [[bad, "", "Limited Company"]]), "business_client", "add",
                                  name="clients.csv")  # no Registered Name: the parent fails
    parents.cancel()
    contacts, final = committed(client, "contact", CONTACT, [[f"C{bad}", bad, "Bob", "Ray"]])
    addresses, _ = committed(client, "address_history", ADDRESS, [["", f"C{bad}", "2 Low St", "Leeds", "LS1 4AB",
                                                                  "01/02/2020"]])
    assert final["status"] == "CommitFailed"
    for imp, field, value in ((contacts, "Client Reference", bad), (addresses, "Contact Reference", f"C{bad}")):
        failure = pl.read_csv(imp.errors_file(), infer_schema=False).row(0, named=True)
        assert (failure["Field"], failure["Column"], failure["Value"], failure["Code"]) == (
            field, field, value, "commit_failed")
        assert "fix the parent first" in failure["Message"]


def test_the_results_action_of_a_failed_row_says_what_it_would_have_done(client):
    """Seed 000's results file (Action: Insert or Update) for every row, seed 003's failed records: a row that
    failed validation or the commit still says whether it would have inserted or updated a record."""
    from tests.test_server_domains import CONTACT
    from tests.test_server_lifecycle import CLIENT_HEADER

    existing = client.start_import(csv_bytes(CLIENT_HEADER, [["", "Ann", "Lee", "", "", ""]]), "client", "add",
                                   name="one.csv")
    existing.commit(timeout=60)
    client_id = existing.results()["Created/Updated ID"][0]
    imp, _ = committed(client, "client", CLIENT_HEADER, [
        [client_id, "Ann", "Lee", "13/45/1990", "", ""],  # an update with a bad date
        ["", "Bob", "", "", "", ""],                      # a new client without Last Name
        ["", "Cy", "Ray", "", "", ""],                     # fine
    ], "add_update")
    results = imp.results()
    assert results["Status"].to_list() == ["Failed", "Failed", "Success"]
    assert results["Action"].to_list() == ["Update", "Insert", "Insert"]

    orphan = f"O{ref()}"
    children, _ = committed(client, "contact", CONTACT, [[f"C{orphan}", orphan, "Di", "Fox"]])
    assert children.results().select("Status", "Action").row(0) == ("Failed", "Insert")


# ------------------------------------------------------------------ seed 004: course records
COURSE = ["username", "course_code", "complete", "credit_type", "credits"]


def new_credit_type(admin, maximum: float, variable: bool) -> str:
    name = f"T{ref()}"
    made = admin.request("POST", "/admin/credit-types", json={"name": name, "max_credits": maximum,
                                                              "variable": variable})
    assert made.status_code == 201 and made.json() == {"name": name, "max_credits": maximum, "variable": variable}
    return name


def learner() -> str:
    return f"{ref().lower()}@example.org"


def test_credit_types_are_configured_per_organisation_by_its_administrators(client_for):
    """Seed 004: credit types (name, maximum credits, Variable) belong to one organisation; its administrators
    list, create and change them; nobody else does."""
    from bulkassist.errors import Conflict, PermissionDenied

    admin, importer, other = client_for("admin"), client_for("importer"), client_for("other_org")
    name = new_credit_type(admin, 3.0, False)
    listed = {t["name"]: t for t in admin.request("GET", "/admin/credit-types").json()}
    assert listed[name] == {"name": name, "max_credits": 3.0, "variable": False}
    assert listed["CPE"]["variable"] and not listed["CME"]["variable"]  # the demo's
    assert name in {o["value"] for o in importer.lists("course_record").to_dict()["credit_type"]}
    with pytest.raises(Conflict, match="already exists"):
        admin.request("POST", "/admin/credit-types", json={"name": name, "max_credits": 1.0})
    changed = admin.request("PUT", f"/admin/credit-types/{name}", json={"max_credits": 3.0, "variable": True})
    assert changed.json()["variable"] is True
    with pytest.raises(PermissionDenied):
        importer.request("POST", "/admin/credit-types", json={"name": f"X{ref()}", "max_credits": 1.0})
    # Another organisation's course records are not checked against it: it is not one of their values.
    assert name not in {o["value"] for o in other.lists("course_record").to_dict()["credit_type"]}


def test_partial_credit_on_a_type_that_is_not_variable_is_an_error_until_variable_is_enabled(client_for):
    """Seed 004: "When importing credit amounts less than the maximum number of credits on a course be sure that
    Variable is enabled on the configured credit types prior to import."""
    admin, importer = client_for("admin"), client_for("importer")
    name = new_credit_type(admin, 2.0, False)
    rows = [[learner(), "PHARM-101", "1", name, "1.5"], [learner(), "PHARM-101", "1", name, "2"],
            [learner(), "PHARM-101", "1", name, "2.5"]]
    imp = importer.start_import(csv_bytes(COURSE, rows), "course_record", "add", name="partial.csv")
    review = imp.review()
    assert [r["action"] for r in review["rows"]] == ["Error", "Insert", "Error"]
    issues = {i["row"]: i for i in review["issues"] if i["code"] == "credit_amount"}
    assert (issues[2]["column"], issues[2]["value"]) == ("credits", "1.5")
    assert (f"credits 1.5 are less than the 2 credits of credit type {name}, which is not Variable: enable "
            f"Variable on the {name} credit type before importing partial or variable credit") == issues[2]["message"]
    assert "more than the 2 credits" in issues[4]["message"]
    imp.cancel()
    admin.request("PUT", f"/admin/credit-types/{name}", json={"max_credits": 2.0, "variable": True})
    again = importer.start_import(csv_bytes(COURSE, rows[:1]), "course_record", "add", name="partial.csv")
    assert again.review()["rows"][0]["action"] == "Insert"
    again.cancel()


def test_a_course_record_names_an_existing_course_and_shells_warn_they_have_no_certificate(server, client):
    """Seed 004: "Imported course shells do not have certificates. If a certificate is needed, create a course
    first and import the enrollments into that." A record naming no course is an error, unless the import
    creates course shells (a warning); importing into a course without a certificate warns too."""
    course = f"NEW-{ref()}"
    refused = client.start_import(csv_bytes(COURSE, [[learner(), course, "1", "CPE", "2"]]), "course_record", "add",
                                  name="unknown.csv")
    issue = refused.review()["issues"][0]
    assert (issue["severity"], issue["column"], issue["value"]) == ("error", "course_code", course)
    assert f"course '{course}' does not exist in your organisation" in issue["message"]
    assert "Create course shells" in issue["message"] and "have no certificates" in issue["message"]
    refused.cancel()

    shells, final = committed(client, "course_record", COURSE, [[learner(), course, "1", "CPE", "2"],
                                                                [learner(), "PHARM-900", "1", "CPE", "2"]],
                              options={"create_course_shells": True})
    assert final["status"] == "Committed"
    warnings = {i["row"]: i for i in shells.review()["issues"]}
    assert warnings[2]["severity"] == "warning" and "a course shell will be created" in warnings[2]["message"]
    assert warnings[3]["code"] == "no_certificate" and "imported course shells have no certificates" in \
        warnings[3]["message"]
    assert course in {c["code"] for c in client.courses(course[:6])}
    into_shell = client.start_import(csv_bytes(COURSE, [[learner(), course, "1", "CPE", "2"]]), "course_record",
                                     "add", name="again.csv")
    assert into_shell.review()["issues"][0]["code"] == "no_certificate"  # the shell made above has none
    into_shell.cancel()


def test_the_importer_kind_is_kept_on_the_records_and_shown_in_the_results(server, client):
    """Seed 004 PARS: the global course report importer is for legacy data and not in PARS reports; the
    course-level importer is. The choice is an option, kept on each record and shown in the results."""
    for kind, label in (("global", "Global course report importer (legacy data, not in PARS)"),
                        ("course", "Course-level importer (reported in PARS)")):
        imp, final = committed(client, "course_record", COURSE, [[learner(), "PHARM-101", "1", "CPE", "2"]],
                               options={"importer": kind})
        results = imp.results()
        assert results["Importer"].to_list() == [label]
        assert stored_data(server.database_url, results["Created/Updated ID"][0])["_importer"] == kind
    default, _ = committed(client, "course_record", COURSE, [[learner(), "PHARM-101", "1", "CPE", "2"]])
    assert default.info["options"]["importer"] == "course"


def test_a_completion_without_credit_for_an_existing_user_is_awarded_the_credit(server, client_for):
    """Seed 004's workaround: "import users with completions but not credit records. Upon import, if the user
    exists, and is complete and the credit is non-variable, the credit will automatically be awarded"."""
    admin, importer = client_for("admin"), client_for("importer")
    name = new_credit_type(admin, 1.5, False)
    variable = new_credit_type(admin, 1.5, True)
    existing = "importer@example.org"  # a user of the organisation
    imp, final = committed(importer, "course_record", COURSE, [
        [existing, "PHARM-101", "1", name, ""],      # awarded 1.5
        [learner(), "PHARM-101", "1", name, ""],     # no such user: nothing awarded
        [existing, "PHARM-101", "1", variable, ""],  # Variable: nothing awarded
        [existing, "PHARM-102", "0", name, ""],      # not complete: nothing awarded
    ])
    assert final["status"] == "Committed"
    results = imp.results().to_dicts()
    credits = [stored_data(server.database_url, r["Created/Updated ID"]).get("credits") for r in results]
    assert credits == ["1.5", None, None, None]
    assert results[0]["Error Messages"].startswith(f"credit awarded automatically: 1.5 {name}")
    assert [r["Error Messages"] for r in results[1:]] == ["", "", ""]


@pytest.mark.parametrize("domain, header, row", [
    ("course_record", COURSE, lambda: [learner(), "PHARM-101", "1", "CPE", "2"]),
    ("business_client", ["Client Reference", "Registered Name", "Client Type"],
     lambda: [f"R{ref()}", "Acme Ltd", "Limited Company"]),
])
def test_a_refusal_names_only_operations_the_domain_offers(client, domain, header, row):
    """Course records and business clients offer only Add: a record already imported is not told to "use
    Update"."""
    line = row()
    committed(client, domain, header, [line])
    again = client.start_import(csv_bytes(header, [line]), domain, "add", name="again.csv")
    issue = next(i for i in again.review()["issues"] if i["code"] == "already_exists")
    assert "Update" not in issue["message"]
    assert "imports offer only Add and cannot change it: remove the row" in issue["message"]
    again.cancel()


# ------------------------------------------------------------------ seed 000: payments, errors
def test_a_payment_names_an_existing_client_of_the_organisation(server, client_for, tmp_path):
    """Seed 000: a payment belongs to a client; its Client ID must exist in the organisation (a client of
    another organisation does not)."""
    import re

    from bulkassist.client import Client
    from tests.test_server_lifecycle import CLIENT_HEADER

    org = f"Payments {ref()}"

    def admin_cli(*args: str) -> str:
        done = bulkassist("admin", *args, "--database-url", server.database_url)
        assert done.returncode == 0, done.stderr
        return done.stdout

    admin_cli("create-org", org)
    admin_cli("enable-domain", org, "payment")
    payer = Client(server.url, re.search(r"ba_[\w-]+", admin_cli("create-user", org, f"payer{ref()}", "--group",
                                                                 "Administrators")).group(0))
    mine, _ = committed(payer, "client", CLIENT_HEADER, [["", "Ann", "Lee", "", "", ""]])
    own_id = mine.results()["Created/Updated ID"][0]
    foreign = client_for("importer").start_import(csv_bytes(CLIENT_HEADER, [["", "Bob", "Ray", "", "", ""]]),
                                                  "client", "add", name="theirs.csv")
    foreign.commit(timeout=60)
    foreign_id = foreign.results()["Created/Updated ID"][0]

    header = ["Client ID", "CourseID", "Payment Date", "Amount", "Payment Method"]
    imp, final = committed(payer, "payment", header, [[own_id, "MATH101", "01/15/2027", "125.00", "Cash"],
                                                      [foreign_id, "MATH101", "01/15/2027", "125.00", "Cash"],
                                                      ["999999999", "MATH101", "01/15/2027", "125.00", "Cash"]])
    assert final["status"] == "Committed"
    results = imp.results()
    assert results["Status"].to_list() == ["Success", "Failed", "Failed"]
    for message, value in zip(results["Error Messages"][1:], [foreign_id, "999999999"], strict=True):
        assert f"Client ID {value} does not exist in your organisation" in message


# ------------------------------------------------------------------ seed 000: errors
def test_a_refused_request_reaches_python_as_its_own_error_class(client):
    """Seed 000 and the API: a bad option (400) and a malformed request (422) raise specific classes of
    bulkassist.errors, not the generic ServerError."""
    from bulkassist.errors import InvalidRequest, MalformedRequest, ServerError

    with pytest.raises(InvalidRequest, match="no option 'colour'") as bad_option:
        client.create_import("client", "add", options={"colour": "red"})
    assert type(bad_option.value) is InvalidRequest and bad_option.value.status == 400
    with pytest.raises(InvalidRequest, match="use add, update or add_update"):
        client.create_import("client", "delete")
    with pytest.raises(MalformedRequest, match="operation") as malformed:
        client.request("POST", "/imports", json={"domain": "client", "operation": 7})
    assert malformed.value.status == 422 and type(malformed.value) is not ServerError
