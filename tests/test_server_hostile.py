"""Requests people really send, on SQLite and PostgreSQL over HTTP (issue 12): no 500, nothing stuck,
nothing unbounded."""

from __future__ import annotations

import openpyxl
import polars as pl

import bulkassist
from tests.test_server_faults import call, new_import


# ------------------------------------------------- 7: no header matches a field
def test_a_batch_whose_headers_match_no_field_validates_like_local_validation(server):
    imp = new_import(server)
    answer = call(server, "POST", f"/imports/{imp}/batches",
                  json={"batch_id": "b1", "first_row": 0, "headers": ["Foo", "Bar"], "rows": [["1", "2"]]})
    assert answer.status_code == 200, answer.text
    answer = call(server, "POST", f"/imports/{imp}/validate")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ValidationFailed"
    issues = call(server, "GET", f"/imports/{imp}/review").json()["issues"]
    local = bulkassist.validate(b"Foo,Bar\n1,2\n", "client", "add", name="f.csv").issues
    assert {(i["code"], i["column"]) for i in issues} == set(zip(local["code"], local["column"], strict=True))
    assert any(i["column"] == "Foo" for i in issues)


def test_a_merged_header_workbook_reaches_the_server_through_the_client(client, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Client", None, "Contact"])
    ws.merge_cells("A1:B1")
    ws.append(["Ana", "Lopez", "7271231234"])
    ws.append(["Bo", "Kim", "7271231235"])
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    imp = client.start_import(path, "client", "add")
    assert imp.status()["status"] == "ValidationFailed"
    # The reader's notes (file_note) stay with the reader; everything judged on the rows is the same.
    local = bulkassist.validate(path, "client", "add").issues.filter(pl.col("code") != "file_note")
    assert sorted(imp.issues.select("row", "code", "column").rows(), key=str) == sorted(
        local.select("row", "code", "column").rows(), key=str)
