"""Every cell kind of the spec has the one module that checks, describes and formats its cells."""

from __future__ import annotations

from bulkassist.kinds import KINDS
from bulkassist.spec import Kind


def test_every_kind_of_the_spec_is_registered_under_its_own_name():
    assert set(KINDS) == set(Kind)
    assert all(k.kind is kind for kind, k in KINDS.items())


def _issues(csv: bytes):
    import bulkassist

    report = bulkassist.validate(csv, "client", "add", name="people.csv")
    return report, {(r["row"], r["column"]): r for r in report.issues.iter_rows(named=True)}


def test_an_ssn_that_is_never_issued_is_a_warning_and_the_row_stays_valid():
    rows = ["000123456", "666123456", "901234567", "123001234", "123450000"]
    csv = "First Name,Last Name,SSN\n" + "".join(f"Ann,Lee,{ssn}\n" for ssn in rows) + "Bob,Kim,123456789\n"
    report, issues = _issues(csv.encode())
    for row, ssn in enumerate(rows, start=2):
        issue = issues[(row, "SSN")]
        assert issue["severity"] == "warning" and issue["code"] == "ssn_never_issued"
        assert ssn in issue["message"]
    assert (8, "SSN") not in issues
    assert report.summary["valid"] == 6 and report.summary["errors"] == 0


def test_email_addresses_with_double_dots_leading_dots_or_hyphen_led_labels_are_errors():
    bad = {"a..b@example.org": "a.b@example.org", ".ann@example.org": "ann@example.org",
           "ann@-example.org": None, "ann@mail.-example.org": None, "ann@example-.org": None}
    csv = "First Name,Last Name,Email Address\n" + "".join(f"Ann,Lee,{e}\n" for e in bad) + \
        "Bob,Kim,bob.kim@my-mail.example.org\n"
    report, issues = _issues(csv.encode())
    for row, (email, suggestion) in enumerate(bad.items(), start=2):
        issue = issues[(row, "Email Address")]
        assert issue["severity"] == "error" and email in issue["message"]
        assert issue["suggestion"] == suggestion
    assert (7, "Email Address") not in issues


def test_an_email_address_is_suggested_only_where_the_text_holds_an_at_sign():
    # The fix (spaces, commas and dots put right) runs on the texts holding an "@" only: it adds none.
    bad = {"ann lee@example.org": "annlee@example.org", "ann@example,org": "ann@example.org",
           "ann at example.org": None, "N/A": None, "ann@example .org.": "ann@example.org", "ann@@x.org": None}
    csv = "First Name,Last Name,Email Address\n" + "".join(f'Ann,Lee,"{e}"\n' for e in bad)
    report, issues = _issues(csv.encode())
    for row, (email, suggestion) in enumerate(bad.items(), start=2):
        issue = issues[(row, "Email Address")]
        assert issue["code"] == "invalid_email" and email in issue["message"]
        assert issue["suggestion"] == suggestion, email
        assert ("did you mean" in issue["message"]) == (suggestion is not None)


def test_an_ssn_suggestion_is_every_digit_of_the_text_whatever_stands_between_them():
    import re

    import polars as pl

    import bulkassist
    from bulkassist.kinds import kind_of
    from bulkassist.kinds.base import CellColumn

    texts = ["123-45-6789", "123-45-678", "1234-5678", "12345678.0", "123 45 6789", "١٢٣-٤٥-٦٧٨٩", "١٢٣٤٥٦٧٨",
             "12-34-5", "--", "-", "1.5", "abc", "123.45.6789", "0012-3456", "12345678.00.0", "１２３４５６７８９",
             "１２３-45-6789"]
    f = bulkassist.get_domain("client").field("SSN")
    found = kind_of(f).check(CellColumn(field=f, values=pl.Series(f.name, texts)), bulkassist.demo_lists()).issues
    assert found["idx"].to_list() == list(range(len(texts)))
    for text, suggestion, message in zip(texts, found["suggestion"], found["message"], strict=True):
        # Full-width digits are read as the digits they are; other scripts' digits are no digits of an SSN.
        plain = re.sub(r"\.0+\Z", "", text.translate({0xFF10 + d: str(d) for d in range(10)}))
        digits = "".join(ch for ch in plain if ch in "0123456789")
        padded = plain != "" and len(digits) == len(plain) and 5 <= len(digits) <= 8
        assert suggestion == (digits if len(digits) == 9 else digits.zfill(9) if padded else None), text
        assert (f"has {len(digits)} digits" in message) is padded, text
