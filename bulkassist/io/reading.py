"""Reading what users really send: any CSV, XLSX or data frame becomes a `Table` of text.

Validation works on text exactly as the person typed it ("00123" stays
"00123"), so nothing here infers types. What a spreadsheet *did* type is kept
on the side: `Table.date_cells` and `Table.number_cells` say which cells were
date or number cells in the workbook, so the validator can tell "Excel turned
this SSN into a number and dropped its leading zero" from "the person typed
eight digits", and can accept a date cell whatever its display format.

Decisions worth knowing:

* CSV encodings: a BOM decides (UTF-8, UTF-16 "Unicode Text", UTF-32), then
  UTF-8 by one strict decode, then a code page of Excel's CSV exports chosen on
  a bounded sample (`_decode_text`); `encoding=` names any other. Nothing is
  decoded with replacement: a byte that does not fit, or a file mixing two
  encodings, is a `FileFormatError` naming the line and byte. A lone "\r" is a
  line break (old Mac Excel). The separator is detected among `,` `;` tab `|`
  from the header line and a sample of records. Malformed quoting is refused
  with its line (`_csv_problem`).
* Size: at most `MAX_COLUMNS` columns are read (a note says what was cut); an
  XLSX is measured before it is read (`_check_xlsx_size`) so a zip bomb is
  refused in milliseconds instead of filling memory.
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

import codecs
import csv
import datetime as dt
import io
import math
import mmap
import re
import unicodedata
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from numbers import Real
from pathlib import Path
from typing import Any, Literal, cast

import charset_normalizer
import fastexcel
import polars as pl

from bulkassist.errors import FileFormatError
from bulkassist.frames import polars_of

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
# A file wider than this is read up to it (a note says so): what lies beyond is never a field, and
# carrying 16,384 columns through every step costs minutes.
MAX_COLUMNS = 1024
_SAMPLE_BYTES = 64 * 1024
_SAMPLE_RECORDS = 50
_HEADER_SEARCH_ROWS = 30

# Text a legacy code page file would only contain if it were not text at all.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NON_SPACE = re.compile(rb"\S")
_SEPARATOR_HINT = re.compile(rb"sep=([,;\t|])\r?\n")
# How fastexcel renders a date / date-time cell when reading as text.
_DATE_RENDERING = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
# Cells of a text read that may have been number or boolean cells (a number is never rendered with a
# leading zero, so text such as "012345678" needs no second look).
_MAYBE_NUMBER = r"^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false)$"


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

    def first_columns(self, count: int) -> Table:
        """This table with only its first `count` columns (everything else as it is)."""
        kept = set(self.frame.columns[:count])
        return replace(
            self, frame=self.frame.select(self.frame.columns[:count]), headers=self.headers[:count],
            date_cells={k: v for k, v in self.date_cells.items() if k in kept},
            number_cells={k: v for k, v in self.number_cells.items() if k in kept}, notes=list(self.notes),
        )


SheetDtype = Literal["string", "boolean"]  # how fastexcel is asked to read a sheet' cells


def read_table(
    source: Any,
    *,
    sheet: str | int | None = None,
    separator: str | None = None,
    encoding: str | None = None,
    name: str | None = None,
) -> Table:
    """Read a CSV / XLSX file (path, bytes or file object), a pandas / polars DataFrame, a polars
    LazyFrame or a pyarrow Table as a `Table`.

    `sheet` picks a worksheet by name or 0-based position (default: the first);
    `separator` overrides CSV separator detection; `encoding` names a CSV's
    encoding (any Python codec name, e.g. "cp1254") instead of detecting it;
    `name` is the file name used in messages (needed for bytes and anonymous
    file objects). A file that cannot be read raises `FileFormatError`.
    """
    if isinstance(source, Table):
        return source
    if isinstance(source, pl.DataFrame):
        return _from_frame(source, name or "DataFrame")
    converted = polars_of(source)  # a polars LazyFrame, a pyarrow Table
    if converted is not None:
        return _from_frame(converted, name or "DataFrame")
    if _is_pandas_frame(source):
        return _from_pandas(source, name or "DataFrame")
    if isinstance(source, (str, Path)) and encoding is None:
        fast = _read_csv_file(Path(source), name or Path(source).name, separator)
        if fast is not None:
            return fast
    data, label = _load_bytes(source, name)
    suffix = Path(label).suffix.lower()
    if suffix in _REFUSED_EXTENSIONS or data.startswith(_OLE_MAGIC):
        what = _REFUSED_EXTENSIONS.get(suffix, "an old-style (or password-protected) Excel workbook")
        raise FileFormatError(f"{label} is {what}, which cannot be read. {_SAVE_AS}")
    if data.startswith(_ZIP_MAGIC) or suffix in XLSX_EXTENSIONS:
        return _read_xlsx(data, label, sheet)
    return _read_csv(data, label, separator, encoding)


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
        f"read_table cannot read a {type(source).__name__}; give a path, bytes, a file object, a pandas or "
        f"polars DataFrame, a polars LazyFrame or a pyarrow Table"
    )


# --------------------------------------------------------------------- CSV
def _read_csv_file(path: Path, label: str, separator: str | None) -> Table | None:
    """A UTF-8 (or ASCII) CSV file read by polars straight from disk, or None when the file needs the
    general path (`_read_csv` over its bytes): another suffix, a BOM other than UTF-8's, a NUL byte or
    no text in the first 64 KB, a "\r" in a cell (a lone "\r" line break), a record polars refuses,
    a byte that is not UTF-8.

    Only the first 64 KB are looked at in Python (sep= line, separator, BOM); polars reads the file
    itself and refuses any byte that is not UTF-8, so no character is ever changed or lost, and
    neither the file's bytes nor a decoded copy of them is held while the frame is built. Whatever it
    declines is read by the general path, which says exactly what is wrong.
    """
    suffix = path.suffix.lower()
    if suffix not in CSV_EXTENSIONS or (separator is not None and len(separator) != 1):
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(_SAMPLE_BYTES + len(codecs.BOM_UTF8))
            if head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC):
                return None
            if any(head.startswith(bom) for bom, codec in _BOMS if codec != "utf-8-sig"):
                return None
            with_bom = head.startswith(codecs.BOM_UTF8)
            prefix = head.removeprefix(codecs.BOM_UTF8)[:_SAMPLE_BYTES]
            if b"\x00" in prefix or not _NON_SPACE.search(prefix):
                return None
    except OSError:
        return None  # the general path names what is wrong with the path
    hint = _SEPARATOR_HINT.match(prefix)
    separator = separator or (hint.group(1).decode() if hint else detect_separator(
        prefix.decode("utf-8", errors="ignore")))  # only a character cut by the sample is ignored
    # An empty field, quoted or not, is read as null (what `_empty_as_null` does on the general path):
    # no second pass over the cells.
    options: dict[str, Any] = dict(
        separator=separator, has_header=False, infer_schema=False, quote_char='"', raise_if_empty=False,
        null_values=[""],
    )
    # The file is searched for a "\r" by a thread while polars reads it (the read leaves the GIL), not
    # before the read starts (1M clients: 12 ms of one core, while the other waited).
    with ThreadPoolExecutor(max_workers=1) as pool:
        cr_search = pool.submit(_holds_cr, path)
        try:
            # The width is measured on the head already read (a file of more columns goes the general way,
            # which cuts it with a note); a record cut by the head only under-counts, and the read says.
            whole_lines = prefix[:prefix.rfind(b"\n") + 1] or prefix
            if pl.read_csv(io.BytesIO(whole_lines), n_rows=1, **options).width > MAX_COLUMNS:
                return None
            raw = pl.read_csv(path, **options)
        except pl.exceptions.PolarsError:
            return None
        any_cr = cr_search.result()
    if not raw.width or raw.width > MAX_COLUMNS:
        return None
    # polars ends a record only at "\n": a lone "\r" (old Mac Excel) would stay inside some cell. A cell
    # holding "\r" at all is rare (a quoted multi-line cell): the general path settles those files.
    # One pass over the frame answers both questions.
    # A file without any "\r" (one memchr pass) needs no look at its cells.
    if any_cr and any(raw.select(pl.all().str.contains("\r", literal=True).any()).row(0)):
        return None
    return _to_table(raw, label, separator=separator, encoding="utf-8-sig" if with_bom else "utf-8")


_CR_WINDOW = 4 * 1024 * 1024


def _holds_cr(path: Path) -> bool:
    """True when the file holds a "\r" anywhere, found on a memory map (the file is not read into Python),
    a window at a time: `mmap.find` holds the GIL, and the reading thread needs it back when polars is done."""
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return any(mapped.find(b"\r", start, start + _CR_WINDOW) >= 0
                       for start in range(0, len(mapped), _CR_WINDOW))
    except (ValueError, OSError):  # an empty file cannot be mapped; the read says what else is wrong
        return True


def _empty_as_null(raw: pl.DataFrame, has_empty: tuple[bool, ...] | None = None) -> pl.DataFrame:
    """Empty cells as null. polars already reads an empty field as null, a quoted "" as "": only the
    columns holding "" are rewritten (one pass to find them, no second copy of the others)."""
    if not raw.width:
        return raw
    if has_empty is None:
        has_empty = raw.select((pl.all() == "").any()).row(0)
    dirty = [c for c, hit in zip(raw.columns, has_empty, strict=True) if hit]
    return raw.with_columns(pl.col(c).replace("", None) for c in dirty) if dirty else raw


def _read_csv(data: bytes, label: str, separator: str | None, encoding: str | None) -> Table:
    if separator is not None and len(separator) != 1:
        raise FileFormatError(f"separator {separator!r} for {label} must be one character such as , ; | or a tab.")
    body, encoding, notes = _decode_text(data, label, encoding)
    if not _NON_SPACE.search(body):
        raise FileFormatError(f"{label} is empty: it needs a header row naming the columns.")
    body = _normalise_line_breaks(body)
    hint = _SEPARATOR_HINT.match(body)  # Excel's "sep=;" first line
    separator = separator or (hint.group(1).decode() if hint else detect_separator(
        body[:_SAMPLE_BYTES].decode("utf-8", errors="ignore")))  # only a character cut by the sample is ignored
    raw, too_long = _parse_csv(body, separator, label)
    table = _to_table(raw, label, separator=separator, encoding=encoding)
    table.notes[:0] = notes + too_long
    return table


def _decode_text(data: bytes, label: str, encoding: str | None = None) -> tuple[bytes, str, list[str]]:
    """A text file as UTF-8 bytes, the encoding it was read in, and what the person should know about it.

    A byte-order mark decides (UTF-8, UTF-16 as Excel's "Unicode Text", UTF-32);
    then UTF-8, checked by one strict decode of the whole file; otherwise one
    of `DETECTED_ENCODINGS`, chosen on a bounded sample of the lines holding
    non-ASCII bytes, then decoded strictly in full. A UTF-8 file with a few
    bytes that are not UTF-8 (text pasted from another file) is refused with
    the line and the byte rather than guessed at, and no decoding ever
    replaces a byte: what cannot be decoded is an error naming where it is.
    """
    if encoding is not None:
        return _decode_as(data, label, _codec_name(encoding, label)), encoding, []
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_as(data, label, codec), codec, []
    if b"\x00" in data[:_SAMPLE_BYTES]:
        raise FileFormatError(
            f"{label} is not a text file (it looks like a binary file, or UTF-16 text without its byte-order "
            f"mark). In Excel use File > Save As > 'CSV UTF-8 (Comma delimited)', or save as .xlsx."
        )
    if data.isascii():
        return data, "utf-8", []
    try:
        data.decode("utf-8")
        return data, "utf-8", []
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    legacy, utf8_sequences = _utf8_share(data)
    if utf8_sequences >= legacy:
        raise _mixed_encodings(data, label, first_bad)
    codec = _guess_code_page(data)
    body = _decode_as(data, label, codec)
    mojibake = _utf8_within(data, codec)
    if mojibake is not None:
        raise _mixed_encodings(data, label, mojibake, utf8_first=True)
    words = _non_ascii_words(body.decode("utf-8"))
    return body, codec, [
        f"{label} is not UTF-8; it was read as {_ENCODING_NAMES[codec]}, which gives: {', '.join(words)}. "
        f"If these look wrong, name the file's encoding (encoding=... or --encoding, e.g. cp1250 for Central "
        f"European), or save the file as CSV UTF-8."
    ]


# Code pages of Excel's "CSV" exports that detection tells apart, in the order that settles a tie (the
# file's non-ASCII text says too little): Western first, as the most common. Turkish (cp1254), Baltic
# (cp1257) and others are read when named (`encoding=`): detection confuses them with cp1252 / cp1250.
DETECTED_ENCODINGS = ("cp1252", "cp1251", "cp1250", "cp932", "gbk", "cp949", "big5", "cp1253", "mac_roman")
_ENCODING_NAMES = {
    "cp1252": "Windows-1252 (Western European)", "cp1251": "Windows-1251 (Cyrillic)",
    "cp1250": "Windows-1250 (Central European)", "cp932": "Shift-JIS (Japanese)", "gbk": "GBK (Simplified Chinese)",
    "cp949": "Windows-949 (Korean)", "big5": "Big5 (Traditional Chinese)", "cp1253": "Windows-1253 (Greek)",
    "mac_roman": "Mac OS Roman",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_NON_ASCII_WORD = re.compile(r"\w*[^\x00-\x7f]\w*")
_DETECTION_SAMPLE = 32 * 1024


def _codec_name(encoding: str, label: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise FileFormatError(
            f"{encoding!r} is not an encoding Python knows (for {label}); use a name such as utf-8, cp1252, "
            f"cp1250, cp1251, cp1254, mac_roman, shift_jis or gbk."
        ) from None
    return "utf-8-sig" if name == "utf-8" else name  # a named UTF-8 file may still start with a BOM


def _decode_as(data: bytes, label: str, codec: str) -> bytes:
    """`data` decoded strictly in `codec` (a failure names the line and byte), as UTF-8 bytes."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line, column, context = _place_in_text(data, exc.start)
        name = _ENCODING_NAMES.get(codec, codec)
        raise FileFormatError(
            f"{label} is not {name} text: line {line} has the byte 0x{data[exc.start]:02X} at position {column}"
            f"{context}, which {name} does not define. Name the file's real encoding (encoding=... or "
            f"--encoding), or save it as CSV UTF-8."
        ) from None
    if not codec.startswith("utf") and _CONTROL_CHARS.search(text[:_SAMPLE_BYTES]):
        raise FileFormatError(
            f"{label} does not read as {_ENCODING_NAMES.get(codec, codec)} text (it may be a binary file). "
            f"Save it as CSV UTF-8 (Comma delimited) or as an Excel Workbook (.xlsx)."
        )
    if codec in ("utf-8", "utf-8-sig"):
        return data.removeprefix(codecs.BOM_UTF8)
    return text.encode("utf-8")


def _utf8_share(data: bytes) -> tuple[int, int]:
    """Non-ASCII bytes outside and inside well-formed UTF-8 sequences (two C-speed passes)."""
    rest = _UTF8_SEQUENCE.sub(b"", data)
    legacy = len(rest) - len(rest.translate(None, _HIGH_BYTES))
    return legacy, len(data) - len(rest)


def _guess_code_page(data: bytes) -> str:
    """The code page among `DETECTED_ENCODINGS` that reads the non-ASCII lines best.

    charset-normalizer measures how messy each reading is (on its own bounded
    sample of ours); a tie goes to the reading whose non-ASCII characters are
    letters (Windows-1252 reads Polish 'Ł' as '£'), then to the most common
    code page. When every reading is messy, the most common one that decodes
    is kept (Mac OS Roman decodes any byte): the note shows the person what it gave.
    """
    sample = _non_ascii_lines(data)
    ranked = []
    for order, codec in enumerate(DETECTED_ENCODINGS):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        match = charset_normalizer.from_bytes(sample, cp_isolation=[codec]).best()
        chaos = round(match.chaos, 1) if match is not None else 1.0
        ranked.append((chaos >= 0.2, chaos, -round(_letter_share(text), 2), order, codec))
    messy = all(r[0] for r in ranked)
    return min(ranked, key=lambda r: r[3])[4] if messy else min(ranked)[4]


def _non_ascii_lines(data: bytes) -> bytes:
    """The first lines holding non-ASCII bytes, up to `_DETECTION_SAMPLE` bytes: what detection looks at."""
    lines, size, found = [], 0, _NON_ASCII.search(data)
    while found is not None and size < _DETECTION_SAMPLE:
        start = max(data.rfind(b"\n", 0, found.start()), data.rfind(b"\r", 0, found.start())) + 1
        end = min((i for i in (data.find(b"\n", found.start()), data.find(b"\r", found.start())) if i >= 0),
                  default=len(data))
        lines.append(data[start:min(end, start + _DETECTION_SAMPLE)])
        size += end - start
        found = _NON_ASCII.search(data, end)
    return b"\n".join(lines)


def _letter_share(text: str) -> float:
    """The share of distinct non-ASCII characters of `text` that are letters or accents."""
    chars = {c for c in text if c > "\x7f"}
    return sum(unicodedata.category(c)[0] in "LM" for c in chars) / max(len(chars), 1)


def _utf8_within(data: bytes, codec: str) -> int | None:
    """Where a legacy file holds UTF-8 text: a UTF-8 sequence that is a letter, which `codec` reads as
    a symbol ('é' written as UTF-8 reads 'Ã©' in Windows-1252). Multi-byte code pages are not checked:
    their characters are byte pairs that often look like UTF-8."""
    if codec in ("cp932", "gbk", "cp949", "big5"):
        return None
    for n, found in enumerate(_UTF8_SEQUENCE.finditer(data)):
        if n >= 1000:
            break
        as_utf8, as_codec = found.group().decode("utf-8"), found.group().decode(codec)
        if _letter_share(as_utf8) == 1 and _letter_share(as_codec) < 1:
            return found.start()
    return None


def _mixed_encodings(data: bytes, label: str, position: int, utf8_first: bool = False) -> FileFormatError:
    line, column, context = _place_in_text(data, position)
    if utf8_first:
        what = (f"line {line} holds UTF-8 text at position {column}{context} while the rest of the file is not "
                f"UTF-8")
    else:
        what = (f"it is UTF-8 text, but line {line} has the byte 0x{data[position]:02X} at position {column}"
                f"{context}, which is not UTF-8 (text pasted from a file in another encoding?)")
    return FileFormatError(
        f"{label} mixes two encodings: {what}. Reading it either way would change letters, so it is not read. "
        f"Retype that text, or save the file again as CSV UTF-8."
    )


def _place_in_text(data: bytes, position: int) -> tuple[int, int, str]:
    """Line number, 1-based byte position in the line and a quoted bit of the text before `position`."""
    line_start = max(data.rfind(b"\n", 0, position), data.rfind(b"\r", 0, position)) + 1
    line = len(_LINE_BREAK.findall(data, 0, line_start)) + 1
    before = data[max(line_start, position - 30):position].decode("utf-8", errors="replace")
    return line, position - line_start + 1, f" (after {before!r})" if before else ""


def _non_ascii_words(text: str, limit: int = 3) -> list[str]:
    words: list[str] = []
    for found in _NON_ASCII_WORD.finditer(text):
        if found.group() not in words:
            words.append(found.group())
            if len(words) == limit:
                break
    return [repr(w) for w in words]


_LINE_BREAK = re.compile(rb"\r\n?|\n")
_LONE_CR = re.compile(rb"\r(?!\n)")
_QUOTED_OR_BREAK = re.compile(rb'"[^"]*"|\r\n?')


def _normalise_line_breaks(body: bytes) -> bytes:
    """Every line break as "\n" when some are a lone "\r" (old Mac Excel, or a mix); a break inside a
    quoted cell is cell text and stays as it is. Files without a lone "\r" are returned unchanged."""
    if _LONE_CR.search(body) is None:
        return body
    if b'"' not in body:
        return body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return _QUOTED_OR_BREAK.sub(lambda m: m.group() if m.group().startswith(b'"') else b"\n", body)


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


def _parse_csv(payload: bytes, separator: str, label: str) -> tuple[pl.DataFrame, list[str]]:
    """Every record of the file as text columns (header included), blank lines kept as null rows, and
    a note when records longer than `MAX_COLUMNS` fields were cut.

    polars refuses what is not well-formed CSV; the refusal is turned into a
    message naming the line (see `_csv_problem`). Records longer than the
    first are read by a second, sized pass.
    """
    options: dict[str, Any] = dict(
        separator=separator, has_header=False, infer_schema=False, quote_char='"', raise_if_empty=False,
    )
    width = 0
    try:
        width = pl.read_csv(io.BytesIO(payload), n_rows=1, **options).width
        raw = pl.read_csv(io.BytesIO(payload), columns=list(range(MAX_COLUMNS)) if width > MAX_COLUMNS else None,
                          **options)
    except pl.exceptions.PolarsError as exc:
        text = payload.decode("utf-8")
        problem = _csv_problem(text, separator)
        if problem:
            raise FileFormatError(f"{label}: {problem}") from None
        if "more fields" not in str(exc):
            first_line = str(exc).strip().splitlines()[0]
            raise FileFormatError(f"{label} cannot be read as CSV ({first_line}). {_SAVE_AS}") from None
        return _parse_ragged(payload, text, separator, label, options)
    return _empty_as_null(raw), [_too_wide(label, width)] if width > MAX_COLUMNS else []


def _parse_ragged(payload: bytes, text: str, separator: str, label: str,
                  options: dict[str, Any]) -> tuple[pl.DataFrame, list[str]]:
    """A file whose records are longer than its first: sized by the longest, up to `MAX_COLUMNS`."""
    lengths = [len(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator)]
    width = min(max(lengths), MAX_COLUMNS)
    schema = {f"column_{i + 1}": pl.String for i in range(width)}
    raw = pl.read_csv(io.BytesIO(payload), schema=schema, missing_columns="insert", extra_columns="ignore",
                      truncate_ragged_lines=True, **options)
    notes = []
    cut = [n for n, length in enumerate(lengths, start=1) if length > MAX_COLUMNS]
    if cut:
        rows = ", ".join(map(str, cut[:5])) + (f" and {len(cut) - 5} more" if len(cut) > 5 else "")
        notes.append(
            f"{label}: record(s) {rows} hold up to {max(lengths):,} values; only the first {MAX_COLUMNS:,} "
            f"columns are read. Check those records for a missing quote or line break."
        )
    return _empty_as_null(raw), notes


def _too_wide(label: str, width: int) -> str:
    return (f"{label} has {width:,} columns; only the first {MAX_COLUMNS:,} are read. Delete the columns "
            f"the import does not need.")


_QUOTED_FIELD = re.compile(r'"[^"]*(?:""[^"]*)*"')


def _csv_problem(text: str, separator: str) -> str | None:
    """The first quoting mistake in `text`, named by its line, or None when the quotes are well formed.

    A quote opens a quoted cell only at the start of a cell, the cell runs to
    the next single quote, and a separator or line break must follow it. Only
    called once polars has refused the file, so a Python step per quote is fine.
    """
    starts = (separator, "\n", "\r")
    position = text.find('"')
    while position >= 0:
        line = text.count("\n", 0, position) + 1
        if position and text[position - 1] not in starts:
            return (f"line {line} has a quote inside a cell that does not start with one "
                    f"({_excerpt(text, position)}); put the whole cell in quotes and double the quote (\"\"), "
                    f"or remove it.")
        quoted = _QUOTED_FIELD.match(text, position)
        if quoted is None:
            return (f"line {line} opens a quote that is never closed ({_excerpt(text, position)}); everything "
                    f"after it would be one cell. Close the quote or remove it.")
        end = quoted.end()
        if end < len(text) and text[end] not in starts:
            return (f"line {text.count(chr(10), 0, end) + 1} has text after a closing quote "
                    f"({_excerpt(text, end)}); put the whole cell in quotes, or remove the quotes.")
        position = text.find('"', end)
    return None


def _excerpt(text: str, position: int) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    return f"near {text[max(line_start, position - 20):position + 20].splitlines()[0]!r}"


# -------------------------------------------------------------------- XLSX
def _read_xlsx(data: bytes, label: str, sheet: str | int | None) -> Table:
    width = _check_xlsx_size(data, label)
    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
    except Exception as exc:  # fastexcel raises several unrelated classes for a broken file
        raise FileFormatError(
            f"{label} cannot be read as an Excel workbook ({exc}). {_SAVE_AS}"
        ) from None
    sheet_name = _pick_sheet(names, sheet, label)
    within = list(range(MAX_COLUMNS)) if width > MAX_COLUMNS else None

    def load(dtypes: SheetDtype, columns: list[int] | list[str] | None = within) -> pl.DataFrame:
        return reader.load_sheet(
            sheet_name, header_row=None, skip_rows=0, dtypes=dtypes, use_columns=columns,
        ).to_polars()

    raw = load("string")
    if raw.width == 0 or raw.height == 0:
        raise FileFormatError(f"sheet {sheet_name!r} of {label} is empty: it needs a header row naming the columns.")
    raw, date_masks, number_masks = _typed_cells(raw, load)
    table = _to_table(raw, label, sheet=sheet_name, date_masks=date_masks, number_masks=number_masks)
    if within and raw.width == MAX_COLUMNS:
        table.notes.insert(0, _too_wide(label, width))
    return table


# What a workbook may hold before it is read: calamine loads a whole sheet into memory, and a 4.7 MB
# zip of one shared string repeated in 67 million cells takes 5.5 GB and a minute. Excel's own sheet
# holds 1,048,576 rows; 20 million cells is 1,048,576 rows of 19 columns.
MAX_XLSX_CELLS = 20_000_000
MAX_XLSX_PART_BYTES = 1024**3  # uncompressed size of one sheet or of the shared strings
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')
_XLSX_CHUNK = 4 * 1024 * 1024


def _check_xlsx_size(data: bytes, label: str) -> int:
    """Refuse a workbook too big to read, before reading it; return its widest sheet's column count.

    Each worksheet's declared used range (`<dimension>`) gives its cells; a
    sheet without one, or larger uncompressed than its range explains, is
    counted while decompressing in chunks, stopping at the cap. Sizes in the
    zip directory are checked too, so nothing is inflated past the caps.
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return 0  # fastexcel has already said what is wrong with it
    width = 0
    for info in book.infolist():
        is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        if not is_sheet and info.filename != "xl/sharedStrings.xml":
            continue
        if is_sheet:
            with book.open(info) as part:
                head = part.read(64 * 1024)
                found = _DIMENSION.search(head)
                if found and found.group(3):
                    columns = _column_number(found.group(3)) - _column_number(found.group(1)) + 1
                    rows = int(found.group(4)) - int(found.group(2)) + 1
                    width = max(width, columns)
                    if columns * rows > MAX_XLSX_CELLS:
                        raise _too_big(label, f"{info.filename} spans {rows:,} rows x {columns:,} columns")
                # A part larger than its declared range explains (a cell takes well under 64 bytes of XML)
                # may hold more cells than it says: count them.
                if not found or not found.group(3) or info.file_size > 64 * columns * rows + 1024**2:
                    _count_cells(part, head, label, info.filename)
        if info.file_size > MAX_XLSX_PART_BYTES:
            raise _too_big(label, f"{info.filename} unpacks to {info.file_size / 1024**2:,.0f} MB")
    return width


def _count_cells(part: Any, head: bytes, label: str, name: str) -> None:
    """Count the cell tags of a sheet part chunk by chunk; refuse once past `MAX_XLSX_CELLS`."""
    cells, tail, chunk = 0, b"", head
    while chunk:
        block = tail + chunk  # a tag cut by the chunk boundary is whole in the next block
        cells += _cell_tags(block) - _cell_tags(tail)
        if cells > MAX_XLSX_CELLS:
            raise _too_big(label, f"{name} holds more than {MAX_XLSX_CELLS:,} cells")
        tail = block[-4:]
        chunk = part.read(_XLSX_CHUNK)


def _cell_tags(xml: bytes) -> int:
    return xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/>")


def _too_big(label: str, what: str) -> FileFormatError:
    return FileFormatError(
        f"{label} is too large to read: {what} (at most {MAX_XLSX_CELLS:,} cells and "
        f"{MAX_XLSX_PART_BYTES // 1024**2:,} MB per sheet). Delete unused rows and columns (select them, "
        f"right-click > Delete), or split the file."
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def sheet_names(data: bytes, name: str) -> list[str]:
    """The worksheets of an XLSX workbook, in workbook order ([] for a file that is not a workbook), so a
    front end can ask which one to import. A workbook that cannot be read raises `FileFormatError`."""
    if not (data.startswith(_ZIP_MAGIC) or Path(name).suffix.lower() in XLSX_EXTENSIONS):
        return []
    try:
        return list(fastexcel.read_excel(data).sheet_names)
    except Exception as exc:  # fastexcel raises several unrelated classes for a broken file
        raise FileFormatError(f"{name} cannot be read as an Excel workbook ({exc}). {_SAVE_AS}") from None


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
    raw: pl.DataFrame, load: Callable[[SheetDtype, list[str] | None], pl.DataFrame]
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
    columns: list[pl.Series] = []
    for index in range(frame.shape[1]):
        series = frame.iloc[:, index]
        try:
            columns.append(cast(pl.Series, pl.from_pandas(series)))
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
    if body.height and not any(v is not None for v in body.row(body.height - 1)):
        filled = body.select(pl.any_horizontal(pl.all().is_not_null()).alias("filled"))["filled"]
        last_row = cast(int, filled.arg_true().max()) + 1 if filled.any() else 0
        body = body.head(last_row)
    keep = len(headers)
    while keep and not headers[keep - 1].strip() and body.to_series(keep - 1).null_count() == body.height:
        keep -= 1
    headers = headers[:keep]
    body = body.select(body.columns[:keep])

    blank = [column_letter(i) for i, h in enumerate(headers) if not h.strip()]
    if blank:
        notes.append(
            f"{len(blank)} column(s) have no header ({', '.join(blank[:10])}{', …' if len(blank) > 10 else ''}); "
            f"merged header cells leave blanks. Give every column its header."
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
