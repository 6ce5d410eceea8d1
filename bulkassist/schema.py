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

import polars as pl

from bulkassist.domains import get_domain
from bulkassist.engine.selectlists import SelectLists, demo_lists
from bulkassist.kinds import kind_of
from bulkassist.spec import Domain, Field


def field_checks(f: Field, lists: SelectLists, pa: Any) -> list[Any]:
    """The pandera checks of one field: its kind's, then its maximum length (short `error=` labels:
    long labels are copied per failure)."""
    checks = kind_of(f).pandera_checks(f, lists, pa)
    if f.max_length:
        checks.append(pa.Check.str_length(max_value=f.max_length, error=f"{f.name}: length"))
    return checks


def to_pandera(domain: str | Domain, operation: str, *, lists: SelectLists | None = None,
               backend: Literal["polars", "pandas"] = "polars") -> Any:
    """A pandera DataFrameSchema for `domain` (a name such as "client", or a Domain) under `operation`
    ("add", "Add & Update", ...): text columns, blank = null; select lists from `lists`, else the demo set."""
    domain = get_domain(domain)
    operation = domain.parse_operation(operation)
    if backend == "polars":
        import pandera.polars as pa  # pandera loads only for whoever asks for a schema, one backend

        text: Any = pl.String
    else:
        import pandera.pandas as pa  # type: ignore[no-redef]  # pandera's pandas backend: only for pandas users

        text = "string"
    provider = lists or demo_lists()
    columns = {
        f.name: pa.Column(text, checks=field_checks(f, provider, pa), nullable=not f.is_required(operation),
                          required=f.is_required(operation))
        for f in domain.fields
    }
    return pa.DataFrameSchema(columns, name=f"{domain.name}:{operation}", strict=False, coerce=False)

