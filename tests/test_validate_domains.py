"""Every seed system's own rules: assignments and payments (000), cases (001), qualifications (002),
BrightClient clients / contacts / address histories (003) and course records (004)."""

import polars as pl
import pytest

import bulkassist
from bulkassist.domains import get_domain
from tests.sheets import action, check, csv_text, issue_at

# ------------------------------------------------------------ client assignment (000)
ASSIGN = ["Client ID", "CourseID", "SectionID", "Enrollment Status", "Marketing Source", "Sponsor (Company)"]


def test_assignment_add_requires_key_and_enrollment_status():
    report = check(ASSIGN, [["100234", "MATH101", "", "", "Website", "Jabil"]], "client_assignment", "add")
    assert issue_at(report, 2, "SectionID")["code"] == "required"
    assert issue_at(report, 2, "Enrollment Status")["code"] == "required"


def test_assignment_update_does_not_need_enrollment_status():
    report = check(ASSIGN, [["100234", "MATH101", "01", "", "", ""]], "client_assignment", "update")
    assert report.issues.height == 0 and action(report, 2) == "Update"


def test_assignment_select_lists_are_checked():
    report = check(ASSIGN, [["100234", "MATH101", "01", "Enroled", "web site", "jabil"]], "client_assignment", "add")
    assert issue_at(report, 2, "Enrollment Status")["suggestion"] == "Enrolled"
    assert issue_at(report, 2, "Sponsor (Company)")["safe"] is True


def test_auto_create_invoices_is_only_offered_for_add_and_add_update():
    rows = [["100234", "MATH101", "01", "Enrolled", "", ""]]
    report = check(ASSIGN, rows, "client_assignment", "add", options={"auto_create_invoices": True})
    assert report.options == {"auto_create_invoices": True}
    with pytest.raises(bulkassist.SchemaError, match="Auto Create Invoices is only available for Add, Add & Update"):
        check(ASSIGN, rows, "client_assignment", "update", options={"auto_create_invoices": True})


def test_assignment_match_key_is_client_course_section():
    assert get_domain("client_assignment").match_key == ("Client ID", "CourseID", "SectionID")


# ------------------------------------------------------------ payment (000)
def test_payment_is_declared_but_not_enabled_by_default():
    payment = get_domain("payment")
    assert payment.available_by_default is False
    assert "may not be available in all environments" in payment.description


# ------------------------------------------------------------ case (001)
def test_case_headers_in_any_order_and_any_subset():
    report = check(["Status", "Identifier", "FirstName"], [["ACTIVE", "jd123", "John"]], "case")
    assert report.operation == "add" and report.issues.height == 0 and action(report, 2) == "Insert"


@pytest.mark.parametrize("phone", ["555.555.5555", "555-555-5555", "(555) 555-5555"])
def test_cell_phone_accepts_its_three_formats(phone):
    assert check(["Identifier", "CellPhoneNumber"], [["jd1", phone]], "case").issues.height == 0


def test_cell_phone_in_another_layout_gets_the_first_format():
    issue = issue_at(check(["CellPhoneNumber"], [["5555555555"]], "case"), 2, "CellPhoneNumber")
    assert issue["suggestion"] == "555-555-5555"


def test_referral_source_and_type_accept_label_or_value_and_store_the_value():
    report = check(["ReferralSource", "ReferralType"], [["HOUSING", "BASICS Brief Intervention"],
                                                       ["Campus Police", "BASICS"]], "case")
    assert report.issues.height == 0
    assert report.normalized["ReferralType"].to_list() == ["BASICS", "BASICS"]
    assert report.normalized["ReferralSource"].to_list() == ["HOUSING", "POLICE"]


def test_flags_are_a_comma_separated_list_of_flag_values():
    report = check(["Flags"], [["BLACK,YELLOW"], ["RED, YELOW"], ["black"]], "case")
    assert report.normalized["Flags"][0] == "BLACK,YELLOW"
    bad = issue_at(report, 3, "Flags")
    assert bad["suggestion"] == "RED,YELLOW" and "'YELOW'" in bad["message"]
    assert issue_at(report, 4, "Flags")["safe"] is True


def test_case_status_and_treatment_period():
    report = check(["Status", "TreatmentPeriod"], [["OPEN", "0"], ["ACTIVE", "1.0"], ["COMPLETE", "two"]], "case")
    assert issue_at(report, 2, "Status")["code"] == "not_in_list"
    assert issue_at(report, 2, "TreatmentPeriod")["code"] == "below_minimum"
    assert issue_at(report, 3, "TreatmentPeriod")["suggestion"] == "1"
    assert "is not a whole number" in issue_at(report, 4, "TreatmentPeriod")["message"]


