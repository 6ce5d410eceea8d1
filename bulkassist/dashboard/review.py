"""Step 4, Review Results: counts, valid rows, the Errors grid, edits and suggestions, and Changes.

Changes (the server's preview of the updates) lists, per Update row and field, the stored value
struck through and the new value highlighted, one page at a time from the server, filtered by field;
a blank cell that keeps the stored value says so. It is loaded again after every edit.

An edit in the Errors grid (the seed's pencil) or a click on "✔ Accept" in the
issues grid sends that one row to the server (`Import.edit_row`), which
revalidates it at once; its answer recolours the row and updates the counts.

Apply to all: next to each suggestion for a select-list value, one button fixes every cell of the column
holding that value ("apply to all 1,284 cells with 'Full Time'", `Import.apply_to_all`), revalidated once on
the server, optionally remembered for the organisation; the review is then loaded again.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd
import polars as pl

from bulkassist.dashboard import grids
from bulkassist.dashboard.charts import ProblemChart
from bulkassist.dashboard.downloads import DownloadLink
from bulkassist.dashboard.notices import Notice
from bulkassist.dashboard.review_data import ACCEPT_LABEL, INVALID, STATUS, ReviewData
from bulkassist.status import VALID_ACTIONS, RowAction

PAGE_SIZE = 200
APPLY_ALL_SHOWN = 10  # the most frequent wrong select-list values offered for "apply to all"
ALL_FIELDS = "All fields"
COUNTS = (("total", "Total Rows"), ("valid", "Valid Rows"), ("errors", "Error Rows"), ("skipped", "Skipped Rows"))


def count_tiles(counts: dict[str, int], labels: tuple[tuple[str, str], ...]) -> str:
    """Counts as tiles, one per (key, label); the class `ba-count-<key>` names each for styles and tests."""
    tiles = "".join(
        f'<div class="ba-count ba-count-{key}"><div class="ba-count-value">{counts.get(key) or 0:,}</div>'
        f'<div class="ba-count-label">{label}</div></div>'
        for key, label in labels
    )
    return f'<div class="ba-counts-row">{tiles}</div>'


def counts_html(summary: dict[str, int]) -> str:
    """The validation summary as four tiles (Total / Valid / Error / Skipped), then the valid rows split by
    action and the Update rows that change nothing (No change: not written)."""
    detail = f"{summary.get('insert', 0):,} to insert · {summary.get('update', 0):,} to update"
    if summary.get("no_change"):
        detail += (f' · <span class="ba-count-no-change">{summary["no_change"]:,} with no change '
                   f"(not written)</span>")
    return f'{count_tiles(summary, COUNTS)}<div class="ba-count-detail">{detail}</div>'


class ReviewStep(widgets.VBox):
    """The Review Results page of one import."""

    def __init__(self, notice: Notice, page_size: int = PAGE_SIZE):
        self.notice = notice
        self.page_size = page_size
        self.imp: Any = None
        self.data: ReviewData | None = None
        self._error_rows: list[int] = []
        self._issues = pl.DataFrame()
        self.pending: dict[tuple[int, str], str] = {}  # (row, frame column) -> value the server has not taken

        self.counts = widgets.HTML()
        self.counts.add_class("ba-counts")
        self.file_issues = widgets.HTML()
        self.file_issues.add_class("ba-file-issues")
        self.edit_status = widgets.HTML()
        self.edit_status.add_class("ba-edit-status")

        self.valid_pager = grids.Pager("ba-valid-pager", page_size, self._show_valid_page)
        self.error_pager = grids.Pager("ba-error-pager", page_size, self._show_error_page)
        self.valid_title = widgets.HTML()
        self.error_title = widgets.HTML()
        self.valid_grid = grids.valid_grid(_placeholder("Action"))
        self.error_grid = grids.error_grid(_placeholder(STATUS, INVALID))
        self.issues_grid = grids.issues_grid(_placeholder("Row", "Accept"))
        self.error_grid.on_cell_change(self._on_cell_change)
        self.issues_grid.on_cell_click(self._on_issue_click)

        self.export_button = widgets.Button(description="⤓ Export errors as CSV",
                                            layout=widgets.Layout(width="auto"))
        self.export_button.add_class("ba-export-errors")
        self.save_button = widgets.Button(button_style="warning", layout=widgets.Layout(width="auto"))
        self.save_button.add_class("ba-save-edits")
        self.save_button.on_click(self.save_pending)
        self.save_button.layout.display = "none"
        self.export_button.on_click(self._export_errors)
        self.errors_link = DownloadLink("ba-errors-download")

        hint = widgets.HTML(
            '<div class="ba-hint">Double-click a cell to edit it, type the new value and press Enter to save. '
            "The row is validated again at once. Red cells are invalid; green rows are fixed. "
            "Click <b>✔ Accept</b> below to use a suggested value.</div>"
        )
        self.valid_box = widgets.VBox([self.valid_title, self.valid_pager, self.valid_grid])
        self.valid_box.add_class("ba-valid-section")

        self.changes_title = widgets.HTML()
        self.changes_field = widgets.Dropdown(options=[(ALL_FIELDS, "")], value="", description="Field",
                                              layout=widgets.Layout(width="320px"))
        self.changes_field.add_class("ba-changes-field")
        self._listing_fields = False  # set while the field list is replaced: that is no choice of the user's
        self.changes_field.observe(self._on_field, names="value")
        self.changes_pager = grids.Pager("ba-changes-pager", page_size, self._show_changes_page)
        self.changes_table = widgets.HTML()
        self.changes_table.add_class("ba-changes-list")
        self.changes_box = widgets.VBox([
            self.changes_title,
            widgets.HTML('<div class="ba-hint">What the import will change in your stored records: the stored '
                         "value struck through, the new value highlighted. Blank cells keep the stored value.</div>"),
            widgets.HBox([self.changes_field, self.changes_pager]), self.changes_table])
        self.changes_box.add_class("ba-changes-section")
        self.changes_box.layout.display = "none"
        self.chart = ProblemChart(pl.DataFrame(schema={"column": pl.String, "kind": pl.String, "errors": pl.Int64}),
                                  on_filter=self.filter_errors)
        self.error_box = widgets.VBox([
            self.error_title, self.chart, hint, self.error_pager, self.error_grid,
            widgets.HBox([self.edit_status, self.save_button]),
            widgets.HTML("<h4>Problems and suggestions on this page</h4>"), self.issues_grid,
            self._apply_all_box(),
            widgets.HBox([self.export_button, self.errors_link]),
        ])
        self.error_box.add_class("ba-error-section")
        super().__init__([self.counts, self.file_issues, self.error_box, self.changes_box, self.valid_box])
        self.add_class("ba-review")

    # ---------------------------------------------------------------- load
    def show(self, imp: Any, data: ReviewData) -> None:
        """Show the review of `imp`, whose uploaded cells and verdicts are `data`."""
        self.imp, self.data = imp, data
        self.pending = {}
        self._show_pending()
        self.edit_status.value = ""
        self.errors_link.withdraw()
        self.apply_status.value = ""
        self.chart.column = self.chart.kind = None
        self._refresh_counts()
        self._show_apply_offers()
        self.file_issues.value = _file_issues_html(data.file_issues)
        self.chart.choose(None, None)  # a new review lists every error row
        self.valid_pager.reset(data.rows_with(*VALID_ACTIONS).len())
        self._show_valid_page(0)
        self._load_changes()

    # ---------------------------------------------------------- apply to all
    def _apply_all_box(self) -> widgets.VBox:
        self.apply_items = widgets.VBox()
        self.apply_status = widgets.HTML()
        self.apply_status.add_class("ba-apply-status")
        self.apply_box = widgets.VBox([
            widgets.HTML("<h4>Fix a value everywhere</h4><div class='ba-hint'>One click changes every cell of the "
                         "column with that value; the server checks the import again once.</div>"),
            self.apply_items, self.apply_status])
        self.apply_box.add_class("ba-apply-all")
        self.apply_box.layout.display = "none"
        return self.apply_box

    def apply_offers(self) -> pl.DataFrame:
        """The suggestions for select-list values, one per (column, value): frame_column, value, suggestion,
        cells (how many cells of the column hold the value), most cells first."""
        assert self.data is not None
        names = self.data.columns
        offers = (
            self.data.issues.filter((pl.col("code") == "not_in_list") & pl.col("suggestion").is_not_null()
                                    & pl.col("value").is_not_null() & pl.col("col_index").is_not_null())
            .with_columns(pl.col("col_index").replace_strict(list(range(len(names))), names, default=None,
                                                             return_dtype=pl.String).alias("frame_column"))
            .filter(pl.col("frame_column").is_not_null())
            .unique(["frame_column", "value"], keep="first", maintain_order=True)
            .select("frame_column", "value", "suggestion")
        )
        if offers.height == 0:
            return offers.with_columns(pl.lit(0, dtype=pl.Int64).alias("cells"))
        counts = pl.concat([
            self.data.data.select(pl.col(name).str.strip_chars().alias("value"))
            .group_by("value").len("cells").with_columns(pl.lit(name).alias("frame_column"))
            for name in offers["frame_column"].unique().to_list()
        ])
        return (offers.with_columns(pl.col("value").str.strip_chars().alias("key"))
                .join(counts.rename({"value": "key"}), on=["frame_column", "key"], how="left")
                .with_columns(pl.col("cells").fill_null(0).cast(pl.Int64)).drop("key")
                .sort("cells", descending=True, maintain_order=True))

    def _show_apply_offers(self) -> None:
        assert self.data is not None
        items = []
        for offer in self.apply_offers().head(APPLY_ALL_SHOWN).iter_rows(named=True):
            header = self.data.header_of(offer["frame_column"])
            n = offer["cells"]
            button = widgets.Button(description=f"Apply to all {n:,} cell{'s' if n != 1 else ''} with "
                                                f"'{offer['value']}'", layout=widgets.Layout(width="auto"))
            button.add_class("ba-apply-button")
            remember = widgets.Checkbox(value=False, description="remember for this organisation", indent=False,
                                        layout=widgets.Layout(width="auto"))
            remember.add_class("ba-apply-remember")
            button.on_click(lambda _, o=offer, r=remember: self.apply_to_all(o["frame_column"], o["value"],
                                                                             o["suggestion"], r.value))
            item = widgets.HBox([
                widgets.HTML(f'<span class="ba-apply-what">{html.escape(header)}: '
                             f'“{html.escape(offer["value"])}” → <b>“{html.escape(offer["suggestion"])}”</b></span>'),
                button, remember])
            item.add_class("ba-apply-item")
            items.append(item)
        self.apply_items.children = items
        self.apply_box.layout.display = None if items else "none"

    def apply_to_all(self, frame_column: str, value: str, new_value: str, remember: bool = False) -> None:
        """Fix every cell of the column equal to `value` on the server (one revalidation), then show the new
        review. Unsaved edits are sent first, so none is lost when the review is loaded again."""
        assert self.data is not None
        if self.pending:
            self.save_pending()
            if self.pending:
                return
        header = self.data.header_of(frame_column)
        with self.notice.guard():
            answer = self.imp.apply_to_all(header, value, new_value, remember=remember)
            cells = self.data.data[frame_column]
            fixed = self.data.data.with_columns(
                pl.when(cells.str.strip_chars() == value.strip()).then(pl.lit(new_value)).otherwise(cells)
                .alias(frame_column))
            self.show(self.imp, ReviewData.from_review(self.data.headers, fixed, self.imp.review(),
                                                       first_row=self.data.first_row))
            kept = " · remembered for your organisation" if answer.get("remembered_id") else ""
            self.apply_status.value = (f'<span class="ba-apply-done">{answer["cells_changed"]:,} cell(s) of '
                                       f"{html.escape(header)} changed from “{html.escape(value)}” to "
                                       f"“{html.escape(new_value)}”, revalidated{kept}.</span>")
            self.notice.clear()

    # -------------------------------------------------------------- changes
    def _load_changes(self, keep_fields: bool = False) -> None:
        """The first page of the server's preview (of the chosen field); the field list unless kept."""
        assert self.data is not None
        summary = self.data.summary
        if not (summary.get("update") or summary.get("no_change")):
            self.changes_box.layout.display = "none"
            return
        with self.notice.guard():
            body = self.imp.changes_page(1, self.page_size, field=self.changes_field.value or None)
            if not keep_fields:
                fields = [(ALL_FIELDS, "")] + [(f, f) for f in body["fields"]]
                chosen = self.changes_field.value
                self._listing_fields = True
                try:
                    self.changes_field.options = fields
                    self.changes_field.value = chosen if chosen in {v for _, v in fields} else ""
                finally:
                    self._listing_fields = False
                if self.changes_field.value != chosen:  # the chosen field has no change any more
                    body = self.imp.changes_page(1, self.page_size)
            self.changes_pager.reset(body["total"])
            self.changes_title.value = changes_title_html(body["total"], summary)
            self.changes_table.value = changes_html(body["items"])
            self.changes_box.layout.display = None

    def _on_field(self, _: object) -> None:
        if not self._listing_fields:
            self._load_changes(keep_fields=True)

    def _show_changes_page(self, page: int) -> None:
        with self.notice.guard():
            body = self.imp.changes_page(page + 1, self.page_size, field=self.changes_field.value or None)
            self.changes_table.value = changes_html(body["items"])

    def _refresh_counts(self) -> None:
        assert self.data is not None
        summary = self.data.summary
        self.counts.value = counts_html(summary)
        self.error_title.value = f"<h3>Errors <span class='ba-badge'>{summary['errors']:,} rows</span></h3>"
        self.valid_title.value = f"<h3>Valid Rows <span class='ba-badge'>{summary['valid']:,}</span></h3>"
        self.error_box.layout.display = None if self.data.listed_errors.len() else "none"
        self.chart.show(self.data.problem_counts())

    def filter_errors(self, column: str | None, kind: str | None) -> None:
        """The chart's filter: list only the error rows with errors in `column` of `kind` (None: any)."""
        assert self.data is not None
        self.data.filter_errors(column, kind)
        self.error_pager.reset(self.data.shown_errors.len())
        self._show_error_page(0)

    def _show_error_page(self, page: int) -> None:
        assert self.data is not None
        self._error_rows = self.data.error_page_rows(page, self.page_size)
        grids.show_page(self.error_grid, self.data.error_page(page, self.page_size), grids.ERROR_GRID_HEIGHT)
        self._show_issues()

    def _show_issues(self) -> None:
        assert self.data is not None
        self._issues = self.data.issues_on(self._error_rows)
        table = ReviewData.issues_table(self._issues).set_index("Row")
        grids.show_page(self.issues_grid, table, grids.ISSUES_GRID_HEIGHT)

    def _show_valid_page(self, page: int) -> None:
        assert self.data is not None
        grids.show_page(self.valid_grid, self.data.valid_page(page, self.page_size), grids.VALID_GRID_HEIGHT)
        self.valid_box.layout.display = None if self.valid_pager.n_rows else "none"

    # ---------------------------------------------------------------- edits
    def _on_cell_change(self, event: dict[str, Any]) -> None:
        column = event["column"]
        if column in (STATUS, INVALID):  # computed columns: put the server's value back
            self._show_error_page(self.error_pager.page)
            return
        self.edit(self._error_rows[event["row"]], column, event["value"])

    def _on_issue_click(self, event: dict[str, Any]) -> None:
        if event.get("column") != "Accept" or event.get("cell_value") != ACCEPT_LABEL:
            return
        issue = self._issues.row(event["primary_key_row"], named=True)
        self.edit(issue["row"], issue["frame_column"], issue["suggestion"])

    def edit(self, row: int, column: str, value: Any) -> None:
        """Change one cell: the server revalidates the row and the page shows its verdict.

        The value is kept (shown in the grid, listed as unsaved) until the server has
        taken it, so an edit made while the server is away is not lost: *Save unsaved
        edits* sends it again.
        """
        assert self.data is not None
        header = self.data.header_of(column)
        text = "" if value is None else str(value)
        self.pending[(row, column)] = text
        self.data.set_cells(row, {column: text})
        with self.notice.guard():
            answer = self.imp.edit_row(row, {header: text})
            del self.pending[(row, column)]
            self.data.apply_edit(row, {column: text}, answer)
            self.notice.clear()
            self.edit_status.value = edit_status_html(row, header, text, answer)
            self.errors_link.withdraw()
            self._refresh_counts()
            self.valid_pager.n_rows = self.data.rows_with(*VALID_ACTIONS).len()
            self._show_valid_page(self.valid_pager.page)
            self._load_changes()  # the server computed the preview again with the edit
        if (row, column) in self.pending:
            self.edit_status.value = (f'<span class="ba-edit-unsaved">Row {row}: {html.escape(header)} = '
                                      f"“{html.escape(text)}” is not saved yet; it is kept here.</span>")
        grids.show_page(self.error_grid, self.data.error_page(self.error_pager.page, self.page_size),
                        grids.ERROR_GRID_HEIGHT)
        self._show_issues()
        self._show_apply_offers()
        self._show_pending()

    def save_pending(self, _: object = None) -> None:
        """Send the edits the server has not taken yet, in the order they were made."""
        for (row, column), text in list(self.pending.items()):
            self.edit(row, column, text)

    def _show_pending(self) -> None:
        count = len(self.pending)
        self.save_button.description = f"Save {count} unsaved edit{'s' if count != 1 else ''}"
        self.save_button.layout.display = None if count else "none"

    def _export_errors(self, _: object) -> None:
        with self.notice.guard():
            self.errors_link.offer(self.imp.errors_file(), f"import-{self.imp.id}-errors.csv",
                                   "Download errors CSV")


