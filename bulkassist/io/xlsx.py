"""The XLSX writer: sheets as XML built column-wise with polars, streamed into the zip package.

Why the XML is written by hand: an annotated 100k-row file has ~40k notes,
and xlsxwriter / openpyxl build a Python object per cell and per note
(≈ 23 s / 45 s in issue 2; see bench/workbook.py). Here every sheet, the
notes (comments part + the legacy VML drawing Excel needs to show them) and
the styles are produced column-wise with polars string expressions and
streamed into the zip package, so the cost is a few vectorised passes. The
output is deterministic (fixed zip timestamps), which keeps the checked-in
templates stable.

Text is written as it is, XML-escaped with the characters XML 1.0 forbids
removed, into inline-string cells: an inline string is never a formula, so no
cell can run one. A text that begins like a formula (`bulkassist.io.cells`:
"=1+1", "-5", "+1 727 555 0101") also gets the quote-prefix twin of its style,
so Excel and LibreOffice show it as text and keep it text when it is edited;
nothing is added to the value, so every reader gets it back exactly. Data
cells have the "@" number format, so what the person types into them next
stays text too (Excel would strip the leading zeros of an SSN typed into a
General cell).

`write_data(frame, path)` writes a plain table (fixed data, results, exports) as .xlsx or .csv; a
table taller than an Excel sheet continues on further sheets. The annotated workbook
(`annotate.py`) and the templates (`templates.py`) are built from `Sheet`s.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import TYPE_CHECKING, Any

import polars as pl
from isal import isal_zlib

from bulkassist.engine.selectlists import demo_lists
from bulkassist.io.cells import FORMULA_START, is_formula_like, starts_formula
from bulkassist.io.csv import write_csv
from bulkassist.io.reading import column_letter

if TYPE_CHECKING:  # pragma: no cover
    from bulkassist.engine.selectlists import SelectLists

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
LISTS_SHEET = "Lists"
ERRORS_SHEET = "Errors"
SUMMARY_SHEET = "Summary"
MAX_ROW = 1_048_576
MAX_CELL_CHARS = 32_767  # Excel refuses (repairs) a longer cell
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK_ROWS = 20_000  # rows (or notes, links) turned into XML at a time: bounds memory on a million-row report
# The deflater and level of every part. A 1M-row annotated workbook is about 1.5 GB of XML, and deflating
# it was the larger half of the work: ISA-L's deflate (`isal`) at its level 1 is about four times as fast
# as zlib's level 1 and makes a smaller file (bench/workbook.py compares them; zlib's default, 6, is twice
# zlib 1's time for a sixth fewer bytes). Either writes the standard deflate every zip reader takes.
ZIP_DEFLATER = "isal"  # or "zlib"
ZIP_LEVEL = 1

# Cell styles (indexes into cellXfs of `_STYLES`). The default style (0) is text ("@"): most cells
# written are text, and a cell without an `s` attribute costs fewer bytes to write and to compress.
TEXT_STYLE, GENERAL_STYLE, ERROR_STYLE, WARNING_STYLE, HEADER_STYLE = 0, 1, 2, 3, 4
_SEVERITY_STYLE = {"error": ERROR_STYLE, "warning": WARNING_STYLE}

_ILLEGAL_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_ILLEGAL_XML_PY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"  # text written as a number cell in numeric columns (ASCII digits: `\d` takes others)

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HIDDEN = ' state="hidden"'
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

# The cellXfs in style order (TEXT_STYLE ... HEADER_STYLE); each is written again with quotePrefix="1".
_XFS = (
    'numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"',
    'numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"',
    'numFmtId="49" fontId="2" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1"',
    'numFmtId="49" fontId="3" fillId="3" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1"',
    'numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"',
)
QUOTED = len(_XFS)  # style n + QUOTED is style n with quotePrefix="1": a text cell that begins like a formula
_STYLES = (
    _XML_DECL
    + f'<styleSheet xmlns="{_NS_MAIN}">'
    '<fonts count="4">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><sz val="11"/><color rgb="FF9C0006"/><name val="Calibri"/><family val="2"/></font>'
    '<font><sz val="11"/><color rgb="FF9C5700"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="4">'
    '<fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{ERROR_FILL}"/><bgColor indexed="64"/></patternFill></fill>'
    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{WARNING_FILL}"/><bgColor indexed="64"/></patternFill></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="{2 * QUOTED}">'
    + "".join(f"<xf {xf}/>" for xf in _XFS)
    + "".join(f'<xf {xf} quotePrefix="1"/>' for xf in _XFS)
    + "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def write_data(
    frame: pl.DataFrame,
    path: str | os.PathLike,
    *,
    headers: list[str] | None = None,
    sheet_name: str = "Data",
    separator: str = ",",
) -> Path:
    """Write a plain table (e.g. `bulkassist fix` output, a results file) as .xlsx or .csv, chosen by suffix.

    `headers` are written instead of the frame's column names (files keep
    their duplicated or blank headers as written). Cells are text and cannot
    start a formula; CSV is UTF-8 with a BOM. A table taller than an Excel
    sheet continues on "<sheet_name> (2)", "(3)"..., each with the header
    (Excel refuses to open a sheet of more than 1,048,576 rows).
    """
    out = Path(path)
    headers = list(frame.columns) if headers is None else headers
    body = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    if out.suffix.lower() in (".csv", ".txt", ".tsv"):
        return write_csv(body, out, separator, headers)
    name = data_sheet_name(sheet_name)
    cols = column_widths(body, headers)
    per_sheet = MAX_ROW - 1  # below the header
    sheets = [
        Sheet(
            name=name if part == 1 else f"{name[:31 - len(f' ({part})')]} ({part})",
            rows=data_rows(body.slice(start, per_sheet), headers, 1, None),
            cols=cols,
            freeze_row=1,
            text_data=True,
        )
        for part, start in enumerate(range(0, max(body.height, 1), per_sheet), start=1)
    ]
    return write_package(out, sheets)



# ------------------------------------------------------------------ select lists
def lists_or_default(lists: SelectLists | None) -> SelectLists:
    return lists if lists is not None else demo_lists()


def list_values(lists: SelectLists | None, name: str) -> list[str]:
    if lists is None:
        return []
    try:
        return [value for value, _label in lists.options(name)]
    except KeyError:
        return []


@dataclass
class ListsSheet:
    """The hidden sheet holding dropdown values, one list per column (an inline list is capped at 255 chars)."""

    columns: dict[str, list[str]]

    @classmethod
    def build(cls, lists: SelectLists, names: Iterable[str | None]) -> ListsSheet:
        columns: dict[str, list[str]] = {}
        for name in names:
            if name and name not in columns:
                values = list_values(lists, name)
                if values:
                    columns[name] = values
        return cls(columns)

    def has(self, name: str | None) -> bool:
        return name in self.columns

    def ref(self, name: str) -> str:
        letter = column_letter(list(self.columns).index(name))
        return f"{LISTS_SHEET}!${letter}$2:${letter}${len(self.columns[name]) + 1}"

    def sheet(self) -> Sheet:
        height = max((len(v) for v in self.columns.values()), default=0)
        frame = pl.DataFrame(
            {name: values + [None] * (height - len(values)) for name, values in self.columns.items()},
            schema={name: pl.String for name in self.columns},
        )
        return Sheet(
            name=LISTS_SHEET,
            rows=data_rows(frame, list(self.columns), 1, None, style=GENERAL_STYLE),
            cols=column_widths(frame, list(self.columns)),
            hidden=True,
        )


# ------------------------------------------------------------------ sheet XML
@dataclass
class Sheet:
    name: str
    rows: Iterator[str]  # the <row> elements, streamed
    cols: str = ""
    freeze_row: int = 0  # rows 1..freeze_row stay visible
    validations: list[tuple[str, str]] = field(default_factory=list)  # (sqref, list range)
    notes: pl.DataFrame | None = None  # row (1-based), col (0-based), note
    hidden: bool = False
    text_data: bool = False  # the sheet holds the person's data as text
    links: pl.DataFrame | None = None  # ref, location: in-workbook hyperlinks (no formulas)

    @property
    def has_notes(self) -> bool:
        return self.notes is not None and self.notes.height > 0

    def xml(self, selected: bool) -> Iterator[str]:
        yield self.head(selected)
        yield from self.rows
        yield from self.tail()

    def head(self, selected: bool) -> str:
        selected_attr = ' tabSelected="1"' if selected else ""
        view = f'<sheetView workbookViewId="0"{selected_attr}>'
        if self.freeze_row:
            view += (
                f'<pane ySplit="{self.freeze_row}" topLeftCell="A{self.freeze_row + 1}" '
                f'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
            )
        view += "</sheetView>"
        return (
            f'{_XML_DECL}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
            f"<sheetViews>{view}</sheetViews>"
            '<sheetFormatPr defaultRowHeight="15"/>'
            f"{self.cols}<sheetData>"
        )

    def tail(self) -> Iterator[str]:
        """Everything after the rows, hyperlinks streamed in chunks."""
        out = "</sheetData>"
        if self.validations:
            out += f'<dataValidations count="{len(self.validations)}">'
            for sqref, formula in self.validations:
                out += (
                    '<dataValidation type="list" errorStyle="warning" allowBlank="1" showInputMessage="1" '
                    f'showErrorMessage="1" errorTitle="Not in the list" error="Choose a value from the '
                    f'dropdown; other values will be reported by validation." sqref="{sqref}">'
                    f"<formula1>{formula}</formula1></dataValidation>"
                )
            out += "</dataValidations>"
        if self.links is not None and self.links.height:
            yield out + "<hyperlinks>"
            link = pl.concat_str([pl.lit('<hyperlink ref="'), pl.col("ref"), pl.lit('" location="'),
                                  _xml_text(pl.col("location")), pl.lit('"/>')])
            yield from _chunked(self.links, link)
            out = "</hyperlinks>"
        out += '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        if self.text_data:
            # IDs, SSNs and phones are text on purpose: no "number stored as text" triangles.
            out += '<ignoredErrors><ignoredError sqref="A1:XFD1048576" numberStoredAsText="1"/></ignoredErrors>'
        if self.has_notes:
            out += '<legacyDrawing r:id="rId1"/>'
        yield out + "</worksheet>"


def _xml_text(expr: pl.Expr) -> pl.Expr:
    """XML-escaped text (for element content and attribute values) without characters XML 1.0 forbids."""
    return _markup(expr.str.replace_all(_ILLEGAL_XML, ""))


def _markup(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
        .str.replace_all("\r", "&#13;", literal=True)  # a bare CR would be read back as LF
    )


def _xml_scalar(text: str) -> str:
    text = _ILLEGAL_XML_PY.sub("", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def _cell_xml(ref: pl.Expr, style: pl.Expr | int, value: pl.Expr, *, numeric: bool = False,
              plain: bool = False) -> pl.Expr:
    """One <c> element per value: inline text (escaped), or a number; an empty styled cell for a null value.

    The `s` attribute is left out for the default (text) style and
    `xml:space="preserve"` is only written where a value starts or ends with
    a space: both are most of the bytes of a plain cell. Text that begins
    like a formula takes the quote-prefix twin of its style.

    `plain`: no value needs any of that (see `_needs_care`), so the same XML is
    built without the regex and escaping passes, most of the cost of a sheet.
    """
    if numeric:
        present = value.is_not_null()
        filled = pl.concat_str([pl.lit('<c r="'), ref, _style_attr(style), pl.lit('"><v>'), value, pl.lit("</v></c>")])
    elif plain:
        present = value.str.len_bytes() > 0
        filled = pl.concat_str([pl.lit('<c r="'), ref, _style_attr(style), pl.lit('" t="inlineStr"><is><t>'), value,
                                pl.lit("</t></is></c>")])
    else:
        text = value.str.replace_all(_ILLEGAL_XML, "").str.slice(0, MAX_CELL_CHARS)
        present = text.str.len_bytes() > 0  # an empty string is an empty cell
        open_t = (
            pl.when(text.str.contains(r"^\s|\s$"))
            .then(pl.lit('" t="inlineStr"><is><t xml:space="preserve">'))
            .otherwise(pl.lit('" t="inlineStr"><is><t>'))
        )
        filled = pl.concat_str([pl.lit('<c r="'), ref, _style_attr(style, starts_formula(text)), open_t,
                                _markup(text), pl.lit("</t></is></c>")])
    if isinstance(style, int):
        return pl.when(present).then(filled).otherwise(pl.lit(""))
    empty = pl.concat_str([pl.lit('<c r="'), ref, _style_attr(style), pl.lit('"/>')])
    return pl.when(present).then(filled).when(style != TEXT_STYLE).then(empty).otherwise(pl.lit(""))


# What makes a text need more than copying into <t>: a character to escape or drop, a space at either end
# (xml:space), a formula start (quote-prefix style); or a length beyond an Excel cell's (`_needs_care`).
_CARE = f"[&<>\"\r]|{_ILLEGAL_XML}|^\\s|\\s$|{FORMULA_START}"


def _needs_care(text: pl.Series) -> pl.Series:
    """True where `_cell_xml` must take the escaping path for a text."""
    return (text.str.contains(_CARE) | (text.str.len_bytes() > MAX_CELL_CHARS)).fill_null(False)


def _style_attr(style: pl.Expr | int, quoted: pl.Expr | None = None) -> pl.Expr:
    """The `" s="n` between a cell's reference and its closing quote ("" for the default text style);
    where `quoted` holds, the style's quote-prefix twin."""
    if isinstance(style, int):
        plain = pl.lit(f'" s="{style}' if style else "")
        return plain if quoted is None else pl.when(quoted).then(pl.lit(f'" s="{style + QUOTED}')).otherwise(plain)
    if quoted is not None:
        style = pl.when(quoted).then(style + QUOTED).otherwise(style)
    return pl.when(style == TEXT_STYLE).then(pl.lit("")).otherwise(pl.lit('" s="') + style.cast(pl.String))


