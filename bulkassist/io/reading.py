"""Reading what users really send: any CSV, XLSX or data frame becomes a `Table` of text.

Validation works on text exactly as the person typed it ("00123" stays
"00123"), so nothing here infers types. What a spreadsheet *did* type is kept
on the side: `Table.date_cells` and `Table.number_cells` say which cells were
date or number cells in the workbook, so the validator can tell "Excel turned
this SSN into a number and dropped its leading zero" from "the person typed
eight digits", and can accept a date cell whatever its display format.

Decisions worth knowing:

* CSV is UTF-8 (with or without BOM) or Windows-1252; UTF-16 and binary files
  are refused with the fix ("save as CSV UTF-8"). The separator is detected
  among `,` `;` tab `|` from the header line and a sample of records.
* Empty cells are null; every other value is kept as written (the validator
  trims). Trailing blank rows and trailing unnamed empty columns — what Excel
  leaves behind after formatting — are dropped; blank rows inside the data are
  kept so they can be reported as Skipped with their real row numbers.
* The header row is the first row with at least two non-empty cells (the
  first non-empty row for a one-column file): a title row above the header is
  skipped and noted. `Table.header_row` keeps the spreadsheet row number, so
  every reported row number is the one the person sees.
* XLSX typed cells: dates and date-times become ISO `YYYY-MM-DD` text (the
  time of day is dropped; a time-only cell reads as 1899-12-31), numbers
  become their shortest text without a trailing ".0" and whole numbers never
  go to scientific notation, booleans become "TRUE" / "FALSE" as Excel shows
  them, formulas give their cached values, error cells (#N/A…) are null.
  Per-cell types hold in columns mixing text, numbers and dates: see
  `_typed_cells`. Reading costs one fastexcel (calamine) pass over the sheet,
  two when some column holds number-like values (python-calamine's per-cell
  Python objects were measured slower: 0.9 s + a Python loop per 100k rows).
* .xls / .xlsb / .ods / .numbers are refused with "save as .xlsx or CSV";
  .txt / .tsv are read as CSV; a workbook renamed .csv is still a workbook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from bulkassist.errors import FileFormatError

SEPARATORS = (",", ";", "\t", "|")
CSV_EXTENSIONS = (".csv", ".txt", ".tsv", ".tab")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
_REFUSED_EXTENSIONS = {
    ".xls": "an old-style Excel 97-2003 workbook",
    ".xlsb": "a binary Excel workbook",
    ".ods": "an OpenDocument spreadsheet",
    ".numbers": "an Apple Numbers file",
}
_SAVE_AS = "Open it and save it as Excel Workbook (.xlsx) or CSV UTF-8 (comma delimited) (.csv)."

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM = b"\xef\xbb\xbf"
_SAMPLE_BYTES = 64 * 1024
_SAMPLE_RECORDS = 50
_HEADER_SEARCH_ROWS = 30

# Text a Windows-1252 file would only contain if it were not text at all.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NON_SPACE = re.compile(rb"\S")
_SEPARATOR_HINT = re.compile(rb"sep=([,;\t|])\r?\n")
# How fastexcel renders a date / date-time cell when reading as text.
_DATE_RENDERING = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
# Cells of a text read that may have been number or boolean cells (a number is never rendered with a
# leading zero, so text such as "012345678" needs no second look).
_MAYBE_NUMBER = r"^(-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?|true|false)$"


@dataclass
class Table:
    """A file's cells as text, one uniquely named String column per file column, in file order."""

    frame: pl.DataFrame
    headers: list[str]  # as written in the file ("" for a blank header), same order as frame.columns
    source: str  # the file name shown in messages
    sheet: str | None = None
    separator: str | None = None
    encoding: str | None = None
    header_row: int = 1  # spreadsheet row number of the header
    date_cells: dict[str, pl.Series] = field(default_factory=dict)  # column -> cells that were date cells
    number_cells: dict[str, pl.Series] = field(default_factory=dict)  # column -> cells that were number cells
    notes: list[str] = field(default_factory=list)  # file-level observations for the person

    @property
    def height(self) -> int:
        return self.frame.height

    @property
    def first_row(self) -> int:
        """Spreadsheet row number of the first data row."""
        return self.header_row + 1

    def row_number(self, index: int) -> int:
        """Spreadsheet row number of the data row at 0-based `index`."""
        return self.first_row + index


