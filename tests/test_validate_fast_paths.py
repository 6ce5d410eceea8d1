"""The fast paths of validation give exactly what the plain paths give (issue 15).

* the cells valid as typed are found by one cheap test per column (`CellKind.as_typed`), and only the
  others get the full check;
* a column of few distinct texts is checked per distinct text, then placed on every cell;
* duplicate rows are found by sorting a key hash, with an exact comparison of the candidates;
* a UTF-8 CSV path is read by polars straight from disk, everything else by the general reader;
* issues are placed on first read, while row actions come from the findings themselves;
* row actions are one-byte codes until their text is read: the summary counts the codes.
"""

from __future__ import annotations

import pickle
import random
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

import bulkassist
from bulkassist.engine import rules, validation
from bulkassist.engine.report import LABEL_COLUMNS, ActionCodes, summarize
from bulkassist.engine.rules import duplicate_rows, key_hash
from bulkassist.errors import FileFormatError
from bulkassist.io import reading
from bulkassist.io.cells import CONTROL_CHARACTER, FORMULA_START
from bulkassist.io.reading import read_table
from bulkassist.kinds import date, email, kind_of, phone, ssn
from bulkassist.kinds.base import CellColumn
from bulkassist.kinds.email import EMAIL_REGEX, is_email
from bulkassist.status import RowAction
from tests.sheets import check

ROWS = 60_000  # above validation._DISTINCT_MIN_ROWS: names and select lists take the per-distinct path

# What people put in a client file, good and bad, with spaces, formulas, control characters and blanks.
POOLS = {
    "Client ID": ["", "100234", "100234.0", "12", " 100235 ", "abc"],
    "First Name": ["Maria", " maria", "MARIA ", "=HYPERLINK(\"x\")", "+1 Bob", "Ann\x01e", "", "   ", "-5",
                   "Zoë", "x" * 60],
    "Last Name": ["Lopez", "lopez", "Ray", "@home", "", "O'Neil", "Ray "],
    "Email Address": ["a@b.org", "a @b.org", "a..b@c.org", "", "=a@b.org", "a@-b.org", "a.@b.org", "x@y",
                      " a@b.org", "a@b.org\u00a0", "-a@b.org", "a\x01b@c.org", "＋a@b.org"],
    "Phone Number": ["(727) 123-1234", " (727) 123-1234", "7271231234", "(727)123-1234", "", "(727) 123-1234\t"],
    "SSN": ["123456789", "000123456", "666123456", "900123456", "123006789", "123450000", "123-45-6789",
            " 123456789", "١٢٣٤٥٦٧٨٩", "12345678", "", "0123456789"],
    "Date of Birth": ["02/03/1990", "1990-02-03", "13/25/1990", "2/3/1990", "", "01/01/2090", "32874",
                      " 2/03/1990", "\t2/03/1990", "02/03/1990 ", "\u00a02/03/199", "01/02/+200"],
    "Language": ["English", "english", " Spanish ", "SPANISH", "Englsh", "", "English, Spanish", "=1+1"],
    "Staff Name": ["Anna Lee", "anna lee", "Ana Lee", "", "Lee Anna", " Anna  Lee "],
    "Client Type": ["Adult Education", "adult education", "Adult Educations", "", "Dual Enrollment"],
}
CASE_POOLS = {
    "Identifier": ["jd1", "jd2", "", "=x"],
    "FirstName": ["John", "john", " John"],
    "LastName": ["Doe", "doe"],
    "ReferralSource": ["HOUSING", "Housing & Residence Life", "housing & residence life", "Hosing", "", " POLICE "],
    "Flags": ["BLACK", "BLACK,YELLOW", "black, yelow", "", "RED,,BLUE", "BLACK;YELLOW"],
    "Status": ["ACTIVE", "active", "Actve", ""],
}


