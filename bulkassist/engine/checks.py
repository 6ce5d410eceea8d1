"""Cell checks, one per field kind, vectorised over a whole column.

Each check takes the column's trimmed values (null where blank) and returns
the value the system will store for every cell (`normalized`) and a frame of
issues for the cells that fail. The valid majority costs a handful of column
operations; messages and suggestions are built only for the bad cells, and
select-list matching runs once per *distinct* bad value.

Excel's habits are handled here: date cells, date serials, numbers that lost
their leading zeros, phones typed as numbers, IDs that became "100234.0".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from bulkassist.engine.report import ISSUE_SCHEMA
from bulkassist.engine.selectlists import SelectLists
from bulkassist.engine.suggestions import ListMatcher
from bulkassist.spec import Field, Kind

# What a check says about one cell: the issue's columns, keyed by 0-based data row instead of placement.
FINDING_SCHEMA = {"idx": pl.Int64} | {
    name: ISSUE_SCHEMA[name] for name in ("code", "severity", "message", "suggestion", "confidence", "safe")
}


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


def _frame(col: CellColumn) -> pl.DataFrame:
    false = pl.repeat(False, col.values.len(), dtype=pl.Boolean, eager=True)
    return pl.DataFrame({
        "v": col.values,
        "num": col.number_cells if col.number_cells is not None else false,
        "dcell": col.date_cells if col.date_cells is not None else false,
    }).with_row_index("idx")


# ------------------------------------------------------------------ text
def check_text(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    df = _frame(col)
    parts = []
    if f.max_length:
        too_long = df.filter(pl.col("v").str.len_chars() > f.max_length)
        if too_long.height:
            parts.append(findings_frame(
                too_long, code="too_long",
                message=pl.format("'{}…' is {} characters; {} allows at most {}", pl.col("v").str.slice(0, 40),
                                  pl.col("v").str.len_chars(), pl.lit(f.name), pl.lit(f.max_length)),
            ))
    if f.pattern:
        parts.append(_pattern_findings(df, f))
    return Findings(col.values, _concat(parts))


def _pattern_findings(df: pl.DataFrame, f: Field, valid: pl.Expr | None = None) -> pl.DataFrame:
    bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").str.contains(f.pattern))
    if valid is not None:
        bad = bad.filter(~valid)
    if not bad.height:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    hint = f.pattern_hint or f"the pattern {f.pattern}"
    # "100234.0" is what Excel makes of an ID typed as a number.
    stripped = pl.col("v").str.replace(r"^(\d+)\.0+$", "$1")
    padded = stripped
    if f.zero_pad:
        padded = pl.when(stripped.str.contains(r"^\d+$") & (stripped.str.len_chars() < f.zero_pad)).then(
            stripped.str.zfill(f.zero_pad)).otherwise(stripped)
    bad = bad.with_columns(sugg=padded).with_columns(
        sugg=pl.when(pl.col("sugg").str.contains(f.pattern) & (pl.col("sugg") != pl.col("v")))
        .then(pl.col("sugg"))
    )
    lost_zeros = pl.col("sugg").is_not_null() & (pl.col("sugg").str.len_chars() > pl.col("v").str.len_chars())
    return findings_frame(
        bad, code="invalid_format",
        message=pl.when(lost_zeros).then(pl.format(
            "'{}' is not {}; it looks like Excel dropped its leading zeros — did you mean '{}'?",
            pl.col("v"), pl.lit(hint), pl.col("sugg")))
        .when(pl.col("sugg").is_not_null()).then(pl.format("'{}' is not {}; use '{}'", pl.col("v"), pl.lit(hint),
                                                            pl.col("sugg")))
        .otherwise(pl.format("'{}' is not {}", pl.col("v"), pl.lit(hint))),
        suggestion=pl.col("sugg"),
        confidence=pl.when(pl.col("sugg").is_not_null()).then(
            pl.when(lost_zeros & ~pl.col("num")).then(0.7).otherwise(1.0)),
        # Zero-padding is only certain when the cell was a number cell (Excel stripped it).
        safe=pl.col("sugg").is_not_null() & (~lost_zeros | pl.col("num")),
    )


def check_id(col: CellColumn, lists: SelectLists) -> Findings:
    df = _frame(col)
    if not col.field.pattern:
        return check_text(col, lists)
    return Findings(col.values, _pattern_findings(df, col.field))


# ----------------------------------------------------------------- email
_EMAIL = r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$"


def check_email(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    df = _frame(col)
    bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").str.contains(_EMAIL))
    parts = [check_text(col, lists).issues]
    if bad.height:
        fixed = pl.col("v").str.replace_all(r"\s+", "").str.replace_all(",", ".").str.replace(r"\.+$", "")
        bad = bad.with_columns(sugg=pl.when(fixed.str.contains(_EMAIL)).then(fixed))
        parts.append(findings_frame(
            bad, code="invalid_email",
            message=pl.when(pl.col("sugg").is_not_null())
            .then(pl.format("'{}' is not an email address; did you mean '{}'?", pl.col("v"), pl.col("sugg")))
            .otherwise(pl.format("'{}' is not an email address (name@example.org) in {}", pl.col("v"), pl.lit(f.name))),
            suggestion=pl.col("sugg"),
            confidence=pl.when(pl.col("sugg").is_not_null()).then(0.8),
        ))
    return Findings(col.values, _concat(parts))


# ----------------------------------------------------------------- phone
def _layout_regex(layout: str) -> str:
    return "^" + "".join(r"\d" if ch.isdigit() else re.escape(ch) for ch in layout) + "$"


def _layout_expr(layout: str, digits: pl.Expr) -> pl.Expr:
    """Ten digits poured into a layout such as '(727) 123-1234'."""
    pieces: list[pl.Expr] = []
    pos = 0
    for run in re.findall(r"\d+|\D+", layout):
        if run[0].isdigit():
            pieces.append(digits.str.slice(pos, len(run)))
            pos += len(run)
        else:
            pieces.append(pl.lit(run))
    return pl.concat_str(pieces)


def check_phone(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    layouts = f.formats or ("(999) 999-9999",)
    ok = pl.any_horizontal([pl.col("v").str.contains(_layout_regex(lay)) for lay in layouts])
    df = _frame(col)
    bad = df.filter(pl.col("v").is_not_null() & ~ok)
    if not bad.height:
        return no_findings(col.values)
    digits = pl.col("v").str.replace(r"\.0+$", "").str.replace_all(r"\D", "")
    digits = pl.when((digits.str.len_chars() == 11) & digits.str.starts_with("1")).then(digits.str.slice(1)).otherwise(digits)
    bad = bad.with_columns(d=digits).with_columns(
        sugg=pl.when(pl.col("d").str.len_chars() == 10).then(_layout_expr(layouts[0], pl.col("d"))))
    shown = " or ".join(layouts)
    issues = findings_frame(
        bad, code="phone_format",
        message=pl.when(pl.col("sugg").is_not_null())
        .then(pl.format("'{}' is not a phone number in the format {}; use '{}'", pl.col("v"), pl.lit(shown), pl.col("sugg")))
        .otherwise(pl.format("'{}' is not a phone number: {} needs 10 digits in the format {}", pl.col("v"),
                             pl.lit(f.name), pl.lit(shown))),
        suggestion=pl.col("sugg"),
        confidence=pl.when(pl.col("sugg").is_not_null()).then(1.0),
        safe=pl.col("sugg").is_not_null(),
    )
    return Findings(col.values, issues)


# ------------------------------------------------------------------- SSN
def check_ssn(col: CellColumn, lists: SelectLists) -> Findings:
    df = _frame(col)
    bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").str.contains(r"^\d{9}$"))
    if not bad.height:
        return no_findings(col.values)
    sci = pl.col("v").str.contains(r"^\d(\.\d+)?[eE]\+?\d+$")
    plain = pl.col("v").str.replace(r"\.0+$", "")
    digits = pl.when(sci).then(pl.col("v").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False).cast(pl.String)) \
        .otherwise(plain.str.replace_all(r"\D", ""))
    all_digits = plain.str.contains(r"^\d+$")
    bad = bad.with_columns(d=digits, alld=all_digits, sci=sci).with_columns(
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
    return Findings(col.values, issues)


# ---------------------------------------------------------------- numbers
def check_integer(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    df = _frame(col)
    whole = pl.col("v").str.contains(r"^\+?\d+$")
    value = pl.col("v").str.replace(r"^\+", "").str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    df = df.with_columns(n=value)
    parts = []
    notint = df.filter(pl.col("v").is_not_null() & ~whole)
    if notint.height:
        notint = notint.with_columns(sugg=pl.when(pl.col("n").is_not_null()).then(pl.col("n").cast(pl.String)))
        parts.append(findings_frame(
            notint, code="not_integer",
            message=pl.when(pl.col("sugg").is_not_null())
            .then(pl.format("'{}' must be a whole number in {}; use '{}'", pl.col("v"), pl.lit(f.name), pl.col("sugg")))
            .otherwise(pl.format("'{}' is not a whole number; {} takes a single number such as 1, 2, 3", pl.col("v"),
                                 pl.lit(f.name))),
            suggestion=pl.col("sugg"), confidence=pl.when(pl.col("sugg").is_not_null()).then(1.0),
            safe=pl.col("sugg").is_not_null(),
        ))
    parts.append(_below_minimum(df, f))
    normalized = df.select(pl.when(pl.col("n").is_not_null()).then(pl.col("n").cast(pl.String)).otherwise(pl.col("v")))
    return Findings(normalized.to_series().alias(col.values.name), _concat(parts))


def check_number(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    df = _frame(col)
    plain = pl.col("v").str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")
    cleaned = pl.col("v").str.replace_all(r"[\s$£€,]", "")
    df = df.with_columns(n=cleaned.cast(pl.Float64, strict=False))
    parts = []
    notnum = df.filter(pl.col("v").is_not_null() & ~plain)
    if notnum.height:
        # "1,5" may be a decimal comma: never a safe fix.
        decimal_comma = pl.col("v").str.contains(r"^\d+,\d{1,2}$")
        notnum = notnum.with_columns(sugg=pl.when(pl.col("n").is_not_null() & ~decimal_comma).then(cleaned))
        parts.append(findings_frame(
            notnum, code="not_number",
            message=pl.when(pl.col("sugg").is_not_null())
            .then(pl.format("'{}' is not a plain number in {}; use '{}'", pl.col("v"), pl.lit(f.name), pl.col("sugg")))
            .otherwise(pl.format("'{}' is not a number; {} takes a number such as 12.50", pl.col("v"), pl.lit(f.name))),
            suggestion=pl.col("sugg"), confidence=pl.when(pl.col("sugg").is_not_null()).then(1.0),
            safe=pl.col("sugg").is_not_null(),
        ))
    parts.append(_below_minimum(df, f))
    return Findings(col.values, _concat(parts))


def _below_minimum(df: pl.DataFrame, f: Field) -> pl.DataFrame:
    """Cells whose number (column `n`) is below the field's minimum."""
    if f.minimum is None:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    low = df.filter(pl.col("n").is_not_null() & (pl.col("n") < f.minimum))
    return findings_frame(low, code="below_minimum", message=pl.format(
        "'{}' is below the minimum {} for {}", pl.col("v"), pl.lit(_num(f.minimum)), pl.lit(f.name)))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def check_boolean(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    low = col.values.str.to_lowercase()
    mapped = low.replace_strict(
        {"1": "1", "0": "0", "1.0": "1", "0.0": "0", "true": "1", "false": "0", "yes": "1", "no": "0",
         "y": "1", "n": "0", "t": "1", "f": "0"}, default=None)
    df = _frame(col).with_columns(m=mapped)
    bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").is_in(["0", "1"]))
    issues = findings_frame(
        bad, code="not_boolean",
        message=pl.when(pl.col("m").is_not_null())
        .then(pl.format("'{}' must be 1 or 0 in {}; use '{}'", pl.col("v"), pl.lit(f.name), pl.col("m")))
        .otherwise(pl.format("'{}' is not 1 or 0; {} takes 1 (yes) or 0 (no)", pl.col("v"), pl.lit(f.name))),
        suggestion=pl.col("m"), confidence=pl.when(pl.col("m").is_not_null()).then(1.0),
        safe=pl.col("m").is_not_null(),
    ) if bad.height else pl.DataFrame(schema=FINDING_SCHEMA)
    normalized = pl.DataFrame({"v": col.values, "m": mapped}).select(pl.coalesce("m", "v")).to_series()
    return Findings(normalized.alias(col.values.name), issues)


# ------------------------------------------------------------------- dates
_EXCEL_EPOCH = date(1899, 12, 30)
_MONTH_NAME_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y",
                       "%d-%b-%Y", "%d-%b-%y", "%d %b, %Y")