def read_table(
    source: Any,
    *,
    sheet: str | int | None = None,
    separator: str | None = None,
    name: str | None = None,
) -> Table:
    """Read a CSV / XLSX file (path, bytes or file object) or a pandas / polars DataFrame as a `Table`.

    `sheet` picks a worksheet by name or 0-based position (default: the first);
    `separator` overrides CSV separator detection; `name` is the file name used
    in messages (needed for bytes and anonymous file objects).
    """
    if isinstance(source, Table):
        return source
    if isinstance(source, pl.DataFrame):
        return _from_frame(source, name or "DataFrame")
    if _is_pandas_frame(source):
        return _from_pandas(source, name or "DataFrame")
    data, label = _load_bytes(source, name)
    suffix = Path(label).suffix.lower()
    if suffix in _REFUSED_EXTENSIONS or data.startswith(_OLE_MAGIC):
        what = _REFUSED_EXTENSIONS.get(suffix, "an old-style (or password-protected) Excel workbook")
        raise FileFormatError(f"{label} is {what}, which cannot be read. {_SAVE_AS}")
    if data.startswith(_ZIP_MAGIC) or suffix in XLSX_EXTENSIONS:
        return _read_xlsx(data, label, sheet)
    return _read_csv(data, label, separator)


# ----------------------------------------------------------------- sources
def _is_pandas_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns") and hasattr(obj, "iloc")


def _load_bytes(source: Any, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            return path.read_bytes(), name or path.name
        except FileNotFoundError:
            raise FileFormatError(f"{path} does not exist; check the file name and folder.") from None
        except IsADirectoryError:
            raise FileFormatError(f"{path} is a folder, not a file; give the path of a CSV or XLSX file.") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "upload"
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data, name or Path(str(getattr(source, "name", "upload"))).name
    raise TypeError(
        f"read_table cannot read a {type(source).__name__}; give a path, bytes, a file object or a DataFrame"
    )


# --------------------------------------------------------------------- CSV
def _read_csv(data: bytes, label: str, separator: str | None) -> Table:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:_SAMPLE_BYTES]:
        raise FileFormatError(
            f"{label} is not a UTF-8 or Windows-1252 text file (it looks like UTF-16 Unicode text or a "
            f"binary file). In Excel use File > Save As > 'CSV UTF-8 (Comma delimited)', or save as .xlsx."
        )
    body = data.removeprefix(_UTF8_BOM)
    encoding = "utf-8-sig" if len(body) < len(data) else "utf-8"
    if not _NON_SPACE.search(body):
        raise FileFormatError(f"{label} is empty: it needs a header row naming the columns.")
    if separator is not None and len(separator) != 1:
        raise FileFormatError(f"separator {separator!r} for {label} must be one character such as , ; | or a tab.")
    sample = _utf8_sample(body)
    if sample is None:
        body, encoding = _from_cp1252(body, label), "cp1252"
        sample = _utf8_sample(body) or ""
    hint = _SEPARATOR_HINT.match(body)  # Excel's "sep=;" first line
    separator = separator or (hint.group(1).decode() if hint else detect_separator(sample))
    try:
        raw = _parse_csv(body, separator)
    except _NotUtf8:  # valid UTF-8 at the start only: Windows-1252 after all
        body, encoding = _from_cp1252(body, label), "cp1252"
        raw = _parse_csv(body, separator)
    return _to_table(raw, label, separator=separator, encoding=encoding)


def _utf8_sample(body: bytes) -> str | None:
    """The start of the file as text, or None when it is not UTF-8 (a character cut at the end is fine)."""
    head = body[:_SAMPLE_BYTES]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(head) == _SAMPLE_BYTES and exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8")
        return None


def _from_cp1252(body: bytes, label: str) -> bytes:
    """A Windows-1252 file as UTF-8 bytes, or a clear refusal when it is not text at all."""
    try:
        text = body.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or _CONTROL_CHARS.search(text):
        raise FileFormatError(
            f"{label} is neither UTF-8 nor Windows-1252 text (it may be a binary file). "
            f"Save it as CSV UTF-8 (Comma delimited) or as an Excel Workbook (.xlsx)."
        )
    return text.encode("utf-8")


