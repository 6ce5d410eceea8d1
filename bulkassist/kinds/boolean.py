"""Yes/no cells, stored as 1 or 0; yes/no, true/false, y/n, t/f and 1.0/0.0 are suggested as 1 or 0."""

from __future__ import annotations

from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.kinds.base import (
    FINDING_SCHEMA,
    CellColumn,
    CellKind,
    Findings,
    cell_frame,
    findings_frame,
)
from bulkassist.spec import Field, Kind

_MEANING = {"1": "1", "0": "0", "1.0": "1", "0.0": "0", "true": "1", "false": "0", "yes": "1", "no": "0",
            "y": "1", "n": "0", "t": "1", "f": "0"}


class BooleanKind(CellKind):
    kind = Kind.BOOLEAN

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        mapped = col.values.str.to_lowercase().replace_strict(_MEANING, default=None)
        df = cell_frame(col).with_columns(m=mapped)
        bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").is_in(["0", "1"]))
        issues = findings_frame(
            bad, code="not_boolean",
            message=pl.when(pl.col("m").is_not_null())
            .then(pl.format("'{}' must be 1 or 0 in {}; use '{}'", pl.col("v"), pl.lit(f.name), pl.col("m")))
            .otherwise(pl.format("'{}' is not 1 or 0; {} takes 1 (yes) or 0 (no)", pl.col("v"), pl.lit(f.name))),
            suggestion=pl.col("m"), confidence=pl.when(pl.col("m").is_not_null()).then(1.0),
            safe=pl.col("m").is_not_null(),
        ) if bad.height else pl.DataFrame(schema=FINDING_SCHEMA)
        normalized = pl.DataFrame({"v": col.values, "m": mapped}).select(pl.coalesce("m", "v")).to_series()
        return Findings(normalized.alias(col.values.name), issues)

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return ["Yes or No (1/0, true/false)"]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.isin(["0", "1"], error=f"{f.name}: 0/1")]


BOOLEAN = BooleanKind()
