"""What BulkAssist writes when the values are hostile or huge (issue 12, items 3, 4, 5 and 9).

- XLSX cells hold exactly the text written, even when it looks like a formula ("=1+1", "-5",
  "+1 727 555 0101"): read back by openpyxl, by `read_table` and by LibreOffice, nothing is added;
  the cell is an inline string with the quote-prefix style, never a formula.
- CSV cells that Excel would run get an apostrophe (a CSV cell has no style); plain signed numbers do not.
- `bulkassist fix` never makes a valid cell invalid (a workbook's date cells stay valid dates).
- Values a spreadsheet would run are a warning at validation and neutralised in every file the server
  produces: results, errors, exports, templates (on SQLite and PostgreSQL).
- Beyond Excel's 1,048,576 rows: the CLI says so and exits 2; the server's XLSX continues on more sheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest

import bulkassist
from bulkassist.engine.selectlists import StaticLists, demo_lists
from bulkassist.io.annotate import write_annotated
from bulkassist.io.cells import FORMULA_START
from bulkassist.io.reading import read_table
from bulkassist.io.templates import write_prefilled
from bulkassist.io.xlsx import MAX_ROW, write_data
from tests.sheets import csv_text, write_xlsx

# Text a spreadsheet could take for a formula, or for something else than the text itself.
HOSTILE = ["+1 727 555 0101", "-5", "-5.25", "=1+1", "@SUM(A1)", "＝1+1", "﹦1", "＋1", "－x", "＠x", "-x",
           "-2+3+cmd|' /C calc'!A0", "'quoted", "plain"]
# What the CSV writer makes of each (an apostrophe stays part of a CSV cell: only where Excel would run it).
IN_CSV = {"+1 727 555 0101": "'+1 727 555 0101", "-5": "-5", "-5.25": "-5.25", "=1+1": "'=1+1",
          "@SUM(A1)": "'@SUM(A1)", "＝1+1": "'＝1+1", "﹦1": "'﹦1", "＋1": "'＋1", "－x": "'－x", "＠x": "'＠x",
          "-x": "'-x", "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0", "'quoted": "'quoted", "plain": "plain"}
_SIGNED_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulkassist", *args], capture_output=True, text=True,
                          timeout=600)


def xlsx_cells(data: bytes | Path, sheet: str | int = 0) -> list[list[openpyxl.cell.Cell]]:
    """The cells of one sheet, after checking that no sheet of the package holds a formula and that
    every text beginning like one carries the quote prefix."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert not [n for n in zf.namelist() if n.startswith("xl/worksheets/") and b"<f>" in zf.read(n)]
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and re.match(FORMULA_START, cell.value):
                    assert cell.quotePrefix and cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
    ws = wb.worksheets[sheet] if isinstance(sheet, int) else wb[sheet]
    return [list(row) for row in ws.iter_rows()]