def detect_separator(sample: str) -> str:
    """The separator among , ; tab | that splits the header into the most columns, consistently.

    Each candidate splits the sample's first records (quotes and quoted
    newlines respected); the winner gives the header more than one column and
    the same number of fields on most records. A one-column file gets ",".
    """
    records_end = sample.rfind("\n")
    if records_end > 0 and len(sample) >= _SAMPLE_BYTES:
        sample = sample[:records_end]  # drop the record cut in half by the sample size
    best, best_score = ",", (False, 0.0, 0)
    for candidate in SEPARATORS:
        rows = [row for row in _csv_records(sample, candidate) if row]
        if not rows:
            continue
        width = len(rows[0])
        agreeing = sum(len(r) == width for r in rows[1:]) / max(len(rows) - 1, 1)
        score = (width > 1, agreeing, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _csv_records(text: str, separator: str, limit: int = _SAMPLE_RECORDS) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


class _NotUtf8(Exception):
    """polars met bytes that are not UTF-8."""


def _parse_csv(payload: bytes, separator: str) -> pl.DataFrame:
    """Every record of the file as text columns (header included), blank lines kept as null rows."""
    buffer = io.BytesIO(payload)
    options: dict[str, Any] = dict(
        separator=separator, has_header=False, infer_schema=False, quote_char='"', raise_if_empty=False,
    )
    try:
        raw = pl.read_csv(buffer, **options)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower():
            raise _NotUtf8 from exc
        if "more fields" not in str(exc):
            raise
        # Some records are longer than the first: size the frame by the longest one.
        text = io.StringIO(payload.decode("utf-8"), newline="")
        width = max(len(row) for row in csv.reader(text, delimiter=separator))
        buffer.seek(0)
        schema = {f"column_{i + 1}": pl.String for i in range(width)}
        raw = pl.read_csv(buffer, schema=schema, missing_columns="insert", **options)
    return raw.with_columns(pl.all().replace("", None))


# -------------------------------------------------------------------- XLSX
def _read_xlsx(data: bytes, label: str, sheet: str | int | None) -> Table:
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
    except Exception as exc:  # fastexcel raises several unrelated classes for a broken file
        raise FileFormatError(
            f"{label} cannot be read as an Excel workbook ({exc}). {_SAVE_AS}"
        ) from None
    sheet_name = _pick_sheet(names, sheet, label)

    def load(dtypes: str, columns: list[str] | None = None) -> pl.DataFrame:
        return reader.load_sheet(
            sheet_name, header_row=None, skip_rows=0, dtypes=dtypes, use_columns=columns,
        ).to_polars()

    raw = load("string")
    if raw.width == 0 or raw.height == 0:
        raise FileFormatError(f"sheet {sheet_name!r} of {label} is empty: it needs a header row naming the columns.")
    raw, date_masks, number_masks = _typed_cells(raw, load)
    return _to_table(raw, label, sheet=sheet_name, date_masks=date_masks, number_masks=number_masks)


def _pick_sheet(names: list[str], sheet: str | int | None, label: str) -> str:
    if not names:
        raise FileFormatError(f"{label} has no worksheets. {_SAVE_AS}")
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, str):
        if sheet in names:
            return sheet
        folded = {n.strip().casefold(): n for n in names}
        if sheet.strip().casefold() in folded:
            return folded[sheet.strip().casefold()]
    raise FileFormatError(
        f"{label} has no sheet {sheet!r}; its sheets are: {', '.join(repr(n) for n in names)}."
    )


