"""Requests people really send, on SQLite and PostgreSQL over HTTP (issue 12): no 500, nothing stuck,
nothing unbounded."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest

import bulkassist
from bulkassist.errors import Conflict
from tests.test_server_faults import call, message, new_import, validate
from tests.test_server_lifecycle import CLIENT_HEADER


# ------------------------------------------------- 7: no header matches a field
def test_a_batch_whose_headers_match_no_field_validates_like_local_validation(server):
    imp = new_import(server)
    answer = call(server, "POST", f"/imports/{imp}/batches",
                  json={"batch_id": "b1", "first_row": 0, "headers": ["Foo", "Bar"], "rows": [["1", "2"]]})
    assert answer.status_code == 200, answer.text
    assert validate(server, imp)["status"] == "ValidationFailed"
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


# ------------------------------------------- 8: deep JSON, numbers past 64 bits
@pytest.mark.parametrize("path", ["batches", "rows/2"])
def test_deeply_nested_json_is_a_4xx_with_a_message(server, path):
    imp = new_import(server)
    body = b'{"batch_id": "b", "headers": ["A"], "rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    method = "POST" if path == "batches" else "PATCH"
    answer = call(server, method, f"/imports/{imp}/{path}", data=body, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert "nested" in message(answer)


def test_a_record_id_past_64_bits_is_422(server):
    answer = call(server, "GET", "/domains/qualification/export?record_id=99999999999999999999",
                  token=server.tokens["admin"])
    assert answer.status_code == 422, answer.text
    assert "record_id" in message(answer)


# ------------------------------------------------------------- 10: body limits
def chunks(total: int, size: int = 2**16):
    """A body sent chunked (no Content-Length): `total` bytes of JSON-ish filler, never in memory whole."""
    yield b'{"values": {"First Name": "'
    for _ in range(total // size):
        yield b"x" * size


@pytest.mark.parametrize("method, path, limit", [
    ("PATCH", "/imports/{imp}/rows/2", "1 MB"),
    ("POST", "/imports", "1 MB"),
    ("POST", "/admin/users", "1 MB"),
    ("PUT", "/admin/lists/language", "1 MB"),
    ("POST", "/imports/{imp}/batches", "10 MB"),
])
def test_a_chunked_body_past_the_limit_is_refused_while_it_streams(server, method, path, limit):
    imp = new_import(server)
    answer = call(server, method, path.format(imp=imp), data=chunks(40 * 2**20), token=server.tokens["admin"],
                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert limit in message(answer)


def uploaded(server, rows: list[list[str]]) -> int:
    imp = new_import(server)
    answer = call(server, "POST", f"/imports/{imp}/batches",
                  json={"batch_id": "b1", "first_row": 0, "headers": CLIENT_HEADER, "rows": rows})
    assert answer.status_code == 200, answer.text
    return imp


def test_a_cell_longer_than_excel_allows_is_refused_at_upload(server):
    imp = new_import(server)
    rows = [["", "Ana", "Lee", "", "", ""], ["", "Bo", "K" * 40_000, "", "", ""]]
    answer = call(server, "POST", f"/imports/{imp}/batches",
                  json={"batch_id": "b1", "first_row": 7, "headers": CLIENT_HEADER, "rows": rows})
    assert answer.status_code == 400, answer.text
    assert "row 8 of the batch, column 'Last Name'" in message(answer)
    assert "40,000 characters" in message(answer) and "32,767" in message(answer)


def test_a_cell_longer_than_excel_allows_is_refused_at_edit(server):
    imp = uploaded(server, [["", "Ana", "Lee", "", "", ""]])
    assert validate(server, imp)["status"] == "Validated"
    answer = call(server, "PATCH", f"/imports/{imp}/rows/2", json={"values": {"Last Name": "L" * 32_768}})
    assert answer.status_code == 400, answer.text
    assert "row 2, column 'Last Name'" in message(answer) and "32,768 characters" in message(answer)
    assert call(server, "PATCH", f"/imports/{imp}/rows/2",
                json={"values": {"Last Name": "L" * 32_767}}).status_code == 200


# ------------------------------------------------------- 13: overlapping batches
def test_an_overlapping_batch_is_refused_and_a_batch_can_be_dropped(server):
    imp = uploaded(server, [["", "Ana", "Lee", "", "", ""], ["", "Bo", "Kim", "", "", ""]])
    again = {"batch_id": "b2", "first_row": 1, "headers": CLIENT_HEADER,
             "rows": [["", "Bo", "Kim", "", "", ""], ["", "Cy", "Park", "", "", ""]]}
    answer = call(server, "POST", f"/imports/{imp}/batches", json=again)
    assert answer.status_code == 409, answer.text
    assert "rows 1..2 of batch 'b2' overlap rows 0..1 of batch 'b1'" in message(answer)
    assert validate(server, imp)["summary"]["total"] == 2  # not stuck

    imp = uploaded(server, [["", "Ana", "Lee", "", "", ""], ["", "Bo", "Kim", "", "", ""]])
    answer = call(server, "DELETE", f"/imports/{imp}/batches/b1")
    assert answer.json() == {"batch_id": "b1", "first_row": 0, "rows": 2}
    assert call(server, "DELETE", f"/imports/{imp}/batches/b1").status_code == 404
    again["first_row"] = 0
    assert call(server, "POST", f"/imports/{imp}/batches", json=again).status_code == 200
    assert validate(server, imp)["summary"]["total"] == 2
    answer = call(server, "DELETE", f"/imports/{imp}/batches/b2")
    assert answer.status_code == 409 and "before validation" in message(answer)


def test_the_client_drops_a_batch(client):
    imp = client.create_import("client", "add", file_name="f.csv")
    rows = pl.DataFrame([["", "Ana", "Lee", "", "", ""]], schema=CLIENT_HEADER, orient="row")
    imp.upload(CLIENT_HEADER, rows)
    with pytest.raises(Conflict, match="overlap"):
        imp.client.request("POST", f"/imports/{imp.id}/batches", json={
            "batch_id": "again", "first_row": 0, "headers": CLIENT_HEADER, "rows": rows.rows()})
    assert imp.drop_batch(f"{imp.id}-0-1") == {"batch_id": f"{imp.id}-0-1", "first_row": 0, "rows": 1}
    imp.upload(CLIENT_HEADER, pl.concat([rows, rows]))
    assert imp.validate()["total"] == 2
