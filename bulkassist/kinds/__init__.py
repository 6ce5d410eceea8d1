"""Cell kinds: one module per `spec.Kind`, each owning everything about its cells.

A kind (`base.CellKind`) checks a whole column at once and suggests fixes
(`check`), says in a header note what a cell must hold (`describe`), states
its rules for pandera (`pandera_checks`, read by `bulkassist.schema`) and
gives a template column its Excel cell format (`cell_format`). A new kind is
a `Kind` member, one module here and one entry in `KINDS`.

Excel's habits are handled by the kinds: date cells, date serials, numbers
that lost their leading zeros, phones typed as numbers, IDs that became
"100234.0".
"""

from __future__ import annotations

from bulkassist.kinds import boolean, date, email, identifier, number, phone, select, ssn, text
from bulkassist.kinds.base import CellColumn, CellKind, Findings
from bulkassist.spec import Field, Kind

KINDS: dict[Kind, CellKind] = {
    k.kind: k
    for k in (text.TEXT, identifier.ID, email.EMAIL, phone.PHONE, ssn.SSN, number.INTEGER, number.NUMBER,
              boolean.BOOLEAN, date.DATE, select.SELECT, select.MULTI_SELECT)
}


def kind_of(f: Field) -> CellKind:
    """The kind that checks, describes and formats the cells of `f`."""
    return KINDS[f.kind]


__all__ = ["KINDS", "CellColumn", "CellKind", "Findings", "kind_of"]
