"""The validation report: the one object every front end reads.

Excel paints it, the dashboard renders it, a notebook shows its `styled()`, the CLI
prints and writes it, the server stores it. None of them re-derives a rule.

Everything is columnar (polars frames), so a million-row report with a few
hundred thousand issues costs no Python object per cell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from bulkassist.frames import as_flavour
from bulkassist.io.csv import csv_bytes
from bulkassist.spec import Domain, Kind
from bulkassist.status import VALID_ACTIONS, RowAction, RowStatus

if TYPE_CHECKING:  # pragma: no cover
    from pandas.io.formats.style import Styler

ERROR_SEVERITY, WARNING_SEVERITY = "error", "warning"
# How `Report.styled()` marks a cell in a notebook (Excel's own "bad" and "neutral" fills).
ERROR_CSS = "background-color: #FFC7CE; color: #9C0006"
WARNING_CSS = "background-color: #FFEB9C; color: #9C5700"

# One row per problem. `row` is the spreadsheet row number (the header is row 1);
# it is null for a file-level issue (a missing column, a duplicated header...).
# `col_index` is the 0-based position of the column in the file (null when the
# column is absent from the file), so painters never look a header up again.
# `column`, `field`, `code` and `severity` hold a few distinct texts each: as Categorical they take 4 bytes
# an issue, not a 16-byte text each (5M rows, 2.5M issues: 113 MB less held, the peak 60-150 MB lower). They
# compare with text as text does; the frames handed out (`issues_frame`, `errors_table`) hold text.
ISSUE_SCHEMA = pl.Schema({
    "row": pl.Int64(),
    "col_index": pl.Int64(),
    "column": pl.Categorical(),
    "field": pl.Categorical(),
    "value": pl.String(),
    "code": pl.Categorical(),
    "severity": pl.Categorical(),
    "message": pl.String(),
    "suggestion": pl.String(),
    "confidence": pl.Float64(),
    "safe": pl.Boolean(),
})
ISSUE_COLUMNS = list(ISSUE_SCHEMA)
LABEL_COLUMNS = [name for name, dtype in ISSUE_SCHEMA.items() if dtype == pl.Categorical]

RESULT_COLUMNS = ["Row Number", "Status", "Action", "Created/Updated ID", "Error Messages"]

# The errors file (errors CSV, the server's errors file): one line per issue, header -> ISSUE_SCHEMA column.
ERRORS_LAYOUT = {
    "Row": "row",
    "Column": "column",
    "Field": "field",
    "Value": "value",
    "Severity": "severity",
    "Code": "code",
    "Message": "message",
    "Suggestion": "suggestion",
}
ERRORS_COLUMNS = list(ERRORS_LAYOUT)
# Its columns a person fixing the sheet reads: the Errors sheet of an annotated workbook, Excel's issue list.
SHEET_ERRORS_COLUMNS = ["Row", "Column", "Value", "Severity", "Message", "Suggestion"]

# The counts the seeds name (Total, Valid, Error, Skipped rows), the valid rows split by action, and the
# Update rows that would change nothing (`RowAction.NO_CHANGE`: only the server knows the stored values);
# the server's import summary and the client's `Import.summary` carry the same keys.
SUMMARY_KEYS = ("total", "valid", "errors", "skipped", "insert", "update", "no_change")
# A No change row in the results file: its Status, and the text in Error Messages that says why.
NO_CHANGE_STATUS = RowStatus.SKIPPED
NO_CHANGE_NOTE = "no change: every value equals the stored record (blank cells keep stored values); nothing written"


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def errors_table(issues: pl.DataFrame, columns: list[str] = ERRORS_COLUMNS) -> pl.DataFrame:
    """`issues` (ISSUE_SCHEMA names) in the errors file's layout, or in `columns` of it: all text, as every
    writer's guard reads it (a header is the person's text, and may begin like a formula)."""
    return issues.select(as_text(ERRORS_LAYOUT[c]).alias(c) for c in columns)


def issue_texts(issues: pl.DataFrame) -> pl.DataFrame:
    """`issues` with their Categorical columns (`LABEL_COLUMNS`) as text: the frame handed to a person."""
    return issues.select(as_text(name) for name in issues.columns)


def as_text(name: str) -> pl.Expr:
    """Issue column `name` as text (a Categorical one cast): for `.str` work, and for frames handed out."""
    return pl.col(name).cast(pl.String) if name in LABEL_COLUMNS else pl.col(name)


def summarize(actions: pl.Series) -> dict[str, int]:
    """The summary of per-row actions (`RowAction`): blank rows are skipped, not counted
    in Total; No change rows are counted in Total, not in Valid (the commit writes nothing for them)."""
    # One comparison per action (a few bytes a row, no hashing): a third of `value_counts` at 1M rows.
    return _summary_of({action: int((actions == action).sum()) for action in RowAction}, actions.len())


def _summary_of(counts: Mapping[str, int], rows: int) -> dict[str, int]:
    """The summary (`SUMMARY_KEYS`) of `rows` rows holding `counts` of each `RowAction`."""
    inserts, updates = counts.get(RowAction.INSERT, 0), counts.get(RowAction.UPDATE, 0)
    skipped = counts.get(RowAction.SKIP, 0)
    return {
        "total": rows - skipped,
        "valid": inserts + updates,
        "errors": counts.get(RowAction.ERROR, 0),
        "skipped": skipped,
        "insert": inserts,
        "update": updates,
        "no_change": counts.get(RowAction.NO_CHANGE, 0),
    }


class ActionCodes:
    """Row actions as one small integer a row, the position of the row's action in `ACTIONS`: what
    validation works out. The text (`RowAction` per row, 16 bytes a row: 80 MB at 5M rows) is made
    only when a front end reads `Report.actions`; the summary counts the codes."""

    ACTIONS = (RowAction.INSERT, RowAction.UPDATE, RowAction.SKIP, RowAction.ERROR)

    def __init__(self, codes: pl.Series):
        self.codes = codes

    def __call__(self) -> pl.Series:
        """The actions as text (`Report.actions`)."""
        return pl.Series("action", self.ACTIONS, dtype=pl.String).gather(self.codes)

    def summary(self) -> dict[str, int]:
        return _summary_of({action: int((self.codes == code).sum()) for code, action in enumerate(self.ACTIONS)},
                           self.codes.len())


def summary_sentence(summary: Mapping[str, int]) -> str:
    """A summary (`SUMMARY_KEYS`) as the one line every front end shows:
    "Total 3, Valid 1 (Insert 1, Update 0), Error 2, Skipped 1" (", No change 4" after Valid when rows
    would change nothing)."""
    s = summary
    unchanged = f", No change {s['no_change']}" if s.get("no_change") else ""
    return (f"Total {s['total']}, Valid {s['valid']} (Insert {s['insert']}, Update {s['update']}){unchanged}, "
            f"Error {s['errors']}, Skipped {s['skipped']}")


# The problem kinds a person names, for an issue `code` (the charts' legend); other codes read as their words.
PROBLEM_KINDS = {
    "required": "Missing value",
    "not_in_list": "Not in the list",
    "select_case": "Wrong capitals",
    "date_format": "Not a date",
    "invalid_email": "Not an email address",
    "phone_format": "Not a phone number",
    "ssn_format": "Not an SSN",
    "duplicate_in_file": "Duplicate in the file",
    "future_date": "Date in the future",
}


def problem_kind(codes: pl.Expr) -> pl.Expr:
    """Issue codes as the kind of problem a person would name ("not_in_list" -> "Not in the list")."""
    generic = codes.str.replace_all("_", " ").str.slice(0, 1).str.to_uppercase() + codes.str.replace_all(
        "_", " ").str.slice(1)
    return codes.replace_strict(PROBLEM_KINDS, default=generic, return_dtype=pl.String)


def problem_counts(issues: pl.DataFrame) -> pl.DataFrame:
    """Cell errors counted per column and kind of problem: `column`, `kind`, `errors` (most first).
    File-level issues and warnings are not counted: they are no cell to fix."""
    return (
        issues.filter((pl.col("severity") == ERROR_SEVERITY) & pl.col("row").is_not_null())
        .select(as_text("column").fill_null(as_text("field")).fill_null("(no column)").alias("column"),
                problem_kind(as_text("code").fill_null("error")).alias("kind"))
        .group_by("column", "kind", maintain_order=True).len("errors")
        .sort("errors", descending=True, maintain_order=True)
        .with_columns(pl.col("errors").cast(pl.Int64))
    )


class _OnFirstRead:
    """A dataclass field that may be given a zero-argument function instead of its value: the function
    is called once, when the field is first read, and its result kept (validation hands the issues and
    the actions' text over this way, so a front end that only needs the summary never waits for them)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            raise AttributeError(self._slot)  # the field has no default
        value = obj.__dict__[self._slot]
        if callable(value):
            value = obj.__dict__[self._slot] = value()
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self._slot] = value

    def pending(self, obj: Any) -> Any:
        """The function the field was given, while it has not been called (else None)."""
        value = obj.__dict__[self._slot]
        return value if callable(value) else None


