"""Identifiers: text matched by the field's `pattern`, written in templates as text so Excel keeps
leading zeros, with "100234.0" and stripped zeros put right."""

from __future__ import annotations

import re

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.kinds.base import (
    TEXT_FORMAT,
    AsTyped,
    CellColumn,
    Findings,
    ascii_digits,
    cell_frame,
    unpadded,
)
from bulkassist.kinds.text import TextKind, pattern_findings
from bulkassist.spec import Field, Kind

# A pattern of digits only: "^[0-9]+$", "^[0-9]{9}$", "^[0-9]{1,12}$" (up to 19 digits fit the integer cast;
# `\d` also reads as one, though in a regex it takes other scripts' digits too).
_DIGITS = re.compile(r"\^(?:\\d|\[0-9\])(?:\+|\{(?:(?P<n>\d+)|(?P<low>\d+),(?P<high>\d+))\})\$")
_MOST_DIGITS = 19


class IdentifierKind(TextKind):
    """Text as far as pandera and duplicate checks go; an ID with a pattern is checked by that pattern only."""

    kind = Kind.ID
    cell_format = TEXT_FORMAT
    stored_as_typed = False

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        if not col.field.pattern:
            return super().check(col, lists)
        return Findings(col.values, pattern_findings(cell_frame(col), col.field))

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        if not f.pattern:
            return super().as_typed(f, lists, v)
        digits = _DIGITS.fullmatch(f.pattern)
        if digits:  # a whole-number ID (^[0-9]{1,12}$): no regex pass
            fewest = int(digits["n"] or digits["low"] or 1)
            most = int(digits["n"] or digits["high"] or _MOST_DIGITS)
            if most <= _MOST_DIGITS:
                return AsTyped(ascii_digits(v, fewest, most)[0])
        return AsTyped(v.str.contains(f.pattern) & (v.str.len_bytes() > 0) & unpadded(v))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        hint = f.pattern_hint or "an identifier"
        return [hint[:1].upper() + hint[1:]]


ID = IdentifierKind()
