"""Client imports (seed 000): required fields per operation, formats, select lists, Excel's damage."""

from datetime import datetime

import polars as pl
import pytest

import bulkassist
from tests.sheets import action, check, issue_at, write_xlsx

HEADER = ["Client ID", "First Name", "Last Name", "SSN", "Date of Birth", "Phone Number", "Ethnicity", "Staff Name"]
GOOD = ["", "Maria", "Lopez", "123456789", "02/03/1990", "(727) 123-1234", "Asian", "Madison Perez"]


def row(**changes):
    values = dict(zip(HEADER, GOOD, strict=False))
    values.update(changes)
    return [values[h] for h in HEADER]


def test_a_clean_new_client_is_an_insert():
    report = check(HEADER, [GOOD], "client", "add")
    assert report.issues.height == 0
    assert action(report, 2) == "Insert"
    assert report.summary == {"total": 1, "valid": 1, "errors": 0, "skipped": 0, "insert": 1, "update": 0,
                              "no_change": 0}


def test_add_requires_first_and_last_name():
    report = check(HEADER, [row(**{"First Name": "", "Last Name": " "})], "client", "add")
    assert issue_at(report, 2, "First Name")["message"] == (
        "First Name is required to add a new client (Client ID is blank); this cell is blank.")
    assert issue_at(report, 2, "Last Name")["code"] == "required"
    assert action(report, 2) == "Error"


def test_add_with_a_client_id_is_treated_as_an_update():
    report = check(HEADER, [row(**{"Client ID": "100234", "First Name": "", "Last Name": ""})], "client", "add")
    assert report.issues.height == 0
    assert action(report, 2) == "Update"


def test_update_without_client_id_is_an_error():
    report = check(HEADER, [row()], "client", "update")
    assert issue_at(report, 2, "Client ID")["message"] == (
        "Client ID is required to update a client; this cell is blank.")
    assert action(report, 2) == "Error"


def test_add_update_decides_by_client_id():
    report = check(HEADER, [row(), row(**{"Client ID": "100235"})], "client", "add_update")
    assert [action(report, 2), action(report, 3)] == ["Insert", "Update"]


def test_a_missing_required_column_is_a_file_issue_and_fails_the_rows_that_need_it():
    header = ["Client ID", "First Name"]
    report = check(header, [["", "Maria"], ["100236", "Jo"]], "client", "add")
    file_issue = report.file_issues.filter(pl.col("code") == "missing_column").to_dicts()
    assert len(file_issue) == 1 and "'Last Name'" in file_issue[0]["message"]
    assert [action(report, 2), action(report, 3)] == ["Error", "Update"]


def test_date_of_birth_names_value_and_format():
    report = check(HEADER, [row(**{"Date of Birth": "13/25/1990"})], "client", "add")
    issue = issue_at(report, 2, "Date of Birth")
    assert issue["message"].startswith("'13/25/1990' is not a real date")
    assert "MM/DD/YYYY" in issue["message"]
    assert issue["suggestion"] is None


@pytest.mark.parametrize("typed, expected, safe", [
    ("1990-02-03", "02/03/1990", True),  # ISO: unambiguous
    ("2/3/1990", "02/03/1990", True),  # the field's order, not zero-padded
    ("25/12/1990", "12/25/1990", True),  # only day-first makes sense
    ("32874", "01/01/1990", True),  # an Excel date serial
    ("3 Feb 1990", "02/03/1990", True),
    ("02-03-1990", "02/03/1990", False),  # either way round: a suggestion, never a silent fix
    ("02/03/90", "02/03/1990", False),  # two-digit year
])
def test_dates_in_other_formats_get_the_field_format_as_suggestion(typed, expected, safe):
    issue = issue_at(check(HEADER, [row(**{"Date of Birth": typed})], "client", "add"), 2, "Date of Birth")
    assert (issue["suggestion"], issue["safe"]) == (expected, safe)
    assert f"'{typed}' is not a date in MM/DD/YYYY" in issue["message"]


