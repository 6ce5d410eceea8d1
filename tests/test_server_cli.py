"""`bulkassist submit / history / results / admin` against real servers and databases."""

from __future__ import annotations

import uuid

import polars as pl
import pytest
from click.testing import CliRunner

from bulkassist.cli import main
from bulkassist.client import Client
from bulkassist.errors import AuthenticationFailed
from bulkassist.server.launch import start_server_process
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes


def test_submit_commits_and_writes_results(server, tmp_path):
    path = tmp_path / "clients.csv"
    last = "Cli" + uuid.uuid4().hex[:6]
    path.write_bytes(csv_bytes(CLIENT_HEADER, [["", "A", last, "01/02/1990", "English", ""],
                                               ["", "B", last, "13/13/1990", "English", ""]]))
    out = tmp_path / "results.xlsx"
    env = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens["importer"]}
    result = CliRunner().invoke(main, ["submit", str(path), "--domain", "client", "--operation", "add", "--yes",
                                       "-o", str(out)], env=env)
    assert "2 rows — 1 valid (1 insert, 0 update), 1 with errors" in result.output, result.output
    assert "row 3, Date of Birth" in result.output
    assert "Committed: Records Inserted 1, Updated 0, Failed 1" in result.output
    assert result.exit_code == 1  # some rows failed
    assert pl.read_excel(out)["Status"].to_list() == ["Success", "Failed"]

    listed = CliRunner().invoke(main, ["history", "--domain", "client"], env=env)
    assert listed.exit_code == 0 and "Import ID" in listed.output and "clients.csv" in listed.output
    import_id = listed.output.splitlines()[1].split()[0]
    csv = CliRunner().invoke(main, ["results", import_id], env=env)
    assert csv.exit_code == 0 and csv.output.startswith("Row Number,Status,Action")


def test_admin_commands_create_an_organisation_a_user_and_a_working_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    run = CliRunner()
    assert run.invoke(main, ["admin", "create-org", "Acme", "--limit-day", "100", "--database-url", url]
                      ).exit_code == 0
    made = run.invoke(main, ["admin", "create-user", "Acme", "alice", "--group", "Importers",
                             "--database-url", url])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    assert run.invoke(main, ["admin", "enable-domain", "Acme", "payment", "--database-url", url]).exit_code == 0
    refused = run.invoke(main, ["admin", "create-user", "Nowhere", "bob", "--database-url", url])
    assert refused.exit_code != 0 and "no organisation named 'Nowhere'" in refused.output
    values = tmp_path / "sources.csv"
    values.write_text("value,label\nWEB,Website\nRADIO,\n")
    assert run.invoke(main, ["admin", "set-list", "Acme", "marketing_source", str(values), "--database-url", url]
                      ).exit_code == 0
    server = start_server_process(url, demo=False, data_dir=tmp_path / "srv")
    try:
        client = Client(server.url, token)
        assert client.me()["organisation"] == "Acme"
        assert client.usage()["limits"]["today"] == 100
        assert client.domain("payment").name == "payment"
        assert client.lists("client_assignment").options("marketing_source") == [("WEB", "Website"),
                                                                                 ("RADIO", "RADIO")]
        revoked = run.invoke(main, ["admin", "revoke-tokens", "alice", "--database-url", url])
        assert revoked.output.startswith("1 token(s)")
        with pytest.raises(AuthenticationFailed):
            client.me()
    finally:
        server.stop()


# --------------------------------------------------- finishing an import from the command line (issue 10)
def _run(env: dict[str, str], *args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), env=env, input=input)


def _as_json(result) -> object:
    """The JSON document a `--format json` command printed on stdout (prompts and progress are on stderr)."""
    import json

    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return json.loads(result.stdout)


def _env(server, role: str = "importer") -> dict[str, str]:
    return {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens[role]}


def test_validate_only_then_edit_then_start_commits_the_fixed_import(server, tmp_path):
    env = _env(server)
    last = "Edit" + uuid.uuid4().hex[:6]
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(CLIENT_HEADER, [["", "A", last, "01/02/1990", "English", ""],
                                               ["", "B", last, "13/13/1990", "English", ""]]))
    validated = _run(env, "submit", str(path), "-d", "client", "-p", "add", "--validate-only", "--format", "json")
    assert validated.exit_code == 1  # a row has errors
    info = _as_json(validated)
    import_id = str(info["id"])
    assert info["status"] == "Validated" and info["summary"]["errors"] == 1
    assert "row 3, Date of Birth" in validated.stderr

    still = _run(env, "edit", import_id, "3", "Date of Birth=31/31/1990")
    assert still.exit_code == 1 and "Row 3 of import" in still.output and "has errors" in still.output
    assert "Date of Birth" in still.output
    fixed = _run(env, "edit", import_id, "3", "Date of Birth=02/03/1991", "--format", "json")
    assert fixed.exit_code == 0, fixed.output
    row = _as_json(fixed)
    assert (row["row"], row["action"], row["summary"]["valid"], row["summary"]["errors"]) == (3, "Insert", 2, 0)
    refused = _run(env, "edit", import_id, "3", "no equals sign")
    assert refused.exit_code == 2 and "Column=value" in refused.output

    started = _run(env, "start", import_id)
    assert started.exit_code == 0, started.output
    for line in ("File Name: clients.csv", "Rows to Import: 2", "Total Rows: 2", "Errors Skipped: 0",
                 "Import Usage: today "):
        assert line in started.output
    assert f"Import {import_id} Committed: Records Inserted 2, Updated 0, Failed 0" in started.output
    status = _as_json(_run(env, "status", import_id, "--format", "json"))
    assert status["status"] == "Committed" and status["committed"]["inserted"] == 2
    assert "Committed" in _run(env, "status", import_id).output
    again = _run(env, "start", import_id)
    assert again.exit_code == 2 and "it can be committed once" in again.output
    rows = _as_json(_run(env, "results", import_id, "--format", "json"))
    assert rows["columns"][:2] == ["Row Number", "Status"] and [r[1] for r in rows["rows"]] == ["Success"] * 2