def _header_row(headers: list[str], row: int, marks: dict[int, int]) -> str:
    """The header row: bold, or filled when a file-level issue is about that column."""
    cells = []
    for i, header in enumerate(headers):
        style = marks.get(i, HEADER_STYLE)
        ref = f"{column_letter(i)}{row}"
        if header:
            quoted = QUOTED if is_formula_like(header) else 0
            cells.append(
                f'<c r="{ref}" s="{style + quoted}" t="inlineStr"><is><t xml:space="preserve">'
                f"{_xml_scalar(header)}</t></is></c>"
            )
        elif i in marks:
            cells.append(f'<c r="{ref}" s="{style}"/>')
    return f'<row r="{row}">{"".join(cells)}</row>'


def data_rows(
    frame: pl.DataFrame,
    headers: list[str],
    header_row: int,
    marks: pl.DataFrame | None,
    *,
    numeric: tuple[str, ...] = (),
    style: int = TEXT_STYLE,
) -> Iterator[str]:
    """The <row> elements: the header on `header_row`, then `frame` (text) one spreadsheet row per frame row.

    `marks` (row, col, style) paint cells; a marked cell gets its fill even
    when empty (a missing required value must show). In columns named in
    `numeric`, values that are numbers are written as numbers.
    """
    marks = marks if marks is not None else pl.DataFrame(schema={"row": pl.Int64, "col": pl.Int64, "style": pl.Int64})
    header_marks = dict(marks.filter(pl.col("row") == header_row).select("col", "style").iter_rows())
    yield _header_row(headers, header_row, header_marks)
    # each marked column's style for every row, once (a join per column and chunk cost more than the cells)
    styles = {
        int(index): pl.repeat(style, frame.height, dtype=pl.Int64, eager=True)
        .scatter(group["row"] - header_row - 1, group["style"]).alias(f"__s{index}")
        for (index,), group in marks.filter(pl.col("row").is_between(header_row + 1, header_row + frame.height)
                                            & (pl.col("col") < frame.width)).group_by("col")
    }
    texts = frame.select(pl.all().cast(pl.String))
    care = {name: _needs_care(texts[name]) for name in texts.columns if name not in numeric}
    for start in range(0, frame.height, _CHUNK_ROWS):
        chunk = texts.slice(start, _CHUNK_ROWS)
        first = header_row + 1 + start
        work = chunk.with_columns(pl.int_range(first, first + chunk.height, eager=True).alias("__row"),
                                  *(s.slice(start, chunk.height) for s in styles.values()))
        row_text = pl.col("__row").cast(pl.String)
        cells: list[pl.Expr] = []
        patches: list[tuple[str, pl.Series, pl.Expr]] = []
        for index, name in enumerate(chunk.columns):
            cell_style: pl.Expr | int = pl.col(f"__s{index}") if index in styles else style
            value = pl.col(name)
            ref = pl.lit(column_letter(index)) + row_text
            if name in numeric:
                is_number = value.str.contains(_NUMBER)
                cells.append(_cell_xml(ref, cell_style, pl.when(is_number).then(value), numeric=True))
                cells.append(_cell_xml(ref, cell_style, pl.when(~is_number).then(value)))
                continue
            # every cell the plain way; the few that need escaping (`_needs_care`) are built again below
            hit = care[name].slice(start, chunk.height).arg_true()
            if hit.len():
                patches.append((f"__c{len(cells)}", hit, _cell_xml(ref, cell_style, value)))
            cells.append(_cell_xml(ref, cell_style, value, plain=True))
        # Cells as separate columns first, so polars builds them in parallel, then one row string each.
        built = work.select(row_text.alias("__row"), *(cell.alias(f"__c{i}") for i, cell in enumerate(cells)))
        if patches:
            built = built.with_columns(built[column].scatter(hit, work[hit].select(cell).to_series())
                                       for column, hit, cell in patches)
        row_xml = pl.concat_str([pl.lit('<row r="'), pl.col("__row"), pl.lit('">'), pl.exclude("__row"),
                                 pl.lit("</row>")])
        yield built.select(row_xml.str.join("")).item()