def test_ssn_that_lost_leading_zeros_is_flagged_with_the_padded_value():
    issue = issue_at(check(HEADER, [row(SSN="12345678")], "client", "add"), 2, "SSN")
    assert issue["suggestion"] == "012345678"
    assert "leading zeros" in issue["message"]
    assert issue["safe"] is False  # a text cell: a digit may simply be missing


def test_ssn_with_dashes_is_a_safe_fix():
    issue = issue_at(check(HEADER, [row(SSN="123-45-6789")], "client", "add"), 2, "SSN")
    assert (issue["suggestion"], issue["safe"]) == ("123456789", True)


def test_phone_typed_as_a_number_is_reformatted_as_a_suggestion():
    issue = issue_at(check(HEADER, [row(**{"Phone Number": "7271231234"})], "client", "add"), 2, "Phone Number")
    assert issue["suggestion"] == "(727) 123-1234"
    assert issue["safe"] is True


def test_phone_with_too_few_digits_has_no_suggestion():
    issue = issue_at(check(HEADER, [row(**{"Phone Number": "123-1234"})], "client", "add"), 2, "Phone Number")
    assert issue["suggestion"] is None and "needs 10 digits" in issue["message"]


def test_select_value_differing_only_in_case_and_spaces_is_a_safe_fix():
    issue = issue_at(check(HEADER, [row(Ethnicity="  asian ")], "client", "add"), 2, "Ethnicity")
    assert issue["suggestion"] == "Asian" and issue["safe"] is True and issue["code"] == "select_case"


def test_mistyped_select_value_gets_ranked_candidates_but_no_silent_fix():
    issue = issue_at(check(HEADER, [row(**{"Staff Name": "Madisson Perez"})], "client", "add"), 2, "Staff Name")
    assert issue["suggestion"] == "Madison Perez"
    assert issue["safe"] is False and 0.8 < issue["confidence"] < 1
    assert issue["message"].startswith("'Madisson Perez' is not a value of the Staff Name list; did you mean")


def test_surrounding_spaces_on_a_valid_select_value_are_not_an_error():
    report = check(HEADER, [row(Ethnicity=" Asian")], "client", "add")
    assert report.issues.height == 0
    assert report.normalized["Ethnicity"][0] == "Asian"


def test_blank_rows_are_skipped_and_not_counted_as_total():
    report = check(HEADER, [GOOD, [""] * len(HEADER), row(**{"First Name": "Ann"})], "client", "add")
    assert report.summary["skipped"] == 1 and report.summary["total"] == 2
    assert action(report, 3) == "Skip"


def test_headers_with_stray_spaces_case_and_aliases_are_matched():
    header = ["  client id", "FIRST NAME ", "last_name", "DOB", "social security number"]
    report = check(header, [["", "Maria", "Lopez", "02/03/1990", "123456789"]], "client", "add")
    assert report.issues.height == 0
    assert report.column_fields == {"  client id": "Client ID", "FIRST NAME ": "First Name", "last_name": "Last Name",
                                    "DOB": "Date of Birth", "social security number": "SSN"}


def test_unknown_header_is_an_unmapped_error_that_suggests_the_closest_field():
    report = check(["First Name", "Last Name", "Emial Adress"], [["A", "B", "x@y.org"]], "client", "add")
    issue = report.file_issues.to_dicts()[0]
    assert issue["code"] == "unmapped_column" and issue["severity"] == "error"
    assert "'Emial Adress' is not mapped: map it" in issue["message"] and report.unmapped == ["Emial Adress"]
    assert "did you mean 'Email Address'?" in issue["message"]


def test_duplicated_header_is_a_file_level_error():
    report = check(["First Name", "Last Name", "First Name"], [["A", "B", "C"]], "client", "add")
    issue = report.file_issues.filter(pl.col("code") == "duplicate_column").to_dicts()[0]
    assert "Column C 'First Name' repeats column A" in issue["message"]
    assert not report.ok


def test_formula_text_is_rejected():
    issue = issue_at(check(HEADER, [row(**{"First Name": '=HYPERLINK("http://x")'})], "client", "add"), 2,
                     "First Name")
    assert issue["code"] == "formula"