def csv_cells(data: bytes) -> list[list[str]]:
    """The records of a CSV file, after checking that no cell is one Excel would run."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    for cell in (c for r in rows for c in r):
        assert not re.match(FORMULA_START, cell) or _SIGNED_NUMBER.match(cell), cell
    return rows


def column_values(rows: list[list], header: str) -> list:
    index = [getattr(c, "value", c) for c in rows[0]].index(header)
    return [getattr(r[index], "value", r[index]) if index < len(r) else None for r in rows[1:]]


# ------------------------------------------------------------------ item 3: XLSX keeps the value
def _plain_file(tmp_path: Path) -> Path:
    return write_data(pl.DataFrame({"Value": HOSTILE}), tmp_path / "plain.xlsx")


def _annotated(tmp_path: Path) -> Path:
    rows = [["Ana", value] for value in HOSTILE]
    report = bulkassist.validate(csv_text(["First Name", "Value"], rows).encode(), "client", "add", name="c.csv")
    return write_annotated(report, tmp_path / "annotated.xlsx")


def _template(tmp_path: Path) -> Path:
    return write_prefilled("client", pl.DataFrame({"Last Name": HOSTILE}), tmp_path / "template.xlsx")


WRITERS = {"write_data": (_plain_file, "Value"), "write_annotated": (_annotated, "Value"),
           "write_prefilled": (_template, "Last Name")}


@pytest.mark.parametrize("writer", WRITERS)
def test_xlsx_cells_hold_exactly_the_text_written(tmp_path, writer):
    make, header = WRITERS[writer]
    path = make(tmp_path)
    assert column_values(xlsx_cells(path), header) == HOSTILE  # openpyxl: no apostrophe added, all text
    assert read_table(path).frame[header].to_list() == HOSTILE  # our own reader


def test_a_header_that_looks_like_a_formula_is_written_as_it_is(tmp_path):
    path = write_data(pl.DataFrame({"a": ["x"]}), tmp_path / "h.xlsx", headers=["-Amount"])
    assert xlsx_cells(path)[0][0].value == "-Amount"
    assert read_table(path).headers == ["-Amount"]


def _libreoffice(tmp_path: Path, source: Path, *infilter: str) -> Path:
    """`source` opened by LibreOffice Calc and saved as its own .xlsx."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    out = tmp_path / "libreoffice"
    subprocess.run([office, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", *infilter,
                    "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                   check=True, timeout=180, capture_output=True)
    return out / f"{source.stem}.xlsx"


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice is not installed")
def test_libreoffice_reads_our_xlsx_values_exactly_and_runs_nothing_from_our_csv(tmp_path):
    saved = openpyxl.load_workbook(_libreoffice(tmp_path, _plain_file(tmp_path))).active
    assert [(c.value, c.data_type) for c in saved["A"][1:]] == [(v, "s") for v in HOSTILE]

    source = write_data(pl.DataFrame({"Value": HOSTILE}), tmp_path / "plain.csv")
    from_csv = openpyxl.load_workbook(_libreoffice(tmp_path, source, "--infilter=CSV:44,34,76,1")).active
    cells = from_csv["A"][1:]
    assert not [c.value for c in cells if c.data_type == "f"]  # LibreOffice runs "=1+1" in a CSV: none is left
    assert [c.value for c in cells] == [float(v) if _SIGNED_NUMBER.match(v) else IN_CSV[v] for v in HOSTILE]


# ------------------------------------------------------------------ item 3: CSV escapes only what would run
def test_csv_escapes_what_excel_would_run_and_keeps_signed_numbers(tmp_path):
    path = write_data(pl.DataFrame({"Value": HOSTILE}), tmp_path / "plain.csv", headers=["=Header"])
    rows = csv_cells(path.read_bytes())
    assert rows[0] == ["'=Header"]
    assert [r[0] for r in rows[1:]] == [IN_CSV[v] for v in HOSTILE]


# ------------------------------------------------------------------ item 4: fixing never breaks a valid cell
FIX_HEADER = ["Client ID", "First Name", "Last Name", "SSN", "Date of Birth", "Phone Number", "Ethnicity"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_fix_of_a_workbook_with_date_cells_never_makes_a_valid_cell_invalid(tmp_path, suffix):
    source = write_xlsx(tmp_path / "clients.xlsx", FIX_HEADER, [
        [None, "Ana", "Lopez", "012345678", dt.datetime(1990, 2, 3), "(727) 123-1234", "Asian"],
        [100234, "Bo", "Kim", 123456789, dt.datetime(1985, 7, 14, 9, 30), 7271231234, "asian"],
        ["00042", "Cy", "Lee", "012345678", "13/25/1990", None, "Asain"],
        [None, "Di", "Park", 12345678, "1990-02-03", None, None],
    ])
    fixed = tmp_path / f"fixed{suffix}"
    result = run_cli("fix", str(source), "-d", "client", "-p", "add_update", "-o", str(fixed))
    assert result.returncode == 1, result.stderr  # written; '13/25/1990' and 'Asain' are left for a person

    def errors(path: Path) -> set[tuple]:
        return set(bulkassist.validate(path, "client", "add_update").errors.select("row", "column", "code").rows())

    before, after = errors(source), errors(fixed)
    assert after <= before and len(after) < len(before), (before, after)
    table = read_table(fixed)
    assert table.frame["Date of Birth"].to_list() == ["02/03/1990", "07/14/1985", "13/25/1990", "02/03/1990"]
    assert table.frame["SSN"].to_list() == ["012345678", "123456789", "012345678", "012345678"]
    assert table.frame["Client ID"].to_list() == [None, "100234", "00042", None]


# ------------------------------------------------------------------ item 5: a warning, then neutralised
def test_formula_like_values_are_a_warning_and_formulas_an_error():
    lists = StaticLists({name: demo_lists().options(name) for name in demo_lists().names()}
                        | {"ethnicity": [(v, v) for v in ("@home", "+1", "-x", "＝1+1", "Asian")]})
    rows = [["Ana", "Lopez", "@home"], ["Bo", "-x", "+1"], ["Cy", "＝1+1", "-x"], ["Di", "=1+1", "Asian"],
            ["Ed", "-5", "＝1+1"]]
    report = bulkassist.validate(csv_text(["First Name", "Last Name", "Ethnicity"], rows).encode(), "client",
                                 "add", lists=lists, name="c.csv")
    found = {(r, c): (code, severity) for r, c, code, severity in
             report.issues.select("row", "column", "code", "severity").rows()}
    warning = ("formula_like", "warning")
    assert found == {(2, "Ethnicity"): warning, (3, "Last Name"): warning, (4, "Last Name"): warning,
                     (4, "Ethnicity"): warning, (5, "Last Name"): ("formula", "error"), (6, "Ethnicity"): warning}
    assert report.rows["action"].to_list() == ["Insert", "Insert", "Insert", "Error", "Insert"]
    message = report.issues.filter(pl.col("row") == 2)["message"][0]
    assert message.startswith("'@home' begins like a spreadsheet formula")


HOSTILE_LIST = "funding_source"
CLIENTS = ["Client ID", "First Name", "Last Name", "Funding Source"]


@pytest.fixture
def hostile_clients(client_for):
    """An organisation whose Funding Source list holds formula-like values, and a committed client using
    them in text and select cells: (import, Client ID, its Last Name)."""
    admin, importer = client_for("admin"), client_for("importer")
    before = [{"value": v, "label": lbl} for v, lbl in admin.lists("client").options(HOSTILE_LIST)]
    admin.request("PUT", f"/admin/lists/{HOSTILE_LIST}",
                  json=[*before, *({"value": v} for v in ("@home", "-x", "＝1+1", "＋1"))])
    try:
        last = f"-x{uuid.uuid4().hex[:8]}"
        rows = [["", "＝1+1", last, "@home"], ["", "@SUM(A1)", last, "＝1+1"], ["", "Ann", last, "-x"]]
        data = csv_text(CLIENTS, rows).encode()
        imp = importer.start_import(data, "client", "add", name="hostile.csv")
        issues = imp.issues.filter(pl.col("code") == "formula_like")
        assert issues.height == 8 and set(issues["severity"]) == {"warning"}
        assert imp.commit(timeout=60)["status"] == "Committed"
        yield imp, int(imp.results()["Created/Updated ID"][0]), last
    finally:
        admin.request("PUT", f"/admin/lists/{HOSTILE_LIST}", json=before)


def test_server_results_files_keep_every_value_and_run_nothing(hostile_clients):
    imp, _, _ = hostile_clients
    expected = imp.results().select(pl.all().cast(pl.String).fill_null("")).rows()
    as_csv = csv_cells(imp.results_file("csv"))
    assert [tuple(r) for r in as_csv[1:]] == expected
    as_xlsx = xlsx_cells(imp.results_file("xlsx"))
    assert [tuple("" if c.value is None else str(c.value) for c in r) for r in as_xlsx[1:]] == expected


def test_server_errors_file_neutralises_formula_like_values(hostile_clients, client_for):
    imp, _, last = hostile_clients
    rows = csv_cells(imp.errors_file())
    assert {"'＝1+1", "'@SUM(A1)", "'@home", "'-x", f"'{last}"} <= set(column_values(rows, "Value"))
    assert f"'＝1+1 {last}" in column_values(rows, "Record")
    response = client_for("importer").request("GET", f"/imports/{imp.id}/errors", params={"format": "xlsx"})
    cells = xlsx_cells(response.content)
    assert {"＝1+1", "@SUM(A1)", "@home", "-x", last} <= set(column_values(cells, "Value"))
    assert f"＝1+1 {last}" in column_values(cells, "Record")


def test_server_templates_neutralise_formula_like_values(hostile_clients, client_for):
    _, cid, last = hostile_clients
    importer = client_for("importer")
    importer.start_import(csv_text(["Client ID", "CourseID", "SectionID", "Enrollment Status"],
                                   [[str(cid), "ENG201", "01", "Enrolled"]]).encode(),
                          "client_assignment", "add", name="a.csv").commit(timeout=60)
    rows = csv_cells(importer.template("client", course_code="ENG201", fmt="csv"))
    mine = [r for r in rows[1:] if r[0] == str(cid)]
    assert mine and mine[0][1:3] == ["'＝1+1", f"'{last}"]
    book = importer.template("client", course_code="ENG201")
    cells = xlsx_cells(book)
    assert [c.value for c in next(r for r in cells if r[0].value == str(cid))[1:3]] == ["＝1+1", last]
    listed = {c.value for r in xlsx_cells(book, "Lists") for c in r}
    assert {"@home", "-x", "＝1+1", "＋1"} <= listed  # the dropdown values, as the organisation set them
    blank = {c.value for r in xlsx_cells(importer.template("client"), "Lists") for c in r}
    assert "@home" in blank


QUALIFICATION = ["Qualification Number", "ULN", "Status", "Registration number", "Registration date",
                 "Certificate claimed date", "Achieved date", "Certificate received Date", "Certificate Sent Date",
                 "Postal Tracking Reference"]


def test_server_export_neutralises_formula_like_values(client_for):
    admin = client_for("admin")
    uln = str(uuid.uuid4().int)[:10]
    imp = admin.start_import(csv_text(QUALIFICATION, [["60312345", uln, "Registered", "@REG-9", "15/09/2026", "",
                                                       "", "", "", "＝HYPERLINK(1)"]]).encode(),
                             "qualification", "add_update", name="q.csv")
    assert imp.commit(timeout=60)["status"] == "Committed"
    ids = [int(i) for i in imp.results()["Created/Updated ID"]]
    rows = csv_cells(admin.export("qualification", ids))
    assert (column_values(rows, "Registration number"), column_values(rows, "Postal Tracking Reference")) == (
        ["'@REG-9"], ["'＝HYPERLINK(1)"])
    cells = xlsx_cells(admin.export("qualification", ids, fmt="xlsx"))
    assert (column_values(cells, "Registration number"), column_values(cells, "Postal Tracking Reference")) == (
        ["@REG-9"], ["＝HYPERLINK(1)"])


# ------------------------------------------------------------------ item 9: more rows than Excel holds
def _tall_csv(path: Path, rows: int) -> Path:
    path.write_bytes(b"First Name,Last Name\r\n" + b"Ann,Lee\r\n" * rows)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "fix"])
def test_an_annotated_workbook_beyond_excels_rows_is_refused_with_exit_2(tmp_path, command):
    source = _tall_csv(tmp_path / "tall.csv", 1_400_000)
    out = tmp_path / "tall.xlsx"
    result = run_cli(command, str(source), "-d", "client", "-p", "add", "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "1,400,000 data rows; an Excel sheet holds 1,048,576 rows" in result.stderr
    assert "CSV" in result.stderr and not out.exists()


def _sheet_heights(data: bytes) -> dict[str, int]:
    reader = fastexcel.read_excel(data)
    return {name: reader.load_sheet(name, dtypes="string").height for name in reader.sheet_names}


def test_a_table_taller_than_an_excel_sheet_continues_on_more_sheets(tmp_path):
    frame = pl.DataFrame({"Row Number": pl.int_range(2, MAX_ROW + 27, eager=True).cast(pl.String)})
    path = write_data(frame, tmp_path / "tall.xlsx", sheet_name="Results")
    assert _sheet_heights(path.read_bytes()) == {"Results": MAX_ROW - 1, "Results (2)": 26}
    second = fastexcel.read_excel(path.read_bytes()).load_sheet("Results (2)", dtypes="string").to_polars()
    assert second.columns == ["Row Number"] and second["Row Number"][0] == str(MAX_ROW + 1)


@pytest.mark.slow
def test_server_results_beyond_excels_rows_continue_on_more_sheets(tmp_path):
    from bulkassist.client import Client
    from bulkassist.server.launch import start_server_process

    source = _tall_csv(tmp_path / "tall.csv", MAX_ROW + 24)
    server = start_server_process(data_dir=tmp_path / "server")
    try:
        imp = Client(server.url, server.tokens["importer"], timeout=600).start_import(source, "client", "add")
        assert imp.summary["total"] == MAX_ROW + 24
        heights = _sheet_heights(imp.results_file("xlsx"))
    finally:
        server.stop()
    assert heights == {"Results": MAX_ROW - 1, "Results (2)": 25}
