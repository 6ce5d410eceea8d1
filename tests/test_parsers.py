"""Property tests: the cell parsers never lose a valid value and always rebuild what they promise."""

from datetime import date

import hypothesis.strategies as st
from hypothesis import given, settings

from tests.sheets import check

dates = st.dates(min_value=date(1900, 3, 1), max_value=date(2025, 12, 31))


@settings(max_examples=150, deadline=None)
@given(dates)
def test_a_date_in_the_field_format_is_always_valid(d):
    report = check(["First Name", "Last Name", "Date of Birth"], [["A", "B", d.strftime("%m/%d/%Y")]], "client", "add")
    assert report.issues.height == 0


@settings(max_examples=150, deadline=None)
@given(dates)
def test_iso_dates_and_excel_serials_suggest_the_same_day(d):
    serial = (d - date(1899, 12, 30)).days
    report = check(["Client ID", "Date of Birth"], [["1", d.isoformat()], ["2", str(serial)]], "client", "update")
    assert report.issues["suggestion"].to_list() == [d.strftime("%m/%d/%Y")] * 2
    assert report.issues["safe"].all()


@settings(max_examples=150, deadline=None)
@given(dates)
def test_day_first_dates_are_safe_only_when_unambiguous(d):
    text = d.strftime("%d-%m-%Y")
    issues = check(["Client ID", "Date of Birth"], [["1", text]], "client", "update").issues
    if d.day == d.month:
        assert issues["suggestion"].to_list() == [d.strftime("%m/%d/%Y")]
    elif d.day > 12:
        assert issues.select("suggestion", "safe").row(0) == (d.strftime("%m/%d/%Y"), True)
    else:
        assert issues["safe"].to_list() == [False] and issues["code"].to_list() == ["ambiguous_date"]


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"[2-9][0-9]{9}", fullmatch=True), st.sampled_from(["{}", "{}-{}-{}", "{}.{}.{}", "({}) {} {}"]))
def test_any_ten_digit_phone_is_rebuilt_from_its_digits(digits, layout):
    # Ten ASCII digits (a Python regex's \d also draws other scripts' digits, which are no phone's digits:
    # tests/test_hostile_inputs.py::test_other_scripts_digits_are_never_valid_digits)
    typed = layout.format(digits) if layout == "{}" else layout.format(digits[:3], digits[3:6], digits[6:])
    report = check(["Client ID", "Phone Number"], [["1", typed]], "client", "update")
    expected = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if typed == expected:
        assert report.issues.height == 0
    else:
        assert report.issues["suggestion"].to_list() == [expected]


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=999_999_999))
def test_ssn_digits_are_never_lost(n):
    text = str(n)
    report = check(["Client ID", "SSN"], [["1", text]], "client", "update")
    if len(text) == 9:  # well formed; one the SSA never issues (900000000) is only a warning
        assert set(report.issues["code"].to_list()) <= {"ssn_never_issued"}
        assert report.summary["errors"] == 0
    elif len(text) >= 5:
        assert report.issues["suggestion"].to_list() == [text.zfill(9)]
    else:
        assert report.issues["suggestion"].to_list() == [None]