def column_widths(
    frame: pl.DataFrame,
    headers: list[str],
    *,
    styles: dict[int, int] | None = None,
    widest: int = 50,
) -> str:
    """<cols> sized to the header and the longest value; `styles` gives some columns a style for new cells."""
    if not headers:
        return ""
    lengths = frame.head(1000).select(pl.all().cast(pl.String).str.len_chars().max()).row(0) if frame.width else ()
    out = []
    for index, header in enumerate(headers):
        longest = max(len(header), (lengths[index] or 0) if index < len(lengths) else 0)
        width = min(max(longest + 2, 9), widest)
        styled = f' style="{styles[index]}"' if styles and index in styles else ""
        out.append(f'<col min="{index + 1}" max="{index + 1}" width="{width}" customWidth="1"{styled}/>')
    return "<cols>" + "".join(out) + "</cols>"


def data_sheet_name(name: str) -> str:
    """A legal sheet name for the person's data that does not collide with the sheets BulkAssist adds."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", name).strip()[:31] or "Data"
    if name.casefold() in {s.casefold() for s in (ERRORS_SHEET, SUMMARY_SHEET, LISTS_SHEET)}:
        name = f"{name} (data)"
    return name


# ------------------------------------------------------------------ notes (comments + VML)
def _chunked(frame: pl.DataFrame, element: pl.Expr) -> Iterator[str]:
    """`element` (one XML string per row of `frame`) joined, `_CHUNK_ROWS` rows at a time."""
    for start in range(0, frame.height, _CHUNK_ROWS):
        yield frame.slice(start, _CHUNK_ROWS).select(element.str.join("")).item()


def _comments_xml(notes: pl.DataFrame) -> Iterator[str]:
    """The comments part, streamed: one chunk of <comment> elements at a time."""
    yield (
        f'{_XML_DECL}<comments xmlns="{_NS_MAIN}"><authors><author>BulkAssist</author></authors>'
        "<commentList>"
    )
    comment = pl.concat_str(
        [
            pl.lit('<comment ref="'),
            column_refs(notes) + pl.col("row").cast(pl.String),
            pl.lit('" authorId="0"><text><r><rPr><sz val="9"/><color indexed="81"/><rFont val="Tahoma"/>'
                   '<family val="2"/></rPr><t xml:space="preserve">'),
            _xml_text(pl.col("note")),
            pl.lit("</t></r></text></comment>"),
        ]
    )
    yield from _chunked(notes, comment)
    yield "</commentList></comments>"


def column_refs(frame: pl.DataFrame, column: str = "col") -> pl.Expr:
    """The column letters of `frame`'s 0-based `column` (append the row for an A1 reference)."""
    width = int(frame.select(pl.col(column).max().fill_null(0)).item()) + 1
    letters = [column_letter(i) for i in range(width)]
    return pl.col(column).replace_strict(list(range(width)), letters, return_dtype=pl.String)


