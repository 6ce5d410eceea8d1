"""The command line as a user runs it: exit codes, JSON layout, annotated output, safe fixes."""

import json
import subprocess
import sys

import openpyxl
import pytest

from tests.sheets import write_csv

HEADER = ["Client ID", "First Name", "Last Name", "SSN", "Date of Birth", "Ethnicity"]


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulkassist", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.fixture
def messy(tmp_path):
    return write_csv(tmp_path / "clients.csv", HEADER, [
        ["", "Maria", "Lopez", "123456789", "02/03/1990", "Asian"],
        ["", "Jo", "", "123-45-6789", "1990-02-03", "asian"],
        ["", "", "", "", "", ""],
        ["", "Ann", "Ray", "12345678", "13/25/1990", "Asain"],
    ], bom=True)


def test_validate_exits_1_and_names_every_bad_cell(messy):
    result = run("validate", str(messy), "--domain", "client", "--operation", "add")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Total rows 3  Valid 1 (Insert 1, Update 0)  Error rows 2  Skipped 1" in out
    assert "ERROR C3 (Last Name): Last Name is required" in out
    assert "ERROR E5 (Date of Birth): '13/25/1990' is not a real date" in out
    assert "→ 012345678" in out


def test_validate_json_has_summary_issues_and_rows(messy):
    result = run("validate", str(messy), "-d", "client", "-p", "add", "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"total": 3, "valid": 1, "errors": 2, "skipped": 1, "insert": 1, "update": 0,
                              "no_change": 0}
    keys = {"row", "column", "field", "value", "code", "severity", "message", "suggestion", "confidence"}
    assert keys <= set(doc["issues"][0])
    assert {"row": 4, "action": "Skip"} in doc["rows"]
    ssn = next(i for i in doc["issues"] if i["column"] == "SSN" and i["row"] == 3)
    assert (ssn["value"], ssn["suggestion"], ssn["confidence"]) == ("123-45-6789", "123456789", 1.0)


def test_operation_and_options_are_read_as_the_spec_reads_them(messy, tmp_path):
    cases = write_csv(tmp_path / "cases.csv", ["Identifier"], [["jd1"]])
    result = run("validate", str(cases), "-d", "case", "-p", "Create", "--option", "duplicate_action=Skip",
                 "--option", "run_workflow=no", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["operation"] == "add"
    result = run("validate", str(messy), "-d", "client", "-p", "Add & Update", "--option", "colour=1")
    assert result.returncode == 2 and "Client has no option 'colour'" in result.stderr


def test_validate_exits_0_for_a_clean_file(tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, [["", "Maria", "Lopez", "123456789", "02/03/1990", "Asian"]])
    assert run("validate", str(path), "-d", "client", "-p", "add").returncode == 0


@pytest.mark.parametrize("args, message", [
    (["validate", "missing.csv", "-d", "client"], "does not exist"),
    (["validate", "{file}", "-d", "clients"], "unknown domain 'clients'"),
    (["validate", "{file}", "-d", "case", "-p", "update"], "Case imports do not support Update"),
])
def test_usage_errors_exit_2_with_a_message(messy, args, message):
    result = run(*[a.format(file=messy) for a in args])
    assert result.returncode == 2
    assert message in result.stderr


def test_binary_file_is_an_unreadable_file_exit_2(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes("First Name\r\nMaria\r\n".encode("utf-16-le"))  # no byte-order mark: not readable text
    result = run("validate", str(path), "-d", "client")
    assert result.returncode == 2 and "UTF-8" in result.stderr


def test_annotated_workbook_and_errors_file(messy, tmp_path):
    out, errors = tmp_path / "checked.xlsx", tmp_path / "errors.csv"
    result = run("validate", str(messy), "-d", "client", "-p", "add", "-o", str(out), "--errors", str(errors))
    assert result.returncode == 1
    wb = openpyxl.load_workbook(out)
    assert "Errors" in wb.sheetnames
    text = errors.read_text(encoding="utf-8-sig")
    assert "'13/25/1990' is not a real date" in text


def test_fix_applies_only_safe_fixes_and_lists_them(messy, tmp_path):
    out = tmp_path / "fixed.csv"
    result = run("fix", str(messy), "-d", "client", "-p", "add", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "fixed row 3 SSN: '123-45-6789' -> '123456789'" in result.stdout
    assert "fixed row 3 Date of Birth: '1990-02-03' -> '02/03/1990'" in result.stdout
    assert "fixed row 3 Ethnicity: 'asian' -> 'Asian'" in result.stdout
    assert "Asain" not in result.stdout  # a fuzzy guess is not a safe fix
    again = run("validate", str(out), "-d", "client", "-p", "add", "--format", "json")
    issues = json.loads(again.stdout)["issues"]
    assert {(i["row"], i["column"]) for i in issues} == {(3, "Last Name"), (5, "SSN"), (5, "Date of Birth"),
                                                         (5, "Ethnicity")}


def test_domains_and_lists(tmp_path):
    result = run("domains")
    assert result.returncode == 0
    assert "required for Add: First Name, Last Name" in result.stdout
    assert "not enabled in every environment" in result.stdout
    lists = json.loads(run("lists", "client_assignment").stdout)
    assert {"value": "Enrolled", "label": "Enrolled"} in lists["Enrollment Status"]["values"]


def test_template_command_writes_headers(tmp_path):
    out = tmp_path / "case.csv"
    result = run("template", "case", "--format", "csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("Identifier,FirstName,LastName")


def test_the_readme_example_is_what_the_cli_prints(tmp_path):
    """The README's `bulkassist validate` example, reproduced from the same workbook."""
    from datetime import datetime
    from pathlib import Path

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Client ID", "First Name", "Last Name ", "SSN", "Date of Birth", "Phone Number", "Ethnicity"])
    ws.append([None, "Maria", "Lopez", "123456789", datetime(1990, 2, 3), "(727) 123-1234", "Asian"])
    ws.append([None, "Jo", None, "123-45-6789", "1990-02-03", 7271231234, "asian"])
    ws.append([None] * 7)
    ws.append([None, "Ann", "Ray", 12345678, "13/25/1990", None, "Asain"])
    wb.save(tmp_path / "clients.xlsx")
    result = run("validate", "clients.xlsx", "--domain", "client", "--operation", "add", "-o", "clients.checked.xlsx",
                 "--errors", "errors.csv", cwd=tmp_path)
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("For a\nworkbook with typical Excel damage", 1)[1].split("```\n", 2)[1]
    assert result.stdout == block
    assert result.returncode == 1


def test_local_commands_run_without_the_server_extra_and_server_commands_say_how_to_install_it(messy):
    """`python -m bulkassist` with FastAPI, SQLAlchemy and uvicorn impossible to import."""
    without_server = ("import runpy, sys; sys.modules.update(dict.fromkeys(['fastapi', 'sqlalchemy', 'uvicorn'])); "
                      "runpy.run_module('bulkassist', run_name='__main__')")

    def bare(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", without_server, *args], capture_output=True, text=True,
                              timeout=120)

    checked = bare("validate", str(messy), "-d", "client", "-p", "add")
    assert checked.returncode == 1 and "Total rows 3" in checked.stdout, checked.stderr
    listed = bare("--help")
    assert listed.returncode == 0 and "serve" in listed.stdout and "submit" in listed.stdout
    refused = bare("serve")
    assert refused.returncode == 2 and "pip install 'bulkassist[server]'" in refused.stderr