def _frame(pools: dict[str, list[str]], rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({name: [pool[i] for i in rng.integers(0, len(pool), rows)] for name, pool in pools.items()},
                        schema={name: pl.String for name in pools})


def _both_paths(monkeypatch: pytest.MonkeyPatch, frame: pl.DataFrame, domain: str, operation: str):
    fast = bulkassist.validate(frame, domain, operation)
    with monkeypatch.context() as patch:
        patch.setattr(validation, "_DISTINCT_MIN_ROWS", 10**12)  # every column checked cell by cell
        patch.setattr(validation, "_REST_DISTINCT_MIN_ROWS", 10**12)  # the cells failing the one-pass test too
        patch.setattr(validation, "_AS_TYPED_MIN_ROWS", 10**12)  # every filled cell gets the full check
        plain = bulkassist.validate(frame, domain, operation)
    return fast, plain


@pytest.mark.parametrize(("pools", "domain", "operation"), [(POOLS, "client", "add_update"),
                                                             (CASE_POOLS, "case", None)])
@pytest.mark.parametrize("rows", [1_500, 300])
def test_checking_only_the_cells_not_valid_as_typed_finds_what_checking_every_cell_finds(
        monkeypatch, pools, domain, operation, rows):
    frame = _frame(pools, rows, seed=11)
    with monkeypatch.context() as patch:
        patch.setattr(validation, "_AS_TYPED_MIN_ROWS", 0)  # the small frame takes the one-pass test too
        fast = bulkassist.validate(frame, domain, operation)
    _, plain = _both_paths(monkeypatch, frame, domain, operation)
    assert fast.issues.height > rows // 2
    assert_frame_equal(fast.issues, plain.issues)
    assert_series_equal(fast.actions, plain.actions)
    assert_frame_equal(fast.normalized, plain.normalized)


@pytest.mark.parametrize(("pools", "domain", "operation"), [(POOLS, "client", "add_update"),
                                                             (CASE_POOLS, "case", None)])
def test_checking_the_columns_in_parallel_with_the_rules_finds_what_one_thread_finds(monkeypatch, pools, domain,
                                                                                      operation):
    """The columns are checked in parallel threads, and the rules start once the columns they read are checked,
    beside the other checks: the report is the one a single thread, checking the columns in turn, makes."""
    frame = _frame(pools, 1_500, seed=5)
    parallel = bulkassist.validate(frame, domain, operation)
    with monkeypatch.context() as patch:
        patch.setattr(validation, "_WORKERS", 1)
        one = bulkassist.validate(frame, domain, operation)
    if domain == "client":  # the rules found something to compare
        assert {"duplicate_in_file", "future_date"} <= set(one.issues["code"])
    assert_frame_equal(parallel.issues, one.issues)
    assert_series_equal(parallel.actions, one.actions)
    assert_frame_equal(parallel.normalized, one.normalized)


def test_the_rules_wait_for_every_field_they_read_even_one_named_by_a_parameter():
    # forbidden_unless reads its flag field from `params`; unique_together names three fields.
    assert {"credits", "complete"} <= validation._rule_fields(bulkassist.get_domain("course_record"))
    assert validation._rule_fields(bulkassist.get_domain("client")) == {"First Name", "Last Name", "Date of Birth"}


def _texts_of(pools: dict[str, list[str]]) -> list[str | None]:
    return sorted({t for pool in pools.values() for t in pool}) + [None]


@pytest.mark.parametrize("domain", ["client", "case"])
def test_a_cell_valid_as_typed_is_one_the_full_check_passes_untouched(domain):
    """Every kind's one-pass test against its full check, on every text of every pool and list: a cell it
    passes is never trimmed, flagged or stored otherwise."""
    dom = bulkassist.get_domain(domain)
    lists = bulkassist.demo_lists()
    texts = _texts_of(POOLS) + _texts_of(CASE_POOLS) + [
        o for f in dom.fields if f.select_list for o, _ in lists.options(f.list_name)]
    values = pl.Series("v", texts, dtype=pl.String)
    tested = 0
    for f in dom.fields:
        typed = kind_of(f).as_typed(f, lists, pl.col("v"))
        if typed is None:
            continue
        test = typed.valid if typed.valid is not None else typed.dates.is_not_null()
        valid = values.to_frame().select(test.fill_null(False)).to_series()
        passed = values.filter(valid)
        if not passed.len():
            continue
        found = kind_of(f).check(CellColumn(field=f, values=passed.alias(f.name)), lists)
        assert found.issues.height == 0, (f.name, found.issues)
        assert_series_equal(found.normalized, passed.alias(f.name), check_names=False)
        assert_series_equal(passed.str.strip_chars(), passed)
        if kind_of(f).stored_as_typed:
            assert validation._text_hazards(CellColumn(field=f, values=passed)).height == 0
        if typed.dates is not None:
            dates = values.to_frame().select(typed.dates).to_series().filter(valid)
            assert_series_equal(dates, found.dates, check_names=False)
        tested += 1
    assert tested >= 5  # fields whose test passed something: the comparison says something


def _as_typed(kind_field: tuple[str, str], texts: list[str | None]) -> list[bool]:
    f = bulkassist.get_domain(kind_field[0]).field(kind_field[1])
    typed = kind_of(f).as_typed(f, bulkassist.demo_lists(), pl.col("v"))
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    return frame.select(typed.valid.fill_null(False))["v"].to_list()


def test_the_one_pass_ssn_test_is_nine_ascii_digits_never_unissued():
    digits = ["0", "6", "9", "1", "٣", "5"]
    texts = [a + b + c + "4" + g + "67" + s for a in digits for b in digits[:3] for c in digits[:3]
             for g in ("0", "5") for s in ("00", "01")]
    texts += ["000000000", "666666666", "123456789", "12345678", "1234567890", " 123456789", "123456789 ",
              "+12345678", "-12345678", "1_2345678", "0x1234567", "1.2345678", "１２３４５６７８９", "", None]
    # group 00 and serial 0000 beside their neighbours (the group is tested by the last six digits)
    texts += ["123006789", "123010000", "123000001", "123100001", "123009999", "123990000", "899990001"]
    got = _as_typed(("client", "SSN"), texts)
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    issued = frame.select((pl.col("v").str.contains(ssn.SSN_REGEX)
                           & ~pl.col("v").str.contains(ssn.NEVER_ISSUED_REGEX)).fill_null(False))["v"].to_list()
    # Exactly the issued numbers, all of them ASCII digits (other scripts' digits fail the full check too).
    assert got == issued
    assert sum(got) > 20 and all(t.isascii() for t, ok in zip(texts, got, strict=True) if ok)
    assert not any(ok for t, ok in zip(texts, got, strict=True) if t and ("٣" in t or "１" in t))


def test_the_ssns_the_one_pass_test_warns_of_get_the_full_checks_warning_and_nothing_else():
    f = bulkassist.get_domain("client").field("SSN")
    texts = ["000123456", "666123456", "900123456", "999999999", "123006789", "123450000", "000000000",
             "123456789", "١٢٣٤٥٦٧٨٩", "000-12-3456", "00012345", " 000123456", "", None]
    typed = kind_of(f).as_typed(f, bulkassist.demo_lists(), pl.col("v"))
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    warned = frame.filter(typed.warned.fill_null(False))["v"]
    assert warned.to_list() == texts[:7]
    assert not frame.select(typed.valid.fill_null(False) & typed.warned.fill_null(False))["v"].any()
    full = kind_of(f).check(CellColumn(field=f, values=warned.alias(f.name)), bulkassist.demo_lists()).issues
    assert_frame_equal(kind_of(f).typed_warnings(f, warned), full)
    assert set(full["severity"]) == {"warning"}


def test_never_issued_ssns_warned_of_by_the_one_pass_test_are_placed_like_the_full_checks(monkeypatch):
    pools = {**POOLS, "SSN": POOLS["SSN"] + ["000123456"] * 6 + ["123450000"] * 3}
    frame = _frame(pools, 3_000, seed=5)
    found: list[int] = []
    typed_warnings = validation._typed_warnings
    with monkeypatch.context() as patch:
        patch.setattr(validation, "_typed_warnings", lambda *a: found.append(a[1].len()) or typed_warnings(*a))
        fast, plain = _both_paths(monkeypatch, frame, "client", "add_update")
    assert found and found[0] > 500  # the warnings came from the one-pass test
    assert fast.issues.filter(pl.col("code") == "ssn_never_issued").height == found[0]
    assert_frame_equal(fast.issues, plain.issues)
    assert_series_equal(fast.actions, plain.actions)
    assert_frame_equal(fast.normalized, plain.normalized)


@pytest.mark.parametrize("texts", [
    [" Spanish ", "English", "   ", "x" * 30, "\tAnna  Lee", "Zoë "],  # trimmed, blank once trimmed, long, short
    ["English", "x" * 30, "Anna  Lee", "٣"],  # nothing to trim
])
def test_the_cells_left_to_check_are_trimmed_anew_as_the_column_would_be(texts):
    cells = pl.Series("Language", texts, dtype=pl.String)
    trimmed, changed = validation._trimmed_anew(cells)
    assert_series_equal(trimmed, validation._trimmed_series(cells))
    assert changed is (validation._trimmed_series(cells) is not cells)


def test_typed_warnings_land_on_their_rows_whether_one_per_cell_in_order_or_not(monkeypatch):
    f = bulkassist.get_domain("client").field("SSN")
    cells = pl.Series("SSN", ["000123456", "666123456", "900123456"])
    rows = pl.Series([5, 9, 12], dtype=pl.UInt32)
    every = validation._typed_warnings(f, rows, cells)  # one per cell, in order: the rows and texts as they are
    assert every["idx"].to_list() == [5, 9, 12] and every["value"].to_list() == cells.to_list()
    full = kind_of(f).typed_warnings(f, cells)
    monkeypatch.setattr(type(kind_of(f)), "typed_warnings", lambda self, field, texts: full[[2, 0]])
    some = validation._typed_warnings(f, rows, cells)
    assert some["idx"].to_list() == [12, 5] and some["value"].to_list() == [cells[2], cells[0]]
    assert some["message"].to_list() == [full["message"][2], full["message"][0]]


def test_a_whole_number_id_is_valid_as_typed_exactly_when_it_is_1_to_12_ascii_digits():
    texts = ["1", "100234", "123456789012", "1234567890123", "0", "007", "+12", "-12", " 12", "12 ", "1.0",
             "1e3", "0x12", "1_2", "٣", "１２", "12\n", "", None]
    got = _as_typed(("client", "Client ID"), texts)
    assert got == [t is not None and t.isascii() and t.isdigit() and 1 <= len(t) <= 12 for t in texts]


def test_a_phone_valid_as_typed_is_in_one_of_its_layouts_exactly_as_each_layouts_own_test_says():
    """A cell passes the one-pass test exactly where it passes one layout's own regex (its bytes against each
    layout's: `phone._ascii_layouts_test`); punctuation is matched as itself, a space around the number, a mix
    of two layouts or other scripts' digits fail it."""
    f = bulkassist.get_domain("case").field("CellPhoneNumber")
    texts = ["727-123-1234", "727.123.1234", "(727) 123-1234", "727x123x1234", "727.123-1234", "(727)-123-1234",
             " 727-123-1234", "727-123-1234 ", "727-123-1234\n", "(727) 123-1234\t", "٧٢٧-١٢٣-١٢٣٤",
             "7271231234", "727-123-12345", "", None, "727:123-1234", "72/-123-1234", "(72:) 123-1234",
             "727-123-123\xff", "727-123-123\x00"]
    typed = kind_of(f).as_typed(f, bulkassist.demo_lists(), pl.col("v"))
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    got = frame.select(typed.valid.fill_null(False))["v"].to_list()
    each = frame.select(pl.any_horizontal([pl.col("v").str.contains(phone.layout_regex(lay)) for lay in f.formats])
                        .fill_null(False))["v"].to_list()
    assert got == each == [True, True, True] + [False] * 17  # other scripts' digits included


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"0123456789()-. x:/", "\t", "\n", "٧", "\x00", "\xff", "@"]), max_size=6),
       st.integers(0, 15), st.integers(0, 2))
