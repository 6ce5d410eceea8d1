"""Undo an import (issue 14) over real HTTP, on SQLite and on PostgreSQL: inserts removed, updated fields
restored exactly, later changes kept as conflicts (unless forced), invoices voided, other organisations
and expired imports refused, and a server killed mid-undo resuming without restoring any record twice."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from bulkassist.client import Client, read_results_csv
from bulkassist.errors import Conflict, NotFound, PermissionDenied, UndoExpired
from bulkassist.server.launch import start_server_process
from bulkassist.server.models import Record
from tests.test_server_crash import CRASH_ENV, ROWS, client_rows, database_url  # noqa: F401 (fixture)
from tests.test_server_lifecycle import (
    CLIENT_HEADER,
    assignment_header,
    csv_bytes,
    new_clients,
    unique_name,
)


@pytest.fixture
def client(client_for) -> Client:
    """The importer, with the organisation's retention back at its default (the schemathesis test, run as
    an administrator, sets it to whatever it generates)."""
    client_for("admin").settings(undo_retention_days=30)
    return client_for("importer")


def stored(url: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """record ID -> its stored fields, read straight from the server's database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            records = Record.__table__
            return dict(conn.execute(sa.select(records.c.id, records.c.data).where(records.c.id.in_(ids))).all())
    finally:
        engine.dispose()


def update_clients(client: Client, ids: list[int], first: str, language: str = "", phone: str = ""):
    rows = [[str(i), f"{first}{n}", "", "", language, phone] for n, i in enumerate(ids)]
    imp = client.start_import(csv_bytes(CLIENT_HEADER, rows), "client", "update", name="update.csv")
    imp.commit(timeout=60)
    return imp


def test_undo_removes_the_records_an_import_inserted(server, client):
    last = unique_name()
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", f"F{i}", last, "01/02/1990", "English", ""]
                                                        for i in range(3)]), "client", "add", name="new.csv")
    imp.commit(timeout=60)
    ids = [int(x) for x in imp.results()["Created/Updated ID"].to_list()]
    assert len(stored(server.database_url, ids)) == 3

    plan = imp.undo_plan()
    assert (plan["remove"], plan["restore"], plan["conflicts"]) == (3, 0, 0)
    final = imp.undo(timeout=60)

    assert final["status"] == "Reverted"
    assert final["undo"]["removed"] == 3 and final["undo"]["conflicts"] == 0
    assert final["undo"]["done"] == final["undo"]["total"] == 3
    assert final["undo"]["effects"]["usage"]["refunded"] == 0
    assert stored(server.database_url, ids) == {}
    results = imp.undo_results()
    assert results.columns == ["Record ID", "Row Number", "Action", "Outcome", "Invoice ID", "Message"]
    assert sorted(results["Record ID"].to_list()) == ids and set(results["Outcome"]) == {"Removed"}
    assert results["Row Number"].to_list() == [2, 3, 4]
    history = {i["id"]: i for i in client.imports()["items"]}
    assert history[imp.id]["status"] == "Reverted"
    with pytest.raises(Conflict, match="already undone"):
        imp.undo()


def test_undo_restores_updated_fields_exactly(server, client):
    ids = new_clients(client, 2)
    before = stored(server.database_url, ids)
    assert all("Phone Number" not in d for d in before.values())
    imp = update_clients(client, ids, "Changed", language="Spanish", phone="(727) 555-0101")
    after = stored(server.database_url, ids)
    assert {d["Language"] for d in after.values()} == {"Spanish"} and all("Phone Number" in d for d in after.values())

    final = imp.undo(timeout=60)

    assert final["status"] == "Reverted" and final["undo"]["restored"] == 2
    assert stored(server.database_url, ids) == before  # fields the update added are gone again
    assert set(imp.undo_results()["Outcome"]) == {"Restored"}


def test_a_record_changed_by_a_later_import_is_a_conflict_unless_forced(server, client):
    ids = new_clients(client, 2)
    original = stored(server.database_url, ids)
    first = update_clients(client, ids, "First")
    later = update_clients(client, ids[:1], "Later")  # changes the first record again

    plan = first.undo_plan()
    assert (plan["restore"], plan["conflicts"]) == (1, 1)
    final = first.undo(timeout=60)

    assert final["status"] == "PartlyReverted"
    assert final["undo"]["restored"] == 1 and final["undo"]["conflicts"] == 1
    now = stored(server.database_url, ids)
    assert now[ids[0]]["First Name"] == "Later0"  # left as the later import wrote it
    assert now[ids[1]] == original[ids[1]]
    outcome = {r["Record ID"]: r for r in first.undo_results().to_dicts()}
    assert outcome[ids[0]]["Outcome"] == "Conflict" and "changed since" in outcome[ids[0]]["Message"]
    assert outcome[ids[1]]["Outcome"] == "Restored"
    assert later.status()["status"] == "Committed"

    forced = first.undo(force=True, timeout=60)

    assert forced["status"] == "Reverted" and forced["undo"]["force"] is True
    assert forced["undo"]["restored"] == 2 and forced["undo"]["conflicts"] == 0
    assert stored(server.database_url, ids) == original


