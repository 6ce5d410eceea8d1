"""The bad-file catalogue (issue 12): files people really send, through the CLI and the notebook API.

Every file is either read exactly (no character changed, no row lost) or refused with a message naming
the file, the line and what to do, and exit code 2 in the CLI. Large cases are generated on the fly and
kept small on disk (the XLSX zip bomb is 9 MB); the whole module runs well under two minutes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import bulkassist
from bulkassist.errors import FileFormatError
from bulkassist.io.reading import read_table
from tests.commands import bulkassist as cli

pytestmark = pytest.mark.xdist_group("hostile_inputs")  # one zip bomb per run, not one per worker

NAMES = "First Name,Last Name"


def rows(table) -> list[tuple]:
    return table.frame.rows()


def refused(data: bytes, name: str, **kwargs) -> str:
    with pytest.raises(FileFormatError) as err:
        read_table(data, name=name, **kwargs)
    assert name in str(err.value)
    return str(err.value)


# ------------------------------------------------------------- line breaks
def test_cr_only_line_breaks_of_old_mac_excel_keep_every_row(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"First Name,Last Name\rAnn,Lee\rBob,Kim\r")
    assert rows(read_table(path)) == [("Ann", "Lee"), ("Bob", "Kim")]
    result = cli("validate", str(path), "-d", "client", "-p", "add")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Total rows 2  Valid 2" in result.stdout


def test_mixed_line_breaks_are_read_and_a_break_inside_quotes_stays_cell_text():
    data = b'First Name,Last Name\r\nAnn,Lee\nBob,Kim\rCy,"Li\rWong"\r\nDee,Ray'
    table = read_table(data, name="mixed.csv")
    assert rows(table) == [("Ann", "Lee"), ("Bob", "Kim"), ("Cy", "Li\rWong"), ("Dee", "Ray")]


# --------------------------------------------------------------- encodings
LEGACY_FILES = {
    "cp1251": "Имя,Фамилия,Город\nИван,Петров,Москва\nВіктор,Шевченко,Київ\nОльга,Смирнова,Санкт-Петербург\n",
    "cp1250": "First Name,Last Name,City\nŁukasz,Wiśniewski,Kraków\nJiří,Dvořák,Brno\nŽofia,Szőke,Győr\n",
    "cp1252": "First Name,Last Name,City\nJosé,Núñez,São Paulo\nFrançois,Müller,Zürich\nRenée,Ødegård,Málaga\n",
    "cp1253": "Όνομα,Επώνυμο,Πόλη\nΓιώργος,Παπαδόπουλος,Αθήνα\nΜαρία,Οικονόμου,Θεσσαλονίκη\n",
    "mac_roman": "First Name,Last Name,City\nJosé,Núñez,São Paulo\nFrançois,Müller,Zürich\nRenée,Gonçalves,Besançon\n",
    "cp932": "名前,姓,都市\n太郎,山田,東京\n花子,鈴木,大阪\nさくら,佐藤,京都\n",
    "gbk": "名字,姓氏,城市\n伟,王,北京\n芳,李,上海\n娜,张,广州\n",
}


@pytest.mark.parametrize("encoding", LEGACY_FILES)
def test_excel_code_pages_are_detected_and_read_exactly(encoding):
    text = LEGACY_FILES[encoding]
    table = read_table(text.encode(encoding), name="export.csv")
    lines = [line.split(",") for line in text.splitlines()]
    assert (table.encoding, table.headers, rows(table)) == (encoding, lines[0], [tuple(r) for r in lines[1:]])
    assert any("is not UTF-8; it was read as" in note for note in table.notes)  # the person is told


def test_a_cyrillic_file_validates_with_its_names_intact_in_the_cli(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes("First Name,Last Name\r\nИван,Петров\r\n".encode("cp1251"))
    report = bulkassist.validate(path, "client", "add")
    assert report.data.row(0) == ("Иван", "Петров")
    result = cli("validate", str(path), "-d", "client", "-p", "add")
    assert result.returncode == 0 and "Windows-1251 (Cyrillic)" in result.stdout, result.stdout


def test_dates_written_in_other_scripts_digits_are_errors_naming_the_cell_not_a_crash():
    # Arabic-Indic digits: a regex's \d takes them, but no integer cast does (validate raised a polars error)
    dates = ["٣/٤/٢٠٢٠", "٣ Mar ٢٠٢٠", "٢٠٢٠-03-04", "٤٥٠٠٠", "03/04/2020", "2020-03-04"]
    frame = pl.DataFrame({"First Name": ["Ann"] * 6, "Last Name": list("ABCDEF"), "Date of Birth": dates})
    issues = bulkassist.validate(frame, "client", "add").issues_frame()
    bad = issues.filter(pl.col("code") == "date_format").sort("row")
    assert bad["row"].to_list() == [2, 3, 4, 5, 7]
    assert bad["value"].to_list() == dates[:4] + ["2020-03-04"]
    assert bad["message"][0] == "'٣/٤/٢٠٢٠' is not a date in MM/DD/YYYY"
    assert bad["suggestion"].to_list()[:4] == [None] * 4  # never read as other digits' values
    assert bad["suggestion"][4] == "03/04/2020"  # the ASCII ISO date is still read


# Digits a regex's \d takes but the system does not store: full-width (an East Asian input method) and
# Arabic-Indic. Checked cell by cell (3 rows) and by the one-pass tests of large files (1,200 rows).
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("copies", [1, 400])
def test_other_scripts_digits_are_never_valid_digits(copies):
    ids, ssns, phones = ["100234", "100235", "100236"], ["123456789"] * 3, ["(360) 815-5510"] * 3
    clients = pl.DataFrame({
        "Client ID": [ids[0].translate(FULL_WIDTH), ids[1].translate(ARABIC_INDIC), ids[2]],
        "First Name": ["Ann"] * 3, "Last Name": list("ABC"),
        "SSN": [ssns[0].translate(FULL_WIDTH), ssns[1].translate(ARABIC_INDIC), ssns[2]],
        "Phone Number": [phones[0].translate(FULL_WIDTH), phones[1].translate(ARABIC_INDIC), phones[2]],
    })
    report = bulkassist.validate(pl.concat([clients] * copies), "client", "update")
    first = report.cell_issues.filter(pl.col("row") <= 4).sort("row", "col_index")
    found = {(row, column): (code, suggestion) for row, column, code, suggestion in
             first.select("row", "column", "code", "suggestion").rows()}
    assert found == {
        (2, "Client ID"): ("invalid_format", None),
        (2, "SSN"): ("ssn_format", "123456789"),  # full-width digits read as the digits they are
        (2, "Phone Number"): ("phone_format", "(360) 815-5510"),
        (3, "Client ID"): ("invalid_format", None),
        (3, "SSN"): ("ssn_format", None),  # another script's digits: not read as ours
        (3, "Phone Number"): ("phone_format", None),
    }
    assert "needs 10 digits (0-9)" in first.filter(pl.col("row") == 3, pl.col("column") == "Phone Number")["message"][0]
    assert report.error_rows[:2] == [2, 3] and 4 not in report.error_rows
    assert report.data.row(0) == clients.row(0)  # the cells themselves are never changed

    payments = pl.DataFrame({"Client ID": ["100234"] * 3, "CourseID": ["C1"] * 3, "Payment Date": ["01/02/2020"] * 3,
                             "Amount": ["125.00".translate(FULL_WIDTH), "125".translate(ARABIC_INDIC), "125.00"],
                             "Payment Method": ["Cash"] * 3})
    amounts = bulkassist.validate(pl.concat([payments] * copies), "payment", "add").cell_issues.filter(
        (pl.col("row") <= 4) & (pl.col("column") == "Amount"))
    assert amounts.select("row", "code").rows() == [(2, "not_number"), (3, "not_number")]


def test_every_domain_pattern_refuses_other_scripts_digits():
    from bulkassist.domains import BUILTIN

    checked = 0
    for name, domain in BUILTIN.items():
        for f in domain.fields:
            if not f.pattern or not f.example or not any(ch.isdigit() for ch in f.example):
                continue
            cells = [f.example, f.example.translate(FULL_WIDTH), f.example.translate(ARABIC_INDIC)]
            found = bulkassist.validate(pl.DataFrame({f.name: cells}), domain, domain.operations[0]).cell_issues
            assert found.filter(pl.col("column") == f.name, pl.col("code") == "invalid_format")["row"].to_list() \
                == [3, 4], (name, f.name)
            checked += 1
    assert checked >= 5


def test_excel_unicode_text_utf16_tab_separated_is_read():
    data = "First Name\tLast Name\r\nJosé\tNúñez\r\n山田\tÖzil\r\n".encode("utf-16")  # with its byte-order mark
    table = read_table(data, name="unicode.txt")
    assert (table.separator, table.encoding) == ("\t", "utf-16")
    assert rows(table) == [("José", "Núñez"), ("山田", "Özil")]


def test_an_encoding_detection_cannot_tell_is_named_in_the_api_and_the_cli(tmp_path):
    path, fixed = tmp_path / "turkish.csv", tmp_path / "fixed.csv"
    path.write_bytes("First Name,Last Name\r\nŞükrü,Yılmaz\r\n".encode("cp1254"))
    assert rows(read_table(path, encoding="cp1254")) == [("Şükrü", "Yılmaz")]
    result = cli("fix", str(path), "-d", "client", "-p", "add", "--encoding", "cp1254", "-o", str(fixed))
    assert result.returncode == 0, result.stderr
    assert "Şükrü,Yılmaz" in fixed.read_text(encoding="utf-8-sig")
    assert "not an encoding" in refused(path.read_bytes(), "turkish.csv", encoding="klingon")


def test_utf8_file_with_one_windows_1252_byte_after_64_kb_is_refused_naming_line_and_byte(tmp_path):
    body = "First Name,Last Name\r\n" + "José,Núñez\r\n" * 7000  # 84 KB of UTF-8 with accents
    path = tmp_path / "pasted.csv"
    path.write_bytes(body.encode() + "Renée,Lee\r\n".encode("cp1252"))
    message = refused(path.read_bytes(), "pasted.csv")
    assert "line 7002" in message and "0xE9" in message and "'Ren'" in message
    result = cli("validate", str(path), "-d", "client", "-p", "add")
    assert result.returncode == 2 and "line 7002" in result.stderr and "JosÃ" not in result.stdout


def test_windows_1252_file_holding_utf8_text_is_refused_not_garbled():
    data = "First Name\r\nRenée\r\nZoë\r\nAnaïs\r\n".encode("cp1252") + "José\r\n".encode()
    message = refused(data, "joined.csv")
    assert "line 5 holds UTF-8 text" in message and "mixes two encodings" in message


def test_a_named_code_page_that_does_not_define_a_byte_names_the_line_and_byte():
    message = refused(b"First Name\r\nAnn\r\nB\x81b\r\n", "odd.csv", encoding="cp1252")
    assert "line 3" in message and "0x81" in message


# ------------------------------------------------------------ malformed CSV
@pytest.mark.parametrize("data, line, words", [
    (b'First Name,Last Name\r\nAnn,"Lee\r\nBob,Kim\r\n', 2, "never closed"),
    (b'First Name,Last Name\r\nAnn,Lee\r\nBob,Ki"m\r\nCy,Li\r\n', 3, "quote inside a cell"),
    (b'First Name,Last Name\r\nAnn,"Lee" Jr\r\n', 2, "text after a closing quote"),
    (b"First Name,Last Name\r\n" + b"Ann,Lee\r\n" * 50_000 + b'Bob,Ki"m\r\nCy,Li\r\n', 50_002, "quote inside a cell"),
])
def test_malformed_csv_is_a_file_format_error_naming_the_line(data, line, words):
    message = refused(data, "broken.csv")
    assert f"line {line} " in message and words in message


def test_malformed_csv_exits_2_in_the_cli_without_a_traceback(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b'First Name,Last Name\r\nAnn,"Lee\r\nBob,Kim\r\n')
    result = cli("validate", str(path), "-d", "client", "-p", "add")
    assert result.returncode == 2
    assert "broken.csv: line 2 opens a quote that is never closed" in result.stderr
    assert "Traceback" not in result.stderr


# -------------------------------------------------------------- wide files
def test_16384_columns_are_cut_to_the_fields_and_reported(tmp_path):
    width = 16_384
    header = ["First Name", "Last Name", *[f"X{i}" for i in range(width - 2)]]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(header) + "\r\n" + ",".join(["Ann", "Lee", *["1"] * (width - 2)]) + "\r\n")
    out = tmp_path / "checked.xlsx"
    result = cli("validate", str(path), "-d", "client", "-p", "add", "-o", str(out))
    assert result.returncode == 1, result.stderr  # the first 20 unknown columns are errors until mapped
    assert "Column C 'X0' is not mapped" in result.stdout
    assert "wide.csv has 16,384 columns; only the first 1,024 are read" in result.stdout
    assert "1,002 more columns from column W on, headed 'X20', 'X21'" in result.stdout
    assert "1,002 filled cells are not read" in result.stdout
    assert openpyxl.load_workbook(out).worksheets[0].max_column <= 30


def test_one_record_with_20000_extra_fields_is_named_and_not_carried():
    data = (b"First Name,Last Name\r\n" + b"Ann,Lee\r\n" * 100 + b"Bob,Kim," + b"x," * 20_000 + b"\r\nCy,Li\r\n")
    report = bulkassist.validate(data, "client", "add", name="long.csv")
    messages = report.issues.filter(pl.col("row").is_null())["message"].to_list()
    assert any("record(s) 102 hold up to 20,003 values; only the first 1,024" in m for m in messages)
    assert any("more columns from column" in m and "without headers" in m for m in messages)
    assert report.data.width <= 30 and report.summary["total"] == 102


# ------------------------------------------------------------ XLSX zip bomb
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
_PARTS = {
    "[Content_Types].xml":
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels":
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml":
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels":
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '</Relationships>',
    "xl/sharedStrings.xml":
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main" count="1" uniqueCount="1"><si><t>boom</t></si></sst>',
}


def zip_bomb(path: Path, rows: int, columns: int, *, dimension: bool, cell: bytes = b'<c t="s"><v>0</v></c>') -> Path:
    """A workbook of one shared string repeated rows x columns times: a few MB on disk, GB unpacked."""
    row = b"<row>" + cell * columns + b"</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in _PARTS.items():
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD)
            if dimension:
                sheet.write(b'<dimension ref="A1:%s%d"/>' % (b"BL" if columns == 64 else b"A", rows))
            sheet.write(b"<sheetData>")
            block = row * 4096
            for _ in range(rows // 4096):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", 1_048_576, 64, dimension=True)


def test_xlsx_zip_bomb_is_refused_before_it_is_read_in_the_cli(bomb):
    assert bomb.stat().st_size < 16 * 1024**2
    result = cli("validate", str(bomb), "-d", "client", "-p", "add")
    assert result.returncode == 2
    assert "bomb.xlsx is too large to read: xl/worksheets/sheet1.xml spans 1,048,576 rows x 64 columns" in result.stderr


def test_xlsx_zip_bomb_is_refused_by_the_notebook_api(bomb):
    with pytest.raises(FileFormatError, match="too large to read"):
        bulkassist.validate(bomb, "client", "add")


def test_xlsx_bomb_without_a_declared_range_is_counted_and_refused(tmp_path):
    # 21 million cells, as empty cells to keep the test quick: what is counted is the cell tags
    bomb = zip_bomb(tmp_path / "quiet.xlsx", 1_323_008, 16, dimension=False, cell=b"<c/>")
    with pytest.raises(FileFormatError, match="holds more than 20,000,000 cells"):
        read_table(bomb)
