"""pandas in → pandas out, polars in → polars out, pyarrow in → pyarrow out: the report's frames and the
client's (over real HTTP, on SQLite and PostgreSQL) come back in the library the user gave, or `as_`."""

from __future__ import annotations

import datetime
import re
import uuid
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import bulkassist
from bulkassist.client import Client

ROWS = {
    "Client ID": ["", "", ""],
    "First Name": ["Maria", "Bad", "Ana"],
    "Last Name": ["Lopez", "List", "Diaz"],
    "Date of Birth": ["02/03/1990", "01/01/1990", "13/25/1990"],
    "Language": ["Spanish", "Englsh", "english"],
}


def frames() -> dict[str, object]:
    """The same three rows in every library a user may hand in."""
    polars = pl.DataFrame(ROWS)
    return {"pandas": pd.DataFrame(ROWS), "polars": polars, "lazy": polars.lazy(), "pyarrow": polars.to_arrow()}


KIND = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "lazy": pl.DataFrame, "pyarrow": pa.Table}


def as_polars(frame: object) -> pl.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return pl.from_pandas(frame)
    if isinstance(frame, pa.Table):
        return pl.from_arrow(frame)
    return frame


@pytest.mark.parametrize("given", ["pandas", "polars", "lazy", "pyarrow"])
def test_a_reports_frames_come_back_in_the_library_given(given):
    report = bulkassist.validate(frames()[given], "client", "add")
    expected = bulkassist.validate(pl.DataFrame(ROWS), "client", "add")
    assert report.summary == expected.summary == {**report.summary, "total": 3, "valid": 1, "errors": 2}
    fixed, changes = report.fixed_data()
    for frame in (report.issues_frame(), report.errors_frame(), report.results_frame(), fixed, changes):
        assert type(frame) is KIND[given]
    assert as_polars(report.results_frame()).equals(expected.results_frame())
    assert as_polars(report.errors_frame()).equals(expected.errors_frame())
    assert as_polars(report.issues_frame()).equals(expected.issues)
    assert as_polars(changes).select("row", "suggestion").rows() == [(4, "English")]  # english: a safe fix


def test_as_asks_for_a_library_whatever_was_given():
    report = bulkassist.validate(pd.DataFrame(ROWS), "client", "add")
    assert isinstance(report.results_frame(as_="polars"), pl.DataFrame)
    assert isinstance(report.errors_frame(as_="pyarrow"), pa.Table)
    from_file = bulkassist.validate(pl.DataFrame(ROWS).write_csv().encode(), "client", "add", name="c.csv")
    assert isinstance(from_file.results_frame(), pl.DataFrame)  # a file: polars, as before
    assert isinstance(from_file.results_frame(as_="pandas"), pd.DataFrame)
    with pytest.raises(ValueError, match="'pandas', 'polars', 'pyarrow'"):
        report.results_frame(as_="excel")


def test_a_pyarrow_tables_dates_are_read_as_a_workbooks_date_cells():
    table = pa.table({"Client ID": [None, None], "First Name": ["Maria", "Ana"], "Last Name": ["Lopez", "Diaz"],
                      "Date of Birth": [datetime.date(1990, 2, 3), None], "Phone Number": ["(727) 123-1234", None]})
    read = bulkassist.read_table(table)
    assert read.frame["Date of Birth"].to_list() == ["1990-02-03", None]
    assert read.date_cells["Date of Birth"].to_list() == [True, False]
    report = bulkassist.validate(table, "client", "add")
    assert report.summary["valid"] == 2, report.errors_frame(as_="polars")
    assert report.normalized["Date of Birth"].to_list() == ["02/03/1990", None]


def _import(client: Client, source: object):
    return client.start_import(source, "client", "add", name=f"frames-{uuid.uuid4().hex[:6]}.csv")


@pytest.mark.parametrize("given", ["pandas", "polars", "lazy", "pyarrow"])
def test_an_imports_frames_come_back_in_the_library_it_was_started_from(client, given):
    imp = _import(client, frames()[given])
    issues = imp.issues
    assert type(issues) is KIND[given]
    assert set(as_polars(issues)["row"].to_list()) == {3, 4}
    assert imp.commit(timeout=60)["status"] == "Committed"
    results, records = imp.results(), imp.records()
    assert type(results) is KIND[given] and type(records) is KIND[given]
    assert as_polars(results)["Status"].to_list() == ["Success", "Failed", "Failed"]
    assert as_polars(records)["Record ID"].null_count() == 2
    assert isinstance(imp.results(as_="pyarrow"), pa.Table)
    assert isinstance(imp.issues_frame(as_="pandas"), pd.DataFrame)


def test_history_and_reopened_imports_follow_the_clients_library(client_for):
    pandas_client = client_for("importer", as_="pandas")
    imp = _import(client_for("importer"), pl.DataFrame(ROWS).write_csv().encode())
    assert isinstance(imp.issues, pl.DataFrame)  # bytes: polars, as before
    history = pandas_client.history(domain="client")
    assert isinstance(history, pd.DataFrame) and imp.id in history["Import ID"].tolist()
    assert list(history.columns)[:3] == ["Import ID", "Domain", "Status"]
    assert isinstance(pandas_client.history(as_="pyarrow", domain="client"), pa.Table)
    assert isinstance(client_for("importer").history(), pl.DataFrame)
    reopened = pandas_client.get_import(imp.id)
    assert isinstance(reopened.issues, pd.DataFrame) and set(reopened.issues["row"]) == {3, 4}


def readme_examples(heading: str) -> list[str]:
    """The Python blocks of the README's section `heading`, in order."""
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readmes_dataframe_examples_run_as_written(sqlite_server, monkeypatch):
    monkeypatch.setenv("BULKASSIST_URL", sqlite_server.url)
    monkeypatch.setenv("BULKASSIST_TOKEN", sqlite_server.tokens["importer"])
    local, remote = readme_examples("### DataFrames in, DataFrames out")
    seen: dict[str, object] = {}
    exec(compile(local, "README.md", "exec"), seen)
    assert isinstance(seen["fixed"], pd.DataFrame) and isinstance(seen["arrow"].results_frame(), pa.Table)
    assert isinstance(seen["lazy"].errors_frame(), pl.DataFrame)
    exec(compile(remote, "README.md", "exec"), seen)
    imp = seen["imp"]
    assert isinstance(imp.results(), pd.DataFrame) and imp.info["status"] == "Committed"
    assert isinstance(seen["client"].history(), pd.DataFrame)