def test_undo_voids_the_invoices_of_removed_assignments(server, client):
    creator = client.get_import(new_import_id(client))
    cid = int(creator.results()["Created/Updated ID"][0])
    imp = client.start_import(csv_bytes(assignment_header(), [[str(cid), "MATH101", "01", "Enrolled"]]),
                              "client_assignment", "add", options={"auto_create_invoices": True}, name="a.csv")
    imp.commit(timeout=60)
    invoice = int(imp.results()["Invoice ID"][0])
    assert imp.undo_plan()["invoices"] == 1
    # The client has an assignment now: removing the client would leave it pointing nowhere.
    assert creator.undo_plan()["linked"] == 1

    final = imp.undo(timeout=60)

    assert final["status"] == "Reverted"
    assert final["undo"]["effects"]["invoices"]["voided"] == 1
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            voided, reason = conn.execute(sa.text("SELECT voided_at, void_reason FROM invoices WHERE id = :i"),
                                          {"i": invoice}).one()
    finally:
        engine.dispose()
    assert voided is not None and f"undo of import {imp.id}" in reason
    assert imp.undo_results()["Invoice ID"].to_list() == [str(invoice)]


def test_another_organisation_cannot_undo_or_see_the_undo(client, client_for):
    imp = client.get_import(new_import_id(client))
    other = client_for("other_org")
    for call in (lambda: other.get_import(imp.id).undo(), lambda: other._json("GET", f"/imports/{imp.id}/undo")):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(PermissionDenied):
        client_for("viewer").get_import(imp.id)
    assert imp.status()["status"] == "Committed"


def new_import_id(client: Client) -> int:
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", "Ann", unique_name(), "", "", ""]]), "client", "add",
                              name="one.csv")
    imp.commit(timeout=60)
    return imp.id


def test_undo_after_the_retention_period_is_refused(client, client_for):
    admin = client_for("admin")
    imp = client.get_import(new_import_id(client))
    assert admin.settings()["undo_retention_days"] == 30
    assert imp.status()["undo_until"]
    try:
        assert admin.settings(undo_retention_days=0) == {"undo_retention_days": 0}
        with pytest.raises(UndoExpired, match="retention period has ended"):
            imp.undo()
    finally:
        admin.settings(undo_retention_days=30)
    with pytest.raises(PermissionDenied):
        client.settings()
    assert imp.status()["status"] == "Committed"


def test_undo_results_file_is_csv_and_xlsx(client):
    imp = client.get_import(new_import_id(client))
    imp.undo(timeout=60)
    frame = read_results_csv(imp.undo_results_file("csv"))
    assert frame["Outcome"].to_list() == ["Removed"]
    assert imp.undo_results_file("xlsx")[:2] == b"PK"


@pytest.mark.slow
def test_killed_undo_resumes_and_restores_every_record_exactly_once(database_url, tmp_path):  # noqa: F811
    first = start_server_process(database_url, data_dir=tmp_path / "a", env=CRASH_ENV)
    tokens = first.tokens
    try:
        client = Client(first.url, tokens["importer"])
        added = client.create_import("client", "add", file_name="crash.csv")
        added.upload(CLIENT_HEADER, client_rows("Undo" + unique_name()))
        added.validate()
        added.commit(timeout=120)
        ids = [int(i) for i in added.results()["Created/Updated ID"].to_list()]
        original = stored(database_url, ids)
        updates = client_rows("Changed").with_columns(pl.Series("Client ID", [str(i) for i in ids]))
        imp = client.create_import("client", "update", file_name="update.csv")
        imp.upload(CLIENT_HEADER, updates)
        imp.validate()
        imp.commit(timeout=120)
        imp.undo(wait=False)
        deadline = time.monotonic() + 60
        while True:
            done = imp.status()["undo"]["done"]
            if ROWS // 5 <= done:
                break
            assert time.monotonic() < deadline, "the undo did not progress"
            time.sleep(0.02)
        first.kill()
    finally:
        first.kill()
    assert 0 < done < ROWS, "the server must die in the middle of the undo"

    second = start_server_process(database_url, data_dir=tmp_path / "b", demo=False, env=CRASH_ENV)
    try:
        imp = Client(second.url, tokens["importer"]).get_import(imp.id)
        final = imp.wait(timeout=120)
        results = imp.undo_results()
    finally:
        second.stop()
    # A record restored twice would be a conflict the second time (its first restore changed it), and
    # counted twice: neither happened.
    assert final["status"] == "Reverted", final
    assert final["undo"]["restored"] == final["undo"]["done"] == ROWS and final["undo"]["conflicts"] == 0
    assert results.height == ROWS and set(results["Outcome"]) == {"Restored"}
    assert stored(database_url, ids) == original


def test_notebook_imp_undo_reports_progress_and_what_was_done(client):
    """The notebook API: `imp.undo()` waits, calling progress(done, total), and answers what it did."""
    imp = client.get_import(new_import_id(client))
    seen: list[tuple[int, int]] = []
    final = imp.undo(progress=lambda done, total: seen.append((done, total)), timeout=60)
    assert final["status"] == "Reverted" and seen[-1] == (1, 1)
    assert final["undo"]["effects"]["workflow"]["events"] == 0
    assert imp.status()["undo_until"] is None  # a Reverted import cannot be undone again


def test_undo_of_cases_says_their_workflow_events_cannot_be_called_back(server, client):
    from tests.test_server_domains import CASE

    ident = unique_name()
    imp = client.start_import(csv_bytes(CASE, [[ident, "John", "Doe", "ACTIVE", "1"], [ident + "b", "Jane", "Roe",
                                                                                        "ACTIVE", "1"]]),
                              "case", "add", options={"run_workflow": True}, name="cases.csv")
    imp.commit(timeout=60)
    assert "2 workflow event(s)" in imp.undo_plan()["effects"]["workflow"]["note"]
    final = imp.undo(timeout=60)
    assert final["status"] == "Reverted" and final["undo"]["removed"] == 2
    workflow = final["undo"]["effects"]["workflow"]
    assert workflow["events"] == 2 and workflow["recalled"] == 0 and "cannot be called back" in workflow["note"]
