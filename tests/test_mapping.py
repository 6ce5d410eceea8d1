"""Column mapping in the engine (issue 9): proposals, chosen mappings, Do not import, bad mappings, remembered
values. No column is ever dropped silently."""

from __future__ import annotations

import polars as pl
import pytest

import bulkassist
from bulkassist.engine.mapping import DO_NOT_IMPORT, SAMPLE_ROWS, propose_mapping

CASE = bulkassist.get_domain("case")
CASES = pl.DataFrame({
    "Student Number": ["jd123", "js124"],
    "FirstName": ["John", "Jane"],
    "last name": ["Doe", "Smith"],
    "Mobile": ["333-333-4444", "(555) 555-5555"],
    "Contact": ["jd1@example.edu", "js3@example.edu"],
    "Source": ["HOUSING", "CONDUCT"],
    "Notes": ["met at orientation", ""],
    "Custom.SANCTION_DEADLINE": ["01/02/2027", "02/03/2027"],
    "Statuss": ["ACTIVE", "ACTIVE"],
})
FULL = {"Student Number": "Identifier", "Mobile": "CellPhoneNumber", "Contact": "Email",
        "Source": "ReferralSource", "Notes": DO_NOT_IMPORT, "Statuss": "Status"}


def by_column(proposal):
    return {p["column"]: p for p in proposal}


def test_proposal_names_target_confidence_method_and_samples_for_every_column():
    p = by_column(propose_mapping(CASES, CASE, lists=bulkassist.demo_lists()))
    assert list(p) == CASES.columns
    assert (p["FirstName"]["target"], p["FirstName"]["method"], p["FirstName"]["confidence"]) == ("FirstName", "exact", 1.0)
    assert (p["last name"]["target"], p["last name"]["method"]) == ("LastName", "normalised")
    assert (p["Custom.SANCTION_DEADLINE"]["target"], p["Custom.SANCTION_DEADLINE"]["method"]) == (
        "Custom.SANCTION_DEADLINE", "exact")
    assert (p["Statuss"]["target"], p["Statuss"]["method"]) == ("Status", "fuzzy")
    assert (p["Mobile"]["target"], p["Mobile"]["method"]) == ("CellPhoneNumber", "values")
    assert (p["Contact"]["target"], p["Contact"]["method"]) == ("Email", "values")
    assert (p["Source"]["target"], p["Source"]["method"]) == ("ReferralSource", "values")
    assert 0 < p["Mobile"]["confidence"] < 1
    assert p["Student Number"]["target"] is None and p["Student Number"]["samples"] == ["jd123", "js124"]
    assert p["Notes"]["samples"] == ["met at orientation"]


def test_alias_and_a_saved_mapping_come_first():
    client = bulkassist.get_domain("client")
    frame = pl.DataFrame({"DOB": ["02/03/1990"], "Pupil": ["x"]})
    p = by_column(propose_mapping(frame, client, saved={"Pupil": "First Name", "DOB": "Last Name"}))
    assert (p["DOB"]["target"], p["DOB"]["method"]) == ("Last Name", "saved")
    assert (p["Pupil"]["target"], p["Pupil"]["method"], p["Pupil"]["confidence"]) == ("First Name", "saved", 1.0)
    assert by_column(propose_mapping(frame, client))["DOB"]["method"] == "alias"


def test_values_are_read_from_a_bounded_sample_not_the_whole_column():
    tail = 10 * SAMPLE_ROWS
    frame = pl.DataFrame({"Inbox": ["a@example.org"] * SAMPLE_ROWS + ["not an e-mail"] * tail})
    p = propose_mapping(frame, CASE)[0]
    assert (p["target"], p["method"]) == ("Email", "values")  # the 5,000 later rows were never read


