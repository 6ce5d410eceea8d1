"""Select-list cells: one value of the field's list (`SELECT`) or several joined by its separator
(`MULTI_SELECT`); a label is accepted where the field says so and stored as its value.

Matching a bad value against the list (`ListMatcher`) runs once per *distinct* bad value, not per cell.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.engine.suggestions import ListMatcher
from bulkassist.io.cells import CONTROL_CHARACTER, FORMULA_START
from bulkassist.kinds.base import (
    AsTyped,
    CellColumn,
    CellKind,
    Findings,
    cell_frame,
    findings_frame,
    length_line,
    no_findings,
)
from bulkassist.spec import Field, Kind

_NOTE_VALUES = 12  # select-list values quoted in a header note


def _accepted(f: Field, lists: SelectLists) -> tuple[list[str], dict[str, str]]:
    """Accepted cell texts, and the label -> value map when labels are accepted."""
    options = lists.options(f.list_name)
    values = [v for v, _ in options]
    labels = {lbl: v for v, lbl in options if f.match_labels and lbl and lbl != v}
    return values + list(labels), labels


def _select_messages(f: Field, bad_values: list[str], lists: SelectLists) -> pl.DataFrame:
    """One row per distinct bad value: its suggestion, confidence, safety and message."""
    matches = ListMatcher(lists.options(f.list_name), match_labels=f.match_labels).match(bad_values)
    rows = []
    for text, m in zip(bad_values, matches, strict=True):
        if m.safe:
            msg = f"'{text}' does not exactly match the {f.name} list, which writes it '{m.suggestion}'"
        elif m.candidates:
            names = [f"'{c.value}'" for c in m.candidates]
            shown = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
            msg = f"'{text}' is not a value of the {f.name} list; did you mean {shown}?"
        else:
            msg = f"'{text}' is not a value of the {f.name} list; choose one of its values (see the dropdown)"
        rows.append((text, m.suggestion, m.confidence, m.safe, msg, "select_case" if m.safe else "not_in_list"))
    return pl.DataFrame(rows, schema={"v": pl.String, "sugg": pl.String, "conf": pl.Float64, "safe": pl.Boolean,
                                      "msg": pl.String, "code": pl.String}, orient="row")


def _list_line(how: str, f: Field, lists: SelectLists | None) -> str:
    """How to fill the cell, then the list's first values (none when the list is unknown)."""
    if f.match_labels:
        how += " (the value or its label)"
    try:
        values = [v for v, _ in lists.options(f.list_name)] if lists is not None and f.select_list else []
    except KeyError:
        values = []
    if not values:
        return how
    shown = ", ".join(values[:_NOTE_VALUES])
    more = f", … ({len(values)} values)" if len(values) > _NOTE_VALUES else ""
    return f"{how}: {shown}{more}"


class SelectKind(CellKind):
    kind = Kind.SELECT
    caseless = True
    stored_as_typed = True

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        accepted, labels = _accepted(f, lists)
        normalized = col.values.replace(labels) if labels else col.values
        df = cell_frame(col)
        bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").is_in(accepted))
        if not bad.height:
            return no_findings(normalized)
        table = _select_messages(f, bad["v"].unique().to_list(), lists)
        bad = bad.join(table, on="v", how="left")
        issues = findings_frame(bad, code=pl.col("code"), message=pl.col("msg"), suggestion=pl.col("sugg"),
                                confidence=pl.col("conf"), safe=pl.col("safe"))
        return Findings(normalized, issues)

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        """A value of the list as it stands: not a label (stored as its value), not blank, without surrounding
        space, formula start or control character (which only a strange list holds)."""
        _, labels = _accepted(f, lists)
        values = pl.Series([value for value, _ in lists.options(f.list_name) if value not in labels], dtype=pl.String)
        plain = values.filter((values.str.strip_chars() == values) & (values != "")
                              & ~values.str.contains(f"{FORMULA_START}|{CONTROL_CHARACTER}"))
        return AsTyped(v.is_in(plain.implode()), lookup=True)

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return [_list_line("One value from the dropdown", f, lists), *length_line(f)]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        accepted = [v for v, _ in lists.options(f.list_name)]
        if f.match_labels:
            accepted += [lbl for _, lbl in lists.options(f.list_name)]
        return [pa.Check.isin(accepted, error=f"{f.name}: list")]


class MultiSelectKind(CellKind):
    kind = Kind.MULTI_SELECT
    stored_as_typed = True

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        accepted, labels = _accepted(f, lists)
        sep = f.separator
        parts = (pl.DataFrame({"v": col.values}).with_row_index("idx")
                 .filter(pl.col("v").is_not_null())
                 .with_columns(part=pl.col("v").str.split(sep)).explode("part")
                 .with_columns(pl.col("part").str.strip_chars())
                 .filter(pl.col("part") != ""))
        bad_parts = parts.filter(~pl.col("part").is_in(accepted))
        joined = parts.group_by("idx", maintain_order=True).agg(pl.col("part").replace(labels).str.join(sep))
        normalized = (pl.DataFrame({"v": col.values}).with_row_index("idx").join(joined, on="idx", how="left")
                      .select(pl.coalesce("part", "v")).to_series().alias(col.values.name))
        if not bad_parts.height:
            return no_findings(normalized)
        table = _select_messages(f, bad_parts["part"].unique().to_list(), lists).rename({"v": "part"})
        marked = parts.join(table, on="part", how="left").with_columns(
            fixed=pl.when(pl.col("sugg").is_not_null()).then(pl.col("sugg")).otherwise(pl.col("part")),
        )
        per_cell = marked.group_by("idx", maintain_order=True).agg(
            bad=pl.col("part").filter(pl.col("msg").is_not_null()),
            fixed=pl.col("fixed").str.join(sep),
            all_safe=(pl.col("safe").fill_null(True)).all(),
            n_unfixed=(pl.col("msg").is_not_null() & pl.col("sugg").is_null()).sum(),
            conf=pl.col("conf").min(),
        ).filter(pl.col("bad").list.len() > 0)
        per_cell = per_cell.join(pl.DataFrame({"v": col.values}).with_row_index("idx"), on="idx",
                                 how="left").with_columns(
            sugg=pl.when(pl.col("n_unfixed") == 0).then(pl.col("fixed")),
            badtext=pl.col("bad").list.join("', '"),
        )
        issues = findings_frame(
            per_cell, code="not_in_list",
            message=pl.when(pl.col("sugg").is_not_null())
            .then(pl.format("'{}' in {} is not a value of the {} list; use '{}' ({}-separated list values)",
                            pl.col("badtext"), pl.col("v"), pl.lit(f.name), pl.col("sugg"), pl.lit(repr(sep))))
            .otherwise(pl.format("'{}' in {} is not a value of the {} list; use list values separated by '{}'",
                                 pl.col("badtext"), pl.col("v"), pl.lit(f.name), pl.lit(sep))),
            suggestion=pl.col("sugg"), confidence=pl.when(pl.col("sugg").is_not_null()).then(pl.col("conf")),
            safe=pl.col("sugg").is_not_null() & pl.col("all_safe"),
        )
        return Findings(normalized, issues)

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        return [_list_line(f"Values from the list separated by '{f.separator}'", f, lists)]


SELECT = SelectKind()
MULTI_SELECT = MultiSelectKind()