def test_a_phone_valid_as_typed_by_its_bytes_is_its_layouts_regex_with_ascii_digits(chars, at, cut):
    """The byte test of the layouts (`phone._ascii_layouts_test`) passes a cell exactly where their regex
    does, for the three layouts alone and together: a layout's number with a few characters written over,
    put in or cut out anywhere."""
    import re

    layouts = ("(999) 999-9999", "999-999-9999", "999.999.9999")
    for lay in layouts:
        number = lay.replace("9", "7")
        text = number[:at] + "".join(chars) + number[at + cut:]
        for chosen in (*((one,) for one in layouts), layouts):
            got = pl.select(phone._ascii_layouts_test(chosen, pl.lit(text, pl.String)).fill_null(False)).item()
            want = any(re.fullmatch(phone.layout_regex(one)[1:-1], text) for one in chosen)
            assert got == want, (text, chosen)


_SPACED_DATES = [" 1/02/1990", "\t1/02/1990", "\u00a01/2/1990", "\u30001/2/199", "1/02/1990 ", "1/2/1990\u00a0",
                 "1/2/199\u3000", "1/2/1990\r\n", "01/02/1990 ", "01/ 2/1990", "01/02/1990", "02/30/1990", "", None]


@pytest.mark.parametrize("fmt", ["%m/%d/%Y", "%m/%d/%Y "])
def test_a_date_valid_as_typed_is_read_and_has_no_surrounding_space_of_any_script(fmt):
    """The date test reads only a cell's first byte for space (the parser skips a leading one, of any script,
    and reads the cell exactly, so a trailing one is never read): it passes exactly the cells read that
    trimming leaves alone. A format ending in a space would read a trailing one: the full test then."""
    f = replace(bulkassist.get_domain("client").field("Date of Birth"), formats=(fmt,))
    texts = _SPACED_DATES + [t + " " for t in _SPACED_DATES if t]
    typed = kind_of(f).as_typed(f, bulkassist.demo_lists(), pl.col("v"))
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    got = frame.select(typed.dates)["v"].to_list()
    read = frame.select(date._date_expr(fmt))["v"].to_list()
    assert sum(d is not None and t != t.strip() for t, d in zip(texts, read, strict=True)) >= 4  # spaces read
    assert got == [d if t == (t or "").strip() else None for t, d in zip(texts, read, strict=True)]
    assert sum(d is not None for d in got) >= (2 if fmt == fmt.strip() else 0)  # none stands alone before a space