def test_custom_field_columns_are_carried_through():
    report = check(["Identifier", "Custom.SANCTION_DEADLINE"], [["jd1", "06/01/2026"]], "case")
    assert report.issues.height == 0
    assert report.normalized["Custom.SANCTION_DEADLINE"][0] == "06/01/2026"


def test_user_ids_must_look_like_user_ids():
    report = check(["ProviderUserID", "CreatedByID"], [["user_FJE3892JIE2141E", "AES3903"]], "case")
    assert "is not a User ID such as user_AES3903FEIWJF1" in issue_at(report, 2, "CreatedByID")["message"]


def test_duplicate_case_options_are_checked():
    rows = [["jd1"]]
    assert check(["Identifier"], rows, "case", options={"duplicate_action": "skip"}).options == {
        "run_workflow": False, "duplicate_action": "skip"}
    with pytest.raises(bulkassist.SchemaError, match="Duplicate Case Action"):
        check(["Identifier"], rows, "case", options={"duplicate_action": "merge"})


def test_options_may_be_written_as_a_person_writes_them():
    rows = [["jd1"]]
    report = check(["Identifier"], rows, "case", options={"duplicate_action": "Skip", "run_workflow": "Yes"})
    assert report.options == {"run_workflow": True, "duplicate_action": "skip"}
    assert check(["Identifier"], rows, "case", options={"run_workflow": "no"}).options["run_workflow"] is False
    with pytest.raises(bulkassist.SchemaError, match="'maybe' is not a value of 'Run Workflow"):
        check(["Identifier"], rows, "case", options={"run_workflow": "maybe"})


def test_same_identifier_twice_in_a_case_file_is_a_warning():
    report = check(["Identifier"], [["jd1"], ["JD1"]], "case")
    assert report.warnings.height == 2 and report.summary["valid"] == 2


# ------------------------------------------------------------ qualification (002)
QUAL = get_domain("qualification").field_names


def qual_row(**changes):
    values = dict.fromkeys(QUAL, "")
    values.update({"Qualification Number": "60312345", "ULN": "1234567890", "Status": "Registered",
                   "Registration number": "REG-1", "Registration date": "15/09/2026"})
    values.update(changes)
    return [values[h] for h in QUAL]


def test_qualification_with_every_column_in_order_is_valid():
    report = check(QUAL, [qual_row()], "qualification")
    assert report.operation == "add_update" and report.issues.height == 0


def test_qualification_columns_out_of_order_fail_the_file():
    header = [QUAL[1], QUAL[0], *QUAL[2:]]
    row = qual_row()
    report = check(header, [[row[1], row[0], *row[2:]]], "qualification")
    issue = report.file_issues.filter(pl.col("code") == "column_order").to_dicts()[0]
    assert issue["message"].startswith("Registration & Certification files must hold exactly these columns in this order")
    assert action(report, 2) == "Error"


def test_qualification_mandatory_fields_and_statuses():
    report = check(QUAL, [qual_row(ULN="", Status="Passed")], "qualification")
    assert issue_at(report, 2, "ULN")["code"] == "required"
    assert issue_at(report, 2, "Status")["code"] == "not_in_list"


def test_qualification_dates_are_day_first():
    report = check(QUAL, [qual_row(**{"Registration date": "09/15/2026"})], "qualification")
    issue = issue_at(report, 2, "Registration date")
    assert issue["suggestion"] == "15/09/2026" and "dd/mm/yyyy" in issue["message"]


def test_qualification_text_is_at_most_128_characters():
    report = check(QUAL, [qual_row(**{"Postal Tracking Reference": "x" * 129})], "qualification")
    assert "is 129 characters; Postal Tracking Reference allows at most 128" in issue_at(
        report, 2, "Postal Tracking Reference")["message"]


def test_status_needing_a_registration_number_warns_that_it_will_revert():
    report = check(QUAL, [qual_row(**{"Registration number": "", "Status": "Achieved"})], "qualification")
    issue = issue_at(report, 2, "Status")
    assert issue["severity"] == "warning" and "the status will revert" in issue["message"]


def test_qualification_file_over_2_mb_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(csv_text(QUAL, [qual_row(**{"Postal Tracking Reference": "x" * 120})] * 15000))
    report = bulkassist.validate(path, "qualification")
    assert report.file_issues.filter(pl.col("code") == "file_too_large").height == 1
    assert report.summary["valid"] == 0