def test_start_asks_before_skipping_rows_with_errors_and_cancel_ends_the_import(server, tmp_path):
    env = _env(server)
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(CLIENT_HEADER, [["", "A", "Ask" + uuid.uuid4().hex[:6], "01/02/1990", "English", ""],
                                               ["", "B", "Ask", "99/99/1990", "English", ""]]))
    made = _run(env, "submit", str(path), "-d", "client", "-p", "add", "--validate-only", "--format", "json")
    import_id = str(_as_json(made)["id"])
    declined = _run(env, "start", import_id, input="n\n")
    assert declined.exit_code == 1 and "Import the 1 valid rows and skip the 1 with errors?" in declined.output
    assert f"bulkassist cancel {import_id}" in declined.output
    assert _as_json(_run(env, "status", import_id, "--format", "json"))["status"] == "Validated"  # nothing written

    cancelled = _run(env, "cancel", import_id, "--format", "json")
    assert cancelled.exit_code == 0 and _as_json(cancelled)["status"] == "Cancelled"
    twice = _run(env, "cancel", import_id)
    assert twice.exit_code == 2 and "already Cancelled" in twice.output
    assert _run(env, "start", import_id, "--yes").exit_code == 2


def test_retry_writes_only_the_rows_that_failed(server, tmp_path):
    env = _env(server)
    good, bad = "G" + uuid.uuid4().hex[:8].upper(), "B" + uuid.uuid4().hex[:8].upper()
    parents = tmp_path / "parents.csv"
    parents.write_bytes(csv_bytes(["Client Reference", "Registered Name", "Client Type"],
                                  [[good, "Good Ltd", "Limited Company"]]))
    assert _run(env, "submit", str(parents), "-d", "business_client", "-p", "add").exit_code == 0
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(csv_bytes(["Contact Reference", "Client Reference", "First Name", "Last Name"],
                                   [[f"C1{good}", good, "Ann", "Lee"], [f"C2{bad}", bad, "Bob", "Ray"]]))
    failed = _run(env, "submit", str(contacts), "-d", "contact", "-p", "add", "--format", "json")
    info = _as_json(failed)
    assert failed.exit_code == 1 and info["status"] == "CommitFailed"
    assert info["committed"] == {"inserted": 1, "updated": 0, "failed": 1}
    import_id = str(info["id"])

    too_soon = _run(env, "retry", import_id)  # the parent is still missing: the same row fails again
    assert too_soon.exit_code == 1 and "CommitFailed" in too_soon.output
    parents.write_bytes(csv_bytes(["Client Reference", "Registered Name", "Client Type"],
                                  [[bad, "Bad Fixed Ltd", "Limited Company"]]))
    assert _run(env, "submit", str(parents), "-d", "business_client", "-p", "add").exit_code == 0
    out = tmp_path / "results.csv"
    retried = _run(env, "retry", import_id, "-o", str(out))
    assert retried.exit_code == 0, retried.output
    assert f"Import {import_id} Committed: Records Inserted 2, Updated 0, Failed 0" in retried.output
    assert pl.read_csv(out)["Status"].to_list() == ["Success", "Success"]
    assert "only an import that ended CommitFailed" in _run(env, "retry", import_id).output


def test_usage_and_history_print_json(server, tmp_path):
    env = _env(server)
    usage = _as_json(_run(env, "usage", "--format", "json"))
    assert set(usage) == {"today", "week", "month", "limits"} and usage["today"] <= usage["week"] <= usage["month"]
    table = _run(env, "usage")
    assert table.exit_code == 0 and table.output.startswith(f"Import Usage: today {usage['today']}")
    limited = _as_json(_run(_env(server, "limited"), "usage", "--format", "json"))
    assert limited["limits"]["today"] == 5
    assert f"today {limited['today']} of 5," in _run(_env(server, "limited"), "usage").output

    page = _as_json(_run(env, "history", "--page-size", "3", "--format", "json"))
    assert set(page) == {"items", "total", "page", "page_size"} and len(page["items"]) <= 3
    assert all({"id", "domain", "status", "file_name", "user"} <= set(item) for item in page["items"])
    # another organisation's history never lists these imports
    theirs = _as_json(_run(_env(server, "other_org"), "history", "--page-size", "500", "--format", "json"))
    assert not {i["id"] for i in theirs["items"]} & {i["id"] for i in page["items"]}