def _vml_xml(notes: pl.DataFrame) -> Iterator[str]:
    """The legacy drawing Excel needs to show notes: one hidden text box per note, anchored beside its cell;
    streamed, a chunk of shapes at a time."""
    n = notes.height
    blocks = ",".join(str(b) for b in range(1, n // 1024 + 2))
    row0 = pl.col("row") - 1
    col0 = pl.col("col")
    yield (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
    )
    shape = pl.concat_str(
        [
            pl.lit('<v:shape id="_x0000_s'), (pl.col("i") + 1025).cast(pl.String),
            pl.lit('" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;'
                   'width:180pt;height:80pt;z-index:'), (pl.col("i") + 1).cast(pl.String),
            pl.lit(';visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
                   '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
                   '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
                   '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>'),
            (col0 + 1).cast(pl.String), pl.lit(", 15, "),
            pl.max_horizontal(row0 - 1, pl.lit(0)).cast(pl.String), pl.lit(", 10, "),
            (col0 + 4).cast(pl.String), pl.lit(", 15, "),
            (row0 + 4).cast(pl.String), pl.lit(", 4</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>"),
            row0.cast(pl.String), pl.lit("</x:Row><x:Column>"), col0.cast(pl.String),
            pl.lit("</x:Column></x:ClientData></v:shape>"),
        ]
    )
    yield from _chunked(notes.with_row_index("i"), shape)
    yield "</xml>"


# ------------------------------------------------------------------ the package
def write_package(path: str | os.PathLike, sheets: list[Sheet]) -> Path:
    """Write `sheets` as an .xlsx package (deterministic: fixed timestamps, fixed part order).

    The parts are generated in a background thread while this one compresses
    what is ready: polars and zlib both release the GIL, so building the XML
    and deflating it overlap on two cores.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    queue: Queue[tuple[str, Any]] = Queue(maxsize=8)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(_package_parts(sheets), queue, stop), daemon=True)
    producer.start()
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            handle: Any = None  # zipfile's entry writer (a private class)
            while True:
                kind, payload = queue.get()
                if kind == "start":
                    handle = zf.open(_entry(payload), "w", force_zip64=True)
                    # zipfile only knows zlib: its writer's deflater is swapped for the chosen one (the entry
                    # stays ZIP_DEFLATED, and zipfile still counts the sizes and the CRC)
                    handle._compressor = _deflater()
                elif kind == "data":
                    handle.write(payload)
                elif kind == "end":
                    handle.close()
                elif kind == "error":
                    raise payload
                else:
                    break
    except BaseException:
        out.unlink(missing_ok=True)  # never leave a half-written workbook behind
        raise
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)
    return out


def _produce(parts: Iterator[tuple[str, Iterable[str]]], queue: Queue, stop: threading.Event) -> None:
    try:
        for name, chunks in parts:
            queue.put(("start", name))
            for chunk in chunks:
                if stop.is_set():
                    return
                queue.put(("data", chunk.encode("utf-8")))
            queue.put(("end", None))
        queue.put(("done", None))
    except BaseException as exc:  # handed to the writing thread, which raises it
        queue.put(("error", exc))


def _package_parts(sheets: list[Sheet]) -> Iterator[tuple[str, Iterable[str]]]:
    """Every part of the package, in order, each as text chunks produced when iterated."""
    noted = [number for number, sheet in enumerate(sheets, start=1) if sheet.has_notes]
    overrides = [("/xl/workbook.xml", f"{_CT}.sheet.main+xml"), ("/xl/styles.xml", f"{_CT}.styles+xml")]
    overrides += [(f"/xl/worksheets/sheet{n}.xml", f"{_CT}.worksheet+xml") for n in range(1, len(sheets) + 1)]
    overrides += [(f"/xl/comments{n}.xml", f"{_CT}.comments+xml") for n in noted]
    yield "[Content_Types].xml", [
        f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
        + "".join(f'<Override PartName="{name}" ContentType="{ctype}"/>' for name, ctype in overrides)
        + "</Types>"
    ]
    yield "_rels/.rels", [_rels([("rId1", f"{_NS_REL}/officeDocument", "xl/workbook.xml")])]
    entries = "".join(
        f'<sheet name="{_xml_scalar(sheet.name)}" sheetId="{n}"{_HIDDEN if sheet.hidden else ""} r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    yield "xl/workbook.xml", [
        f'{_XML_DECL}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><bookViews><workbookView activeTab="0"/>'
        f"</bookViews><sheets>{entries}</sheets></workbook>"
    ]
    links = [(f"rId{n}", f"{_NS_REL}/worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(sheets) + 1)]
    links.append((f"rId{len(sheets) + 1}", f"{_NS_REL}/styles", "styles.xml"))
    yield "xl/_rels/workbook.xml.rels", [_rels(links)]
    yield "xl/styles.xml", [_STYLES]
    for number, sheet in enumerate(sheets, start=1):
        yield f"xl/worksheets/sheet{number}.xml", sheet.xml(selected=number == 1)
        if sheet.has_notes:
            assert sheet.notes is not None  # has_notes
            notes = sheet.notes.sort("row", "col")
            yield f"xl/worksheets/_rels/sheet{number}.xml.rels", [_rels([
                ("rId1", f"{_NS_REL}/vmlDrawing", f"../drawings/vmlDrawing{number}.vml"),
                ("rId2", f"{_NS_REL}/comments", f"../comments{number}.xml"),
            ])]
            yield f"xl/comments{number}.xml", _comments_xml(notes)
            yield f"xl/drawings/vmlDrawing{number}.vml", _vml_xml(notes)


def _rels(items: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in items)
    return f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">{body}</Relationships>'


def _deflater() -> Any:
    """A raw-deflate compressor (no zlib header, as zip entries hold) of `ZIP_DEFLATER` at `ZIP_LEVEL`."""
    module = isal_zlib if ZIP_DEFLATER == "isal" else zlib
    return module.compressobj(ZIP_LEVEL, module.DEFLATED, -15)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info
