"""What every cell kind is made of: the column it checks, the findings it returns, and `CellKind`.

A check takes the column's trimmed values (null where blank) and returns the
value the system will store for every cell (`normalized`) and a frame of
issues for the cells that fail. The valid majority costs a handful of column
operations; messages and suggestions are built only for the bad cells.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from bulkassist.engine.report import ISSUE_SCHEMA
from bulkassist.engine.selectlists import SelectLists
from bulkassist.spec import Field, Kind

# What a check says about one cell: the issue's columns, keyed by 0-based data row instead of placement
# (code and severity as text: placing the findings makes them the issues' Categorical).
FINDING_SCHEMA = {"idx": pl.Int64, "code": pl.String, "severity": pl.String} | {
    name: ISSUE_SCHEMA[name] for name in ("message", "suggestion", "confidence", "safe")
}
# A finding placed on a field (rules, text hazards): FINDING_SCHEMA with the field after the row.
FIELD_FINDING_SCHEMA = {"idx": pl.Int64, "field": pl.String} | {k: v for k, v in FINDING_SCHEMA.items() if k != "idx"}

# Excel number formats of a template column's new cells.
TEXT_FORMAT = "@"  # kept as typed: leading zeros stay, dates do not become serial numbers
GENERAL_FORMAT = "General"


@dataclass
class CellColumn:
    """One file column mapped to a field, ready to check."""

    field: Field
    values: pl.Series  # trimmed text, null where blank
    number_cells: pl.Series | None = None  # XLSX numeric cells
    date_cells: pl.Series | None = None  # XLSX date cells (text is ISO YYYY-MM-DD)


@dataclass
class Findings:
    normalized: pl.Series
    issues: pl.DataFrame  # FINDING_SCHEMA; idx is the 0-based data row
    dates: pl.Series | None = None  # DATE fields: the parsed dates, for the cross-field rules


@dataclass(frozen=True)
class AsTyped:
    """A kind's one-pass test of cells exactly as read (`CellKind.as_typed`)."""

    valid: pl.Expr | None  # True where the cell needs nothing (None with `dates`: where a date was read)
    dates: pl.Expr | None = None  # DATE kinds: the dates of the valid cells, null elsewhere
    # `valid` is one hash lookup per cell already (a select list): testing the distinct texts first saves nothing.
    lookup: bool = False
    # True where the cell needs nothing but a warning that `CellKind.typed_warnings` makes from its text
    # alone (a well-formed SSN never issued): such cells skip the full check too.
    warned: pl.Expr | None = None


def ascii_digits(v: pl.Expr, fewest: int, most: int) -> tuple[pl.Expr, pl.Expr]:
    r"""True where the text is `fewest` to `most` (at most 19) ASCII digits, and the text as an integer (null
    where it is not one): a length and an integer cast, no regex pass (half the time of `^\d{1,12}$` on 1M
    cells). The cast refuses every text but `[+]?[0-9]+` (no space, sign "-", "_", "0x" or other digits);
    the "+" is refused by hand. Other scripts' digits (which `\d` takes) fail it: a test of cells as typed
    may pass too few cells, never too many."""
    number = v.cast(pl.UInt64, strict=False)
    return v.str.len_bytes().is_between(max(fewest, 1), most) & ~v.str.starts_with("+") & number.is_not_null(), number


_FULL_WIDTH_DIGITS = [chr(0xFF10 + d) for d in range(10)]  # '０'..'９', what an East Asian input method types
_ASCII_DIGITS = [str(d) for d in range(10)]


def full_width_read(cells: pl.Series) -> pl.Expr:
    """`pl.col("v")` with full-width digits as the ASCII digits they are, for reading a suggestion's digits
    out of `cells` (never for the cells' own test: the system stores 0-9 only). Only rewritten when a cell
    holds a character beyond ASCII (one length comparison; an NFKC pass cost 15 ms a 40k cells)."""
    if bool((cells.str.len_bytes() != cells.str.len_chars()).any()):
        return pl.col("v").str.replace_many(_FULL_WIDTH_DIGITS, _ASCII_DIGITS)
    return pl.col("v")