def test_control_characters_are_rejected_with_a_visible_marker():
    frame = pl.DataFrame([row(**{"Last Name": "Lo\x00pez"})], schema=HEADER, orient="row")
    issue = issue_at(bulkassist.validate(frame, "client", "add"), 2, "Last Name")
    assert issue["code"] == "control_character"
    assert issue["message"].startswith("'Lo�pez' contains an invisible control character")


@pytest.mark.parametrize("copies", [1, 400])  # cell by cell, and by the one-pass tests of a large file
def test_invisible_characters_pasted_from_a_web_page_are_errors_shown_where_they_are(copies):
    # a zero-width space, a word joiner and a byte-order mark inside a cell: invisible in Excel, and the
    # address with one is no address a mail server delivers to
    names, emails = ["Ann\u200b", "Bob", "\ufeffCy"], ["ann@example.org", "b\u2060@example.org", "cy@example.org"]
    frame = pl.DataFrame([row(**{"First Name": name}) + [email] for name, email in zip(names, emails, strict=True)],
                         schema=[*HEADER, "Email Address"], orient="row")
    report = bulkassist.validate(pl.concat([frame] * copies), "client", "add")
    found = report.cell_issues.filter((pl.col("row") <= 4) & (pl.col("code") == "control_character"))
    assert found.select("row", "column").rows() == [(2, "First Name"), (3, "Email Address"), (4, "First Name")]
    assert found["message"].to_list()[:3:2] == [
        "'Ann�' contains an invisible control character (shown as �); retype the value without it.",
        "'�Cy' contains an invisible control character (shown as �); retype the value without it."]
    assert report.error_rows[:3] == [2, 3, 4]
    assert report.data["First Name"][0] == "Ann\u200b"  # the cell itself is never changed


def test_same_person_twice_in_the_file_is_a_warning_not_an_error():
    report = check(HEADER, [GOOD, GOOD], "client", "add")
    warnings = report.warnings
    assert warnings.height == 2 and set(warnings["code"]) == {"duplicate_in_file"}
    assert "rows 2, 3" in warnings["message"][0]
    assert report.summary["valid"] == 2


def test_typed_xlsx_cells_date_number_and_leading_zeros(tmp_path):
    path = write_xlsx(tmp_path / "clients.xlsx", HEADER, [
        [None, "Maria", "Lopez", 12345678, datetime(1990, 2, 3), 7271231234, "Asian", "Madison Perez"],
        [100234.0, "Jo", "Ray", 123456789, 32874, "(727) 123-1234", "Asian", "Madison Perez"],
    ])
    report = bulkassist.validate(path, "client", "add")
    # A date cell is a valid date, written in the system's format when submitted.
    assert report.issues.filter(pl.col("row") == 2).filter(pl.col("column") == "Date of Birth").height == 0
    assert report.normalized["Date of Birth"][0] == "02/03/1990"
    ssn = issue_at(report, 2, "SSN")  # a number cell that lost its zero: certain
    assert (ssn["suggestion"], ssn["safe"]) == ("012345678", True)
    phone = issue_at(report, 2, "Phone Number")
    assert phone["value"] == "7271231234" and phone["suggestion"] == "(727) 123-1234"
    serial = issue_at(report, 3, "Date of Birth")
    assert serial["suggestion"] == "01/01/1990"
    assert report.normalized["Client ID"][1] == "100234" or issue_at(report, 3, "Client ID")["suggestion"] == "100234"


@pytest.mark.parametrize("spelling, operation", [
    ("add", "add"), ("Add", "add"), ("create", "add"), ("UPDATE", "update"), ("add_update", "add_update"),
    ("Add & Update", "add_update"), ("add&update", "add_update"), ("add-update", "add_update"),
    ("Add and Update", "add_update"), ("AddUpdate", "add_update"),
])
def test_an_operation_may_be_written_as_any_front_end_writes_it(spelling, operation):
    assert check(HEADER, [GOOD], "client", spelling).operation == operation


def test_unknown_operation_and_domain_are_clear_errors():
    with pytest.raises(bulkassist.SchemaError, match="use add, update or add_update"):
        check(HEADER, [GOOD], "client", "delete")
    with pytest.raises(bulkassist.UnknownDomain, match="choose one of: client"):
        check(HEADER, [GOOD], "clients", "add")