def test_qualification_with_a_chosen_separator(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(csv_text(QUAL, [qual_row()], sep=";"))
    assert bulkassist.validate(path, "qualification", separator=";").summary["valid"] == 1


# ------------------------------------------------------------ BrightClient (003)
def test_business_client_needs_reference_name_and_type():
    report = check(["Client Reference", "Registered Name", "Client Type", "Company Number"],
                   [["ACME1", "", "Limited Company", "1234567"]], "business_client")
    assert issue_at(report, 2, "Registered Name")["code"] == "required"
    assert issue_at(report, 2, "Company Number")["suggestion"] == "01234567"


def test_contact_links_to_its_client_by_reference():
    contact = get_domain("contact")
    assert contact.parents[0].parent_domain == "business_client"
    report = check(["Contact Reference", "Client Reference", "First Name", "Last Name"],
                   [["C1", "", "Ann", "Lee"]], "contact")
    assert issue_at(report, 2, "Client Reference")["code"] == "required"


def test_address_history_belongs_to_exactly_one_parent_and_dates_make_sense():
    header = ["Client Reference", "Contact Reference", "Address Line 1", "Town/City", "Postcode", "Date From", "Date To"]
    report = check(header, [
        ["ACME1", "", "1 High St", "Leeds", "LS1 4AP", "01/02/2020", "01/01/2020"],
        ["ACME1", "C1", "2 High St", "Leeds", "LS1 4AP", "01/02/2020", ""],
        ["", "", "3 High St", "Leeds", "LS1 4AP", "01/02/2020", ""],
    ], "address_history")
    assert "Date From 01/02/2020 is after Date To 01/01/2020" in issue_at(report, 2, "Date To")["message"]
    assert issue_at(report, 3, "Client Reference")["code"] == "exactly_one"
    assert issue_at(report, 4, "Client Reference")["code"] == "exactly_one"


# ------------------------------------------------------------ course records (004)
COURSE = ["username", "course_code", "complete", "credit_type", "credits"]


def test_one_credit_type_per_row():
    report = check(COURSE, [["a@x.org", "PHARM-101", "1", "CPE, CME", "1"]], "course_record")
    issue = issue_at(report, 2, "credit_type")
    assert issue["code"] == "several_values" and "Put each credit type on its own row" in issue["message"]


def test_no_credits_on_a_record_that_is_not_complete():
    report = check(COURSE, [["a@x.org", "PHARM-101", "0", "CPE", "1.5"]], "course_record")
    assert "on a record that is not complete (complete=0)" in issue_at(report, 2, "credits")["message"]


def test_same_learner_course_and_credit_type_twice_is_an_error():
    rows = [["a@x.org", "PHARM-101", "1", "CPE", "1"], ["A@x.org", "PHARM-101", "1", "cpe", "1"],
            ["a@x.org", "PHARM-101", "1", "CME", "1"]]
    report = check(COURSE, rows, "course_record")
    assert issue_at(report, 2, "username")["message"].startswith(
        "The same learner, course and credit type appear more than once in this file (rows 2, 3)")
    assert action(report, 4) == "Insert"


def test_course_record_headers_with_spaces_and_special_characters_are_reported_not_hung():
    report = check([" username ", "course_code\u00a0", "complete*", "credit type", "crédits"],
                   [["a@x.org", "PHARM-101", "1", "CPE", "1"]], "course_record")
    assert set(report.column_fields.values()) >= {"username", "course_code", "complete", "credit_type"}
    unknown = report.file_issues.filter(pl.col("code") == "unmapped_column").to_dicts()
    assert len(unknown) == 1 and "'crédits'" in unknown[0]["message"] and "did you mean 'credits'" in unknown[0]["message"]


def test_complete_must_be_one_or_zero():
    issue = issue_at(check(COURSE, [["a@x.org", "PHARM-101", "yes", "", ""]], "course_record"), 2, "complete")
    assert (issue["suggestion"], issue["safe"]) == ("1", True)


# ------------------------------------------------------------ every domain
@pytest.mark.parametrize("name", list(bulkassist.domains.BUILTIN) if hasattr(bulkassist, "domains") else [])
def test_every_domain_spec_round_trips_through_json(name):
    dom = get_domain(name)
    assert bulkassist.Domain.from_dict(dom.to_dict()) == dom


@pytest.mark.parametrize("name", ["client", "client_assignment", "payment", "case", "qualification",
                                  "business_client", "contact", "address_history", "course_record"])
def test_every_select_list_a_domain_names_exists_in_the_demo_lists(name):
    lists = bulkassist.demo_lists()
    for list_name in get_domain(name).select_lists:
        assert lists.options(list_name), list_name