@dataclass
class Report:
    """What validation found, per cell, per row and in total.

    `data` holds the cells exactly as read (text), one column per file column,
    in file order, named by `frame_columns`; `columns` are the headers as written
    in the file. `normalized` holds, per domain field, the value the system
    will store (dates, phones and SSNs in the system's format) for every row;
    it is what gets submitted.
    """

    domain: Domain
    operation: str
    source: str
    columns: list[str]  # headers as written in the file, in file order
    frame_columns: list[str]  # the (unique) names of those columns in `data`
    column_fields: dict[str, str | None]  # frame column -> domain field it maps to (None: ignored)
    data: pl.DataFrame
    normalized: pl.DataFrame
    # A RowAction per data row (a String Series), or `ActionCodes` giving it (see _OnFirstRead)
    actions: _OnFirstRead = _OnFirstRead()
    issues: _OnFirstRead = _OnFirstRead()  # a DataFrame, or a function giving it (see _OnFirstRead)
    header_row: int = 1
    custom_columns: list[str] = field(default_factory=list)  # frame columns holding custom fields
    options: dict[str, Any] = field(default_factory=dict)
    # header -> target: a field, `Custom.NAME`, "-" (do not import) or None (not mapped: an error)
    mapping: dict[str, str | None] = field(default_factory=dict)
    # The DataFrame library of what was validated ("pandas", "polars", "pyarrow"; None: a file): the frames
    # the report hands a user (errors_frame, results_frame, fixed_data) come in it (`bulkassist.frames`).
    flavour: str | None = None

    @property
    def unmapped(self) -> list[str]:
        """Headers of the columns that are neither named by their header nor mapped (they block the import)."""
        return [header for header, target in self.mapping.items() if target is None]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with its issues placed (a pending function does not pickle)."""
        self.issues  # noqa: B018  (reading places them)
        return dict(self.__dict__)

    # ----------------------------------------------------------------- rows
    @property
    def first_row(self) -> int:
        """Spreadsheet row number of the first data row."""
        return self.header_row + 1

    @property
    def row_numbers(self) -> pl.Series:
        return pl.int_range(self.first_row, self.first_row + self.data.height, eager=True).alias("row")

    @property
    def rows(self) -> pl.DataFrame:
        """`row`, `action` for every data row."""
        return pl.DataFrame({"row": self.row_numbers, "action": self.actions})

    def rows_with(self, action: str) -> list[int]:
        return self.rows.filter(pl.col("action") == action)["row"].to_list()

    @property
    def error_rows(self) -> list[int]:
        return self.rows_with(RowAction.ERROR)

    @property
    def valid_mask(self) -> pl.Series:
        return self.actions.is_in(VALID_ACTIONS)

    @property
    def valid_rows(self) -> list[int]:
        return self.rows.filter(self.valid_mask)["row"].to_list()

    # -------------------------------------------------------------- issues
    @property
    def file_issues(self) -> pl.DataFrame:
        issues, first = self.issues, self._file_issue_count()
        return issues.head(first) if first is not None else issues.filter(pl.col("row").is_null())

    @property
    def cell_issues(self) -> pl.DataFrame:
        issues, first = self.issues, self._file_issue_count()
        return issues.slice(first) if first is not None else issues.filter(pl.col("row").is_not_null())

    def _file_issue_count(self) -> int | None:
        """How many file-level issues lead `issues`, when they all do (as validation and `add_issues` sort
        them): the cell issues are then a slice, not a copy (at 1M rows a copy held another 90 MB)."""
        rows = self.issues["row"]
        first = rows.null_count()
        return first if rows.head(first).null_count() == first else None

    @property
    def errors(self) -> pl.DataFrame:
        return self.issues.filter(pl.col("severity") == ERROR_SEVERITY)

    @property
    def warnings(self) -> pl.DataFrame:
        return self.issues.filter(pl.col("severity") == WARNING_SEVERITY)

    @property
    def has_file_errors(self) -> bool:
        return self.file_issues.filter(pl.col("severity") == ERROR_SEVERITY).height > 0

    @property
    def ok(self) -> bool:
        """True when nothing in the file is an error."""
        return self.errors.height == 0

    def add_issues(self, extra: pl.DataFrame, actions: pl.Series | None = None) -> Report:
        """A new report with `extra` issues (ISSUE_SCHEMA columns; missing ones null) and, optionally,
        authoritative actions (the server knows whether a record exists). Rows with a new error become Error."""
        extra = extra.with_columns(
            [pl.lit(None, dtype).alias(name) for name, dtype in ISSUE_SCHEMA.items() if name not in extra.columns]
        ).select(ISSUE_COLUMNS).cast(ISSUE_SCHEMA)
        issues = pl.concat([self.issues, extra], how="vertical").sort(["row", "col_index"], nulls_last=False)
        base = self.actions if actions is None else actions
        bad_rows = extra.filter((pl.col("severity") == ERROR_SEVERITY) & pl.col("row").is_not_null())["row"]
        failing = self.row_numbers.is_in(bad_rows.implode()) if bad_rows.len() else pl.repeat(
            False, self.data.height, eager=True)
        new_actions = pl.select(
            pl.when(failing & (base != RowAction.SKIP)).then(pl.lit(RowAction.ERROR)).otherwise(base)
            .alias("action")).to_series()
        return replace(self, issues=issues, actions=new_actions)

    # ------------------------------------------------------------- summary
    @property
    def summary(self) -> dict[str, int]:
        """The counts the seeds name: Total, Valid, Error and Skipped rows (+ Insert / Update)."""
        codes = vars(Report)["actions"].pending(self)
        return codes.summary() if isinstance(codes, ActionCodes) else summarize(self.actions)

    def summary_sentence(self) -> str:
        """"Total 3, Valid 1 (Insert 1, Update 0), Error 2, Skipped 1"."""
        return summary_sentence(self.summary)

    def problem_counts(self) -> pl.DataFrame:
        """Cell errors per column and kind of problem (`column`, `kind`, `errors`), what `plot()` draws."""
        return problem_counts(self.issues)

    def plot(self) -> Any:
        """In a notebook: the dashboard's Review Results chart of this report, errors per column and per kind
        of problem (a bqplot widget; needs the `dashboard` extra)."""
        # bqplot and ipywidgets belong to the dashboard extra: validation never loads them.
        from bulkassist.dashboard.charts import ProblemChart

        return ProblemChart(self.problem_counts())

    # ------------------------------------------------------------- exports
    def to_dict(self, max_issues: int | None = None) -> dict[str, Any]:
        """The JSON layout of `bulkassist validate --format json`."""
        issues = self.issues if max_issues is None else self.issues.head(max_issues)
        return {
            "source": self.source,
            "domain": self.domain.name,
            "operation": self.operation,
            "summary": self.summary,
            "issues": issues.select(
                "row", "column", "field", "value", "code", "severity", "message", "suggestion",
                "confidence", "safe", "col_index",
            ).to_dicts(),
            "rows": self.rows.to_dicts(),
            "mapping": dict(self.mapping),
            "unmapped": self.unmapped,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(**kwargs), ensure_ascii=False)

    def issues_frame(self, as_: str | None = None) -> Any:
        """`issues` (`ISSUE_SCHEMA`: row, column, field, value, code, severity, message, suggestion ...) in the
        library of the validated frame or `as_`; `issues` itself stays polars, as every front end reads it."""
        return as_flavour(issue_texts(self.issues), as_, self.flavour)

    def errors_frame(self, as_: str | None = None) -> Any:
        """Every issue, file-level ones first, in the layout of the errors file (`ERRORS_COLUMNS`), in the
        library of the validated frame or `as_` ("pandas", "polars", "pyarrow"; polars for a file)."""
        return as_flavour(errors_table(self.issues.sort(["row", "col_index"], nulls_last=False)), as_, self.flavour)

    def errors_csv(self, path: str | None = None) -> str:
        """The errors file as CSV text (written to `path` too when given). Cells cannot start a formula."""
        data = csv_bytes(self.errors_frame(as_="polars"))
        if path is not None:
            with open(path, "wb") as fh:
                fh.write(data)
        return data.decode("utf-8-sig")

    def row_messages(self) -> pl.DataFrame:
        """`row`, `messages`: every error of a row joined into one text (for results and write-back)."""
        return (
            self.cell_issues.filter(pl.col("severity") == ERROR_SEVERITY)
            .group_by("row", maintain_order=True)
            .agg(pl.col("message").str.join("; ").alias("messages"))
        )

    def results_frame(self, as_: str | None = None) -> Any:
        """Pre-commit results in the seeds' layout: Row Number, Status, Action, Created/Updated ID, Error Messages,
        in the library of the validated frame or `as_`.

        Before a commit nothing has an ID; rows that would fail say Failed with their errors.
        """
        rows = self.rows.join(self.row_messages(), on="row", how="left")
        unchanged = pl.col("action") == RowAction.NO_CHANGE
        return as_flavour(rows.select(
            pl.col("row").alias("Row Number"),
            pl.when(pl.col("action") == RowAction.ERROR).then(pl.lit(RowStatus.FAILED))
            .when(pl.col("action") == RowAction.SKIP).then(pl.lit(RowStatus.SKIPPED))
            .when(unchanged).then(pl.lit(NO_CHANGE_STATUS))
            .otherwise(pl.lit(RowStatus.VALID)).alias("Status"),
            pl.when(pl.col("action").is_in([*VALID_ACTIONS, RowAction.NO_CHANGE])).then(pl.col("action"))
            .alias("Action"),
            pl.lit(None, pl.String).alias("Created/Updated ID"),
            pl.when(unchanged).then(pl.lit(NO_CHANGE_NOTE)).otherwise(pl.col("messages").fill_null(""))
            .alias("Error Messages"),
        ), as_, self.flavour)

    def fixed_data(self, as_: str | None = None) -> tuple[Any, Any]:
        """The data with every safe fix applied, and the list of changes (row, column, value, suggestion),
        in the library of the validated frame or `as_`.

        Only issues whose `safe` flag is set are applied: case/space-folded select
        values, unambiguous dates, phones and SSNs rebuilt from their digits.
        Valid dates are written in their field's format (not listed as changes):
        a workbook's date cells were read as ISO text, which the field may not
        accept once it is written as text, and a fix never makes a valid cell invalid.
        """
        changes = self.cell_issues.filter(pl.col("safe") & pl.col("suggestion").is_not_null())
        dates = {f.name for f in self.domain.fields if f.kind is Kind.DATE} & set(self.normalized.columns)
        data = self.data.with_columns(
            self.normalized[name].alias(column) for column, name in self.column_fields.items() if name in dates
        )
        for idx, group in changes.group_by("col_index"):
            name = self.frame_columns[idx[0]]
            positions = (group["row"] - self.first_row).cast(pl.Int64)
            col = data[name].clone()
            col.scatter(positions, group["suggestion"])
            data = data.with_columns(col.alias(name))
        return as_flavour(data, as_, self.flavour), as_flavour(
            changes.select("row", as_text("column"), "value", "suggestion", "message"), as_, self.flavour)

    def styled(self, max_rows: int = 500) -> Styler:
        """A pandas Styler of the first `max_rows` rows: errors red, warnings amber, messages as tooltips.

        Only the first `max_rows` rows are styled: a Styler renders HTML, and nobody reads a million
        rows of it.
        """
        import pandas as pd  # pandas (and jinja2 for the Styler) only when a notebook asks

        shown = self.data.head(max_rows)
        frame = shown.to_pandas()
        frame.columns = list(self.columns)  # headers as the person wrote them
        frame.index = pd.RangeIndex(self.first_row, self.first_row + shown.height, name="Row")
        frame.insert(0, "Action", self.actions.head(max_rows).to_list())

        last_row = self.first_row + shown.height - 1
        cells = self.cell_issues.filter((pl.col("row") <= last_row) & pl.col("col_index").is_not_null())
        worst = cells.group_by("row", "col_index").agg(
            error=(pl.col("severity") == ERROR_SEVERITY).any(),
            tip=pl.concat_str([pl.col("message"), pl.when(pl.col("suggestion").is_not_null())
                               .then(pl.lit(" → ") + pl.col("suggestion")).otherwise(pl.lit(""))]).str.join("\n"),
        )
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        tips = pd.DataFrame("", index=frame.index, columns=frame.columns)
        # One assignment per marked cell of the *shown* rows (at most max_rows × columns), not per cell of the file.
        for row, col_index, error, tip in worst.iter_rows():
            css.iat[row - self.first_row, col_index + 1] = ERROR_CSS if error else WARNING_CSS
            tips.iat[row - self.first_row, col_index + 1] = tip
        action_css = {RowAction.ERROR: ERROR_CSS, RowAction.SKIP: "color: #888", RowAction.NO_CHANGE: "color: #888"}
        css["Action"] = [action_css.get(a, "") for a in frame["Action"]]
        styler = frame.style.apply(lambda _: css, axis=None).set_tooltips(tips)
        return styler.set_caption(
            f"{self.domain.title} · {self.operation} · {self.source}: {self.summary_sentence()}"
            + (f" — first {max_rows} rows shown" if self.data.height > max_rows else "")
        )

    def _repr_html_(self) -> str:
        return f"<b>{self.domain.title} · {self.operation}</b> — {self.source}: {self.summary_sentence()}"

    def __repr__(self) -> str:
        return f"<Report {self.domain.name}/{self.operation} {self.source}: {self.summary_sentence()}>"

