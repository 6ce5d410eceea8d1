"""Email addresses: one address per cell, with stray spaces, commas and trailing dots put right."""

from __future__ import annotations

from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.kinds.base import (
    CellColumn,
    Findings,
    cell_frame,
    concat_findings,
    findings_frame,
    length_line,
)
from bulkassist.kinds.text import TextKind
from bulkassist.spec import Field, Kind

EMAIL_REGEX = r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$"


# What mail servers refuse in an address of EMAIL_REGEX's shape (one "@", so what follows it is the
# domain): "..", a dot at either end of the name, a domain label that starts or ends with a hyphen.
_EMAIL_FLAWS = r"\.\.|^\.|\.@|@-|@.*\.-|@.*-\.|-$"


def is_email(value: pl.Expr) -> pl.Expr:
    """One address: the shape of EMAIL_REGEX, and no '..', no dot at either end of the name, no domain
    label that starts or ends with a hyphen (mail servers refuse all three). Two regex passes: the
    name / domain parts are never extracted."""
    return value.str.contains(EMAIL_REGEX) & ~value.str.contains(_EMAIL_FLAWS)


class EmailKind(TextKind):
    """Text (length, pattern) that must also be one email address."""

    kind = Kind.EMAIL

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        df = cell_frame(col)
        bad = df.filter(pl.col("v").is_not_null() & ~is_email(pl.col("v")))
        parts = [super().check(col, lists).issues]
        if bad.height:
            fixed = (
                pl.col("v").str.replace_all(r"\s+", "").str.replace_all(",", ".").str.replace_all(r"\.{2,}", ".")
                .str.replace(r"^\.+", "").str.replace(r"\.+$", "")
            )
            bad = bad.with_columns(sugg=pl.when(is_email(fixed)).then(fixed))
            parts.append(findings_frame(
                bad, code="invalid_email",
                message=pl.when(pl.col("sugg").is_not_null())
                .then(pl.format("'{}' is not an email address; did you mean '{}'?", pl.col("v"), pl.col("sugg")))
                .otherwise(pl.format("'{}' is not an email address (name@example.org) in {}", pl.col("v"),
                                     pl.lit(f.name))),
                suggestion=pl.col("sugg"),
                confidence=pl.when(pl.col("sugg").is_not_null()).then(0.8),
            ))
        return Findings(col.values, concat_findings(parts))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return ["An email address", *length_line(f)]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.str_matches(EMAIL_REGEX, error=f"{f.name}: email")]


EMAIL = EmailKind()