def changes_title_html(total: int, summary: dict[str, int]) -> str:
    unchanged = summary.get("no_change") or 0
    rows = f" · {unchanged:,} rows with no change (not written)" if unchanged else ""
    return f"<h3>Changes <span class='ba-badge ba-changes-count'>{total:,} field values{rows}</span></h3>"


def _value_html(value: str | None, css: str, tag: str) -> str:
    if value is None or value == "":
        return f'<{tag} class="{css} ba-empty">(empty)</{tag}>'
    return f'<{tag} class="{css}">{html.escape(value)}</{tag}>'


def changes_html(items: list[dict[str, Any]]) -> str:
    """A page of changes as a table: Row, Field, the stored value struck through → the new value highlighted
    (or the stored value and "kept" for a blank cell)."""
    if not items:
        return '<div class="ba-changes-none">No field value changes.</div>'
    lines = []
    for item in items:
        if item["change"] == "kept":
            what = _value_html(item["old"], "ba-kept-value", "span") + '<span class="ba-kept">kept (blank cell)</span>'
        else:
            what = f'{_value_html(item["old"], "ba-old", "del")} → {_value_html(item["new"], "ba-new", "mark")}'
        lines.append(f'<tr class="ba-change-{html.escape(item["change"])}"><td class="ba-change-row">{item["row"]}</td>'
                     f'<td class="ba-change-field">{html.escape(item["field"])}</td><td class="ba-change">{what}</td></tr>')
    return ('<table class="ba-table ba-changes-table"><tr><th>Row</th><th>Field</th><th>Stored → new</th></tr>'
            + "".join(lines) + "</table>")


def edit_status_html(row: int, header: str, text: str, answer: dict[str, Any]) -> str:
    """What the server made of an edit: the row's new action, or the errors it still has."""
    verdict = answer["action"]
    left = sorted({i.get("column") or i.get("field") or "the row" for i in answer.get("issues", [])
                   if i.get("severity") == "error"})
    still = f" — still wrong: {html.escape(', '.join(left))}" if verdict == RowAction.ERROR and left else ""
    return (f'<span class="ba-edit-{verdict.lower().replace(" ", "-")}">Row {row}: {html.escape(header)} set to '
            f'“{html.escape(text)}” — revalidated: <b>{html.escape(verdict)}</b>{still}</span>')


def _placeholder(*columns: str) -> pd.DataFrame:
    """An empty frame with the given columns: grids are built once, then fed pages."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _file_issues_html(issues: pl.DataFrame) -> str:
    if issues.height == 0:
        return ""
    items = "".join(
        f'<li class="ba-file-issue-{html.escape(str(i["severity"]))}">{html.escape(str(i["message"]))}</li>'
        for i in issues.iter_rows(named=True)
    )
    return f'<div class="ba-file-issue-list"><b>About the whole file</b><ul>{items}</ul></div>'
