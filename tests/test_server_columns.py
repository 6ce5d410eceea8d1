"""Batches as Arrow: the same review as JSON, and malformed Arrow refused with a message naming the fault."""

from __future__ import annotations

import json
import sqlite3

import polars as pl
import requests

from bulkassist.io import batches
from bulkassist.io.batches import RowBatch
from bulkassist.io.reading import unique_names
from tests.test_server_faults import call, message, new_import, validate
from tests.test_server_lifecycle import CLIENT_HEADER


def _rows() -> list[list[str]]:
    return [["", "Ann", f"Arrow{i}"] + [""] * (len(CLIENT_HEADER) - 3) for i in range(5)]


def test_arrow_batch_gives_the_same_review_as_json(server):
    reviews = []
    for arrow in (False, True):
        imp = new_import(server)
        if arrow:
            frame = pl.DataFrame(_rows(), schema=unique_names(CLIENT_HEADER), orient="row")
            body = batches.encode(RowBatch("b", 0, list(CLIENT_HEADER), frame))
            kind = batches.MEDIA_TYPE
        else:
            body = json.dumps({"batch_id": "b", "first_row": 0, "headers": CLIENT_HEADER, "rows": _rows()}).encode()
            kind = "application/json"
        assert call(server, "POST", f"/imports/{imp}/batches", data=body, headers={"Content-Type": kind}).ok
        assert validate(server, imp)["status"] == "Validated"
        review = call(server, "GET", f"/imports/{imp}/review").json()
        reviews.append((review["summary"], review["rows"], review["issues"]))
    assert reviews[0] == reviews[1]


def test_malformed_arrow_is_refused_with_what_is_wrong(server):
    imp = new_import(server)
    answer = call(server, "POST", f"/imports/{imp}/batches", data=b"not arrow at all",
                  headers={"Content-Type": batches.MEDIA_TYPE})
    assert answer.status_code == 400 and "Arrow IPC stream" in message(answer)
    numbers = pl.DataFrame({n: [1] for n in unique_names(CLIENT_HEADER)})
    body = batches.encode(RowBatch("b", 0, list(CLIENT_HEADER), numbers))
    answer = call(server, "POST", f"/imports/{imp}/batches", data=body, headers={"Content-Type": batches.MEDIA_TYPE})
    assert answer.status_code == 400 and "text (utf8)" in message(answer)


def test_a_get_answers_while_a_sqlite_write_transaction_is_open(sqlite_server):
    writer = sqlite3.connect(sqlite_server.data_dir / "bulkassist.sqlite", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE organisations SET name = name")
        # Before readers used a deferred BEGIN this waited for the 60 s busy timeout.
        answer = requests.get(f"{sqlite_server.url}/api/v1/imports", timeout=15,
                              headers={"Authorization": f"Bearer {sqlite_server.tokens['importer']}"})
        assert answer.status_code == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def _review(server, imp: int) -> tuple:
    review = call(server, "GET", f"/imports/{imp}/review").json()
    return review["summary"], review["rows"], review["issues"]


def test_rows_in_several_batches_give_the_review_of_one_batch(server):
    """Validation reads the batches back one at a time and joins them column by column: the rows keep the
    file's order, and a typed-cell mask that only some batches carry holds for its own rows only."""
    rows = [["", "Ann", f"Batch{i}", "2001-02-03" if i in (1, 3) else "03/02/2001", "English", ""] for i in range(7)]
    reviews, imports = [], []
    for cuts in ([(0, 7)], [(0, 2), (2, 1), (3, 4)]):
        imp = new_import(server)
        imports.append(imp)
        for first, count in cuts:
            dates = [i - first for i in (1, 3) if first <= i < first + count]
            body = {"batch_id": f"b{first}", "first_row": first, "headers": CLIENT_HEADER,
                    "rows": rows[first:first + count], **({"date_cells": {"3": dates}} if dates else {})}
            assert call(server, "POST", f"/imports/{imp}/batches", json=body).ok
        assert validate(server, imp)["status"] == "Validated"
        reviews.append(_review(server, imp))
    assert reviews[0] == reviews[1]
    assert [r["row"] for r in reviews[1][1]] == list(range(2, 9))

    # Revalidated with the cells as uploaded (read from the batches again): the same review.
    assert call(server, "PATCH", f"/imports/{imports[0]}", json={"options": {}}).ok
    assert _review(server, imports[0]) == reviews[0]
    # Edited: the cells, the edit included, are kept with the report, and every later revalidation reads them.
    imp = imports[1]
    assert call(server, "PATCH", f"/imports/{imp}/rows/3", json={"values": {"Date of Birth": "not a date"}}).ok
    assert call(server, "PATCH", f"/imports/{imp}/rows/5", json={"values": {"First Name": "Bea"}}).ok
    assert call(server, "PATCH", f"/imports/{imp}", json={"options": {}}).ok
    summary, actions, issues = _review(server, imp)
    assert [r["action"] for r in actions if r["action"] == "Error"] == ["Error"] and actions[1]["action"] == "Error"
    assert {i["row"] for i in issues if i["severity"] == "error"} == {3}
    assert summary["errors"] == 1 and summary["total"] == 7