@pytest.mark.parametrize(("pools", "domain", "operation"), [(POOLS, "client", "add_update"),
                                                             (CASE_POOLS, "case", None)])
def test_checking_per_distinct_text_finds_exactly_what_checking_every_cell_finds(monkeypatch, pools, domain,
                                                                                  operation):
    frame = _frame(pools, ROWS, seed=3)
    assert validation._few_distinct(frame[next(iter(pools))])  # the per-distinct path is the one taken
    fast, plain = _both_paths(monkeypatch, frame, domain, operation)
    assert fast.issues.height > ROWS // 2  # plenty of findings of every kind, suggestions included
    assert fast.issues["suggestion"].drop_nulls().len() > 1000
    assert_frame_equal(fast.issues, plain.issues)
    assert_series_equal(fast.actions, plain.actions)
    assert_frame_equal(fast.normalized, plain.normalized)


def _exact_duplicates(frame: pl.DataFrame, keys: list[str]) -> list[int]:
    """Brute force: rows whose complete key, lower-cased, appears more than once."""
    groups: dict[tuple, list[int]] = {}
    for row in frame.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        if all(v is not None for v in key):
            groups.setdefault(tuple(v.lower() for v in key), []).append(row["i"])
    return sorted(i for members in groups.values() if len(members) > 1 for i in members)


@pytest.mark.parametrize("hasher", [
    None,  # the real hash
    lambda keys: pl.lit(7, dtype=pl.UInt64),  # every row collides with every other
    lambda keys: keys[0].str.len_bytes().cast(pl.UInt64),  # many collisions between different keys
    # hashes that differ in their high 32 bits only (the candidates are found by the low 32 bits)
    lambda keys: key_hash(keys) * (1 << 32),
], ids=["hash", "all-collide", "length-only", "high-bits-only"])
@pytest.mark.parametrize("names", [
    ["Ann", "ann", "ANN", "Bob", "bob", "Eve", "Zoë", "zoË", None],  # hashed lower-cased
    ["Ann", "Bob", "Eve", "Zoë", "Ray", "K", None],  # no two differ only in case: hashed as they are
], ids=["case-variants", "one-case"])
def test_hash_based_duplicates_equal_the_exact_rule_even_when_hashes_collide(hasher, names):
    rng = random.Random(5)
    dates = ["01/02/1990", "01/02/1990 ", "02/01/1990", None]
    frame = pl.DataFrame({
        "k0": [rng.choice(names) for _ in range(3000)],
        "k1": [rng.choice(names) for _ in range(3000)],
        "k2": [rng.choice(dates) for _ in range(3000)],
    }, schema={k: pl.String for k in ("k0", "k1", "k2")}).with_row_index("i")
    keys = ["k0", "k1", "k2"]
    assert rules._case_matters(frame, {"k0", "k1"}) == ({"k0", "k1"} if "ann" in names else set())
    found = duplicate_rows(frame, keys, {"k0", "k1"}, **({"hasher": hasher} if hasher else {}))
    assert sorted(found["i"].to_list()) == _exact_duplicates(frame, keys)
    assert found.height > 100


def test_every_column_is_checked_once_and_the_rules_run_once_their_columns_are(monkeypatch):
    """`_check_all`: each column checked once, the rules run once, on the checked columns they read; a
    failing check reaches the caller."""
    monkeypatch.setattr(validation, "_WORKERS", 2)
    done: list[int] = []

    def check_one(idx):
        done.append(idx)
        return idx

    def rules_of(found):
        assert set(found) == {1, 3} and set(found) <= set(done)
        done.append(-1)
        return pl.DataFrame({"ran": [True]})

    checked, found = validation._check_all([3, 1, 0, 2, 4], check_one, [3, 1], rules_of)
    assert checked == {i: i for i in range(5)}
    assert found["ran"].to_list() == [True]
    assert sorted(done) == [-1, 0, 1, 2, 3, 4]

    def failing(idx):
        if idx == 2:
            raise ValueError("broken column")
        return idx

    with pytest.raises(ValueError, match="broken column"):
        validation._check_all([0, 1, 2, 3], failing, [0], lambda found: pl.DataFrame())


