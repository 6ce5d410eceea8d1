"""Email addresses: one address per cell, with stray spaces, commas and trailing dots put right."""

from __future__ import annotations

from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.io.cells import CONTROL_CHARACTERS, FORMULA_STARTERS
from bulkassist.kinds.base import (
    AsTyped,
    CellColumn,
    Findings,
    cell_frame,
    concat_findings,
    findings_frame,
    length_line,
)
from bulkassist.kinds.text import TextKind, within_limits
from bulkassist.spec import Field, Kind

EMAIL_REGEX = r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$"


def _email_regex(never: str = "", never_first: str = "") -> str:
    """EMAIL_REGEX without what mail servers refuse ("..", a dot at either end of the name, a domain label
    that starts or ends with a hyphen), as one regex: the name is dot-separated runs, the domain is
    labels that start and end with neither a dot nor a hyphen (the first may be empty), then the TLD.
    `never` (character-class text) is refused anywhere, `never_first` as the first character too."""
    label = rf"[^@\s,;.\-{never}](?:[^@\s,;.{never}]*[^@\s,;.\-{never}])?"
    run = rf"[^@\s,;.{never}]"
    return (rf"^[^@\s,;.{never}{never_first}]{run}*(?:\.{run}+)*@(?:{label}(?:\.{label})*|(?:\.{label})+)"
            rf"\.[A-Za-z]{{2,}}$")


_EMAIL_ONE_PASS = _email_regex()
# An address that is also plain text (`PLAIN_TEXT`): no control character, no formula start.
_PLAIN_EMAIL = _email_regex(CONTROL_CHARACTERS, FORMULA_STARTERS)


def is_email(value: pl.Expr) -> pl.Expr:
    """One address: the shape of EMAIL_REGEX, and no '..', no dot at either end of the name, no domain
    label that starts or ends with a hyphen (mail servers refuse all three). One regex pass (the name
    and domain are never extracted); tests/test_validate_fast_paths.py holds the five-test reference."""
    return value.str.contains(_EMAIL_ONE_PASS)


def _suggestions(bad: pl.Series) -> pl.Series:
    """Per bad address, the address it is once stray spaces, commas and dots are put right, or null when that
    is no address either. The fix adds no "@": only texts holding one are fixed (one literal pass picks them;
    "user at example.org", "N/A" and the like skip the five passes of the fix)."""
    suggestions = pl.repeat(None, bad.len(), dtype=pl.String, eager=True).alias("sugg")
    at = bad.str.contains("@", literal=True)
    if not at.any():
        return suggestions
    # Literal and strip steps where no regex is needed (a third of the time on 39k cells).
    fixed = (
        pl.col("v").str.replace_all(r"\s+", "").str.replace_all(",", ".", literal=True)
        .str.replace_all(r"\.{2,}", ".").str.strip_chars(".")
    )
    found = bad.filter(at).to_frame("v").select(fixed).select(pl.when(is_email(pl.col("v"))).then("v")).to_series()
    return suggestions.scatter(at.arg_true(), found)


class EmailKind(TextKind):
    """Text (length, pattern) that must also be one email address."""

    kind = Kind.EMAIL

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        df = cell_frame(col)
        bad = df.filter(pl.col("v").is_not_null() & ~is_email(pl.col("v")))
        parts = [super().check(col, lists).issues]
        if bad.height:
            bad = bad.with_columns(sugg=_suggestions(bad["v"]))
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

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        return AsTyped(v.str.contains(_PLAIN_EMAIL) & within_limits(f, v))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return ["An email address", *length_line(f)]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.str_matches(EMAIL_REGEX, error=f"{f.name}: email")]


EMAIL = EmailKind()
