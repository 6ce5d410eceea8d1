"""`bulkassist.schema.to_pandera` as the README shows it: a domain named by text, pandera finding the
cells BulkAssist's own engine finds."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import polars as pl
import pytest

import bulkassist

HEADER = ["First Name", "Last Name", "SSN", "Date of Birth", "Ethnicity"]
ROWS = [
    ["Maria", "Lopez", "123456789", "02/03/1990", "Asian"],
    ["Jo", None, "123-45-6789", "1990-02-03", "Asain"],
]


def _failures(schema, frame) -> set[tuple[str, int]]:
    """(column, 0-based row) of every failing cell."""
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        schema.validate(frame, lazy=True)
    cases = caught.value.failure_cases
    cases = cases.to_pandas() if isinstance(cases, pl.DataFrame) else cases
    return {(str(c), int(i)) for c, i in zip(cases["column"], cases["index"], strict=True) if pd.notna(i)}


def test_to_pandera_takes_the_domain_and_operation_by_name():
    schema = bulkassist.schema.to_pandera("client", "add")
    assert schema.name == "client:add"
    assert schema.columns["Last Name"].required and not schema.columns["Last Name"].nullable
    assert bulkassist.schema.to_pandera("Client", "Add & Update").name == "client:add_update"
    with pytest.raises(bulkassist.UnknownDomain, match="unknown domain 'clients'"):
        bulkassist.schema.to_pandera("clients", "add")
    with pytest.raises(bulkassist.SchemaError, match="unknown operation 'insert'"):
        bulkassist.schema.to_pandera("client", "insert")


@pytest.mark.parametrize("backend", ["polars", "pandas"])
def test_pandera_fails_the_cells_bulkassist_reports(backend):
    frame = pl.DataFrame(dict(zip(HEADER, zip(*ROWS, strict=True), strict=True)), schema=dict.fromkeys(HEADER, pl.String))
    data = frame if backend == "polars" else frame.to_pandas().astype("string")
    found = _failures(bulkassist.schema.to_pandera("client", "add", backend=backend), data)
    report = bulkassist.validate(frame, domain="client", operation="add")
    errors = report.issues.filter(pl.col("severity") == "error")
    # the report numbers rows as the sheet does (header = row 1)
    expected = {(c, r - 2) for c, r in zip(errors["field"], errors["row"], strict=True)}
    assert found == expected == {("Last Name", 1), ("SSN", 1), ("Date of Birth", 1), ("Ethnicity", 1)}
