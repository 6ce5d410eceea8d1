"""Validation: a table plus a domain spec in, a `Report` out.

The one engine behind the CLI, the notebook API, the Excel add-in, the
dashboard and the server. It works a column at a time (polars), so a million
rows cost a few dozen vectorised passes, not a million Python calls. Most cells
are valid as typed: one pass of each kind's cheap test (`CellKind.as_typed`),
all columns in one `select`, finds the few that need the full check.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl

from bulkassist.domains import get_domain
from bulkassist.engine.headers import HeaderMatch, clean_header, match_headers
from bulkassist.engine.mapping import DO_NOT_IMPORT, propose_mapping, resolve_mapping
from bulkassist.engine.report import (
    ERROR_SEVERITY,
    ISSUE_COLUMNS,
    ISSUE_SCHEMA,
    WARNING_SEVERITY,
    ActionCodes,
    Report,
    as_text,
)
from bulkassist.engine.rules import RuleContext, run_rules
from bulkassist.engine.selectlists import SelectLists, demo_lists
from bulkassist.frames import flavour_of
from bulkassist.io.cells import CONTROL_CHARACTER, FORMULA_START, would_be_formula
from bulkassist.io.reading import Table, column_letter, read_table
from bulkassist.kinds import CellColumn, CellKind, kind_of
from bulkassist.kinds.base import FIELD_FINDING_SCHEMA, AsTyped, q
from bulkassist.spec import ADD, ADD_UPDATE, OPERATION_LABELS, Domain, Field, Kind
from bulkassist.spec import UPDATE as UPDATE_OP
from bulkassist.status import RowAction


def validate(
    data: Any,
    domain: str | Domain,
    operation: str | None = None,
    *,
    lists: SelectLists | None = None,
    options: dict[str, Any] | None = None,
    sheet: str | None = None,
    separator: str | None = None,
    encoding: str | None = None,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
    remembered: dict[str, dict[str, str]] | None = None,
) -> Report:
    """Validate `data` (a path, bytes, a pandas or polars DataFrame, a polars LazyFrame, a pyarrow Table,
    or a `Table`) for an import; the report's frames come back in `data`'s library.

    `operation` is "add", "update" or "add_update" (default: the domain's only
    operation, or "add_update"). `lists` answers select lists (default: the
    packaged demo lists; a `Client` supplies the server's). `mapping` pairs
    columns with targets ({"Student Number": "Identifier", "Notes": "-"}; "-"
    is do not import); a column neither mapped nor named by its header is an
    error until it is. `remembered` ({field: {value: new value}}) are value
    fixes the organisation remembered: applied, and listed as warnings. Field columns are checked in parallel
    threads, so `lists.options` may be called from several threads at once.
    """

    dom = get_domain(domain)
    op = dom.parse_operation(operation)
    opts = dom.parse_options(op, options)
    if separator is None and isinstance(data, (str, os.PathLike)) and dom.default_separator != ",":
        separator = dom.default_separator
    table = data if isinstance(data, Table) else read_table(
        data, sheet=sheet, separator=separator, encoding=encoding, name=name)
    size = os.path.getsize(data) if isinstance(data, (str, os.PathLike)) else None
    report = validate_table(table, dom, op, lists=lists or demo_lists(), options=opts, file_size=size,
                            mapping=mapping, remembered=remembered)
    report.flavour = flavour_of(data)
    return report


@dataclass
class _FileIssue:
    message: str
    code: str
    severity: str = ERROR_SEVERITY
    col_index: int | None = None
    column: str | None = None
    field: str | None = None
    blocking: bool = False  # every data row fails with it


def validate_table(
    table: Table,
    domain: Domain,
    operation: str,
    *,
    lists: SelectLists,
    options: dict[str, Any] | None = None,
    file_size: int | None = None,
    mapping: dict[str, str] | None = None,
    remembered: dict[str, dict[str, str]] | None = None,
) -> Report:
    chosen = resolve_mapping(domain, table.headers, mapping)
    match = match_headers(domain, table.headers, chosen)
    table, match, unused = _without_unused_columns(table, domain, match, chosen)
    frame = table.frame
    names = list(frame.columns)
    first_row = table.header_row + 1
    file_issues = _file_issues(table, domain, match, frame, file_size, lists) + unused

    # The organisation's remembered value fixes first (listed as warnings): the checks read the fixed cells.
    source, recalled = _remembered(frame, match, names, remembered)

    # Each field column is checked on its own (in parallel: polars releases the GIL), the others are
    # only trimmed; `blank` needs every column's trimmed cells. The cells valid as typed are found
    # first, for all columns in one pass: only the others get the full check. The cross-field rules run
    # as soon as the columns they read are checked (those are checked first), by the next free thread,
    # beside the checks of the other columns: they no longer wait for every column, then run alone.
    todo, typed_dates, distinct, warned = _valid_as_typed(source, table, domain, match, names, lists)

    def check(idx: int) -> _Checked:
        f = domain.field(match.fields[idx])
        raw = source[names[idx]]
        if idx in todo:  # each column's failing cells let go once checked (`pop`: one thread per column)
            found = _check_rest(f, raw, *todo.pop(idx), typed_dates.pop(idx, None), lists)
            if idx in warned:
                found.issues.append(_typed_warnings(f, *warned.pop(idx)))
            found.texts = distinct.get(idx)
            return found
        return _check_column(f, raw, table.number_cells.get(names[idx]), table.date_cells.get(names[idx]), lists)

    # The columns the rules read first; then a column whose bad texts are scored against a long select list
    # (the longest check, single-threaded: started last, it ran alone at the end while the other thread
    # had finished), longest list first; then the others, in file order.
    read_by_rules = _rule_fields(domain)
    field_idx = sorted(match.fields, key=lambda i: (match.fields[i] not in read_by_rules,
                                                    -_long_list(domain.field(match.fields[i]), lists)))
    checked, rule_issues = _check_all(
        field_idx, check, [idx for idx in field_idx if match.fields[idx] in read_by_rules],
        lambda for_rules: _rule_issues(domain, match, for_rules, frame.height, first_row))
    others = [c for i, c in enumerate(names) if i not in checked]
    trimmed_others = _trimmed(frame.select(others))
    trimmed = pl.DataFrame([checked[i].values if i in checked else trimmed_others[c] for i, c in enumerate(names)])
    blank = (
        trimmed.select(pl.all_horizontal(pl.all().is_null())).to_series()
        if names else pl.Series([], dtype=pl.Boolean)
    )

    values: dict[str, pl.Series] = {}
    normalized: dict[str, pl.Series] = {}
    dates: dict[str, pl.Series] = {}
    parts: list[pl.DataFrame] = [recalled]
    for idx, field_name in match.fields.items():
        found = checked[idx]
        values[field_name] = found.values.alias(field_name)
        normalized[field_name] = found.normalized.alias(field_name)
        if found.dates is not None:
            dates[field_name] = found.dates
        parts += [p.with_columns(field=pl.lit(field_name, ISSUE_SCHEMA["field"])) for p in found.issues if p.height]
    for idx, custom in match.custom.items():
        normalized[custom] = trimmed[names[idx]].alias(custom)

    row_op = _row_operations(domain, operation, values, frame.height)
    required, missing_cols = _required_issues(domain, row_op, values, blank)
    parts.append(required)
    for field_name in missing_cols:
        file_issues.append(_FileIssue(
            f"{table.source} has no '{field_name}' column, which {OPERATION_LABELS[operation]} needs; "
            f"add the column (see the template) and fill it in.", "missing_column", field=field_name))
    parts.append(rule_issues)

    parts = [p for p in parts if p.height]

    def issues() -> pl.DataFrame:  # placed when a front end first reads them (a summary does not need them)
        found = parts[:]
        parts.clear()  # `_place` lets each finding frame go once placed
        cell_issues = _drop_explained(_place(found, match, table, names, first_row, frame))
        return pl.concat([_file_issue_frame(file_issues), cell_issues], how="vertical")

    blocking = any(fi.blocking for fi in file_issues)
    actions = _actions(domain, operation, values, _error_rows(parts, match), blank, blocking)
    report = Report(
        domain=domain,
        operation=operation,
        source=table.source,
        columns=list(table.headers),
        frame_columns=names,
        column_fields={names[i]: match.fields.get(i) or match.custom.get(i) for i in range(len(names))},
        data=frame,
        normalized=pl.DataFrame(normalized) if normalized else pl.DataFrame(),
        issues=issues,
        actions=actions,
        header_row=table.header_row,
        custom_columns=[names[i] for i in match.custom],
        options=dict(options or {}),
        mapping=_mapping_of(table.headers, match),
    )
    return report


_WORKERS = min(4, os.cpu_count() or 1)  # threads checking columns (each holds its column's temporaries)
# A column whose first `_DISTINCT_SAMPLE` cells hold at most `_DISTINCT_SHARE` distinct values (names,
# select lists) is checked once per distinct value and the findings are placed on every cell holding it:
# the per-cell work becomes one hashing pass.
_DISTINCT_SAMPLE = 20_000
_DISTINCT_SHARE = 0.1
_DISTINCT_MIN_ROWS = 50_000
# The cells a column's one-pass test fails (`_check_rest`) are few, but a select column's bad cells repeat
# a few bad texts (1M rows: 39k cells, 9 texts): checked per distinct text from this many on, each of
# a dozen column operations runs on a handful of texts instead of 39k cells.
_REST_DISTINCT_MIN_ROWS = 10_000


# Below this many rows every filled cell gets the full check (the one-pass test saves nothing).
_AS_TYPED_MIN_ROWS = 1_000


def _valid_as_typed(frame: pl.DataFrame, table: Table, domain: Domain, match: HeaderMatch, names: list[str],
                    lists: SelectLists) -> tuple[dict[int, tuple[pl.Series, pl.Series]], dict[int, pl.Series],
                                                 dict[int, pl.Series], dict[int, tuple[pl.Series, pl.Series]]]:
    """Per field column whose kind has a test of cells as typed (`CellKind.as_typed`): the rows of the filled
    cells it does not pass and their texts (the only cells the full check reads), for a date field the
    dates of those it passes, for a column of few distinct texts (names) its filled texts, and for a test
    that warns (`AsTyped.warned`) the rows and texts of the failed cells it warns of. One `select` of
    every column's test, rows and texts: polars runs them side by side (each output is one list, so the few
    rows and texts never wait for a pass in Python).

    A column of few distinct texts (`_few_distinct`) is tested on the distinct texts of its sample, and its
    cells are looked up among those that pass: one lookup pass instead of a regex pass over 1M names (37
    against 10 ms). A text the sample missed is only checked in full. The texts that passed and those of
    the cells left to check are all the column's filled texts: the duplicate-row check reuses them
    (`RuleContext.distinct`) instead of finding them again.

    A workbook's typed cells (numbers, dates) are checked cell by cell, as before: their text is not
    what the person typed."""
    if frame.height < _AS_TYPED_MIN_ROWS:
        return {}, {}, {}, {}
    tests: dict[int, AsTyped] = {}
    for idx, field_name in match.fields.items():
        name = names[idx]
        if name in table.number_cells or name in table.date_cells:
            continue
        f = domain.field(field_name)
        typed = kind_of(f).as_typed(f, lists, pl.col(name))
        if typed is not None:
            tests[idx] = typed
    if not tests:
        return {}, {}, {}, {}
    passed: dict[int, pl.Series] = {}
    for idx, typed in list(tests.items()):
        if typed.valid is None or typed.lookup or not _few_distinct(frame[names[idx]]):
            continue
        sample = frame[names[idx]].head(_DISTINCT_SAMPLE).unique()
        passed[idx] = sample.filter(sample.to_frame().select(typed.valid.fill_null(False)).to_series())
        tests[idx] = AsTyped(pl.col(names[idx]).is_in(passed[idx].implode()))
    dates = {idx: typed.dates.alias(f"dates {idx}") for idx, typed in tests.items() if typed.dates is not None}
    todo = [(pl.col(names[idx]).is_not_null() & ~(
        pl.col(f"dates {idx}").is_not_null() if typed.valid is None else typed.valid.fill_null(False)
    )).alias(f"todo {idx}") for idx, typed in tests.items()]
    # Each test once (named columns: polars does not always share a subexpression used twice), then the
    # rows and texts of the cells it fails, every output one list.
    found = frame.lazy().with_columns(dates.values()).with_columns(todo).select(
        *[pl.arg_where(pl.col(f"todo {idx}")).implode().alias(f"rows {idx}") for idx in tests],
        *[pl.col(names[idx]).filter(pl.col(f"todo {idx}")).implode().alias(f"cells {idx}") for idx in tests],
        *[pl.col(f"dates {idx}").implode() for idx in dates],
    ).collect()
    failed = {idx: (found[f"rows {idx}"][0], found[f"cells {idx}"][0].alias(names[idx]).rechunk()) for idx in tests}
    # Every filled cell holds a text that passed or is one of the cells failed.
    texts = {idx: pl.concat([ok, failed[idx][1].unique()]).unique() for idx, ok in passed.items()}
    # The cells a test warns of are found among those it failed (a pass over those few, not the column).
    warned: dict[int, tuple[pl.Series, pl.Series]] = {}
    for idx, typed in tests.items():
        if typed.warned is not None:
            rows, cells = failed[idx]
            # (lazy: polars then shares the test's subexpressions, as in the pass above)
            warns = cells.to_frame().lazy().select(typed.warned.fill_null(False)).collect().to_series()
            if warns.any():
                warned[idx] = (rows.filter(warns), cells.filter(warns))
                failed[idx] = (rows.filter(~warns), cells.filter(~warns))
    return failed, {idx: found[f"dates {idx}"][0].alias(names[idx]) for idx in dates}, texts, warned


def _check_rest(f: Field, raw: pl.Series, todo: pl.Series, cells: pl.Series, dates: pl.Series | None,
                lists: SelectLists) -> _Checked:
    """`_check_column` of `cells`, the cells at rows `todo` only (the others are valid as typed:
    `_valid_as_typed`), spread over the whole column: the cells as they are where valid, the findings on
    their rows."""
    if not todo.len():
        return _Checked(raw, raw, dates, [])
    kind = kind_of(f)
    if _by_distinct_text(kind, cells, _REST_DISTINCT_MIN_ROWS):  # one hashing pass over the cells as they are
        found = _per_distinct(f, kind, cells, lists)
        changed = found.values is not cells  # (`_trimmed_series` hands back a column it did not change)
    else:
        trimmed, changed = _trimmed_anew(cells)
        found = _check_cells(f, kind, trimmed, None, None, lists)
    values = raw.clone().scatter(todo, found.values) if changed else raw
    normalized = values if _same(found.normalized, found.values) else values.clone().scatter(todo, found.normalized)
    if dates is not None and found.dates is not None and found.dates.null_count() < found.dates.len():
        dates = dates.clone().scatter(todo, found.dates)
    # Each finding carries its cell's text (`value`), gathered from the few cells checked: gathering it
    # later from the whole column, across its chunks, cost more than all the checks of those cells.
    rows = todo.cast(pl.Int64)
    return _Checked(values, normalized, dates, [
        p.with_columns(idx=rows.gather(p["idx"]), **({} if "value" in p.columns else {"value": cells.gather(p["idx"])}))
        for p in found.issues])


def _trimmed_anew(cells: pl.Series) -> tuple[pl.Series, bool]:
    """`_trimmed_series` of `cells` as new text, side by side in memory, and whether trimming changed a cell.

    The cells failing a one-pass test are views into the whole column's text: each of them a cache miss in
    every pass over them (1M clients, 39k emails: a length pass 3.6 ms, 0.2 ms over the same texts side by
    side; all of the email column's checks 55 against 25 ms CPU). Trimming writes them anew once; a text
    of 12 bytes or fewer is held in its view, and costs the same either way. Cells checked per distinct
    text are read once, by hashing, and are not written anew (select lists: 3-4 ms more a column)."""
    trimmed = cells.str.strip_chars()
    lengths = trimmed.str.len_bytes()
    changed = bool((lengths != cells.str.len_bytes()).any())
    if (lengths == 0).any():  # blank once trimmed: null
        return trimmed.replace("", None), True
    return trimmed, changed


def _typed_warnings(f: Field, rows: pl.Series, cells: pl.Series) -> pl.DataFrame:
    """The warnings of the cells at `rows` that the one-pass test warns of (`AsTyped.warned`): what their full
    check finds, with each cell's text (`value`), as `_check_rest` hands its findings on."""
    found = kind_of(f).typed_warnings(f, cells)
    at = found["idx"]
    each = pl.int_range(at.len(), dtype=pl.Int64, eager=True)
    if at.len() == cells.len() and at.equals(each, check_dtypes=False, check_names=False):
        # One warning per cell, in order (never-issued SSNs): the rows and texts as they are, not gathered
        # (1M clients, 105k SSNs: 0.9 against 4.9 ms).
        return found.with_columns(idx=rows.cast(pl.Int64), value=cells)
    return found.with_columns(idx=rows.cast(pl.Int64).gather(at), value=cells.gather(at))


def _long_list(f: Field, lists: SelectLists) -> int:
    """How many options `f`'s select list holds when more than `_LONG_LIST` (its check scores each distinct bad
    text against every option: 800 staff names, ~40 ms CPU at 1M clients), else 0."""
    if f.kind not in (Kind.SELECT, Kind.MULTI_SELECT) or not f.select_list:
        return 0
    try:
        size = len(lists.options(f.select_list))
    except KeyError:  # (the column's check says so)
        return 0
    return size if size > _LONG_LIST else 0


_LONG_LIST = 100


def _check_all(order: list[int], check: Callable[[int], _Checked], read_by_rules: list[int],
               rules: Callable[[dict[int, _Checked]], pl.DataFrame]) -> tuple[dict[int, _Checked], pl.DataFrame]:
    """Every column of `order` checked (`check`), and the rules run on the columns they read (`rules`), by
    `_WORKERS` threads, this one among them: each takes the next column in `order`, or the rules once their
    columns are checked. At most `_WORKERS` threads call polars at once: the rules no longer run in this
    thread beside `_WORKERS` checking threads (1M clients on two cores: the phase took 224 ms of CPU against
    233, 218 ms of wall against 222, medians of 12 fresh processes each)."""
    queue = order[::-1]  # the next column at the end
    waiting = set(read_by_rules)  # rule columns not checked yet
    checked: dict[int, _Checked] = {}
    found: list[pl.DataFrame] = []
    lock = threading.Lock()
    rules_taken = False

    def work() -> None:
        nonlocal rules_taken
        while True:
            with lock:
                take_rules = not waiting and not rules_taken
                rules_taken = rules_taken or take_rules
                if not take_rules and not queue:
                    return
                idx = -1 if take_rules else queue.pop()
            if take_rules:
                found.append(rules({i: checked[i] for i in read_by_rules}))
                continue
            checked[idx] = check(idx)
            with lock:
                waiting.discard(idx)

    with ThreadPoolExecutor(max_workers=max(_WORKERS - 1, 1)) as pool:
        helpers = [pool.submit(work) for _ in range(_WORKERS - 1)]
        work()
        for helper in helpers:
            helper.result()
    return checked, found[0]


def _rule_fields(domain: Domain) -> set[str]:
    """The fields the domain's cross-field rules read: those they name, and a field named by a parameter."""
    return {name for rule in domain.rules
            for name in (*rule.fields, *(v for v in rule.params.values() if isinstance(v, str)))}


def _rule_issues(domain: Domain, match: HeaderMatch, checked: dict[int, _Checked], height: int,
                 first_row: int) -> pl.DataFrame:
    """The cross-field rules' findings, from the checked columns of the fields they read (`checked`)."""
    values = {match.fields[idx]: found.normalized.alias(match.fields[idx]) for idx, found in checked.items()}
    dates = {match.fields[idx]: found.dates for idx, found in checked.items() if found.dates is not None}
    # A column stored as its trimmed cells holds the trimmed distinct texts found by the one-pass test.
    known = {match.fields[idx]: _trimmed_series(found.texts).unique() for idx, found in checked.items()
             if found.texts is not None and found.normalized is found.values}
    return run_rules(RuleContext(domain, values, height, first_row, dates, distinct=known))


@dataclass
class _Checked:
    values: pl.Series  # trimmed, null where blank
    normalized: pl.Series
    dates: pl.Series | None
    issues: list[pl.DataFrame]  # FINDING_SCHEMA frames, idx = data row
    texts: pl.Series | None = None  # a column of few distinct texts: its filled texts (`_valid_as_typed`)


def _check_column(f: Field, raw: pl.Series, number_cells: pl.Series | None, date_cells: pl.Series | None,
                  lists: SelectLists) -> _Checked:
    """One file column checked as field `f`: its trimmed values, what gets stored and its findings.

    A check's findings depend on the cell's text only, so a column of few distinct texts is checked per
    distinct text (`_per_distinct`); a workbook's typed cells and dates (whose parsed values the rules
    read per row) are checked cell by cell.
    """
    kind = kind_of(f)
    if number_cells is None and date_cells is None and _by_distinct_text(kind, raw):
        return _per_distinct(f, kind, raw, lists)
    return _check_cells(f, kind, _trimmed_series(raw), number_cells, date_cells, lists)


def _by_distinct_text(kind: CellKind, raw: pl.Series, min_rows: int | None = None) -> bool:
    """Whether a column of text cells is checked per distinct text: few distinct texts, and not dates."""
    return kind.kind is not Kind.DATE and _few_distinct(raw, min_rows)


def _check_cells(f: Field, kind: CellKind, values: pl.Series, number_cells: pl.Series | None,
                 date_cells: pl.Series | None, lists: SelectLists) -> _Checked:
    """`values` (trimmed, null where blank) checked cell by cell as field `f`."""
    col = CellColumn(field=f, values=values.alias(f.name), number_cells=number_cells, date_cells=date_cells)
    found = kind.check(col, lists)
    issues = [found.issues, _text_hazards(col)] if kind.stored_as_typed else [found.issues]
    return _Checked(values, found.normalized, found.dates, issues)


def _few_distinct(raw: pl.Series, min_rows: int | None = None) -> bool:
    if raw.len() < (_DISTINCT_MIN_ROWS if min_rows is None else min_rows):
        return False
    sample = raw.head(_DISTINCT_SAMPLE)
    return sample.n_unique() <= _DISTINCT_SHARE * sample.len()


def _per_distinct(f: Field, kind: CellKind, raw: pl.Series, lists: SelectLists) -> _Checked:
    """`_check_column` on the distinct texts of `raw`, mapped back to its cells (exact: by text, no hash)."""
    # The distinct texts in order of first appearance, each with the rows holding it (in order): one pass
    # finds both, and a finding is placed on its cells by gathering its text's rows (no join of texts).
    groups = raw.to_frame("_v").with_row_index("idx").group_by("_v", maintain_order=True).agg("idx")
    distinct = groups["_v"].alias(raw.name)
    trimmed = _trimmed_series(distinct)
    col = CellColumn(field=f, values=trimmed.alias(f.name))
    found = kind.check(col, lists)
    values = raw if _same(trimmed, distinct) else _trimmed_series(raw)
    normalized = values
    if not _same(found.normalized, trimmed):
        changed = pl.DataFrame({"old": trimmed, "new": found.normalized}).filter(
            pl.col("old").ne_missing(pl.col("new")) & pl.col("old").is_not_null()).unique("old", maintain_order=True)
        normalized = values.replace(changed["old"], changed["new"])
    issues = [found.issues, _text_hazards(col)] if kind.stored_as_typed else [found.issues]
    return _Checked(values, normalized, None, [_on_cells(p, groups) for p in issues if p.height])


def _same(a: pl.Series, b: pl.Series) -> bool:
    return a is b or bool(a.eq_missing(b).all())  # `_trimmed_series` hands back a column it did not change


def _on_cells(found: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Findings about distinct texts (`idx` into `groups`: each distinct text `_v` with the rows `idx` holding
    it) as findings about every cell holding that text: in the findings' order, then by row (so two
    findings of a cell keep their order), with the cell's text as `value`."""
    at = found["idx"]
    return found.with_columns(idx=groups["idx"].gather(at), value=groups["_v"].gather(at)).explode("idx").select(
        pl.col("idx").cast(pl.Int64), *[c for c in found.columns if c != "idx"], "value")


def _trimmed_series(values: pl.Series) -> pl.Series:
    """`values` without surrounding spaces, blank cells null; the same Series (object) when nothing changes."""
    frame = values.to_frame()
    trimmed = _trimmed(frame)
    return values if trimmed is frame else trimmed.to_series()


def _mapping_of(headers: list[str], match: HeaderMatch) -> dict[str, str | None]:
    """{header: target} of every headed column: a field, `Custom.NAME`, "-" (do not import) or None (unmapped)."""
    out: dict[str, str | None] = {}
    for idx, header in enumerate(headers):
        text = clean_header(header)
        if text and text not in out:
            out[text] = (match.fields.get(idx) or match.custom.get(idx)
                         or (DO_NOT_IMPORT if idx in match.skipped else None)
                         or (match.fields.get(match.duplicates[idx]) if idx in match.duplicates else None))
    return out


def _remembered(frame: pl.DataFrame, match: HeaderMatch, names: list[str],
                remembered: dict[str, dict[str, str]] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The cells with the organisation's remembered values replaced (a column with one is trimmed), and
    one warning per replaced cell (code `remembered_value`, safe, the new value as its suggestion): never a
    silent change."""
    if not remembered:
        return frame, pl.DataFrame()
    parts = []
    for idx, field_name in match.fields.items():
        pairs = remembered.get(field_name)
        if not pairs or idx >= len(names):
            continue
        col = _trimmed_series(frame[names[idx]])
        hit = col.is_in(list(pairs))
        if not hit.any():
            continue
        fixed = col.replace_strict(pairs, default=col)
        parts.append(pl.DataFrame({"old": col, "new": fixed}).with_row_index("idx").filter(hit).select(
            pl.col("idx").cast(pl.Int64),
            pl.lit(field_name).alias("field"),
            pl.lit("remembered_value").alias("code"),
            pl.lit(WARNING_SEVERITY).alias("severity"),
            pl.concat_str([q(pl.col("old")), pl.lit(" was changed to "), q(pl.col("new")),
                           pl.lit(", a value fix your organisation remembered")]).alias("message"),
            pl.col("new").alias("suggestion"),
            pl.lit(1.0).alias("confidence"),
            pl.lit(True).alias("safe"),
        ))
        frame = frame.with_columns(fixed.alias(names[idx]))
    return frame, (pl.concat(parts) if parts else pl.DataFrame())


def _trimmed(frame: pl.DataFrame) -> pl.DataFrame:
    """Cells without surrounding spaces, blank cells null. Only columns that need it are rewritten:
    a clean column is shared, not copied (a million-row file would otherwise double in memory)."""
    if not frame.width:
        return frame
    needs = frame.select(
        ((pl.col(c).str.len_bytes() != pl.col(c).str.strip_chars().str.len_bytes()) | (pl.col(c) == "")).any()
        for c in frame.columns
    ).row(0)
    dirty = [c for c, need in zip(frame.columns, needs, strict=True) if need]
    return frame.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in dirty) if dirty else frame


# ------------------------------------------------------------- file level
# Columns that are not fields, reported one by one before the rest is cut: a file 16,384 columns wide
# (a formatted Excel range, one record with thousands of stray separators) would otherwise carry every
# column through every step and into the annotated copy.
MAX_UNKNOWN_COLUMNS = 20


def _without_unused_columns(table: Table, domain: Domain, match: HeaderMatch,
                            chosen: dict[int, str]) -> tuple[Table, HeaderMatch, list[_FileIssue]]:
    """The table up to its last field column or its `MAX_UNKNOWN_COLUMNS`-th other column, whichever is
    further; the columns after it are named in one file-level warning. Column positions never change."""
    used = [*match.fields, *match.custom, *match.duplicates, *match.skipped]
    others = sorted([*match.unknown, *match.blank])
    keep = max([*used, *others[:MAX_UNKNOWN_COLUMNS]], default=-1) + 1
    if keep >= len(table.headers):
        return table, match, []
    cut = table.frame.columns[keep:]
    filled = sum(table.frame.select(cut).count().row(0))
    named = [clean_header(h) for h in table.headers[keep:] if clean_header(h)]
    which = (f"headed {', '.join(repr(h) for h in named[:5])}{', …' if len(named) > 5 else ''}" if named
             else "without headers")
    message = (
        f"{table.source} has {len(cut):,} more columns from column {column_letter(keep)} on, {which}, that are "
        f"not {domain.title} fields; their {filled:,} filled cells are not read. Delete those columns (or move "
        f"a column the import needs before column {column_letter(keep)})."
    )
    narrowed = table.first_columns(keep)
    return narrowed, match_headers(domain, narrowed.headers, {i: t for i, t in chosen.items() if i < keep}), [
        _FileIssue(message, "unused_columns", WARNING_SEVERITY)]


def _file_issues(table: Table, domain: Domain, match: HeaderMatch, frame: pl.DataFrame,
                 file_size: int | None, lists: SelectLists) -> list[_FileIssue]:
    out: list[_FileIssue] = []
    headers = table.headers
    src = table.source

    too_large = None if file_size is None else domain.file_too_large(src, file_size)
    if too_large:
        out.append(_FileIssue(too_large, "file_too_large", blocking=True))
    for note in getattr(table, "notes", []) or []:
        out.append(_FileIssue(note, "file_note", severity=WARNING_SEVERITY))
    for idx in match.blank:
        filled = frame[frame.columns[idx]].str.strip_chars().replace("", None).drop_nulls().len()
        if filled:
            out.append(_FileIssue(
                f"Column {column_letter(idx)} has no header (a merged or deleted header?) but holds {filled} values; "
                "they are ignored. Give the column one of the template's headers or delete it.",
                "blank_header", WARNING_SEVERITY, idx, headers[idx]))
    # A column neither named by its header nor mapped is an error until a person maps it or chooses
    # "Do not import": its values are never dropped silently.
    proposal = propose_mapping(table, domain, lists=lists) if match.unknown else []
    for idx in match.unknown:
        guess = proposal[idx]
        hint = (f"; did you mean '{guess['target']}'?" if guess["method"] == "fuzzy" else
                f"; its values look like {guess['target']}" if guess["method"] == "values" else "")
        out.append(_FileIssue(
            f"Column {column_letter(idx)} '{clean_header(headers[idx])}' is not mapped: map it to a {domain.title} "
            f"field or choose Do not import ('{DO_NOT_IMPORT}'){hint}.",
            "unmapped_column", ERROR_SEVERITY, idx, headers[idx], guess["target"]))
    for idx in match.skipped:
        filled = frame[frame.columns[idx]].str.strip_chars().replace("", None).drop_nulls().len()
        out.append(_FileIssue(
            f"Column {column_letter(idx)} '{clean_header(headers[idx])}' is not imported (mapped to Do not import); "
            f"its {filled:,} filled cells are left out.", "not_imported", WARNING_SEVERITY, idx, headers[idx]))
    for idx, first in match.duplicates.items():
        out.append(_FileIssue(
            f"Column {column_letter(idx)} '{clean_header(headers[idx])}' repeats column {column_letter(first)} "
            f"'{clean_header(headers[first])}'; only column {column_letter(first)} is used. Delete one of them.",
            "duplicate_column", ERROR_SEVERITY, idx, headers[idx], match.fields[first]))
    if domain.strict_column_order:
        expected = domain.field_names
        got = [clean_header(h) for h in headers]
        if [match.fields.get(i) for i in range(len(headers))] != expected:
            out.append(_FileIssue(
                f"{domain.title} files must hold exactly these columns in this order: {', '.join(expected)}. "
                f"{src} has: {', '.join(got) or '(no columns)'}.", "column_order", blocking=True))
    if frame.height == 0:
        out.append(_FileIssue(f"{src} has a header row but no data rows; there is nothing to import.",
                              "no_rows", WARNING_SEVERITY))
    return out


def _file_issue_frame(items: list[_FileIssue]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": [None] * len(items),
            "col_index": [i.col_index for i in items],
            "column": [i.column for i in items],
            "field": [i.field for i in items],
            "value": [None] * len(items),
            "code": [i.code for i in items],
            "severity": [i.severity for i in items],
            "message": [i.message for i in items],
            "suggestion": [None] * len(items),
            "confidence": [None] * len(items),
            "safe": [False] * len(items),
        },
        schema=ISSUE_SCHEMA,
    )


# -------------------------------------------------------------- row level
def _id_key(domain: Domain) -> str | None:
    """The field holding the system's own ID of the record, when it alone identifies it (Client ID)."""
    if domain.match_key and len(domain.match_key) == 1 and domain.match_key[0] == domain.id_field:
        return domain.id_field
    return None


def _row_operations(domain: Domain, operation: str, values: dict[str, pl.Series], height: int) -> pl.Series:
    """Per row, the operation whose requirements apply: a filled Client ID makes an Add an Update.

    An Enum (one byte a row) rather than text: a text per row held 16 bytes of each of 5M rows."""
    key = _id_key(domain)
    if operation == UPDATE_OP:
        return pl.repeat(UPDATE_OP, height, dtype=_OPERATION, eager=True).alias("op")
    if key and key in values:
        has_id = values[key].is_not_null()
        return pl.select(pl.when(has_id).then(pl.lit(UPDATE_OP, _OPERATION)).otherwise(pl.lit(ADD, _OPERATION))
                         ).to_series().alias("op")
    return pl.repeat(ADD if operation == ADD or key else ADD_UPDATE, height, dtype=_OPERATION, eager=True).alias("op")


_OPERATION = pl.Enum([ADD, UPDATE_OP, ADD_UPDATE])


def _required_issues(domain: Domain, row_op: pl.Series, values: dict[str, pl.Series],
                     blank: pl.Series) -> tuple[pl.DataFrame, list[str]]:
    """Blank required cells, per row by the operation that applies to the row.

    A required column missing from the file makes every row that needs it an
    error (the issue has no cell: `col_index` is null) and is named once in
    the returned list for a file-level message.
    """
    parts = []
    missing_columns = []
    key = _id_key(domain)
    for f in domain.fields:
        ops = [o for o in (ADD, UPDATE_OP) if f.is_required(o)]
        if ADD_UPDATE in f.required_for or (ADD in f.required_for and UPDATE_OP in f.required_for):
            ops.append(ADD_UPDATE)
        if not ops:
            continue
        col = values.get(f.name)
        absent = col is None
        # The blank cells first (a boolean pass), then the operation of those rows only: the row
        # operations are text, and comparing a million of them per required field cost more than the rest.
        empty = ~blank if col is None else col.is_null() & ~blank
        if not empty.any():
            continue
        missing = pl.DataFrame({"op": row_op}).with_row_index("idx").filter(empty).filter(pl.col("op").is_in(ops))
        if not missing.height:
            continue
        if absent:
            missing_columns.append(f.name)
        why = pl.when(pl.col("op") == ADD).then(
            pl.lit(f" to add a new {domain.title.lower()}" + (f" ({key} is blank)" if key else ""))
        ).when(pl.col("op") == UPDATE_OP).then(pl.lit(f" to update a {domain.title.lower()}")).otherwise(pl.lit(""))
        parts.append(missing.select(
            pl.col("idx").cast(pl.Int64),
            pl.lit(f.name).alias("field"),
            pl.lit("required").alias("code"),
            pl.lit(ERROR_SEVERITY).alias("severity"),
            pl.concat_str([pl.lit(f"{f.name} is required"), why,
                           pl.lit("; the file has no such column." if absent else "; this cell is blank.")
                           ]).alias("message"),
            pl.lit(None, pl.String).alias("suggestion"),
            pl.lit(None, pl.Float64).alias("confidence"),
            pl.lit(False).alias("safe"),
        ))
    return (pl.concat(parts) if parts else pl.DataFrame()), missing_columns


def _text_hazards(col: CellColumn) -> pl.DataFrame:
    """Text cells holding a formula (a CSV exported with formulas shown, or an injection attempt: an
    error), text a spreadsheet would run as a formula ("@home", "-x", "＝1+1": a warning, it is stored
    as typed and escaped in every file written), or a control character such as NUL (databases refuse
    it; it usually comes from a binary copy-paste) or an invisible one such as a zero-width space (`CONTROL_CHARACTERS`)."""
    # One regex pass finds the few cells that may be either; only they get the exact tests (none, usually:
    # then no frame is built at all).
    maybe = col.values.str.contains(f"{FORMULA_START}|{CONTROL_CHARACTER}")
    if not maybe.any():
        return pl.DataFrame(schema=FIELD_FINDING_SCHEMA)
    frame = pl.DataFrame({"v": col.values}).with_row_index("idx").filter(maybe)
    control = pl.col("v").str.contains(CONTROL_CHARACTER)
    formula = pl.col("v").str.starts_with("=")
    hits = frame.filter(control | would_be_formula(pl.col("v")))
    return hits.select(
        pl.col("idx").cast(pl.Int64),
        pl.lit(col.field.name).alias("field"),
        pl.when(control).then(pl.lit("control_character")).when(formula).then(pl.lit("formula"))
        .otherwise(pl.lit("formula_like")).alias("code"),
        pl.when(control | formula).then(pl.lit(ERROR_SEVERITY)).otherwise(pl.lit(WARNING_SEVERITY)).alias("severity"),
        pl.when(control).then(pl.concat_str([
            q(pl.col("v").str.replace_all(CONTROL_CHARACTER, "�")),
            pl.lit(" contains an invisible control character (shown as �); retype the value without it."),
        ])).when(formula).then(pl.concat_str([
            q(pl.col("v")), pl.lit(" is a spreadsheet formula; formulas are not imported. Type the value itself."),
        ])).otherwise(pl.concat_str([
            q(pl.col("v")), pl.lit(" begins like a spreadsheet formula: it is imported as typed, and CSV files "
                                   "made from it show an apostrophe in front so that no spreadsheet runs it."),
        ])).alias("message"),
        pl.lit(None, pl.String).alias("suggestion"),
        pl.lit(None, pl.Float64).alias("confidence"),
        pl.lit(False).alias("safe"),
    )


def _place(parts: list[pl.DataFrame], match: HeaderMatch, table: Table, names: list[str], first_row: int,
           frame: pl.DataFrame) -> pl.DataFrame:
    """Turn per-field findings (idx, field, ...) into report issues (row, col_index, column, value, ...).

    Each part is placed on its own (most hold one field: a column lookup, no join) and the value is
    gathered per issue, not per cell of the file; the parts keep their order for issues of one cell.
    """
    parts[:] = [p for p in parts if p.height][::-1]  # in place: the frames leave `parts` as they are placed
    if not parts:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    col_of = {name: idx for idx, name in match.fields.items()}
    # An issue's cell: row * width + column + 1 (0: a field with no column), width a power of two: row and
    # column are read back from the keys by shifts and masks (a division by 14 costs ~1 ms at 490k issues).
    width = 1 << len(names).bit_length()
    # An issue's sort key packs its cell, its part and its place among all the issues, in that order: the keys
    # are distinct and in the issues' order where cells are equal, so a plain sort is stable (1M clients' 490k
    # issues: 10 ms, against 34 ms for numpy's stable argsort of the cells), and the part and the place are
    # read back from the sorted keys.
    pos_bits = (sum(p.height for p in parts) - 1).bit_length()
    low_bits = pos_bits + max(1, (len(parts) - 1).bit_length())
    packed = low_bits <= 32 and ((first_row + frame.height + 1) * width) << low_bits < 1 << _KEY_BITS
    keys: list[pl.DataFrame] = []
    labels: dict[str, list[Any]] = {name: [] for name in _LABELS}  # per part: its one label, or a label per issue
    data: list[pl.DataFrame] = []  # per part: the columns placed as they are
    start = 0
    while parts:
        part = parts.pop()  # each finding frame is let go once placed: one copy of the issues at a time
        # A finding frame's labels are mostly one literal repeated: found in one pass (comparisons, no
        # hashing), such a label is kept once for its part and cast once, not per finding (1M clients: the
        # codes' and severities' casts cost 14 ms each); one field is one column (or none).
        same = part.select(pl.col(_LABELS).eq_missing(pl.col(_LABELS).first()).all()).row(0, named=True)
        one = same["field"]
        column = col_of.get(part["field"][0]) if one else None
        index = (pl.lit(-1 if column is None else column, pl.Int64) if one else
                 pl.col("field").replace_strict(col_of, default=-1, return_dtype=pl.Int64))
        row = pl.col("idx").cast(pl.Int64) + first_row
        if packed:  # for one field, the terms that do not vary are folded into the places: one product a finding
            at = (len(keys) << pos_bits) + start + (
                (first_row * width + (-1 if column is None else column) + 1) << low_bits if one else 0)
            cell = pl.col("idx").cast(pl.Int64) * width if one else row * width + index + 1
            keys.append(part.select(
                (cell * (1 << low_bits) + pl.int_range(at, at + part.height, dtype=pl.Int64)).alias("key")))
        else:
            keys.append(part.select(cell=row * width + index + 1, part=pl.lit(len(keys), pl.UInt32)))
        start += part.height
        for name in _LABELS:
            labels[name].append(part[name][0] if same[name] else part[name].cast(ISSUE_SCHEMA[name]))
        data.append(part.select(
            _cell_values(part, column if one else ..., col_of, names, frame), "message", "suggestion",
            "confidence", pl.col("safe").fill_null(False)).cast({name: ISSUE_SCHEMA[name] for name in _MOVED}))
        del part
    joined = pl.concat(keys)
    keys.clear()
    if packed:
        found = joined.to_series().sort(multithreaded=False).to_frame()
        key, low = pl.col("key"), pl.col("key").cast(pl.UInt32, wrap_numerical=True)  # low: the part and the place
        read = {"order": low & pl.lit((1 << pos_bits) - 1, pl.UInt32),
                "part": (low & pl.lit((1 << low_bits) - 1, pl.UInt32)) // pl.lit(1 << pos_bits, pl.UInt32),
                "row": key // (width << low_bits), "col_index": (key // (1 << low_bits) & (width - 1)) - 1}
    else:  # too many issues or cells to pack: a stable sort of the cells
        found = joined.with_row_index("order").sort("cell", maintain_order=True)
        read = {"order": pl.col("order"), "part": pl.col("part"), "row": pl.col("cell") // width,
                "col_index": pl.col("cell") % width - 1}
    del joined
    order = found.select(read["order"].alias("order")).to_series()
    # Sorted a column at a time, one after the other: each column of the parts is joined (one chunk: a
    # gather across the parts' chunks costs six times as much), gathered and let go before the next, so
    # the parts' columns made at once (a frame of all of them) are never held beside their sorted copies,
    # and each column's copy reuses the memory the last one let go.
    ordered: dict[str, pl.Series] = {}
    sizes = [d.height for d in data]
    for name in _MOVED:
        pieces = [d.get_column(name) for d in data]
        data = [d.drop(name) for d in data]
        moved = pl.concat(pieces, rechunk=True)
        del pieces
        ordered[name] = moved.gather(order)
        del moved
    # Row, column and labels made last, from the sorted keys: not held while the columns above are moved
    # (their copies are the largest made).
    ordered |= found.select(read["row"].alias("row"), read["col_index"].alias("col_index")).to_dict()
    if (ordered["col_index"] < 0).any():  # findings of a field with no column: no column index
        ordered["col_index"] = ordered["col_index"].to_frame().select(
            pl.when(pl.col("col_index") >= 0).then("col_index")).to_series()
    part_of = found.select(read["part"].alias("part")).to_series()
    del found
    for name in _LABELS:
        got = labels.pop(name)
        if not any(isinstance(label, pl.Series) for label in got):  # a label per part: picked by part
            ordered[name] = pl.Series(name, got, dtype=ISSUE_SCHEMA[name]).gather(part_of)
        else:
            ordered[name] = pl.concat([
                label if isinstance(label, pl.Series) else pl.repeat(label, size, dtype=ISSUE_SCHEMA[name], eager=True)
                for label, size in zip(got, sizes, strict=True)], rechunk=True).gather(order).alias(name)
    del part_of
    # A column's header is looked up once the issues are in order: a text per issue is never moved.
    headers = pl.Series(list(table.headers), dtype=ISSUE_SCHEMA["column"])
    ordered["column"] = headers.gather(ordered["col_index"]).alias("column")
    return pl.DataFrame([ordered[name] for name in ISSUE_COLUMNS])


def _cell_values(part: pl.DataFrame, column: Any, col_of: dict[str, int], names: list[str],
                 frame: pl.DataFrame) -> pl.Series:
    """A finding frame's cell texts: carried by findings made per distinct text (`_on_cells`), else read from
    the frame: from `column`, the one column of the frame's one field (None: that field has no column), or,
    with `column` given as `...` (several fields), from each finding's field's column (null where none)."""
    if "value" in part.columns:
        return part["value"]
    if column is not ...:
        return (frame[names[column]].gather(part["idx"]) if column is not None
                else pl.repeat(None, part.height, dtype=pl.String, eager=True)).alias("value")
    columns = part["field"].replace_strict(col_of, default=None, return_dtype=pl.Int64)
    value = pl.repeat(None, part.height, dtype=pl.String, eager=True)
    for index in columns.unique().drop_nulls().to_list():
        at = (columns == index).arg_true()
        value = value.scatter(at, frame[names[index]].gather(part["idx"].gather(at)))
    return value.alias("value")


_KEY_BITS = 63  # an Int64 sort key's bits (`_place`)
_MOVED = ["value", "message", "suggestion", "confidence", "safe"]  # the columns `_place` moves as they are
_LABELS = ["field", "code", "severity"]  # the labels of a finding (`ISSUE_SCHEMA`: Categorical)


def _drop_explained(issues: pl.DataFrame) -> pl.DataFrame:
    """A cell holding several values ("CPE, CME") is explained by that rule; 'not in the list' adds nothing."""
    several = issues.filter(pl.col("code") == "several_values").select("row", "col_index")
    if not several.height:
        return issues
    redundant = issues.filter(pl.col("code") == "not_in_list").join(several, on=["row", "col_index"], how="semi")
    return issues.join(redundant, on=ISSUE_COLUMNS, how="anti", nulls_equal=True)


def _error_rows(parts: list[pl.DataFrame], match: HeaderMatch) -> pl.Series:
    """The data rows (0-based; a row may repeat) with an error among the findings, as `_drop_explained`
    leaves them: read from the findings themselves, so row actions never wait for the issues to be placed."""
    if not parts:
        return pl.Series("idx", [], dtype=pl.Int64)
    in_file = list(match.fields.values())
    field = as_text("field")  # a field's own findings name it as a Categorical, the rules as text
    # The frames holding a cell of several values are found by their codes alone: the fields are read in
    # those only (1M clients: 2 ms, against 7-10 ms for filtering every frame by code and field).
    several = pl.concat([p.filter((pl.col("code") == "several_values") & pl.col("field").is_in(in_file)).select(
        pl.col("idx").cast(pl.Int64), field) for p in parts
        if p.select((pl.col("code") == "several_values").any()).item()] or [pl.DataFrame()])
    is_error = pl.col("severity") == ERROR_SEVERITY
    if not several.height:  # the usual case: the rows alone (8 bytes an error, not its field and code too)
        return pl.concat([p.filter(is_error).select(pl.col("idx").cast(pl.Int64)) for p in parts]).to_series()
    errors = pl.concat([p.filter(is_error).select(pl.col("idx").cast(pl.Int64), field, "code") for p in parts])
    explained = (pl.col("code") == "not_in_list") & pl.col("field").is_in(in_file)
    return pl.concat([errors.filter(~explained),
                      errors.filter(explained).join(several, on=["idx", "field"], how="anti")])["idx"]


def _actions(domain: Domain, operation: str, values: dict[str, pl.Series], error_idx: pl.Series,
             blank: pl.Series, blocking: bool) -> ActionCodes:
    """Each row's action as a code of `ActionCodes` (one byte a row): their text is made when read."""
    height = blank.len()
    has_error = pl.repeat(False, height, dtype=pl.Boolean, eager=True)  # no Python list of a million
    if error_idx.len():
        has_error = has_error.scatter(error_idx.cast(pl.Int64), True)
    key = _id_key(domain)
    insert, update, skip, error = (pl.lit(ActionCodes.ACTIONS.index(a), dtype=pl.UInt8) for a in (
        RowAction.INSERT, RowAction.UPDATE, RowAction.SKIP, RowAction.ERROR))
    if operation == UPDATE_OP:
        base = update
    elif key and key in values:
        base = pl.when(pl.col("has_id")).then(update).otherwise(insert)
    else:
        base = insert
    # Whether each row has an ID, not the ID texts: a frame holding the text column made polars copy all of
    # it into one chunk (16 bytes a row and the texts: 95 MB at 5M rows, kept by the allocator).
    frame = pl.DataFrame({
        "blank": blank,
        "err": has_error,
        "has_id": values[key].is_not_null() if key and key in values else pl.repeat(False, height, eager=True),
    })
    return ActionCodes(frame.select(
        pl.when(pl.col("blank")).then(skip)
        .when(pl.col("err") | pl.lit(blocking)).then(error)
        .otherwise(base).alias("action")
    ).to_series())
