"""`bulkassist status / records / history / export` against real servers (seed 001's Info and Records
tabs, seed 002's export)."""

from __future__ import annotations

import json
import uuid

import polars as pl
from click.testing import CliRunner

from bulkassist.cli import main
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes


def test_status_records_and_history_show_successful_percent_and_errors(server, client):
    last = "Pct" + uuid.uuid4().hex[:6]
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", "A", last, "01/02/1990", "English", ""],
                                                        ["", "B", last, "13/13/1990", "English", ""]]),
                              "client", "add", name="cli-percent.csv")
    imp.commit(timeout=60)
    env = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens["importer"]}
    run = CliRunner()
    shown = run.invoke(main, ["status", str(imp.id)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Successful: 50%  Errors: 1" in shown.output and "Committed: 1 inserted, 0 updated, 0 failed" in shown.output
    as_json = json.loads(run.invoke(main, ["status", str(imp.id), "--format", "json"], env=env).output)
    assert (as_json["successful_percent"], as_json["error_count"]) == (50.0, 1)

    listed = run.invoke(main, ["history", "--domain", "client"], env=env).output.splitlines()
    assert "Successful %" in listed[0]
    line = next(x for x in listed[1:] if x.split()[0] == str(imp.id))
    assert "50.0" in line.split() and "cli-percent.csv" in line

    rows = run.invoke(main, ["records", str(imp.id)], env=env).output.splitlines()
    record = imp.records()["Record ID"][0]
    assert rows[0] == f"row 2: Success Insert /api/v1/records/client/{record}"
    assert rows[1].startswith("row 3: Failed") and "Date of Birth" in rows[1]
    items = json.loads(run.invoke(main, ["records", str(imp.id), "--format", "json"], env=env).output)
    assert items[0]["record_id"] == record and items[1]["error"]


def test_export_writes_the_chosen_records_as_csv_or_xlsx(server, client_for, tmp_path):
    registrar = client_for("registrar")
    ids = [r["id"] for r in registrar.records("qualification", page_size=3)["items"]]
    env = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens["registrar"]}
    run = CliRunner()
    out = tmp_path / "chosen.xlsx"
    made = run.invoke(main, ["export", "qualification", "--id", str(ids[0]), "--id", str(ids[2]), "-o", str(out)],
                      env=env)
    assert made.exit_code == 0, made.output
    book = pl.read_excel(out)
    assert book.height == 2 and len(book.columns) == 32 and book["First Name"].null_count() == 0
    csv_out = tmp_path / "all.txt"
    assert run.invoke(main, ["export", "qualification", "--format", "csv", "-o", str(csv_out)], env=env).exit_code == 0
    everything = pl.read_csv(csv_out, infer_schema=False)
    assert everything.height == registrar.records("qualification")["total"]
    assert everything.columns[0] == "Title" and set(book["ULN"].cast(pl.String)) <= set(everything["ULN"])

    refused = run.invoke(main, ["export", "qualification", "-o", str(tmp_path / "no.csv")],
                         env={**env, "BULKASSIST_TOKEN": server.tokens["importer"]})
    assert refused.exit_code == 2 and "no Data Export permission" in refused.output
    assert not (tmp_path / "no.csv").exists()
