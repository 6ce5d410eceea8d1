"""The templates people download: in sync with the specs, and shaped so Excel does not damage what they type."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

import bulkassist
from bulkassist.domains import all_domains, get_domain
from bulkassist.io.reading import read_table
from bulkassist.io.templates import generate_templates, write_prefilled, write_template
from bulkassist.spec import Kind

pytestmark = pytest.mark.xdist_group("templates")  # the templates are generated once, on one xdist worker

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DOMAINS = [d.name for d in all_domains()]
TEXT_KINDS = (Kind.ID, Kind.SSN, Kind.PHONE, Kind.DATE)  # columns Excel would damage unless formatted as text


def workbook_layout(path: Path) -> dict:
    """What a person sees in a template: headers, notes, dropdowns (with values), text-formatted columns."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    dropdowns = {}
    for rule in ws.data_validations.dataValidation:
        column = str(rule.sqref).split(":")[0].rstrip("0123456789")
        ref = rule.formula1.split("!")[1].replace("$", "")
        dropdowns[column] = [row[0].value for row in wb["Lists"][ref]]
    return {
        "sheet": ws.title,
        "headers": headers,
        "notes": [c.comment.text if c.comment else None for c in ws[1]],
        "dropdowns": dropdowns,
        "text_columns": sorted(k for k, d in ws.column_dimensions.items() if d.number_format == "@"),
        "frozen": ws.freeze_panes,
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    generate_templates(folder)
    return folder


def test_every_domain_has_a_checked_in_xlsx_and_csv_template_and_nothing_else():
    expected = {f"{d}.{ext}" for d in DOMAINS for ext in ("xlsx", "csv")}
    assert {p.name for p in TEMPLATES.iterdir() if p.is_file()} == expected, (
        "templates/ drifted: run python -c 'from bulkassist.io.templates import generate_templates; "
        "generate_templates(\"templates\")'"
    )


@pytest.mark.parametrize("domain", DOMAINS)
def test_checked_in_xlsx_template_matches_the_spec(domain, fresh):
    checked_in = workbook_layout(TEMPLATES / f"{domain}.xlsx")
    assert checked_in == workbook_layout(fresh / f"{domain}.xlsx"), (
        f"templates/{domain}.xlsx drifted from the spec: regenerate with bulkassist.io.templates.generate_templates"
    )
    dom = get_domain(domain)
    assert checked_in["headers"] == dom.field_names
    select_columns = {openpyxl.utils.get_column_letter(i + 1) for i, f in enumerate(dom.fields)
                      if f.kind is Kind.SELECT}
    assert set(checked_in["dropdowns"]) == select_columns
    text_columns = {openpyxl.utils.get_column_letter(i + 1) for i, f in enumerate(dom.fields) if f.kind in TEXT_KINDS}
    assert set(checked_in["text_columns"]) == text_columns
    assert all(checked_in["notes"]) and checked_in["frozen"] == "A2"


@pytest.mark.parametrize("domain", DOMAINS)
def test_checked_in_csv_template_matches_the_spec(domain, fresh):
    data = (TEMPLATES / f"{domain}.csv").read_bytes()
    assert data == (fresh / f"{domain}.csv").read_bytes()
    dom = get_domain(domain)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM without mangling accents
    assert data[3:].decode("utf-8") == dom.default_separator.join(dom.field_names) + "\r\n"


def test_template_generation_is_byte_for_byte_deterministic(tmp_path, fresh):
    write_template("client", tmp_path / "client.xlsx")
    assert (tmp_path / "client.xlsx").read_bytes() == (fresh / "client.xlsx").read_bytes()


def test_header_notes_say_format_required_operations_and_allowed_values():
    layout = workbook_layout(TEMPLATES / "client.xlsx")
    notes = dict(zip(layout["headers"], layout["notes"], strict=True))
    assert "Required for: Add" in notes["First Name"]
    assert "Required for: Update" in notes["Client ID"]
    assert "MM/DD/YYYY" in notes["Date of Birth"]
    assert "(999) 999-9999" in notes["Phone Number"]
    assert "Nine digits" in notes["SSN"]
    assert "Hispanic or Latino" in notes["Ethnicity"]
    qualification = workbook_layout(TEMPLATES / "qualification.xlsx")
    assert "dd/mm/yyyy" in dict(zip(qualification["headers"], qualification["notes"], strict=True))["Registration date"]


def test_dropdown_values_come_from_the_select_lists():
    layout = workbook_layout(TEMPLATES / "client_assignment.xlsx")
    column = openpyxl.utils.get_column_letter(layout["headers"].index("Enrollment Status") + 1)
    assert layout["dropdowns"][column] == bulkassist.demo_lists().values("enrollment_status")


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_blank_template_reads_as_a_header_only_file_the_validator_accepts(domain):
    for ext in ("xlsx", "csv"):
        table = read_table(TEMPLATES / f"{domain}.{ext}", separator=get_domain(domain).default_separator
                           if ext == "csv" else None)
        assert table.headers == get_domain(domain).field_names and table.height == 0
        report = bulkassist.validate(table, domain)
        assert report.file_issues.filter(pl.col("code").is_in(["unmapped_column", "column_order"])).height == 0


def test_prefilled_template_keeps_leading_zeros_and_escapes_formulas(tmp_path):
    rows = pl.DataFrame({"Client ID": ["00123", "100234"], "First Name": ["Ana", "=cmd|' /C calc'!A0"],
                         "Date of Birth": ["02/03/1990", None]})
    path = write_prefilled("client", rows, tmp_path / "course.xlsx")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A2"].value == "00123" and ws["G2"].value == "02/03/1990"
    assert ws["B3"].value == "=cmd|' /C calc'!A0" and ws["B3"].data_type == "s" and ws["B3"].quotePrefix
    table = read_table(path)
    assert table.height == 2 and table.frame["Client ID"].to_list() == ["00123", "100234"]
    csv_path = write_template("client", tmp_path / "course.csv", fmt="csv", rows=rows)
    assert read_table(csv_path).frame["First Name"].to_list() == ["Ana", "'=cmd|' /C calc'!A0"]


def test_prefilled_rows_with_unknown_columns_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Favourite Colour"):
        write_prefilled("client", pl.DataFrame({"Favourite Colour": ["red"]}), tmp_path / "x.xlsx")
