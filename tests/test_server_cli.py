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
