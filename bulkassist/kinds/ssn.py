"""Social Security numbers: nine digits, no separators; dashes, lost leading zeros and scientific
notation are put right, with the confidence each fix deserves."""

from __future__ import annotations

from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.kinds.base import (
    TEXT_FORMAT,
    AsTyped,
    CellColumn,
    CellKind,
    Findings,
    ascii_digits,
    cell_frame,
    concat_findings,
    findings_frame,
    full_width_read,
    no_findings,
)
from bulkassist.spec import Field, Kind

SSN_REGEX = r"^[0-9]{9}$"
# Numbers the Social Security Administration never issues: area 000, 666 or 900-999, group 00, serial 0000.
NEVER_ISSUED_REGEX = r"^(000|666|9[0-9][0-9])|^[0-9]{3}00|0000$"


class SsnKind(CellKind):
    kind = Kind.SSN
    cell_format = TEXT_FORMAT

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        df = cell_frame(col).with_columns(ok=pl.col("v").str.contains(SSN_REGEX))  # one regex pass for both
        never_issued = never_issued_findings(df)
        bad = df.filter(pl.col("v").is_not_null() & ~pl.col("ok"))
        if not bad.height:
            return Findings(col.values, never_issued) if never_issued.height else no_findings(col.values)
        sci = pl.col("v").str.contains(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")
        plain = full_width_read(bad["v"]).str.replace(r"\.0+$", "")  # full-width digits as the digits they are
        # Dashes go first, by a literal pass: the regex then finds nothing left in most cells (39k SSNs with
        # dashes: 3 against 8 ms). The text is all digits exactly when that took nothing from it.
        only_digits = pl.col("plain").str.replace_all("-", "", literal=True).str.replace_all(r"[^0-9]", "")
        digits = pl.when(pl.col("sci")).then(
            pl.col("v").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False).cast(pl.String)
        ).otherwise(pl.col("only"))
        all_digits = (pl.col("only").str.len_bytes() == pl.col("plain").str.len_bytes()) & (pl.col("plain") != "")
        # Each regex once: each column used twice is made once.
        bad = bad.with_columns(sci=sci, plain=plain).with_columns(only=only_digits).with_columns(
            d=digits, alld=all_digits).with_columns(
            sugg=pl.when(pl.col("d").str.len_chars() == 9).then(pl.col("d"))
            .when(pl.col("alld") & pl.col("d").str.len_chars().is_between(5, 8)).then(pl.col("d").str.zfill(9)),
            padded=pl.col("alld") & pl.col("d").str.len_chars().is_between(5, 8),
        )
        issues = findings_frame(
            bad, code="ssn_format",
            message=pl.when(pl.col("padded")).then(pl.format(
                "'{}' has {} digits; an SSN has 9 — Excel drops leading zeros from numbers, did you mean '{}'?",
                pl.col("v"), pl.col("d").str.len_chars(), pl.col("sugg")))
            .when(pl.col("sci")).then(pl.format(
                "'{}' is an SSN that Excel turned into scientific notation; type the 9 digits, perhaps '{}'",
                pl.col("v"), pl.col("sugg")))
            .when(pl.col("sugg").is_not_null()).then(pl.format(
                "'{}' is not an SSN in the format 123456789 (9 digits, no dashes or spaces); use '{}'",
                pl.col("v"), pl.col("sugg")))
            .otherwise(pl.format("'{}' is not an SSN: it needs exactly 9 digits, as in 123456789", pl.col("v"))),
            suggestion=pl.col("sugg"),
            confidence=pl.when(pl.col("sugg").is_null()).then(None)
            .when(pl.col("sci")).then(0.5)
            .when(pl.col("padded") & ~pl.col("num")).then(0.7).otherwise(1.0),
            # Dashes removed: certain. Zeros restored: certain only for a number cell. Scientific notation: never.
            safe=pl.col("sugg").is_not_null() & ~pl.col("sci") & (~pl.col("padded") | pl.col("num")),
        )
        return Findings(col.values, concat_findings([issues, never_issued]))

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        """SSN_REGEX and not NEVER_ISSUED_REGEX, in one pass: nine ASCII digits read as a number, its area
        (not 000, 666 or 9xx), group (not 00) and serial (not 0000) by arithmetic, no regex. Nine ASCII
        digits never issued (NEVER_ISSUED_REGEX) are `warned`: their one finding is that warning."""
        nine, n = ascii_digits(v, 9, 9)
        # The area by comparisons (a third faster than dividing): 001-665, 667-899. The group (not 00) by one
        # remainder: the last six digits (group and serial) are 10000 or more (1M cells: the test ~2 ms less).
        area = (n >= 1_000_000) & (n < 900_000_000) & ((n < 666_000_000) | (n >= 667_000_000))
        issued = area & (n % 1_000_000 >= 10_000) & (n % 10_000 != 0)
        return AsTyped(nine & issued, warned=nine & ~issued)

    def typed_warnings(self, f: Field, cells: pl.Series) -> pl.DataFrame:
        return _never_issued(pl.DataFrame({"v": cells}).with_row_index("idx"))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return ["Nine digits, no dashes (123456789)"]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.str_matches(SSN_REGEX, error=f"{f.name}: ssn")]


def never_issued_findings(df: pl.DataFrame) -> pl.DataFrame:
    """Warnings for well-formed SSNs that cannot be real: probably a placeholder or a typo."""
    well_formed = pl.col("ok") if "ok" in df.columns else pl.col("v").str.contains(SSN_REGEX)
    # The well-formed first: the cells a one-pass test failed hold none, usually (no regex pass over them).
    return _never_issued(df.filter(well_formed).filter(pl.col("v").str.contains(NEVER_ISSUED_REGEX)))


def _never_issued(odd: pl.DataFrame) -> pl.DataFrame:
    """`never_issued_findings` of cells (`idx`, `v`) known to be well-formed and never issued."""
    return findings_frame(
        odd, code="ssn_never_issued", severity="warning",
        message=pl.format("'{}' is not an SSN the Social Security Administration issues (area 000, 666 or "
                          "900-999, group 00 or serial 0000 are never used); check it", pl.col("v")),
    )


SSN = SsnKind()
