"""Free text: at most `max_length` characters, and the field's `pattern` when it has one."""

from __future__ import annotations

from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.io.cells import PLAIN_TEXT
from bulkassist.kinds.base import (
    FINDING_SCHEMA,
    AsTyped,
    CellColumn,
    CellKind,
    Findings,
    cell_frame,
    concat_findings,
    findings_frame,
    length_line,
)
from bulkassist.spec import Field, Kind


class TextKind(CellKind):
    kind = Kind.TEXT
    stored_as_typed = True
    caseless = True

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        df = cell_frame(col)
        parts = []
        if f.max_length:
            too_long = df.filter(pl.col("v").str.len_chars() > f.max_length)
            if too_long.height:
                parts.append(findings_frame(
                    too_long, code="too_long",
                    message=pl.format("'{}…' is {} characters; {} allows at most {}", pl.col("v").str.slice(0, 40),
                                      pl.col("v").str.len_chars(), pl.lit(f.name), pl.lit(f.max_length)),
                ))
        if f.pattern:
            parts.append(pattern_findings(df, f))
        return Findings(col.values, concat_findings(parts))

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        return AsTyped(v.str.contains(PLAIN_TEXT) & within_limits(f, v))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return length_line(f)

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.str_matches(f.pattern, error=f"{f.name}: pattern")] if f.pattern else []


def within_limits(f: Field, v: pl.Expr) -> pl.Expr:
    """True where the text is within the field's `max_length` (counted in bytes: at least its characters)
    and matches its `pattern`: what `TextKind.check` asks of a cell."""
    ok = pl.lit(True)
    if f.max_length:
        ok = ok & (v.str.len_bytes() <= f.max_length)
    if f.pattern:
        ok = ok & v.str.contains(f.pattern)
    return ok


def pattern_findings(df: pl.DataFrame, f: Field) -> pl.DataFrame:
    """Cells of `df` (a `cell_frame`) that do not match the field's pattern, with the fix Excel made necessary."""
    pattern = f.pattern
    if pattern is None:  # a field without a pattern has no cell that breaks it
        return pl.DataFrame(schema=FINDING_SCHEMA)
    bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").str.contains(pattern))
    if not bad.height:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    hint = f.pattern_hint or f"the pattern {f.pattern}"
    # "100234.0" is what Excel makes of an ID typed as a number.
    stripped = pl.col("v").str.replace(r"^([0-9]+)\.0+$", "$1")
    padded = stripped
    if f.zero_pad:
        padded = pl.when(stripped.str.contains(r"^[0-9]+$") & (stripped.str.len_chars() < f.zero_pad)).then(
            stripped.str.zfill(f.zero_pad)).otherwise(stripped)
    bad = bad.with_columns(sugg=padded).with_columns(
        sugg=pl.when(pl.col("sugg").str.contains(pattern) & (pl.col("sugg") != pl.col("v")))
        .then(pl.col("sugg"))
    )
    lost_zeros = pl.col("sugg").is_not_null() & (pl.col("sugg").str.len_chars() > pl.col("v").str.len_chars())
    return findings_frame(
        bad, code="invalid_format",
        message=pl.when(lost_zeros).then(pl.format(
            "'{}' is not {}; it looks like Excel dropped its leading zeros — did you mean '{}'?",
            pl.col("v"), pl.lit(hint), pl.col("sugg")))
        .when(pl.col("sugg").is_not_null()).then(pl.format("'{}' is not {}; use '{}'", pl.col("v"), pl.lit(hint),
                                                            pl.col("sugg")))
        .otherwise(pl.format("'{}' is not {}", pl.col("v"), pl.lit(hint))),
        suggestion=pl.col("sugg"),
        confidence=pl.when(pl.col("sugg").is_not_null()).then(
            pl.when(lost_zeros & ~pl.col("num")).then(0.7).otherwise(1.0)),
        # Zero-padding is only certain when the cell was a number cell (Excel stripped it).
        safe=pl.col("sugg").is_not_null() & (~lost_zeros | pl.col("num")),
    )


TEXT = TextKind()
