"""A domain spec as a pandera schema, for teams that already run pandera.

The cell rules a pandera check can state (required, formats as regular
expressions, select-list membership, lengths, minimums) come from the same
spec the BulkAssist engine reads, so the two agree on which cells are
invalid. The engine itself does not run pandera: pandera reports failures
but cannot say "use '02/03/1990'", and on pandas it is several times slower
(see bench/validate.py, which measures both in one run).
"""

from __future__ import annotations

from typing import Any, Literal

from bulkassist.engine.checks import _EMAIL, _layout_regex, _shape_regex
from bulkassist.engine.selectlists import SelectLists, demo_lists
from bulkassist.spec import Domain, Field, Kind


def field_checks(f: Field, lists: SelectLists, pa: Any) -> list[Any]:
    """The pandera checks of one field, each with a short `error=` label (long labels are copied per failure)."""
    checks: list[Any] = []
    if f.kind is Kind.DATE:
        checks.append(pa.Check.str_matches("|".join(f"(?:{_shape_regex(fmt)})" for fmt in f.formats),
                                           error=f"{f.name}: date"))
    elif f.kind is Kind.PHONE:
        checks.append(pa.Check.str_matches("|".join(f"(?:{_layout_regex(lay)})" for lay in f.formats),
                                           error=f"{f.name}: phone"))
    elif f.kind is Kind.SSN:
        checks.append(pa.Check.str_matches(r"^\d{9}$", error=f"{f.name}: ssn"))
    elif f.kind is Kind.EMAIL:
        checks.append(pa.Check.str_matches(_EMAIL, error=f"{f.name}: email"))
    elif f.kind is Kind.INTEGER:
        checks.append(pa.Check.str_matches(r"^\+?\d+$", error=f"{f.name}: integer"))
    elif f.kind is Kind.BOOLEAN:
        checks.append(pa.Check.isin(["0", "1"], error=f"{f.name}: 0/1"))
    elif f.kind is Kind.SELECT:
        accepted = [v for v, _ in lists.options(f.select_list)]
        if f.match_labels:
            accepted += [lbl for _, lbl in lists.options(f.select_list)]
        checks.append(pa.Check.isin(accepted, error=f"{f.name}: list"))
    if f.pattern and f.kind in (Kind.ID, Kind.TEXT):
        checks.append(pa.Check.str_matches(f.pattern, error=f"{f.name}: pattern"))
    if f.max_length:
        checks.append(pa.Check.str_length(max_value=f.max_length, error=f"{f.name}: length"))
    return checks


def to_pandera(domain: Domain, operation: str, *, lists: SelectLists | None = None,
               backend: Literal["polars", "pandas"] = "polars") -> Any:
    """A pandera DataFrameSchema for `domain` under `operation` (text columns, blank = null)."""
    if backend == "polars":
        import pandera.polars as pa
        import polars as pl

        text = pl.String
    else:
        import pandera.pandas as pa

        text = "string"
    provider = lists or demo_lists()
    columns = {
        f.name: pa.Column(text, checks=field_checks(f, provider, pa), nullable=not f.is_required(operation),
                          required=f.is_required(operation))
        for f in domain.fields
    }
    return pa.DataFrameSchema(columns, name=f"{domain.name}:{operation}", strict=False, coerce=False)