def _shape_regex(fmt: str) -> str:
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


def _format_date(expr: pl.Expr, fmt: str) -> pl.Expr:
    return expr.dt.strftime(fmt)


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


def _date_expr(fmt: str) -> pl.Expr:
    """Dates of the cells written exactly in `fmt` (zero-padded), null elsewhere."""
    width = _fixed_width(fmt)
    shape = pl.col("v").str.len_bytes() == width if width else pl.col("v").str.contains(_shape_regex(fmt))
    return pl.when(shape).then(pl.col("v").str.to_date(fmt, strict=False))


def parse_dates(values: pl.Series, formats: tuple[str, ...]) -> pl.Series:
    """Dates of the cells that are valid in one of `formats` (null elsewhere)."""
    if not formats:
        return pl.Series(values.name, [None] * values.len(), dtype=pl.Date)
    return pl.DataFrame({"v": values}).select(pl.coalesce([_date_expr(f) for f in formats])).to_series().alias(
        values.name)


def check_date(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    fmt = f.format or "%m/%d/%Y"
    label = f.format_label
    df = _frame(col).with_columns(parsed=parse_dates(col.values, f.formats or (fmt,)))
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
    bad = _date_suggestions(bad, fmt)
    reason = (pl.when(pl.col("how") == "serial").then(pl.lit(" (an Excel date serial number)"))
              .when(pl.col("how") == "ambiguous").then(pl.lit(" — day and month could be either way round, check it"))
              .when(pl.col("how") == "short_year").then(pl.lit(" — the year had only two digits, check the century"))
              .otherwise(pl.lit("")))
    issues = findings_frame(
        bad, code=pl.when(pl.col("how") == "ambiguous").then(pl.lit("ambiguous_date")).otherwise(pl.lit("date_format")),
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


def _date_suggestions(bad: pl.DataFrame, fmt: str) -> pl.DataFrame:
    """For each bad date cell: `sugg` (in `fmt`), `how` it was read and `conf`."""
    day_first = fmt.index("%d") < fmt.index("%m")
    canonical_sep = next((c for c in fmt if c in "/-."), "/")
    v = pl.col("v")
    serial_n = v.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    serial = pl.when(v.str.contains(r"^\d{1,5}(\.0+)?$") & serial_n.is_between(61, 73050)).then(
        pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_n))
    iso_parts = v.str.extract_groups(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T][\d:.]*)?$")
    iso = _ymd(iso_parts.struct.field("1").cast(pl.Int64), iso_parts.struct.field("2").cast(pl.Int64),
               iso_parts.struct.field("3").cast(pl.Int64))
    p = v.str.extract_groups(r"^(\d{1,2})([-/.])(\d{1,2})[-/.](\d{2}|\d{4})(?:[ T][\d:.]*)?$")
    a, sep, b, y = (p.struct.field("1").cast(pl.Int64), p.struct.field("2"), p.struct.field("3").cast(pl.Int64),
                    p.struct.field("4"))
    this_year = date.today().year % 100
    year = pl.when(y.str.len_chars() == 2).then(
        pl.when(y.cast(pl.Int64) <= this_year).then(2000 + y.cast(pl.Int64)).otherwise(1900 + y.cast(pl.Int64))
    ).otherwise(y.cast(pl.Int64))
    same = _ymd(year, b, a) if day_first else _ymd(year, a, b)
    swapped = _ymd(year, a, b) if day_first else _ymd(year, b, a)
    named = pl.coalesce([v.str.to_date(nf, strict=False) for nf in _MONTH_NAME_FORMATS])
    short_year = y.str.len_chars() == 2

    out = bad.with_columns(
        _serial=serial, _iso=iso, _same=same, _swapped=swapped, _named=named, _short=short_year,
        _sep=sep, _parts=p.struct.field("1").is_not_null(), _a=a, _b=b,
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
    return out.with_columns(sugg=_format_date(chosen, fmt), conf=conf)


# ------------------------------------------------------------ select lists
def _matcher(f: Field, lists: SelectLists) -> ListMatcher:
    return ListMatcher(lists.options(f.select_list), match_labels=f.match_labels)


def _accepted(f: Field, lists: SelectLists) -> tuple[list[str], dict[str, str]]:
    """Accepted cell texts, and the label -> value map when labels are accepted."""
    options = lists.options(f.select_list)
    values = [v for v, _ in options]
    labels = {lbl: v for v, lbl in options if f.match_labels and lbl and lbl != v}
    return values + list(labels), labels


def _select_messages(f: Field, bad_values: list[str], lists: SelectLists) -> pl.DataFrame:
    """One row per distinct bad value: its suggestion, confidence, safety and message."""
    matches = _matcher(f, lists).match(bad_values)
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


def check_select(col: CellColumn, lists: SelectLists) -> Findings:
    f = col.field
    accepted, labels = _accepted(f, lists)
    normalized = col.values.replace(labels) if labels else col.values
    df = _frame(col)
    bad = df.filter(pl.col("v").is_not_null() & ~pl.col("v").is_in(accepted))
    if not bad.height:
        return no_findings(normalized)
    table = _select_messages(f, bad["v"].unique().to_list(), lists)
    bad = bad.join(table, on="v", how="left")
    issues = findings_frame(bad, code=pl.col("code"), message=pl.col("msg"), suggestion=pl.col("sugg"),
                            confidence=pl.col("conf"), safe=pl.col("safe"))
    return Findings(normalized, issues)


def check_multi_select(col: CellColumn, lists: SelectLists) -> Findings:
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
        all_fixable=pl.col("sugg").is_not_null().all() | pl.col("msg").is_null().all(),
        all_safe=(pl.col("safe").fill_null(True)).all(),
        n_unfixed=(pl.col("msg").is_not_null() & pl.col("sugg").is_null()).sum(),
        conf=pl.col("conf").min(),
    ).filter(pl.col("bad").list.len() > 0)
    per_cell = per_cell.join(pl.DataFrame({"v": col.values}).with_row_index("idx"), on="idx", how="left").with_columns(
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


CHECKS: dict[Kind, Callable[[CellColumn, SelectLists], Findings]] = {
    Kind.TEXT: check_text,
    Kind.ID: check_id,
    Kind.EMAIL: check_email,
    Kind.PHONE: check_phone,
    Kind.SSN: check_ssn,
    Kind.INTEGER: check_integer,
    Kind.NUMBER: check_number,
    Kind.BOOLEAN: check_boolean,
    Kind.DATE: check_date,
    Kind.SELECT: check_select,
    Kind.MULTI_SELECT: check_multi_select,
}


def check_column(col: CellColumn, lists: SelectLists) -> Findings:
    return CHECKS[col.field.kind](col, lists)


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    return pl.concat(parts, how="vertical")
