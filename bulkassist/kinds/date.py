"""Dates in the field's formats (the first is what the system stores); XLSX date cells, Excel date
serials, ISO dates, swapped day and month, two-digit years and month names are suggested in it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl

from bulkassist.engine.selectlists import SelectLists
from bulkassist.kinds.base import (
    FINDING_SCHEMA,
    TEXT_FORMAT,
    AsTyped,
    CellColumn,
    CellKind,
    Findings,
    cell_frame,
    findings_frame,
    unpadded,
)
from bulkassist.spec import DATE_FORMAT_LABELS, Field, Kind

_DEFAULT_FORMAT = "%m/%d/%Y"
_EXCEL_EPOCH = date(1899, 12, 30)
_MONTH_NAME_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y",
                       "%d-%b-%Y", "%d-%b-%y", "%d %b, %Y")
# The texts each reading of a bad date takes (`_readings`): an Excel serial, an ISO date, day and month in
# either order, three letters in a row (a month name can stand only there). ASCII digits only (`\d` takes
# every script's): a date written in other digits ("٣/٤/٢٠٢٠") is not read, and no cast of them fails.
_SERIAL = r"^[0-9]{1,5}(\.0+)?$"
_ISO = r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[ T][0-9:.]*)?$"
_PARTS = r"^([0-9]{1,2})([-/.])([0-9]{1,2})[-/.]([0-9]{2}|[0-9]{4})(?:[ T][0-9:.]*)?$"
_WORDED = r"[A-Za-z]{3}"
_READABLE = "|".join(f"(?:{shape})" for shape in (_SERIAL, _ISO, _PARTS, _WORDED))


def shape_regex(fmt: str) -> str:
    """The regular expression of the dates written in `fmt` (digits in the places of %m, %d, %Y, %y)."""
    table = {"%m": r"\d{2}", "%d": r"\d{2}", "%Y": r"\d{4}", "%y": r"\d{2}"}
    out, i = "^", 0
    while i < len(fmt):
        token = fmt[i:i + 2]
        if token in table:
            out += table[token]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return out + "$"


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """A date from integer parts; null when the parts are not a real date."""
    text = pl.concat_str([y.cast(pl.String).str.zfill(4), m.cast(pl.String).str.zfill(2),
                          d.cast(pl.String).str.zfill(2)], separator="-")
    return text.str.to_date("%Y-%m-%d", strict=False)


def _fixed_width(fmt: str) -> int | None:
    """The length of every date written in `fmt`, when it has only fixed-width parts."""
    if re.search(r"%[^mdYy]", fmt):
        return None
    return len(date(2000, 1, 1).strftime(fmt))


def _date_expr(fmt: str, v: pl.Expr | None = None) -> pl.Expr:
    """Dates of the cells (`v`, default column "v") written exactly in `fmt` (zero-padded), null elsewhere."""
    v = pl.col("v") if v is None else v
    width = _fixed_width(fmt)
    shape = v.str.len_bytes() == width if width else v.str.contains(shape_regex(fmt))
    # No cache of the distinct texts: on a column of birth dates (tens of thousands of distinct values a
    # million rows) the cache's hashing cost more than the parsing it saved (1M rows: 49 ms against 28).
    return pl.when(shape).then(v.str.to_date(fmt, strict=False, cache=False))


def parse_dates(values: pl.Series, formats: tuple[str, ...]) -> pl.Series:
    """Dates of the cells that are valid in one of `formats` (null elsewhere)."""
    if not formats:
        return pl.Series(values.name, [None] * values.len(), dtype=pl.Date)
    return pl.DataFrame({"v": values}).select(pl.coalesce([_date_expr(f) for f in formats])).to_series().alias(
        values.name)


class DateKind(CellKind):
    kind = Kind.DATE
    cell_format = TEXT_FORMAT  # a date cell would store a serial number and show the reader's locale

    def check(self, col: CellColumn, lists: SelectLists) -> Findings:
        f = col.field
        fmt = f.format or _DEFAULT_FORMAT
        label = f.format_label
        df = cell_frame(col).with_columns(parsed=parse_dates(col.values, f.formats or (fmt,)))
        if col.date_cells is not None and col.date_cells.any():
            iso_cell = pl.col("v").str.to_date("%Y-%m-%d", strict=False)
            df = df.with_columns(parsed=pl.when(pl.col("dcell")).then(iso_cell).otherwise(pl.col("parsed")))
        # Only cells read as dates but not already written in the canonical format are rewritten.
        restyle = df.filter(pl.col("parsed").is_not_null()).filter(
            pl.col("v") != pl.col("parsed").dt.strftime(fmt)) if (len(f.formats) > 1 or col.date_cells is not None) \
            else df.clear()
        normalized = col.values
        if restyle.height:
            normalized = normalized.scatter(restyle["idx"], restyle["parsed"].dt.strftime(fmt))
        dates = df["parsed"]
        bad = df.filter(pl.col("v").is_not_null() & pl.col("parsed").is_null())
        if not bad.height:
            return Findings(normalized, pl.DataFrame(schema=FINDING_SCHEMA), dates)
        bad = bad.hstack(_date_suggestions(bad["v"], fmt))
        reason = (pl.when(pl.col("how") == "serial").then(pl.lit(" (an Excel date serial number)"))
                  .when(pl.col("how") == "ambiguous").then(pl.lit(" — day and month could be either way round, check it"))
                  .when(pl.col("how") == "short_year").then(pl.lit(" — the year had only two digits, check the century"))
                  .otherwise(pl.lit("")))
        issues = findings_frame(
            bad,
            code=pl.when(pl.col("how") == "ambiguous").then(pl.lit("ambiguous_date")).otherwise(pl.lit("date_format")),
            message=pl.when(pl.col("sugg").is_not_null())
            .then(pl.format("'{}' is not a date in {}; use '{}'{}", pl.col("v"), pl.lit(label), pl.col("sugg"), reason))
            .when(pl.col("how") == "not_real").then(pl.format(
                "'{}' is not a real date (check the day and month); {} needs a date in {}", pl.col("v"), pl.lit(f.name),
                pl.lit(label)))
            .otherwise(pl.format("'{}' is not a date in {}", pl.col("v"), pl.lit(label))),
            suggestion=pl.col("sugg"),
            confidence=pl.col("conf"),
            safe=pl.col("sugg").is_not_null() & pl.col("how").is_in(["serial", "iso", "unambiguous", "named", "padding"]),
        )
        return Findings(normalized, issues, dates)

    def as_typed(self, f: Field, lists: SelectLists, v: pl.Expr) -> AsTyped | None:
        """One format: a cell it reads is valid and stored as typed, when it has no surrounding space.
        The parser skips a leading space but reads the whole cell (exact), so after a format that ends in
        no space a trailing one is never read: a cell read that begins with a printable ASCII character
        (one byte read, not a trimmed copy of the column: 1M birth dates ~75 against ~94 ms with the
        parse) has none. Several formats restyle what the later ones read: no test."""
        formats = f.formats or (f.format or _DEFAULT_FORMAT,)
        if len(formats) > 1:
            return None
        fmt = formats[0]
        fits = unpadded(v) if fmt != fmt.rstrip() else (
            v.cast(pl.Binary).bin.get(0, null_on_oob=True).is_between(ord("!"), ord("~")))
        return AsTyped(None, dates=pl.when(fits).then(_date_expr(fmt, v)))

    def describe(self, f: Field, lists: SelectLists | None) -> list[str]:
        others = [DATE_FORMAT_LABELS.get(o, o) for o in f.formats[1:]]
        return [f"Date as {f.format_label}" + (f" (also accepted: {', '.join(others)})" if others else "")]

    def pandera_checks(self, f: Field, lists: SelectLists, pa: Any) -> list[Any]:
        return [pa.Check.str_matches("|".join(f"(?:{shape_regex(fmt)})" for fmt in f.formats),
                                     error=f"{f.name}: date")]


def _date_suggestions(texts: pl.Series, fmt: str) -> pl.DataFrame:
    """For each bad date text (in order): `sugg` (in `fmt`), `how` it was read and `conf`.

    Only texts of a shape some reading takes (`_READABLE`, one regex pass) are read, once per distinct text
    (birth dates repeat): any other is "unknown", without the two dozen passes of the readings, nor finding
    and joining the distinct texts (1M clients: 39k bad birth dates, 16k distinct, none readable: 3 against
    34 ms CPU)."""
    n = texts.len()
    readable = texts.str.contains(_READABLE).fill_null(False)
    sugg = pl.repeat(None, n, dtype=pl.String, eager=True).alias("sugg")
    how = pl.repeat("unknown", n, dtype=pl.String, eager=True).alias("how")
    conf = pl.repeat(None, n, dtype=pl.Float64, eager=True).alias("conf")
    if readable.any():
        cells = texts.filter(readable).to_frame("v")
        distinct = _readings(cells.unique(maintain_order=True), fmt).select("v", "sugg", "how", "conf")
        read = cells.join(distinct, on="v", how="left", maintain_order="left")
        at = readable.arg_true()
        sugg, how, conf = (column.scatter(at, read[column.name]) for column in (sugg, how, conf))
    return pl.DataFrame([sugg, how, conf])


def _readings(bad: pl.DataFrame, fmt: str) -> pl.DataFrame:
    """For each bad date text (`v`): `sugg` (in `fmt`), `how` it was read and `conf`."""
    day_first = fmt.index("%d") < fmt.index("%m")
    canonical_sep = next((c for c in fmt if c in "/-."), "/")
    v = pl.col("v")
    serial_n = v.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    serial = pl.when(v.str.contains(_SERIAL) & serial_n.is_between(61, 73050)).then(
        pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_n))
    iso_parts = v.str.extract_groups(_ISO)
    iso = _ymd(iso_parts.struct.field("1").cast(pl.Int64), iso_parts.struct.field("2").cast(pl.Int64),
               iso_parts.struct.field("3").cast(pl.Int64))
    p = v.str.extract_groups(_PARTS)
    a, sep, b, y = (p.struct.field("1").cast(pl.Int64), p.struct.field("2"), p.struct.field("3").cast(pl.Int64),
                    p.struct.field("4"))
    this_year = date.today().year % 100
    year = pl.when(y.str.len_chars() == 2).then(
        pl.when(y.cast(pl.Int64) <= this_year).then(2000 + y.cast(pl.Int64)).otherwise(1900 + y.cast(pl.Int64))
    ).otherwise(y.cast(pl.Int64))
    same = _ymd(year, b, a) if day_first else _ymd(year, a, b)
    swapped = _ymd(year, a, b) if day_first else _ymd(year, b, a)
    named = _named_dates(bad["v"])
    short_year = y.str.len_chars() == 2

    out = bad.with_columns(
        _serial=serial, _iso=iso, _same=same, _swapped=swapped, _named=named, _short=short_year,
        _sep=sep, _parts=p.struct.field("1").is_not_null(),
    )
    both = pl.col("_same").is_not_null() & pl.col("_swapped").is_not_null() & (pl.col("_same") != pl.col("_swapped"))
    how = (
        pl.when(pl.col("_serial").is_not_null()).then(pl.lit("serial"))
        .when(pl.col("_iso").is_not_null()).then(pl.lit("iso"))
        .when(pl.col("_parts") & pl.col("_short") & (pl.col("_same").is_not_null() | pl.col("_swapped").is_not_null()))
        .then(pl.lit("short_year"))
        .when(both & (pl.col("_sep") == canonical_sep)).then(pl.lit("padding"))
        .when(both).then(pl.lit("ambiguous"))
        .when(pl.col("_same").is_not_null()).then(pl.lit("padding"))
        .when(pl.col("_swapped").is_not_null()).then(pl.lit("unambiguous"))
        .when(pl.col("_named").is_not_null()).then(pl.lit("named"))
        .when(pl.col("_parts")).then(pl.lit("not_real"))
        .otherwise(pl.lit("unknown"))
    )
    out = out.with_columns(how=how)
    chosen = (
        pl.when(pl.col("how") == "serial").then(pl.col("_serial"))
        .when(pl.col("how") == "iso").then(pl.col("_iso"))
        .when(pl.col("how").is_in(["padding", "ambiguous"])).then(pl.col("_same"))
        .when(pl.col("how") == "short_year").then(pl.coalesce("_same", "_swapped"))
        .when(pl.col("how") == "unambiguous").then(pl.col("_swapped"))
        .when(pl.col("how") == "named").then(pl.col("_named"))
    )
    conf = (pl.when(pl.col("how").is_in(["iso", "padding", "named"])).then(1.0)
            .when(pl.col("how") == "serial").then(0.95)
            .when(pl.col("how") == "unambiguous").then(0.9)
            .when(pl.col("how") == "short_year").then(0.7)
            .when(pl.col("how") == "ambiguous").then(0.5))
    return out.with_columns(sugg=chosen.dt.strftime(fmt), conf=conf)


def _named_dates(texts: pl.Series) -> pl.Series:
    """Dates of `texts` written with a month name (`_MONTH_NAME_FORMATS`), null elsewhere. Only texts with
    three letters in a row can hold a month name: the nine slow parses run on those alone."""
    worded = texts.str.contains(_WORDED)
    named = pl.repeat(None, texts.len(), dtype=pl.Date, eager=True)
    if worded.any():
        found = texts.filter(worded).to_frame("v").select(
            pl.coalesce([pl.col("v").str.to_date(nf, strict=False) for nf in _MONTH_NAME_FORMATS])).to_series()
        named = named.scatter(worded.arg_true(), found)
    return named.alias("_named")


DATE = DateKind()