def _typed_cells(
    raw: pl.DataFrame, load: Callable[[str, list[str] | None], pl.DataFrame]
) -> tuple[pl.DataFrame, dict[int, pl.Series], dict[int, pl.Series]]:
    """Text with dates as ISO dates and booleans as TRUE/FALSE, and per column the date / number cell masks.

    In the text read a date cell shows as "YYYY-MM-DD hh:mm:ss" (text typed
    like that becomes a date cell in Excel anyway). Numbers and booleans
    look like text that a person could have typed ("00123" is text, 123 may be
    either), so the columns holding such values are read once more as
    booleans: that read gives a value for exactly the number and boolean
    cells, of any magnitude, and null for text and dates.
    """
    dates_present = raw.select(pl.all().str.contains(_DATE_RENDERING).any()).row(0)
    maybe_numbers = raw.select(pl.all().str.contains(_MAYBE_NUMBER).any()).row(0)
    candidates = [i for i, hit in enumerate(maybe_numbers) if hit]
    typed = load("boolean", [raw.columns[i] for i in candidates]) if candidates else pl.DataFrame()
    date_masks: dict[int, pl.Series] = {}
    number_masks: dict[int, pl.Series] = {}
    columns = raw.get_columns()
    for index, text in enumerate(list(columns)):
        if not (dates_present[index] or maybe_numbers[index]):
            continue
        dates = text.str.contains(_DATE_RENDERING).fill_null(False)
        if maybe_numbers[index]:
            is_typed = typed.to_series(candidates.index(index)).is_not_null()
            booleans = is_typed & text.is_in(["true", "false"])
            numbers = is_typed & ~booleans
        else:
            booleans = numbers = pl.repeat(False, raw.height, eager=True)
        columns[index] = pl.select(
            pl.when(dates).then(text.str.slice(0, 10))
            .when(booleans).then(text.str.to_uppercase())
            .otherwise(text)
        ).to_series().alias(text.name)
        if dates.any():
            date_masks[index] = dates
        if numbers.any():
            number_masks[index] = numbers
    return pl.DataFrame(columns), date_masks, number_masks


# ------------------------------------------------------------- DataFrames
def _from_frame(frame: pl.DataFrame, label: str) -> Table:
    return _from_columns(frame.get_columns(), [str(c) for c in frame.columns], label)


def _from_pandas(frame: Any, label: str) -> Table:
    columns = []
    for index in range(frame.shape[1]):
        series = frame.iloc[:, index]
        try:
            columns.append(pl.from_pandas(series))
        except Exception:  # mixed Python objects (text and Timestamps...) that Arrow cannot type
            columns.append(pl.Series(series.tolist(), dtype=pl.Object))
    return _from_columns(columns, [str(c) for c in frame.columns], label)


def _from_columns(columns: list[pl.Series], headers: list[str], label: str) -> Table:
    """A Table from in-memory columns: the header is row 1 and every row is kept, even blank ones."""
    names = unique_names(headers)
    texts, dates, numbers = [], {}, {}
    for name, series in zip(names, columns, strict=True):
        text, date_mask, number_mask = _series_as_text(series)
        texts.append(text.alias(name))
        if date_mask is not None and date_mask.any():
            dates[name] = date_mask.alias(name)
        if number_mask is not None and number_mask.any():
            numbers[name] = number_mask.alias(name)
    return Table(
        frame=pl.DataFrame(texts), headers=headers, source=label, date_cells=dates, number_cells=numbers,
    )


def _series_as_text(series: pl.Series) -> tuple[pl.Series, pl.Series | None, pl.Series | None]:
    """A column of any dtype as text, with its date-cell and number-cell masks."""
    dtype = series.dtype
    if dtype == pl.String:
        return series.replace("", None), None, None
    if dtype in (pl.Date, pl.Datetime):
        return series.dt.strftime("%Y-%m-%d"), series.is_not_null(), None
    if dtype == pl.Boolean:
        return pl.select(pl.when(series).then(pl.lit("TRUE")).otherwise(pl.lit("FALSE"))).to_series(), None, None
    if dtype.is_integer():
        return series.cast(pl.String), None, series.is_not_null()
    if dtype.is_float():
        series = series.fill_nan(None)
        return number_text(series), None, series.is_not_null()
    if dtype == pl.Object:
        return _objects_as_text(series.to_list())
    return series.cast(pl.String), None, None


def number_text(series: pl.Series) -> pl.Series:
    """Numbers as a person reads them: whole numbers without ".0" and never in scientific notation."""
    whole = series == series.floor()
    return pl.select(
        pl.when(whole & (series.abs() < 1e38))
        .then(series.cast(pl.Int128, strict=False).cast(pl.String))
        .otherwise(series.cast(pl.String))
    ).to_series().alias(series.name)