def test_many_repeated_hashes_find_the_same_rows_as_a_list_or_an_array(monkeypatch):
    """The repeated hash values go to polars as a list when few, as an array when many: the same rows."""
    frame = pl.DataFrame({"k0": [str(i // 2) for i in range(30_000)], "k1": ["a"] * 30_000},
                         schema={"k0": pl.String, "k1": pl.String}).with_row_index("i")
    as_array = duplicate_rows(frame, ["k0", "k1"], set())
    monkeypatch.setattr(rules, "_AS_LIST", 10**9)
    assert_frame_equal(duplicate_rows(frame, ["k0", "k1"], set()), as_array)
    assert as_array.height == 30_000


def test_duplicate_rows_need_no_numpy_ma(tmp_path):
    """Finding duplicate rows uses neither `np.unique` nor a Series made from an array: both import
    numpy.ma on first use (11 ms of every fresh process's validation), which nothing else needs."""
    import subprocess
    import sys

    path = tmp_path / "clients.csv"
    path.write_text("First Name,Last Name,Date of Birth\nMaria,Lopez,02/03/1990\nmaria,LOPEZ,02/03/1990\n")
    code = ("import sys, bulkassist; r = bulkassist.validate(sys.argv[1], 'client', 'add'); "
            "assert r.cell_issues.filter(code='duplicate_in_file').height == 2; print('numpy.ma' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_duplicate_rows_are_reported_whatever_their_case():
    rows = [["", "Maria", "Lopez", "02/03/1990"], ["", "MARIA", "lopez", "02/03/1990"], ["", "Maria", "Lopez", "02/04/1990"]]
    report = check(["Client ID", "First Name", "Last Name", "Date of Birth"], rows, "client", "add")
    duplicates = report.issues.filter(pl.col("code") == "duplicate_in_file")
    assert duplicates["row"].to_list() == [2, 3]
    assert "rows 2, 3" in duplicates["message"][0]


def _old_is_email(value: pl.Expr) -> pl.Expr:
    """The definition before issue 15 (two extractions and five tests), kept as the reference."""
    local = value.str.extract(r"^([^@]*)@", 1)
    domain = value.str.extract(r"@([^@]*)$", 1)
    return (value.str.contains(EMAIL_REGEX) & ~value.str.contains(r"\.\.", literal=False)
            & ~local.str.starts_with(".") & ~local.str.ends_with(".") & ~domain.str.contains(r"(^|\.)-|-(\.|$)"))


_ADDRESS = st.builds(lambda name, domain, tld: f"{name}@{domain}.{tld}", st.text(alphabet="ab.-", max_size=5),
                     st.text(alphabet="ab.-1", max_size=6), st.text(alphabet="abZ-.", min_size=1, max_size=4))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab.-@ ,Z", max_size=14) | _ADDRESS, min_size=1, max_size=400))
def test_the_one_pass_email_test_equals_the_reference(texts):
    texts = texts + ["a@b.org", "a.@b.org", ".a@b.org", "a@-b.org", "a@b-.org", "a@b.-c.org", "a-.b@c.org",
                     "a@.b.org", "a..b@c.org", "a@b..org", None]
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    got = frame.select(is_email(pl.col("v")))["v"].to_list()
    want = frame.select(_old_is_email(pl.col("v")))["v"].to_list()
    assert got == want


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab.-@ ,=+\t\x01\u00a0＠", max_size=14) | _ADDRESS, min_size=1, max_size=400))
def test_an_address_is_plain_as_typed_exactly_when_it_is_one_without_hazards(texts):
    texts = texts + ["a@b.org", "=a@b.org", "+a@b.org", "a\x01@b.org", "a@b\x1f.org", "-a@b.org", "a-@b.org", None]
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    got = frame.select(pl.col("v").str.contains(email._PLAIN_EMAIL))["v"].to_list()
    want = frame.select(is_email(pl.col("v")) & ~pl.col("v").str.contains(
        f"{FORMULA_START}|{CONTROL_CHARACTER}"))["v"].to_list()
    assert got == want


FILES = {
    "plain.csv": b"Client ID,First Name\n100234,Maria\n,\"\"\n\n,Ray\n\n\n",
    "crlf.csv": b"Client ID,First Name\r\n100234,Maria\r\n,Ray\r\n",
    "bom.csv": b"\xef\xbb\xbfClient ID;First Name\r\n1;Zo\xc3\xab\r\n",
    "sep_line.csv": b"sep=;\r\nClient ID;First Name\r\n1;Maria\r\n",
    "title.csv": b"Clients of 2024\nClient ID,First Name,Last Name\n1,Ann,Lee\n",
    "lone_cr.csv": b"Client ID,First Name\r100234,Maria\r,Ray\r",
    "quoted_break.csv": b"Client ID,Notes\r\n1,\"two\r\nlines\"\r\n2,\"lone\rcr\"\r\n",
    "cp1252.csv": b"Client ID,First Name\n1,Zo\xeb\n",
    "utf16.csv": "Client ID\tFirst Name\r\n1\tZoë\r\n".encode("utf-16"),
    "mixed.csv": b"Client ID,First Name\n1,Zo\xc3\xab\n2,Zo\xeb\n",
    "quote.csv": b"Client ID,First Name\n1,\"Maria\n",
    "ragged.csv": b"a,b\n1,2,3,4\n",
    "nul.csv": b"a,b\n1,\x002\n",
    "blank.csv": b"  \n\n",
    "tab.tsv": b"a\tb\n1\t2\n",
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_csv_path_reads_as_its_bytes_do(tmp_path, name):
    """The path (polars straight from disk when it can) and the bytes (the general reader) agree on
    everything, refusals included."""
    path = tmp_path / name
    path.write_bytes(FILES[name])
    try:
        from_bytes = read_table(FILES[name], name=name)
    except FileFormatError as exc:
        with pytest.raises(FileFormatError) as refused:
            read_table(path)
        assert str(refused.value) == str(exc)
        return
    from_path = read_table(path)
    assert_frame_equal(from_path.frame, from_bytes.frame)
    for attribute in ("headers", "source", "separator", "encoding", "header_row", "notes"):
        assert getattr(from_path, attribute) == getattr(from_bytes, attribute), attribute


def test_a_lone_cr_far_into_a_large_file_is_found(tmp_path):
    """The search for a "\r" goes a window at a time, beside the read: one past the first window, and one
    straddling nothing but the last byte, still send the file the general way (the same table as its bytes)."""
    rows = b"".join(b"%d,Maria\n" % i for i in range(600_000))  # ~8 MB: past the first 4 MB window
    for name, data in {"far.csv": b"Client ID,First Name\n" + rows + b"1,Ray\rEnd\n",
                       "last.csv": b"Client ID,First Name\n" + rows + b"1,Ray\r"}.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert len(data) > reading._CR_WINDOW
        assert reading._holds_cr(path)
        from_path, from_bytes = read_table(path), read_table(data, name=name)
        assert_frame_equal(from_path.frame, from_bytes.frame)
        assert from_path.notes == from_bytes.notes


def test_row_actions_need_no_placed_issues_and_agree_with_them(tmp_path):
    header = ["username", "course_code", "complete", "credit_type", "credits"]
    rows = [["ann", "C1", "1", "CPE, CME", "1"], ["bob", "C1", "1", "XYZ", "1"], ["", "", "", "", ""],
            ["eve", "C1", "1", "CPE", "1"]]
    report = check(header, rows, "course_record", "add")
    assert callable(report.__dict__["_issues"])  # not placed yet
    assert report.summary["skipped"] == 1 and callable(report.__dict__["_issues"])
    issues = report.issues  # placed now, once
    assert report.__dict__["_issues"] is issues
    error_rows = set(issues.filter((pl.col("severity") == "error") & pl.col("row").is_not_null())["row"])
    assert set(report.error_rows) == error_rows == {2, 3}
    assert action(report, 5) == RowAction.INSERT
    # "CPE, CME" is explained by the one-credit-type rule; "not in the list" is not repeated for it.
    assert issues.filter(pl.col("row") == 2)["code"].to_list() == ["several_values"]
    again = pickle.loads(pickle.dumps(check(header, rows, "course_record", "add")))
    assert_frame_equal(again.issues, issues)


def action(report: bulkassist.Report, row: int) -> str:
    return report.rows.filter(pl.col("row") == row)["action"][0]


@pytest.mark.parametrize("fmt", ["%m/%d/%Y", "%d.%m.%Y"])
def test_bad_dates_are_read_only_where_a_reading_can_take_them_as_reading_every_one_finds(fmt):
    texts = ["32874", "32874.00", "12", "999999", "1990-02-03", "1990/2/3 10:00", "1990-13-45", "2/3/1990",
             "02/03/1990 ", "13/25/1990", "3-2-90", "3.2.1990", "31/12/99", "3 Jan 2020", "jan 3 2020", "Jan",
             "13/12/1959x", "x13/12/1959", "1/2", "١٢٣٤٥", "N/A", "", "02/03/+200", "\u00a02/03/1990"]
    bad = pl.DataFrame({"v": texts * 2 + texts[::3]})  # texts repeat: each read once
    every = date._readings(bad, fmt).select("sugg", "how", "conf")
    assert {"serial", "iso", "not_real", "named", "unknown"} <= set(every["how"])
    assert_frame_equal(date._date_suggestions(bad["v"], fmt), every)
    unreadable = bad.filter(~pl.col("v").str.contains(date._READABLE))
    assert unreadable.height > 5
    assert_frame_equal(date._date_suggestions(unreadable["v"], fmt),
                       date._readings(unreadable, fmt).select("sugg", "how", "conf"))


def test_month_names_are_read_only_where_three_letters_stand_in_a_row_as_everywhere():
    texts = ["3 Jan 2020", "03 JAN 2020", "January 3 2020", "Jan 3, 2020", "3-Jan-20", "3 jan, 2020", "Sept 3 2020",
             "3 Mär 2020", "3 J a n 2020", "03/01/2020", "3 Ja 2020", "December 31, 1999", "31-dec-1999", "", None]
    values = pl.Series("v", texts * 3, dtype=pl.String)
    everywhere = values.to_frame().select(pl.coalesce(
        [pl.col("v").str.to_date(nf, strict=False) for nf in date._MONTH_NAME_FORMATS])).to_series()
    got = date._named_dates(values)
    assert_series_equal(got, everywhere, check_names=False)
    assert got.drop_nulls().len() >= 15


def test_row_actions_are_counted_as_codes_until_their_text_is_read():
    plain = {"First Name": "Maria", "Last Name": "Lopez"}  # an Insert, an Update (with its ID), a blank row
    extra = [plain, {**plain, "Client ID": "100234"}, {}]
    frame = pl.concat([_frame(POOLS, 1_500, seed=3), pl.DataFrame(
        [{name: row.get(name) for name in POOLS} for row in extra], schema={name: pl.String for name in POOLS})])
    report = bulkassist.validate(frame, "client", "add_update")
    assert isinstance(report.__dict__["_actions"], ActionCodes)
    summary = report.summary  # counted from the codes: no text made
    assert isinstance(report.__dict__["_actions"], ActionCodes)
    actions = report.actions  # made now, once
    assert report.__dict__["_actions"] is actions and actions.dtype == pl.String and actions.name == "action"
    assert summary == summarize(actions) == report.summary
    assert set(actions.unique()) == {RowAction.INSERT, RowAction.UPDATE, RowAction.ERROR, RowAction.SKIP}
    again = pickle.loads(pickle.dumps(bulkassist.validate(frame, "client", "add_update")))
    assert_series_equal(again.actions, actions)
    # A report made from one whose actions were never read counts its own actions.
    fresh = bulkassist.validate(frame, "client", "add_update")
    row = fresh.first_row
    extra = pl.DataFrame({"row": [row], "code": ["x"], "severity": ["error"], "message": ["m"]})
    changed = fresh.add_issues(extra)
    assert changed.summary == summarize(changed.actions)
    assert changed.actions[row - fresh.first_row] in (RowAction.ERROR, RowAction.SKIP)


def test_each_placed_issue_names_the_header_of_its_column_and_issues_are_in_cell_order():
    frame = _frame(POOLS, 1_500, seed=5).drop("First Name")  # a required column missing: issues with no cell
    report = bulkassist.validate(frame, "client", "add")
    cells = report.cell_issues
    assert cells["col_index"].null_count() > 100 and cells["col_index"].is_not_null().sum() > 1_000
    assert cells["column"].to_list() == [None if i is None else report.columns[i] for i in cells["col_index"]]
    key = cells.select(pl.col("row") * (len(report.columns) + 1) + pl.col("col_index").fill_null(-1) + 1).to_series()
    assert key.is_sorted()


def test_the_case_of_key_texts_is_measured_per_column():
    frame = pl.DataFrame({"few": ["Ann", "Bob", None] * 1_000, "many": [f"n{i}" for i in range(3_000)],
                          "cased": ["Ann", "ann", "Bob"] * 1_000})
    assert rules._case_matters(frame, {"few", "many", "cased"}) == {"many", "cased"}
    assert rules._case_matters(frame, {"few"}) == set()
    assert rules._case_matters(frame, set()) == set()


def test_distinct_key_texts_known_already_decide_the_case_like_the_column_itself():
    frame = pl.DataFrame({"few": ["Ann", "Bob", None] * 1_000, "many": [f"n{i}" for i in range(3_000)],
                          "cased": ["Ann", "ann", "Bob"] * 1_000})
    known = {c: frame[c].unique() for c in ("few", "many", "cased")}
    assert rules._case_matters(frame, {"few", "cased"}, known) == {"cased"}
    # More known texts than are worth lower-casing: the column counts as one where case matters, as before.
    assert rules._case_matters(frame, {"many", "few"}, known) == {"many"}
    assert rules._case_matters(frame.head(1_500), {"many"}, {"many": known["many"].head(1_500)}) == set()
    assert rules._case_matters(frame, {"many"}, {"few": known["few"]}) == {"many"}


@pytest.mark.parametrize("cased", [False, True])
def test_names_tested_per_distinct_text_find_the_same_duplicates_as_cell_by_cell(monkeypatch, cased):
    """A name column of few distinct texts is tested as typed on those texts, which the duplicate check
    reuses: a name written in two cases on two rows is still one duplicate."""
    frame = _frame(POOLS, ROWS, seed=9)
    if cased:
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.col("First Name").str.to_uppercase())
                                   .otherwise(pl.col("First Name")).alias("First Name"))
    fast, plain = _both_paths(monkeypatch, frame, "client", "add_update")
    assert fast.issues.filter(pl.col("code") == "duplicate_in_file").height > 1_000
    assert_frame_equal(fast.issues, plain.issues)
    assert_series_equal(fast.actions, plain.actions)


def test_a_name_the_sample_missed_is_checked_in_full_and_still_found_duplicated_in_another_case(monkeypatch):
    """Names are tested as typed on the distinct texts of the column's first rows: a name first written after
    them ("Zoe", then "ZOE" with the same last name and birth date) is checked in full, and the duplicate
    check, which reuses the texts, still knows that case matters in that column."""
    frame = _frame(POOLS, ROWS, seed=13).with_columns(pl.lit("Lopez").alias("Last Name"))
    late = pl.int_range(pl.len())
    frame = frame.with_columns(
        pl.when(late == ROWS - 2).then(pl.lit("Zoe")).when(late == ROWS - 1).then(pl.lit("ZOE"))
        .otherwise(pl.col("First Name").str.to_lowercase()).alias("First Name"),  # no other name in two cases
        pl.when(late >= ROWS - 2).then(pl.lit("02/03/1991")).otherwise(pl.col("Date of Birth")).alias("Date of Birth"))
    assert "Zoe" not in frame["First Name"].head(validation._DISTINCT_SAMPLE).to_list()
    fast, plain = _both_paths(monkeypatch, frame, "client", "add_update")
    duplicates = fast.issues.filter(pl.col("code") == "duplicate_in_file")
    assert duplicates.filter(pl.col("row") >= fast.first_row + ROWS - 2).height == 2
    assert_frame_equal(fast.issues, plain.issues)
    assert_series_equal(fast.actions, plain.actions)


@pytest.mark.parametrize("packed", [True, False])
def test_placing_findings_gives_each_its_cell_and_the_cell_order_whether_a_column_repeats_one_value_or_not(
        monkeypatch, packed):
    """`_place` sorts the findings a column at a time by a sort of one key: the same issues, in the same
    order (two findings of a cell keep theirs), as one stable sort of every column, whether a frame's columns
    hold literals (one value repeated) or values that vary, and with fields not in the file; and so does its
    stable sort of the cells alone, for keys too large to pack a cell, a part and a place in 63 bits."""
    from bulkassist.domains import get_domain
    from bulkassist.engine.headers import match_headers

    domain = get_domain("client")
    data = pl.DataFrame({"First Name": ["Ann", "Bob", "Cy", "Di"], "Email Address": ["a@x", "b", "c@", "d@x.org"]})
    table = read_table(data)
    match = match_headers(domain, table.headers, {})
    names = list(table.frame.columns)
    schema = {"idx": pl.Int64, "field": pl.String, "code": pl.String, "severity": pl.String, "message": pl.String,
              "suggestion": pl.String, "confidence": pl.Float64, "safe": pl.Boolean}
    scalar = pl.DataFrame({"idx": [3, 1, 1]}).with_columns(  # repeated values (literals), one cell twice
        field=pl.lit("Email Address"), code=pl.lit("invalid_email"), severity=pl.lit("error"),
        message=pl.Series(["m3", "m1", "m1b"]), suggestion=pl.lit(None, pl.String),
        confidence=pl.lit(None, pl.Float64), safe=pl.lit(False))
    mixed = pl.DataFrame({  # two fields, one not in the file; codes, severities and suggestions that vary
        "idx": [0, 1, 2, 2], "field": ["First Name", "Last Name", "First Name", "Email Address"],
        "code": ["a", "required", "b", "c"], "severity": ["warning", "error", "error", "warning"],
        "message": ["x0", "x1", "x2", "x3"], "suggestion": ["s", None, "t", None],
        "confidence": [0.5, None, 1.0, None], "safe": [True, None, False, False]}, schema=schema)
    valued = pl.DataFrame({"idx": [2, 0], "field": ["First Name"] * 2, "code": ["d"] * 2, "severity": ["error"] * 2,
                           "message": ["v2", "v0"], "suggestion": ["u"] * 2, "confidence": [1.0] * 2,
                           "safe": [True] * 2, "value": ["typed2", "typed0"]}, schema={**schema, "value": pl.String})
    col_of = {field: idx for idx, field in match.fields.items()}
    if not packed:
        monkeypatch.setattr(validation, "_KEY_BITS", 8)
    for parts in ([scalar, valued], [scalar, mixed, valued]):  # every column one value per frame, or not
        expected = pl.concat([p.with_columns(
            row=pl.col("idx") + 2,
            col_index=pl.col("field").replace_strict(col_of, default=None, return_dtype=pl.Int64),
        ) for p in parts], how="diagonal")
        expected = expected.with_columns(
            value=pl.coalesce("value", pl.struct("idx", "col_index").map_elements(
                lambda r: None if r["col_index"] is None else data[names[r["col_index"]]][r["idx"]],
                return_dtype=pl.String)),
            column=pl.col("col_index").replace_strict(dict(enumerate(table.headers)), default=None,
                                                      return_dtype=pl.String),
            safe=pl.col("safe").fill_null(False),
        ).sort(pl.col("row"), pl.col("col_index").fill_null(-1), maintain_order=True).select(validation.ISSUE_COLUMNS)
        placed = validation._place(parts[:], match, table, names, 2, table.frame)
        assert_frame_equal(placed, expected.cast(validation.ISSUE_SCHEMA))
        assert placed.height == sum(p.height for p in parts)


def test_placing_findings_casts_a_repeated_label_once_and_any_other_label_per_finding():
    """`_place` casts a label (field, code, severity) that one frame repeats once, and casts the others per
    finding: a label equal to the first but for a null, or a field that changes after the first finding, is
    placed finding by finding, and two findings of one cell keep their order across frames and within one."""
    from bulkassist.domains import get_domain
    from bulkassist.engine.headers import match_headers

    data = pl.DataFrame({"First Name": ["Ann", "Bob", "Cy"], "Email Address": ["a@x", "b", "c@"]})
    table = read_table(data)
    match = match_headers(get_domain("client"), table.headers, {})
    names = list(table.frame.columns)
    schema = {"idx": pl.Int64, "field": pl.String, "code": pl.String, "severity": pl.String, "message": pl.String,
              "suggestion": pl.String, "confidence": pl.Float64, "safe": pl.Boolean}
    first = pl.DataFrame({  # the code is the first's but for a null; the field changes after the first finding
        "idx": [2, 2, 0], "field": ["Email Address", "Email Address", "First Name"], "code": ["a", None, "a"],
        "severity": ["error"] * 3, "message": ["m1", "m2", "m3"], "suggestion": [None] * 3,
        "confidence": [None] * 3, "safe": [None, True, False]}, schema=schema)
    second = pl.DataFrame({"idx": [2, 0], "field": ["Email Address", "First Name"], "code": ["b", "b"],
                           "severity": ["warning", "warning"], "message": ["n1", "n2"], "suggestion": ["s", None],
                           "confidence": [0.5, None], "safe": [True, True]}, schema={**schema, "idx": pl.UInt32})
    untyped = pl.DataFrame({"idx": [1]}).with_columns(  # a row index of another type, null columns untyped
        field=pl.lit("Email Address"), code=pl.lit("c"), severity=pl.lit("error"), message=pl.lit("u"),
        suggestion=pl.lit(None), confidence=pl.lit(None), safe=pl.lit(None))
    placed = validation._place([first, second, untyped], match, table, names, 2, table.frame)
    assert placed.select(validation.ISSUE_COLUMNS).cast({c: pl.String for c in LABEL_COLUMNS}).rows() == [
        (2, 0, "First Name", "First Name", "Ann", "a", "error", "m3", None, None, False),
        (2, 0, "First Name", "First Name", "Ann", "b", "warning", "n2", None, None, True),
        (3, 1, "Email Address", "Email Address", "b", "c", "error", "u", None, None, False),
        (4, 1, "Email Address", "Email Address", "c@", "a", "error", "m1", None, None, False),
        (4, 1, "Email Address", "Email Address", "c@", None, "error", "m2", None, None, True),
        (4, 1, "Email Address", "Email Address", "c@", "b", "warning", "n1", "s", 0.5, True),
    ]
    assert placed.schema == validation.ISSUE_SCHEMA
