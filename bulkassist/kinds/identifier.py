"""Identifiers: text matched by the field's `pattern`, written in templates as text so Excel keeps
leading zeros, with "100234.0" and stripped zeros put right."""

from __future__ import annotations

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.kinds.base import TEXT_FORMAT, AsTyped, CellColumn, Findings, cell_frame, unpadded
from bulkassist.kinds.text import TextKind, pattern_findings
from bulkassist.spec import Field, Kind


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
        return AsTyped(v.str.contains(f.pattern) & (v.str.len_bytes() > 0) & unpadded(v))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        hint = f.pattern_hint or "an identifier"
        return [hint[:1].upper() + hint[1:]]


ID = IdentifierKind()