def _objects_as_text(values: list[Any]) -> tuple[pl.Series, pl.Series, pl.Series]:
    """A column of mixed Python objects (pandas object dtype): one pass, since there is no vector type."""
    import datetime as dt
    import math
    from numbers import Real

    text: list[str | None] = []
    dates: list[bool] = []
    numbers: list[bool] = []
    for value in values:
        is_date = isinstance(value, (dt.date, dt.datetime))
        is_number = isinstance(value, Real) and not isinstance(value, bool)
        if value is None or (isinstance(value, float) and math.isnan(value)) or _is_missing(value):
            text.append(None)
            is_date = is_number = False
        elif is_date:
            text.append(value.strftime("%Y-%m-%d"))
        elif isinstance(value, bool):
            text.append("TRUE" if value else "FALSE")
        elif is_number:
            whole = float(value).is_integer() if math.isfinite(value) else False
            text.append(str(int(value)) if whole else str(value))
        else:
            text.append(str(value) if str(value) != "" else None)
        dates.append(is_date)
        numbers.append(is_number)
    return pl.Series(text, dtype=pl.String), pl.Series(dates), pl.Series(numbers)


def _is_missing(value: Any) -> bool:
    """pandas' NaT / NA, recognised without importing pandas for everyone."""
    return type(value).__name__ in ("NaTType", "NAType")


# ------------------------------------------------------------ the header
def _to_table(
    raw: pl.DataFrame,
    label: str,
    *,
    sheet: str | None = None,
    separator: str | None = None,
    encoding: str | None = None,
    date_masks: dict[int, pl.Series] | None = None,
    number_masks: dict[int, pl.Series] | None = None,
) -> Table:
    """Find the header in `raw` (every row of the file as text) and build the Table below it."""
    notes: list[str] = []
    header_index = _find_header(raw, label)
    if header_index:
        notes.append(
            f"Row {header_index + 1} is the header: the {header_index} row(s) above it were ignored "
            f"(a title or blank rows)."
        )
    headers = [h if h is not None else "" for h in raw.row(header_index)]
    if headers:
        headers[0] = headers[0].lstrip("\ufeff")
    body = raw.slice(header_index + 1)

    # Excel's used range often runs past the data: drop what it adds at the end.
    filled = body.select(pl.any_horizontal(pl.all().is_not_null()).alias("filled"))["filled"]
    last_row = int(filled.arg_true().max()) + 1 if filled.any() else 0
    body = body.head(last_row)
    keep = len(headers)
    while keep and not headers[keep - 1].strip() and body.to_series(keep - 1).null_count() == body.height:
        keep -= 1
    headers = headers[:keep]
    body = body.select(body.columns[:keep])

    blank = [column_letter(i) for i, h in enumerate(headers) if not h.strip()]
    if blank:
        notes.append(
            f"{len(blank)} column(s) have no header ({', '.join(blank)}); merged header cells leave blanks. "
            f"Give every column its header."
        )
    names = unique_names(headers)
    frame = body.rename(dict(zip(body.columns, names, strict=True)))

    def masks(by_index: dict[int, pl.Series] | None) -> dict[str, pl.Series]:
        out = {}
        for index, mask in (by_index or {}).items():
            if index < keep:
                part = mask.slice(header_index + 1, frame.height).alias(names[index])
                if part.any():
                    out[names[index]] = part
        return out

    return Table(
        frame=frame,
        headers=headers,
        source=label,
        sheet=sheet,
        separator=separator,
        encoding=encoding,
        header_row=header_index + 1,
        date_cells=masks(date_masks),
        number_cells=masks(number_masks),
        notes=notes,
    )


def _find_header(raw: pl.DataFrame, label: str) -> int:
    """0-based index of the header row: the first row with >= 2 filled cells (>= 1 in a one-column file)."""
    counts = raw.head(_HEADER_SEARCH_ROWS).select(
        pl.sum_horizontal(pl.all().is_not_null()).alias("n")
    )["n"].to_list()
    width = max(counts, default=0)
    if width == 0:
        raise FileFormatError(
            f"{label} has no header row in its first {_HEADER_SEARCH_ROWS} rows: "
            f"put the column names in the first row."
        )
    needed = min(2, width)
    return next(i for i, n in enumerate(counts) if n >= needed)


def unique_names(headers: list[str]) -> list[str]:
    """Frame column names for `headers`: blanks named after their column letter, repeats numbered " (2)"."""
    names: list[str] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        base = header if header.strip() else f"(blank header {column_letter(index)})"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name)
        names.append(name)
    return names


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column `index` (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
