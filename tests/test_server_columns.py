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