def unpadded(v: pl.Expr) -> pl.Expr:
    """True where the text has no surrounding space (trimming would change nothing)."""
    return v.str.strip_chars().str.len_bytes() == v.str.len_bytes()


class CellKind(ABC):
    """One `Kind` of cell: how it is checked, described to a person, stated for pandera and formatted.

    Each module of `bulkassist.kinds` holds one (or two close relatives), the
    way django-import-export's widgets own `clean()` and `render()`.
    """

    kind: ClassVar[Kind]
    cell_format: ClassVar[str] = GENERAL_FORMAT  # Excel number format of the column in a template
    # Stored as typed, so a formula or a control character in it would reach every file made from it.
    stored_as_typed: ClassVar[bool] = False
    caseless: ClassVar[bool] = False  # two values that differ only in case are the same (duplicate checks)

    @abstractmethod
    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        """The normalized column and the issues of its bad cells, vectorised over the column."""

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        """A test of the text cells of `f` exactly as read (`v`: null where empty), one cheap pass over
        the column: valid only where trimming changes nothing and `check` (and, for a kind stored as
        typed, the formula and control-character test) finds nothing and stores the text unchanged.

        Validation gives only the other cells the full `check`, so a test that passes too few cells
        costs time, never a finding. None: the kind has no such test (every cell gets `check`).
        """
        return None

    def typed_warnings(self, f: Field, cells: pl.Series) -> pl.DataFrame:
        """The findings (FINDING_SCHEMA, `idx` into `cells`) that `check` makes of `cells`, every one of them
        `warned` by this kind's `as_typed` test: warnings only, and no other finding of those cells."""
        raise NotImplementedError(f"{type(self).__name__}.as_typed warns of no cell")

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        """The lines of a header note (or template) that say what a cell of `f` must hold."""
        return []

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        """The pandera checks of `f` this kind can state, each with a short `error=` label
        (long labels are copied per failure)."""
        return []


def length_line(f: Field) -> list[str]:
    """The note line for a field's maximum length, if it has one."""
    return [f"Up to {f.max_length} characters"] if f.max_length else []


def q(expr: pl.Expr) -> pl.Expr:
    """A value quoted for a message: 'value'."""
    return pl.concat_str([pl.lit("'"), expr, pl.lit("'")])


def no_findings(normalized: pl.Series) -> Findings:
    return Findings(normalized, pl.DataFrame(schema=FINDING_SCHEMA))


def findings_frame(bad: pl.DataFrame, *, code, message, suggestion=None, confidence=None, safe=False,
                   severity="error") -> pl.DataFrame:
    """Issues for the rows of `bad` (which has `idx` and `v`), from expressions or literals."""

    def as_expr(x, dtype):
        return x if isinstance(x, pl.Expr) else pl.lit(x, dtype)

    return bad.select(
        pl.col("idx").cast(pl.Int64),
        as_expr(code, pl.String).alias("code"),
        as_expr(severity, pl.String).alias("severity"),
        as_expr(message, pl.String).alias("message"),
        as_expr(suggestion, pl.String).alias("suggestion"),
        as_expr(confidence, pl.Float64).alias("confidence"),
        as_expr(safe, pl.Boolean).alias("safe"),
    )


def cell_frame(col: CellColumn) -> pl.DataFrame:
    """The column as `idx` (data row), `v` (text), `num` and `dcell` (was an XLSX number / date cell)."""
    false = pl.repeat(False, col.values.len(), dtype=pl.Boolean, eager=True)
    return pl.DataFrame({
        "v": col.values,
        "num": col.number_cells if col.number_cells is not None else false,
        "dcell": col.date_cells if col.date_cells is not None else false,
    }).with_row_index("idx")


def concat_findings(parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    return pl.concat(parts, how="vertical")