def test_an_unmapped_column_is_an_error_naming_it_never_a_silent_drop():
    report = bulkassist.validate(CASES, "case", "add")
    unmapped = report.file_issues.filter(pl.col("code") == "unmapped_column")
    assert set(unmapped["column"]) == {"Student Number", "Mobile", "Contact", "Source", "Notes", "Statuss"}
    assert set(unmapped["severity"]) == {"error"} and not report.ok
    assert "Column A 'Student Number' is not mapped: map it to a Case field or choose Do not import ('-')" in \
        unmapped["message"][0]
    assert report.unmapped == ["Student Number", "Mobile", "Contact", "Source", "Notes", "Statuss"]


def test_a_chosen_mapping_fills_fields_custom_fields_and_leaves_out_do_not_import_saying_so():
    report = bulkassist.validate(CASES, "case", "add", mapping={**FULL, "Contact": "Custom.CONTACT_EMAIL"})
    assert report.ok and report.unmapped == []
    assert report.normalized["Identifier"].to_list() == ["jd123", "js124"]
    assert report.normalized["CellPhoneNumber"].to_list() == ["333-333-4444", "(555) 555-5555"]
    assert report.normalized["Custom.CONTACT_EMAIL"].to_list() == ["jd1@example.edu", "js3@example.edu"]
    assert "Notes" not in report.normalized.columns
    left_out = report.file_issues.filter(pl.col("code") == "not_imported").to_dicts()
    assert len(left_out) == 1 and left_out[0]["severity"] == "warning"
    assert "'Notes' is not imported (mapped to Do not import); its 1 filled cells are left out" in left_out[0]["message"]
    assert report.mapping["Notes"] == DO_NOT_IMPORT and report.mapping["Student Number"] == "Identifier"


@pytest.mark.parametrize("mapping, words", [
    ({"Student Number": "Client ID"}, ["'Student Number'", "'Client ID'", "Client", "not of Case imports"]),
    ({"Student Number": "Pupil Code"}, ["'Student Number'", "'Pupil Code'", "Case has no field"]),
    ({"Student Number": "FirstName"}, ["'Student Number'", "'FirstName'", "both map to"]),
    ({"Mobile": "CellPhoneNumber", "Contact": "CellPhoneNumber"}, ["'Mobile'", "'Contact'", "'CellPhoneNumber'"]),
    ({"Nickname": "FirstName"}, ["no column 'Nickname'"]),
])
def test_a_bad_mapping_is_refused_naming_the_column_and_the_target(mapping, words):
    with pytest.raises(bulkassist.InvalidRequest) as refused:
        bulkassist.validate(CASES, "case", "add", mapping=mapping)
    for word in words:
        assert word in str(refused.value)


def test_a_custom_field_target_needs_a_domain_with_custom_fields():
    frame = pl.DataFrame({"First Name": ["A"], "Last Name": ["B"], "Hobby": ["chess"]})
    with pytest.raises(bulkassist.InvalidRequest, match="'Hobby' -> 'Custom.HOBBY': Client imports have no custom"):
        bulkassist.validate(frame, "client", "add", mapping={"Hobby": "Custom.HOBBY"})


def test_remembered_values_are_applied_as_safe_fixes_and_listed():
    frame = CASES.with_columns(pl.Series("Statuss", ["Actve", "ACTIVE"]))
    report = bulkassist.validate(frame, "case", "add", mapping=FULL, remembered={"Status": {"Actve": "ACTIVE"}})
    listed = report.issues.filter(pl.col("code") == "remembered_value").to_dicts()
    assert len(listed) == 1
    assert (listed[0]["row"], listed[0]["column"], listed[0]["value"], listed[0]["suggestion"], listed[0]["safe"],
            listed[0]["severity"]) == (2, "Statuss", "Actve", "ACTIVE", True, "warning")
    assert report.normalized["Status"].to_list() == ["ACTIVE", "ACTIVE"] and report.ok
    without = bulkassist.validate(frame, "case", "add", mapping=FULL)
    assert without.errors.filter(pl.col("column") == "Statuss").height == 1
