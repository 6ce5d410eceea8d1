"""Preview of changes (issue 14) over real HTTP, on SQLite and on PostgreSQL: per Update row and field the
stored value -> the new value, blank cells kept, No change rows counted, not written and not charged."""

from __future__ import annotations

import json

import pandas as pd
import polars as pl
import pytest
import sqlalchemy as sa

from bulkassist.errors import Conflict, NotFound
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes, unique_name


def _stored(server, record_ids: list[int]) -> dict[int, tuple[dict, object]]:
    """record id -> (data, updated_at), read from the server's own database."""
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, data, updated_at FROM records WHERE id IN "
                                        f"({', '.join(str(int(i)) for i in record_ids)})")).all()
    finally:
        engine.dispose()
    return {i: (d if isinstance(d, dict) else json.loads(d), at) for i, d, at in rows}


def _usage_of(server, import_id: int) -> int:
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT coalesce(sum(rows), 0) FROM usage_events WHERE import_id = :i"),
                                {"i": import_id}).scalar()
    finally:
        engine.dispose()


@pytest.fixture
def three_clients(client):
    """Three stored clients: F0..F2 <last>, born 01/02/1990, English, no phone."""
    last = unique_name()
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", f"F{i}", last, "01/02/1990", "English", ""]
                                                        for i in range(3)]), "client", "add", name="new.csv")
    assert imp.commit(timeout=60)["status"] == "Committed"
    return [int(x) for x in imp.results()["Created/Updated ID"].to_list()], last


def test_preview_lists_old_and_new_per_field_keeps_blank_cells_and_marks_no_change(server, client, three_clients):
    (a, b, c), last = three_clients
    data = csv_bytes(CLIENT_HEADER, [
        [str(a), "Fa", last, "01/02/1990", "Spanish", ""],  # 2: First Name and Language change
        [str(b), "F1", last, "", "English", ""],  # 3: Date of Birth blank (kept), the rest equal: No change
        [str(c), "F2", last, "01/02/1990", "English", "(727) 123-1234"],  # 4: a phone where there was none
        ["", "New", last, "03/04/1991", "English", ""],  # 5: an insert: not previewed
    ])
    imp = client.start_import(data, "client", "add_update", name="update.csv")
    review = imp.review()
    assert review["summary"] == {"total": 4, "valid": 3, "errors": 0, "skipped": 0, "insert": 1, "update": 2,
                                 "no_change": 1}
    assert {r["row"]: r["action"] for r in review["rows"]} == {2: "Update", 3: "No change", 4: "Update", 5: "Insert"}
    assert imp.status()["summary"]["no_change"] == 1

    changes = imp.changes()
    assert isinstance(changes, pd.DataFrame)
    assert list(changes.columns) == ["row", "field", "old", "new", "change"]
    got = [tuple(None if pd.isna(v) else v for v in r) for r in changes.itertuples(index=False)]
    assert got == [
        (2, "First Name", "F0", "Fa", "changed"),
        (2, "Language", "English", "Spanish", "changed"),
        (3, "Date of Birth", "01/02/1990", None, "kept"),
        (4, "Phone Number", None, "(727) 123-1234", "changed"),
    ]
    # filtered by field, and paged
    only = client._json("GET", f"/imports/{imp.id}/changes", params={"field": "Language"})
    assert only["total"] == 1 and only["items"] == [
        {"row": 2, "field": "Language", "old": "English", "new": "Spanish", "change": "changed"}]
    assert only["fields"] == ["First Name", "Language", "Date of Birth", "Phone Number"]
    second = client._json("GET", f"/imports/{imp.id}/changes", params={"page": 2, "page_size": 3})
    assert second["total"] == 4 and [i["row"] for i in second["items"]] == [4]
    kept = imp.changes(change="kept")
    assert kept["row"].tolist() == [3]

    # the pre-commit results file already says the row changes nothing
    before = imp.results()
    assert before.filter(pl.col("Row Number") == 3).row(0, named=True)["Action"] == "No change"

    stored_before = _stored(server, [b])
    final = imp.commit(timeout=60)
    assert final["status"] == "Committed"
    assert final["committed"] == {"inserted": 1, "updated": 2, "failed": 0}
    assert _usage_of(server, imp.id) == 3  # the No change row used no allowance
    assert _stored(server, [b]) == stored_before  # not written: data and updated_at untouched
    after = _stored(server, [a, c])
    assert after[a][0]["First Name"] == "Fa" and after[a][0]["Language"] == "Spanish"
    assert after[a][0]["Date of Birth"] == "01/02/1990"
    assert after[c][0]["Phone Number"] == "(727) 123-1234"

    results = {r["Row Number"]: r for r in imp.results().to_dicts()}
    assert results[3]["Status"] == "Skipped" and results[3]["Action"] == "No change"
    assert "no change" in results[3]["Error Messages"] and results[3]["Created/Updated ID"] is None
    assert results[2]["Status"] == "Success" and results[2]["Action"] == "Update"


