"""The annotated workbook a person gets back: what they see when they open it.

Files are validated with the real engine, written, and read back with
openpyxl (fills, notes, dropdowns, sheets) and with BulkAssist's own reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bulkassist
import bulkassist.io.xlsx as xlsx
from bulkassist.engine.selectlists import StaticLists, demo_lists
from bulkassist.io.annotate import write_annotated
from bulkassist.io.cells import FORMULA_START
from bulkassist.io.reading import read_table
from bulkassist.io.xlsx import ERROR_FILL, WARNING_FILL

CLIENT_HEADER = ["Client ID", "First Name", "Last Name", "Email Address", "Phone Number", "SSN", "Date of Birth",
                 "Ethnicity", "Staff Name"]
QUALIFICATION_HEADER = ["Qualification Number", "ULN", "Status", "Registration number", "Registration date",
                        "Certificate claimed date", "Achieved date", "Certificate received Date",
                        "Certificate Sent Date", "Postal Tracking Reference"]


def csv_bytes(header: list[str], rows: list[list[str]], sep: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows([header, *rows])
    return buf.getvalue().encode("utf-8-sig")


def messy_clients() -> bulkassist.Report:
    rows = [
        ["", "Maria", "López & <Sons>", "maria@example.org", "(727) 123-1234", "012345678", "02/03/1990",
         "Hispanic or Latino", ""],
        ["", "Jo", "Smith", "jo at example.org", "7271231234", "12345678", "13/25/1990", "hispanic", ""],
        ["", "", "", "", "", "", "", "", ""],
        ["", "=HYPERLINK(\"http://x\")", "", "", "", "", "", "", ""],
    ]
    return bulkassist.validate(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="clients.csv")


def fill(cell) -> str | None:
    rgb = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
    return rgb[-6:] if isinstance(rgb, str) else None


@pytest.fixture
def annotated(tmp_path) -> tuple[bulkassist.Report, openpyxl.Workbook, Path]:
    report = messy_clients()
    path = write_annotated(report, tmp_path / "clients.checked.xlsx")
    return report, openpyxl.load_workbook(path), path


def test_invalid_cells_are_red_with_a_note_saying_what_to_type(annotated):
    report, wb, _ = annotated
    ws = wb["Data"]
    phone = ws["E3"]
    assert phone.value == "7271231234" and fill(phone) == ERROR_FILL
    assert "(999) 999-9999" in phone.comment.text and "Suggested: (727) 123-1234" in phone.comment.text
    ssn = ws["F3"]
    assert fill(ssn) == ERROR_FILL and "Suggested: 012345678" in ssn.comment.text
    ethnicity = ws["H3"]
    assert "Suggested: Hispanic or Latino" in ethnicity.comment.text
    assert "13/25/1990" in ws["G3"].comment.text


def test_valid_cells_are_left_plain_and_keep_their_text(annotated):
    _, wb, _ = annotated
    ws = wb["Data"]
    assert [c.value for c in ws[1]] == CLIENT_HEADER
    assert ws["C2"].value == "López & <Sons>" and ws["F2"].value == "012345678"
    assert all(fill(c) is None and c.comment is None for c in ws[2])
    assert ws["F2"].number_format == "@"  # typing a new SSN here keeps its leading zero
    assert ws.freeze_panes == "A2"


def test_every_cell_issue_has_exactly_one_note_on_its_cell(annotated):
    report, wb, _ = annotated
    ws = wb["Data"]
    expected = {(r, c) for r, c in report.cell_issues.filter(pl.col("col_index").is_not_null())
                .select("row", "col_index").iter_rows()}
    noted = {(cell.row, cell.column - 1) for row in ws.iter_rows() for cell in row if cell.comment}
    assert noted == expected


def test_formula_text_is_written_as_text_never_as_a_formula(annotated):
    _, wb, path = annotated
    cell = wb["Data"]["B5"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")' and cell.quotePrefix
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


def test_select_columns_get_dropdowns_from_a_hidden_lists_sheet(annotated):
    _, wb, _ = annotated
    lists = wb["Lists"]
    assert lists.sheet_state == "hidden"
    rules = {str(dv.sqref): dv.formula1 for dv in wb["Data"].data_validations.dataValidation}
    assert set(rules) == {"H2:H5", "I2:I5"}
    values = [row[0].value for row in lists[rules["I2:I5"].split("!")[1].replace("$", "")]]
    assert values == demo_lists().values("staff_name")
    assert len(",".join(values)) > 255  # too long for an inline list: that is why it lives on a sheet


def test_errors_sheet_lists_every_issue_with_file_level_issues_first(tmp_path):
    report = bulkassist.validate(csv_bytes(["First Name", "Last Name", "Nickname"], [["Ana", "Lopez", "-x"]]),
                                 "client", "update", name="update.csv")
    wb = openpyxl.load_workbook(write_annotated(report, tmp_path / "u.xlsx"))
    rows = list(wb["Errors"].iter_rows(values_only=True))
    assert rows[0] == ("Row", "Column", "Value", "Severity", "Message", "Suggestion")
    assert len(rows) - 1 == report.issues.height
    missing = [r for r in rows[1:] if "has no 'Client ID' column" in (r[4] or "")]
    assert missing and missing[0][0] is None
    assert rows[1][0] is None  # file-level issues come before row issues
    assert all(c.quotePrefix for r in wb["Errors"].iter_rows() for c in r
               if isinstance(c.value, str) and re.match(FORMULA_START, c.value))


def test_errors_sheet_column_links_to_the_invalid_cell(annotated):
    report, wb, _ = annotated
    errors = wb["Errors"]
    rows = list(errors.iter_rows(min_row=2))
    phone = next(r for r in rows if r[1].value == "Phone Number")
    assert phone[0].value == 3 and phone[1].hyperlink.location == "'Data'!E3"
    assert wb["Data"]["E3"].comment is not None
    linked = [r for r in rows if r[1].hyperlink is not None]
    assert len(linked) == report.cell_issues.filter(pl.col("col_index").is_not_null()).height


def test_summary_sheet_counts_total_valid_error_skipped(annotated):
    report, wb, _ = annotated
    summary = dict(wb["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Total Rows"] == report.summary["total"] == 3
    assert summary["Skipped Rows"] == 1 and summary["Error Rows"] == report.summary["errors"]
    assert summary["Valid Rows"] == report.summary["valid"]
    assert (summary["Source"], summary["Domain"], summary["Operation"]) == ("clients.csv", "Client", "Add")


def test_warnings_are_amber_and_errors_win_on_a_shared_cell(tmp_path):
    rows = [["60312345", "1234567890", "Registered", "", "15/09/2026", "", "", "", "", ""],
            ["60312345", "1234567891", "registred", "REG1", "31/02/2026", "", "", "", "", ""]]
    report = bulkassist.validate(csv_bytes(QUALIFICATION_HEADER, rows), "qualification", name="q.csv")
    ws = openpyxl.load_workbook(write_annotated(report, tmp_path / "q.xlsx"))["Data"]
    assert fill(ws["C2"]) == WARNING_FILL and "Registration number" in ws["C2"].comment.text
    assert fill(ws["C3"]) == ERROR_FILL and fill(ws["E3"]) == ERROR_FILL


def test_blank_required_cell_is_filled_even_though_empty(tmp_path):
    report = bulkassist.validate(csv_bytes(["First Name", "Last Name"], [["", "Lopez"]]), "client", "add",
                                 name="c.csv")
    ws = openpyxl.load_workbook(write_annotated(report, tmp_path / "c.xlsx"))["Data"]
    assert ws["A2"].value is None and fill(ws["A2"]) == ERROR_FILL and "First Name" in ws["A2"].comment.text


def test_header_of_a_column_without_header_is_marked(tmp_path):
    report = bulkassist.validate(b"First Name,,Last Name\r\nAna,x,Lopez\r\n", "client", "add", name="c.csv")
    ws = openpyxl.load_workbook(write_annotated(report, tmp_path / "c.xlsx"))["Data"]
    assert ws["B1"].value is None and ws["B1"].comment is not None and fill(ws["B1"]) == WARNING_FILL
    assert ws["A1"].font.b


def test_row_numbers_match_a_source_with_a_title_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["November clients"])
    ws.append([])
    ws.append(["First Name", "Last Name", "Date of Birth", "SSN"])
    ws.append(["Ana", "Lopez", dt.date(1990, 2, 3), 12345678])
    source = tmp_path / "titled.xlsx"
    wb.save(source)
    table = read_table(source)
    report = bulkassist.validate(table, "client", "add")
    out = openpyxl.load_workbook(write_annotated(report, tmp_path / "out.xlsx", source=table))
    data = out["Sheet"]  # the data sheet keeps the source's sheet name
    assert [c.value for c in data[3]] == ["First Name", "Last Name", "Date of Birth", "SSN"]
    ssn_row = report.issues.filter(pl.col("column") == "SSN")["row"][0]
    assert ssn_row == 4 and data[f"D{ssn_row}"].comment is not None
    assert data.freeze_panes == "A4"


def test_special_and_illegal_xml_characters_are_written_safely(tmp_path):
    rows = [["Ann & <Co> \"quoted\"", "Lo\x01pez", "tab\there", " padded "]]
    report = bulkassist.validate(csv_bytes(["First Name", "Last Name", "Email Address", "Staff Name"], rows),
                                 "client", "add", name="c.csv")
    path = write_annotated(report, tmp_path / "c.xlsx")
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                ElementTree.fromstring(zf.read(name))  # every part is well-formed XML
    ws = openpyxl.load_workbook(path)["Data"]
    assert [c.value for c in ws[2]] == ["Ann & <Co> \"quoted\"", "Lopez", "tab\there", " padded "]


def test_annotated_workbook_reads_back_as_the_same_data(tmp_path):
    report = messy_clients()
    table = read_table(write_annotated(report, tmp_path / "c.xlsx"))
    assert table.headers == report.columns
    assert table.frame.height == report.data.height
    assert table.frame.rows() == report.data.rows()
    again = bulkassist.validate(table, "client", "add")
    assert again.summary == report.summary


def test_thousands_of_notes_get_unique_shape_ids_in_the_drawing(tmp_path):
    rows = [["", f"Name{i}", "Lopez", "", "727123", "", "", "", ""] for i in range(2500)]
    report = bulkassist.validate(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="big.csv")
    path = write_annotated(report, tmp_path / "big.xlsx")
    with zipfile.ZipFile(path) as zf:
        vml = zf.read("xl/drawings/vmlDrawing1.vml").decode()
        comments = ElementTree.fromstring(zf.read("xl/comments1.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    refs = [c.get("ref") for c in comments.iterfind(".//m:comment", ns)]
    assert len(refs) == len(set(refs)) == 2500
    ids = [part.split('"')[0] for part in vml.split('<v:shape id="')[1:]]
    assert len(set(ids)) == 2500
    assert 'data="1,2,3"' in vml  # one id block per 1024 shapes
    assert openpyxl.load_workbook(path)["Data"]["E2501"].comment is not None


def test_streamed_parts_are_the_same_bytes_whatever_the_chunk_size(tmp_path, monkeypatch):
    """Rows, notes, the notes' drawing and the Errors sheet's links are written a chunk at a time: the parts
    inside the package do not depend on where the chunks break."""
    rows = [["", f"Name{i}", "Lopez", "x@y" if i % 3 else "", "727123", "", "13/25/1990", "", ""] for i in range(700)]
    report = bulkassist.validate(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="big.csv")
    whole = write_annotated(report, tmp_path / "whole.xlsx")
    monkeypatch.setattr(xlsx, "_CHUNK_ROWS", 7)
    chunked = write_annotated(report, tmp_path / "chunked.xlsx")
    with zipfile.ZipFile(whole) as a, zipfile.ZipFile(chunked) as b:
        assert a.namelist() == b.namelist()
        assert {"xl/comments1.xml", "xl/drawings/vmlDrawing1.vml"} <= set(a.namelist())
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
            assert a.getinfo(name).compress_type == zipfile.ZIP_DEFLATED
    assert b'<hyperlink ref="B700"' in zipfile.ZipFile(chunked).read("xl/worksheets/sheet2.xml")


def test_dropdowns_follow_the_lists_given(tmp_path):
    lists = StaticLists({name: demo_lists().options(name) for name in demo_lists().names()}
                        | {"ethnicity": [("A", "A"), ("B, with comma", "B, with comma")]})
    report = bulkassist.validate(csv_bytes(["First Name", "Last Name", "Ethnicity"], [["Ana", "Lopez", "A"]]),
                                 "client", "add", lists=lists, name="c.csv")
    wb = openpyxl.load_workbook(write_annotated(report, tmp_path / "c.xlsx", lists=lists))
    (rule,) = wb["Data"].data_validations.dataValidation
    assert str(rule.sqref) == "C2" and rule.formula1 == "Lists!$A$2:$A$3"
    assert [c.value for c in wb["Lists"]["A"]] == ["ethnicity", "A", "B, with comma"]


def test_pandas_report_writes_with_row_numbers_from_two(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"First Name": ["Ana", None], "Last Name": ["Lopez", "Smith"],
                          "Date of Birth": pd.to_datetime(["1990-02-03", "1985-12-31"])})
    report = bulkassist.validate(frame, "client", "add")
    ws = openpyxl.load_workbook(write_annotated(report, tmp_path / "nb.xlsx"))["Data"]
    assert ws["A3"].comment is not None and fill(ws["A3"]) == ERROR_FILL
    assert ws["C2"].value == "1990-02-03"


def test_writing_is_deterministic(tmp_path):
    report = messy_clients()
    a = write_annotated(report, tmp_path / "a.xlsx").read_bytes()
    b = write_annotated(report, tmp_path / "b.xlsx").read_bytes()
    assert a == b


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("libreoffice") is None and shutil.which("soffice") is None,
                    reason="LibreOffice is not installed")
def test_libreoffice_opens_the_annotated_workbook(tmp_path):
    path = write_annotated(messy_clients(), tmp_path / "c.xlsx")
    office = shutil.which("libreoffice") or shutil.which("soffice")
    subprocess.run([office, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(path)],
                   check=True, timeout=120, capture_output=True)
    text = (tmp_path / "c.csv").read_text(encoding="utf-8", errors="replace")
    assert "Maria" in text and "7271231234" in text


def test_a_source_sheet_named_errors_does_not_clash_with_the_errors_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Errors"
    wb.active.append(["First Name", "Last Name"])
    wb.active.append(["Ana", ""])
    source = tmp_path / "errors.xlsx"
    wb.save(source)
    table = read_table(source)
    out = openpyxl.load_workbook(write_annotated(bulkassist.validate(table, "client", "add"),
                                                 tmp_path / "out.xlsx", source=table))
    assert out.sheetnames[:3] == ["Errors (data)", "Errors", "Summary"]
    assert out["Errors (data)"]["B2"].comment is not None


def test_a_cell_longer_than_excel_allows_is_cut_to_fit(tmp_path):
    report = bulkassist.validate(csv_bytes(["First Name", "Last Name"], [["A" * 40_000, "Lopez"]]), "client",
                                 "add", name="c.csv")
    ws = openpyxl.load_workbook(write_annotated(report, tmp_path / "c.xlsx"))["Data"]
    assert ws["A2"].value == "A" * 32_767 and ws["A2"].comment is not None


def test_custom_field_columns_are_copied_and_select_columns_get_dropdowns(tmp_path):
    data = b'Identifier,FirstName,Custom.Color,Status,Flags\r\njd1,John,red,active,"RED,BLUEX"\r\n'
    report = bulkassist.validate(data, "case", name="cases.csv")
    wb = openpyxl.load_workbook(write_annotated(report, tmp_path / "cases.xlsx"))
    ws = wb["Data"]
    assert ws["C2"].value == "red" and ws["C2"].comment is None
    assert "Suggested: ACTIVE" in ws["D2"].comment.text
    assert "Suggested: RED,BLUE" in ws["E2"].comment.text
    assert [str(rule.sqref) for rule in ws.data_validations.dataValidation] == ["D2"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_fixed_data_written_as_a_plain_file_reads_back_with_its_headers(tmp_path, suffix):
    report = bulkassist.validate(b"First Name,Phone,Phone\r\nAna,7271231234,-1\r\n", "client", "add", name="c.csv")
    fixed, _changes = report.fixed_data()
    from bulkassist.io.xlsx import write_data

    path = write_data(fixed, tmp_path / f"fixed{suffix}", headers=report.columns)
    table = read_table(path)
    assert table.headers == ["First Name", "Phone", "Phone"]
    assert table.frame.rows() == [("Ana", fixed["Phone"][0], "-1")]  # a plain number needs no escaping


_CELL_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.one_of(st.none(), _CELL_TEXT), min_size=3, max_size=3), min_size=1, max_size=6))
def test_any_text_written_to_a_workbook_reads_back_exactly_and_xml_safe(tmp_path, rows):
    from bulkassist.io.xlsx import write_data

    frame = pl.DataFrame(rows, schema={c: pl.String for c in "ABC"}, orient="row")
    path = write_data(frame, tmp_path / "any.xlsx")
    expected = frame.select(
        pl.col(c).str.replace_all(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]", "").alias(c)
        for c in frame.columns
    ).with_columns(pl.all().replace("", None))
    wb = openpyxl.load_workbook(path)
    cells = list(wb["Data"].iter_rows(min_row=2, max_row=frame.height + 1, max_col=3))
    assert [tuple(c.value for c in row) for row in cells] == expected.rows()
    for cell in (c for row in cells for c in row if isinstance(c.value, str)):
        assert cell.quotePrefix == bool(re.match(FORMULA_START, cell.value))


def test_plain_cells_are_written_exactly_as_the_escaping_path_writes_them(monkeypatch):
    """Cells that need no escaping skip the escaping passes; a sheet of hostile and plain text, some cells
    marked, comes out byte for byte as when every cell takes the escaping path."""
    words = ["plain", "=1+1", "-5", " lead", "trail ", "a&b", "<x>", 'say "hi"', "cr\rlf", "bell\x07", "Zoë", "",
             None, "x" * 40_000, "@home", "\uff1dSUM(A1)", "ok too"]
    frame = pl.DataFrame({f"c{i}": [words[(j * (i + 3)) % len(words)] for j in range(2_500)] for i in range(5)})
    marks = pl.DataFrame({"row": [2, 3, 3, 700, 2_501, 1], "col": [0, 1, 4, 2, 3, 1],
                          "style": [xlsx.ERROR_STYLE, xlsx.WARNING_STYLE, xlsx.ERROR_STYLE, xlsx.WARNING_STYLE,
                                    xlsx.ERROR_STYLE, xlsx.WARNING_STYLE]})
    monkeypatch.setattr(xlsx, "_CHUNK_ROWS", 1_000)  # patches in several chunks

    def rows() -> str:
        return "".join(xlsx.data_rows(frame, frame.columns, 1, marks))

    fast = rows()
    monkeypatch.setattr(xlsx, "_needs_care", lambda text: pl.Series([True] * text.len()))
    assert fast == rows()
    assert fast.count('" t="inlineStr"><is><t>plain</t></is></c>') > 100
    assert f'" s="{xlsx.QUOTED}" t="inlineStr"><is><t>=1+1</t>' in fast  # the text style's quote-prefix twin
    assert '" s="2" t="inlineStr"><is><t>' in fast and "&amp;" in fast
