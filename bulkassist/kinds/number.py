"""Numbers: whole numbers (`INTEGER`, stored without "+" or ".0") and decimals (`NUMBER`, currency
signs and thousands separators suggested away), both bounded below by the field's `minimum`."""

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
    concat_findings,
    findings_frame,
)
from bulkassist.spec import Field, Kind

INTEGER_REGEX = r"^\+?[0-9]+$"


class IntegerKind(CellKind):
    kind = Kind.INTEGER

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        df = cell_frame(col)
        whole = pl.col("v").str.contains(INTEGER_REGEX)
        value = pl.col("v").str.replace(r"^\+", "").str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
        df = df.with_columns(n=value)
        parts = []
        notint = df.filter(pl.col("v").is_not_null() & ~whole)
        if notint.height:
            notint = notint.with_columns(sugg=pl.when(pl.col("n").is_not_null()).then(pl.col("n").cast(pl.String)))
            parts.append(findings_frame(
                notint, code="not_integer",
                message=pl.when(pl.col("sugg").is_not_null())
                .then(pl.format("'{}' must be a whole number in {}; use '{}'", pl.col("v"), pl.lit(f.name),
                                pl.col("sugg")))
                .otherwise(pl.format("'{}' is not a whole number; {} takes a single number such as 1, 2, 3",
                                     pl.col("v"), pl.lit(f.name))),
                suggestion=pl.col("sugg"), confidence=pl.when(pl.col("sugg").is_not_null()).then(1.0),
                safe=pl.col("sugg").is_not_null(),
            ))
        parts.append(_below_minimum(df, f))
        normalized = df.select(
            pl.when(pl.col("n").is_not_null()).then(pl.col("n").cast(pl.String)).otherwise(pl.col("v")))
        return Findings(normalized.to_series().alias(col.values.name), concat_findings(parts))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return ["A whole number" + _at_least(f)]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.str_matches(INTEGER_REGEX, error=f"{f.name}: integer")]


class NumberKind(CellKind):
    kind = Kind.NUMBER

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        df = cell_frame(col)
        plain = pl.col("v").str.contains(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
        cleaned = pl.col("v").str.replace_all(r"[\s$£€,]", "")
        df = df.with_columns(n=cleaned.cast(pl.Float64, strict=False))
        parts = []
        notnum = df.filter(pl.col("v").is_not_null() & ~plain)
        if notnum.height:
            # "1,5" may be a decimal comma: never a safe fix.
            decimal_comma = pl.col("v").str.contains(r"^[0-9]+,[0-9]{1,2}$")
            notnum = notnum.with_columns(sugg=pl.when(pl.col("n").is_not_null() & ~decimal_comma).then(cleaned))
            parts.append(findings_frame(
                notnum, code="not_number",
                message=pl.when(pl.col("sugg").is_not_null())
                .then(pl.format("'{}' is not a plain number in {}; use '{}'", pl.col("v"), pl.lit(f.name),
                                pl.col("sugg")))
                .otherwise(pl.format("'{}' is not a number; {} takes a number such as 12.50", pl.col("v"),
                                     pl.lit(f.name))),
                suggestion=pl.col("sugg"), confidence=pl.when(pl.col("sugg").is_not_null()).then(1.0),
                safe=pl.col("sugg").is_not_null(),
            ))
        parts.append(_below_minimum(df, f))
        return Findings(col.values, concat_findings(parts))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return ["A number" + _at_least(f)]


def _at_least(f: Field) -> str:
    return f" of at least {f.minimum:g}" if f.minimum is not None else ""


def _below_minimum(df: pl.DataFrame, f: Field) -> pl.DataFrame:
    """Cells whose number (column `n`) is below the field's minimum."""
    if f.minimum is None:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    low = df.filter(pl.col("n").is_not_null() & (pl.col("n") < f.minimum))
    return findings_frame(low, code="below_minimum", message=pl.format(
        "'{}' is below the minimum {} for {}", pl.col("v"), pl.lit(_num(f.minimum)), pl.lit(f.name)))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


INTEGER = IntegerKind()
NUMBER = NumberKind()