def _other_org_admin(server) -> str:
    """A token of a new administrator of the Other Organisation (created directly in the server's database)."""
    from bulkassist.server import admin as ops
    from bulkassist.server.db import make_engine, sessions

    engine = make_engine(server.database_url)
    try:
        with sessions(engine).begin() as session:
            org = ops.organisation(session, "Other Organisation")
            user = ops.create_user(session, org, "admin" + uuid.uuid4().hex[:6], groups=["Administrators"])
            return ops.create_token(session, user)
    finally:
        engine.dispose()


def test_locks_and_unlock_are_for_administrators_of_the_organisation(server, tmp_path):
    env, admin = _env(server), _env(server, "admin")
    refused = _run(env, "locks")
    assert refused.exit_code == 2 and "not an administrator" in refused.output
    assert _run(env, "unlock", "course_record").exit_code == 2
    unknown = _run(admin, "unlock", "no_such_domain")
    assert unknown.exit_code == 2 and "no_such_domain" in unknown.output

    # a course record import that fails locks the importer (seed 004)
    header = ["username", "course_code", "complete", "credit_type", "credits"]
    row = [f"{uuid.uuid4().hex[:8]}@example.org", "PHARM-101", "1", "CPE", "1.5"]
    path = tmp_path / "course.csv"
    path.write_bytes(csv_bytes(header, [row]))
    first = _run(env, "submit", str(path), "-d", "course_record", "-p", "add", "--validate-only", "--format", "json")
    assert _run(env, "submit", str(path), "-d", "course_record", "-p", "add").exit_code == 0
    failed = _as_json(_run(env, "start", str(_as_json(first)["id"]), "--format", "json"))
    assert failed["status"] == "CommitFailed"
    try:
        listed = _as_json(_run(admin, "locks", "--format", "json"))
        assert [(lk["domain"], lk["import_id"]) for lk in listed] == [("course_record", failed["id"])]
        assert f"course_record: locked by import {failed['id']}" in _run(admin, "locks").output
        # another organisation's administrator neither sees nor releases this organisation's lock
        other = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": _other_org_admin(server)}
        assert _as_json(_run(other, "locks", "--format", "json")) == []
        assert "was not locked" in _run(other, "unlock", "course_record").output
        assert len(_as_json(_run(admin, "locks", "--format", "json"))) == 1
        assert "course_record importer unlocked" in _run(admin, "unlock", "course_record").output
        assert "No importer is locked." in _run(admin, "locks").output
    finally:
        Client(server.url, server.tokens["admin"]).unlock("course_record")


def test_every_data_command_takes_format_json(tmp_path):
    """Local commands: validate, fix, domains and lists print JSON on --format json."""
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(CLIENT_HEADER, [["", "A", "Lee", "1/2/1990", "english", ""]]))
    domains = _as_json(_run({}, "domains", "--format", "json"))
    assert "client" in [d["name"] for d in domains]
    lists = _as_json(_run({}, "lists", "client", "--format", "json"))
    assert "Language" in lists
    assert "Language (language): " in _run({}, "lists", "client", "--format", "table").output
    fixed = _as_json(_run({}, "fix", str(path), "-d", "client", "-p", "add", "-o", str(tmp_path / "out.csv"),
                          "--format", "json"))
    assert {"row": 2, "column": "Language", "value": "english", "fixed": "English"} in fixed["changes"]
    assert _as_json(_run({}, "validate", str(path), "-d", "client", "-p", "add", "--format", "json"))


def test_undo_command_says_what_it_will_do_then_undoes(server, tmp_path):
    from tests.test_server_undo import new_import_id

    env = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens["importer"]}
    Client(server.url, server.tokens["admin"]).settings(undo_retention_days=30)  # whatever an earlier test set
    import_id = new_import_id(Client(server.url, server.tokens["importer"]))
    declined = CliRunner().invoke(main, ["undo", str(import_id)], input="n\n", env=env)
    assert "1 record(s) the import added will be removed" in declined.output, declined.output
    assert declined.exit_code == 1 and "left as it is" in declined.output

    out = tmp_path / "undo.csv"
    result = CliRunner().invoke(main, ["undo", str(import_id), "--yes", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"Import {import_id} Reverted: 1 record(s) removed" in result.output
    assert "usage is not refunded" in result.output
    assert pl.read_csv(out)["Outcome"].to_list() == ["Removed"]
    again = CliRunner().invoke(main, ["undo", str(import_id), "--yes"], env=env)
    assert again.exit_code == 2 and "already undone" in again.output
