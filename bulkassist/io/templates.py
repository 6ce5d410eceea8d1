"""Import templates: `write_template(domain, path)`, pre-filled templates, the checked-in `templates/`.

An XLSX template has headers (and optionally pre-filled rows) with a note per
header, dropdowns, text-formatted ID / SSN / phone / date columns and a frozen
header row; a CSV template is the header line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from bulkassist.domains import all_domains, get_domain
from bulkassist.io.csv import write_csv
from bulkassist.io.reading import column_letter
from bulkassist.io.xlsx import (
    GENERAL_STYLE,
    MAX_ROW,
    TEXT_STYLE,
    ListsSheet,
    Sheet,
    column_widths,
    data_rows,
    data_sheet_name,
    lists_or_default,
    write_package,
)
from bulkassist.kinds import kind_of
from bulkassist.kinds.base import GENERAL_FORMAT, TEXT_FORMAT
from bulkassist.spec import OPERATION_LABELS, Domain, Field, Kind

if TYPE_CHECKING:  # pragma: no cover
    from bulkassist.engine.selectlists import SelectLists

_CELL_STYLES = {TEXT_FORMAT: TEXT_STYLE, GENERAL_FORMAT: GENERAL_STYLE}  # a kind's cell format as a style


def write_template(
    domain: str | Domain,
    path: str | os.PathLike,
    *,
    lists: SelectLists | None = None,
    fmt: str = "xlsx",
    rows: pl.DataFrame | None = None,
    operations: Iterable[str] | None = None,
) -> Path:
    """Write the domain's import template: headers only, or pre-filled with `rows` (columns named by field).

    xlsx: bold frozen header row with a note per header (format, required
    for, allowed values), dropdowns on select-list columns (values on a hidden
    Lists sheet), text format on ID / SSN / phone / date columns so Excel
    keeps leading zeros and does not turn dates into numbers.
    csv: the header line (and rows) in UTF-8 with a BOM so Excel reads accents
    right, separated by the domain's separator.
    """
    dom = get_domain(domain)
    headers = dom.field_names
    body = _template_rows(dom, rows)
    fmt = fmt.lower().lstrip(".")
    if fmt == "csv":
        return write_csv(body, Path(path), dom.default_separator)
    if fmt != "xlsx":
        raise ValueError(f"template format {fmt!r} is not supported; use 'xlsx' or 'csv'")
    lists = lists_or_default(lists)
    list_sheet = ListsSheet.build(lists, [f.list_name for f in dom.fields if f.kind is Kind.SELECT])
    validations = [
        (f"{column_letter(i)}2:{column_letter(i)}{MAX_ROW}", list_sheet.ref(f.list_name))
        for i, f in enumerate(dom.fields)
        if f.kind is Kind.SELECT and list_sheet.has(f.select_list)
    ]
    ops = list(operations) if operations is not None else list(dom.operations)
    notes = pl.DataFrame(
        {
            "row": [1] * len(dom.fields),
            "col": list(range(len(dom.fields))),
            "note": [describe_field(f, ops, lists) for f in dom.fields],
        },
        schema={"row": pl.Int64, "col": pl.Int64, "note": pl.String},
    )
    # New cells take their kind's format: text where Excel would damage what is typed, else General.
    styles = {i: _CELL_STYLES[kind_of(f).cell_format] for i, f in enumerate(dom.fields)}
    sheet = Sheet(
        name=data_sheet_name(dom.title),
        rows=data_rows(body, headers, 1, None),
        cols=column_widths(body, headers, styles=styles),
        freeze_row=1,
        validations=validations,
        notes=notes,
        text_data=True,
    )
    return write_package(path, [sheet, list_sheet.sheet()] if validations else [sheet])


def write_prefilled(
    domain: str | Domain,
    rows: pl.DataFrame,
    path: str | os.PathLike,
    *,
    lists: SelectLists | None = None,
    fmt: str = "xlsx",
) -> Path:
    """A template pre-filled with existing records (the seed's "Pre-filled Template" from a course)."""
    return write_template(domain, path, lists=lists, fmt=fmt, rows=rows)



def generate_templates(folder: str | os.PathLike, *, lists: SelectLists | None = None) -> list[Path]:
    """Write `<domain>.xlsx` and `<domain>.csv` for every built-in domain into `folder`; the paths written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for dom in all_domains():
        for fmt in ("xlsx", "csv"):
            written.append(write_template(dom, out / f"{dom.name}.{fmt}", lists=lists, fmt=fmt))
    return written


def describe_field(f: Field, operations: Iterable[str], lists: SelectLists | None = None) -> str:
    """What a person needs to know to fill a column: format, when it is required, allowed values, example."""
    lines = [f.name]
    if f.description:
        lines.append(f.description)
    required = [OPERATION_LABELS[op] for op in operations if f.is_required(op)]
    lines.append(f"Required for: {', '.join(required)}" if required else "Optional")
    lines.extend(kind_of(f).describe(f, lists))
    if f.example:
        lines.append(f"Example: {f.example}")
    return "\n".join(line for line in lines if line)


def _template_rows(dom: Domain, rows: pl.DataFrame | None) -> pl.DataFrame:
    names = dom.field_names
    if rows is None:
        return pl.DataFrame(schema={n: pl.String for n in names})
    unknown = [c for c in rows.columns if c not in names]
    if unknown:
        raise ValueError(f"pre-filled rows have columns that are not {dom.title} fields: {', '.join(unknown)}")
    return rows.select(
        pl.col(n).cast(pl.String) if n in rows.columns else pl.lit(None, pl.String).alias(n) for n in names
    )