def test_an_import_whose_rows_all_change_nothing_commits_and_writes_nothing(server, client, three_clients):
    ids, last = three_clients
    data = csv_bytes(CLIENT_HEADER, [[str(i), f"F{n}", last, "01/02/1990", "English", ""] for n, i in enumerate(ids)])
    imp = client.start_import(data, "client", "update", name="same.csv")
    assert imp.summary["no_change"] == 3 and imp.summary["valid"] == 0
    assert imp.status()["status"] == "Validated"
    assert imp.changes().empty
    assert imp.confirm()["Rows to Import"] == 0
    stored_before = _stored(server, ids)
    final = imp.commit(timeout=60)
    assert final["status"] == "Committed" and final["committed"] == {"inserted": 0, "updated": 0, "failed": 0}
    assert _usage_of(server, imp.id) == 0
    assert _stored(server, ids) == stored_before
    assert imp.results()["Action"].to_list() == ["No change"] * 3


def test_an_edit_recomputes_the_preview(client, three_clients):
    (a, _, _), last = three_clients
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [[str(a), "F0", last, "01/02/1990", "English", ""]]),
                              "client", "update", name="edit.csv")
    assert imp.review()["rows"] == [{"row": 2, "action": "No change"}]
    edited = imp.edit_row(2, {"Last Name": "Changed"})
    assert edited["action"] == "Update" and edited["summary"]["no_change"] == 0
    assert imp.changes()[["row", "field", "old", "new"]].values.tolist() == [[2, "Last Name", last, "Changed"]]


def test_assignments_preview_by_their_match_key(client):
    """A key-matched domain (Client ID + CourseID + SectionID) is joined by its stored key."""
    stored = client.start_import(csv_bytes(["Client ID", "First Name", "Last Name"], [["", "As", unique_name()]]),
                                 "client", "add", name="c.csv")
    stored.commit(timeout=60)
    client_id = stored.results()["Created/Updated ID"][0]
    header = ["Client ID", "CourseID", "SectionID", "Enrollment Status"]
    first = client.start_import(csv_bytes(header, [[client_id, "MATH101", "01", "Enrolled"]]), "client_assignment",
                                "add", name="a.csv")
    assert first.commit(timeout=60)["status"] == "Committed"
    again = client.start_import(csv_bytes(header, [[client_id, "MATH101", "01", "Withdrawn"]]), "client_assignment",
                                "update", name="a2.csv")
    rows = again.changes()[["row", "field", "old", "new"]].values.tolist()
    assert rows == [[2, "Enrollment Status", "Enrolled", "Withdrawn"]]


def test_another_organisation_cannot_read_the_changes(client, client_for, three_clients):
    (a, _, _), last = three_clients
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [[str(a), "Zed", last, "", "", ""]]), "client", "update",
                              name="secret.csv")
    assert len(imp.changes()) >= 1
    other = client_for("other_org")
    with pytest.raises(NotFound):
        other.request("GET", f"/imports/{imp.id}/changes")
    with pytest.raises(Exception) as viewer:
        client_for("viewer").request("GET", f"/imports/{imp.id}/changes")
    assert getattr(viewer.value, "status", None) in (403, 404)


def test_changes_before_validation_is_a_conflict(client):
    imp = client.create_import("client", "update", file_name="empty.csv")
    with pytest.raises(Conflict):
        imp.changes()


def test_cli_submit_show_changes_prints_them_and_asks_before_writing(server, client, three_clients, tmp_path):
    from click.testing import CliRunner

    from bulkassist.cli import main

    (a, b, _), last = three_clients
    path = tmp_path / "update.csv"
    path.write_bytes(csv_bytes(CLIENT_HEADER, [[str(a), "Fa", last, "", "English", ""],
                                               [str(b), "F1", last, "01/02/1990", "English", ""]]))
    env = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens["importer"]}
    args = ["submit", str(path), "--domain", "client", "--operation", "update", "--show-changes"]
    stored_before = _stored(server, [a, b])

    refused = CliRunner().invoke(main, args, env=env, input="n\n")
    assert "2 rows — 1 valid (0 insert, 1 update), 1 no change, 0 with errors" in refused.output, refused.output
    assert 'row 2, First Name: "F0" -> "Fa"' in refused.output
    assert 'row 2, Date of Birth: "01/02/1990" kept (the cell is blank)' in refused.output
    assert "row 3" not in refused.output  # the No change row has nothing to show
    assert "Write these changes?" in refused.output and "cancelled; nothing was written" in refused.output
    assert refused.exit_code == 1
    assert _stored(server, [a, b]) == stored_before

    accepted = CliRunner().invoke(main, args, env=env, input="y\n")
    assert "Committed: Records Inserted 0, Updated 1, Failed 0" in accepted.output, accepted.output
    assert accepted.exit_code == 0
    after = _stored(server, [a, b])
    assert after[a][0]["First Name"] == "Fa" and after[a][0]["Date of Birth"] == "01/02/1990"
    assert after[b] == stored_before[b]
