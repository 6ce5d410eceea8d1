"""The Import History tab: previous imports, their results, records, retry, cancel and undo.

Columns as seed 000 lists them (Import ID, Domain, Status, Operation, File
Name, Total Records, Valid Records, Errors, User, Date) with seed 001's
Successful %. Click a row (or pick the Import ID) to act on that import;
Records lists what it created or updated, each openable, and why rows failed.
A Validated import that was not started (seed 001: Cancel in the Start Import
window) is started here with Start Import, which shows the same window. Undo asks first, saying what it will do (records to remove and to restore,
conflicts left as they are, invoices voided), then shows what it did and
offers its results file.

Above the list, a chart of the rows the organisation imported per day against its daily limit, with this
week's and this month's usage against theirs. Dates are in the browser's time zone (`clock.py`).
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import polars as pl
from ipydatagrid import DataGrid, TextRenderer, VegaExpr

from bulkassist.client import HISTORY_COLUMNS, undo_plan_text, undo_text
from bulkassist.dashboard import grids
from bulkassist.dashboard.charts import UsageChart
from bulkassist.dashboard.clock import BrowserClock, local_times, zone_note
from bulkassist.dashboard.downloads import DownloadLink
from bulkassist.dashboard.mapping import StartImportWindow, start_facts_html
from bulkassist.dashboard.notices import Notice
from bulkassist.dashboard.records import ImportRecords
from bulkassist.domains import all_domains
from bulkassist.errors import PermissionDenied
from bulkassist.spec import OPERATION_LABELS
from bulkassist.status import FINAL, FINISHED, UNDOABLE, UNDONE, ImportStatus

PAGE_SIZE = 50
USAGE_DAYS = 30  # the days the usage chart shows, today last
GRID_HEIGHT = 420
STATUS_COLOURS = {ImportStatus.COMMITTED: "#1b6e2e", ImportStatus.VALIDATION_FAILED: "#b00020",
                  ImportStatus.COMMIT_FAILED: "#b00020", ImportStatus.CANCELLED: "#7a5a00",
                  ImportStatus.REVERTED: "#5f6368", ImportStatus.PARTLY_REVERTED: "#7a5a00"}
ID = "Import ID"


def _status_renderer() -> TextRenderer:
    expression = " : ".join(f"cell.value == '{s}' ? '{c}'" for s, c in STATUS_COLOURS.items()) + " : '#0b57d0'"
    return TextRenderer(text_color=VegaExpr(expression), font="bold 13px sans-serif")


class History(widgets.VBox):
    """Import History, one page at a time, newest first."""

    def __init__(self, client: Any, notice: Notice, clock: BrowserClock | None = None):
        self.client = client
        self.notice = notice
        self.clock = clock or BrowserClock()
        self.page = 1
        self.frame = pl.DataFrame()
        self.raw = pl.DataFrame()
        self.usage_chart = UsageChart()
        self.usage_chart.layout.display = "none"
        self.zone = widgets.HTML()
        self.zone.add_class("ba-history-zone")
        self.clock.observe(lambda _: self._show_rows() if self.raw.height else None, "time_zone")
        self.status_filter = widgets.Dropdown(options=[("All statuses", ""), *[(s, s) for s in (*FINAL, *UNDONE)]],
                                              value="", description="Status")
        self.status_filter.observe(lambda _: self.refresh(1), "value")
        refresh = widgets.Button(description="⟳ Refresh")
        refresh.add_class("ba-history-refresh")
        refresh.on_click(lambda _: self.refresh(self.page))
        self.previous = widgets.Button(description="‹ Newer")
        self.next = widgets.Button(description="Older ›")
        self.previous.on_click(lambda _: self.refresh(self.page - 1))
        self.next.on_click(lambda _: self.refresh(self.page + 1))
        self.grid = DataGrid(
            _empty().to_pandas().set_index(ID), base_row_size=grids.ROW_HEIGHT,
            base_column_header_size=grids.HEADER_HEIGHT, base_row_header_size=90, base_column_size=120,
            column_widths={"File Name": 200, "Date": 160, "Status": 120, "Domain": 140},
            selection_mode="row", renderers={"Status": _status_renderer()},
            layout=widgets.Layout(height=f"{GRID_HEIGHT}px", width="100%"),
        )
        self.grid.add_class("ba-history-grid")
        self.grid.on_cell_click(self._on_click)
        self.selected = widgets.Dropdown(options=[], description=ID, style={"description_width": "initial"})
        self.selected.add_class("ba-history-select")
        self.results_link = DownloadLink("ba-history-results")
        self.undo_link = DownloadLink("ba-history-undo-results")
        self.detail = widgets.HTML()
        self.detail.add_class("ba-history-detail")
        self.selected.observe(self._on_select, "value")
        self.download_button = self._action("⤓ Download Results", "ba-history-download", self._download)
        self.retry_button = self._action("↻ Retry Failed Records", "ba-history-retry", self._retry)
        self.cancel_button = self._action("■ Cancel Import", "ba-history-cancel", self._cancel)
        self.records_button = self._action("☰ Records", "ba-history-records", self._records)
        self.records = ImportRecords(client, notice)
        self.undo_button = self._action("↶ Undo Import", "ba-history-undo", self._ask_undo)
        self.start_button = self._action("▶ Start Import", "ba-history-start", self._ask_start)
        self.start_window = StartImportWindow(notice, on_start=self._start, on_cancel=lambda _: self._close_start(),
                                              css_class="ba-history-start-window")
        self.start_window.layout.display = "none"
        actions = [self.start_button, self.download_button, self.records_button, self.retry_button, self.cancel_button, self.undo_button]
        self.status = widgets.HTML()
        self.status.add_class("ba-history-status")
        self.undo_question = widgets.HTML()
        self.undo_force = widgets.Checkbox(description="Also undo records changed since (force)", value=False,
                                           indent=False)
        self.undo_force.add_class("ba-undo-force")
        self.undo_confirm = widgets.VBox([self.undo_question, self.undo_force, widgets.HBox([
            self._action("Undo", "ba-undo-yes", self._undo),
            self._action("Keep the import", "ba-undo-no", lambda _: self._close_undo())])])
        self.undo_confirm.add_class("ba-undo-confirm")
        self.undo_confirm.layout.display = "none"
        toolbar = widgets.HBox([self.status_filter, refresh, self.previous, self.next])
        super().__init__([
            widgets.HTML("<h2>Import History</h2>"), self.usage_chart, toolbar, self.zone, self.grid,
            widgets.HBox([self.selected, *actions]), self.start_window, self.undo_confirm, self.detail, self.results_link,
            self.undo_link, self.status, self.records,
        ])
        self.add_class("ba-history")

    @staticmethod
    def _action(label: str, css_class: str, handler: Any) -> widgets.Button:
        button = widgets.Button(description=label, layout=widgets.Layout(width="auto"))
        button.add_class(css_class)
        button.on_click(handler)
        return button

    def refresh(self, page: int = 1) -> None:
        """Fetch one page of the history from the server."""
        with self.notice.guard():
            page = max(1, page)
            frame = self.client.history(status=self.status_filter.value or None, page=page, page_size=PAGE_SIZE)
            self.page, self.raw = page, frame
            self._show_rows()
            self._show_usage()
            current = self.selected.value
            ids = frame[ID].to_list()
            self.selected.options = ids
            # Keep the chosen import; else choose the newest, so its details show at once.
            self.selected.value = current if current in ids else (ids[0] if ids else None)
            self._on_select()
            self.previous.disabled = page == 1
            self.next.disabled = frame.height < PAGE_SIZE

    def _show_rows(self) -> None:
        """The fetched page in the grid, its dates in the browser's time zone."""
        self.frame = _readable(self.raw, self.clock.zone)
        shown = self.frame.with_columns(pl.all().exclude(ID).cast(pl.String).fill_null(""))
        grids.show_page(self.grid, (shown if shown.height else _empty()).to_pandas().set_index(ID), GRID_HEIGHT)
        self.zone.value = f'<div class="ba-hint">{html.escape(zone_note(self.clock.zone))}.</div>'
        if self.selected.value is not None:
            self._on_select()

    def _show_usage(self) -> None:
        """The usage chart, for users who import (the server refuses the others: no chart for them)."""
        try:
            days, usage = self.client.daily_usage(USAGE_DAYS), self.client.usage()
        except PermissionDenied:
            self.usage_chart.layout.display = "none"
            return
        self.usage_chart.show(days, usage)
        self.usage_chart.layout.display = None

    def _on_select(self, _: object = None) -> None:
        """Show the chosen import's row in words (the grid is a canvas a screen reader cannot read)."""
        self.results_link.withdraw()
        self.undo_link.withdraw()
        self._close_undo()
        self._close_start()
        chosen = self.frame.filter(pl.col(ID) == self.selected.value) if self.frame.height else self.frame
        item = chosen.row(0, named=True) if chosen.height else None
        # The seed's rules: only a failed commit is retried; a finished import cannot be cancelled.
        self.retry_button.disabled = item is None or item["Status"] != ImportStatus.COMMIT_FAILED
        self.cancel_button.disabled = item is None or item["Status"] in FINISHED
        self.start_button.disabled = item is None or item["Status"] != ImportStatus.VALIDATED
        self.download_button.disabled = self.records_button.disabled = item is None
        self.records.rows.children = []
        self.records.viewer.clear()
        self.undo_button.disabled = item is None or item["Status"] not in UNDOABLE
        if item is None:
            self.detail.value = ""
            return
        facts = " · ".join(f"{html.escape(k)}: <b>{html.escape(str(v))}</b>" for k, v in item.items() if k != ID)
        self.detail.value = f'<div class="ba-history-item">Import {item[ID]} — {facts}</div>'

    def _on_click(self, event: dict[str, Any]) -> None:
        if event.get("region") == "body" and self.frame.height:
            self.selected.value = self.frame[ID][event["primary_key_row"]]

    def _chosen(self) -> Any:
        if self.selected.value is None:
            self.notice.show("Pick an import first: click its row or choose its Import ID.", "warning")
            return None
        return self.client.get_import(self.selected.value)

    def _download(self, _: object) -> None:
        with self.notice.guard():
            imp = self._chosen()
            if imp is not None:
                self.results_link.offer(imp.results_file("csv"), f"import-{imp.id}-results.csv",
                                        f"Save results of import {imp.id}")
                if imp.info["undo"]:
                    self._offer_undo_results(imp)
                self.notice.clear()

    def _records(self, _: object) -> None:
        """Seed 001's Records tab: each record the import created or updated, openable, and each error."""
        with self.notice.guard():
            imp = self._chosen()
            if imp is not None:
                self.records.show(imp)

    def _offer_undo_results(self, imp: Any) -> None:
        self.undo_link.offer(imp.undo_results_file("csv"), f"import-{imp.id}-undo.csv",
                             f"Save the undo results of import {imp.id}")

    def _ask_undo(self, _: object) -> None:
        """The confirmation: what the undo will do, in the words of every front end, before anything is done."""
        with self.notice.guard():
            imp = self._chosen()
            if imp is None:
                return
            plan = imp.undo_plan()
            self.undo_question.value = (f'<div class="ba-undo-question"><b>Undo import {imp.id}?</b> '
                                        f"{html.escape(undo_plan_text(plan))}</div>")
            self.undo_force.value = False
            self.undo_force.layout.display = "" if plan["conflicts"] else "none"
            self.undo_confirm.layout.display = ""

    def _close_undo(self) -> None:
        self.undo_confirm.layout.display = "none"

    def _undo(self, _: object) -> None:
        with self.notice.guard():
            imp = self._chosen()
            if imp is not None:
                self._close_undo()
                imp.undo(force=self.undo_force.value, wait=False)
                self.status.value = f"Undoing import {imp.id}…"
                threading.Thread(target=self._undone, args=(imp,), daemon=True).start()

    def _undone(self, imp: Any) -> None:
        with self.notice.guard():
            info = imp.wait()
            self.refresh(self.page)
            self.status.value = html.escape(undo_text(info))
            self._offer_undo_results(imp)

    def _ask_start(self, _: object) -> None:
        """Seed 001: the data job's START IMPORT, with the Start Import Job window (its options as saved)."""
        with self.notice.guard():
            imp = self._chosen()
            if imp is not None:
                if imp.info["status"] != ImportStatus.VALIDATED:
                    self.notice.show(f"Import {imp.id} is {imp.info['status']}; only a Validated import can be "
                                     "started.", "warning")
                    return
                unmapped = imp.info.get("unmapped") or []
                if unmapped:
                    self.notice.show(f"Import {imp.id} has columns not mapped ({', '.join(unmapped)}); map them "
                                     "before starting it.", "warning", "Columns not mapped")
                    return
                self.start_window.show(imp, self.client.domain(imp.info["domain"]), start_facts_html(imp.info))
                self.notice.clear()

    def _close_start(self) -> None:
        self.start_window.layout.display = "none"

    def _start(self, imp: Any) -> None:
        self._close_start()
        imp.commit(wait=False)
        self.status.value = f"Import {imp.id} started…"
        threading.Thread(target=self._finish, args=(imp,), daemon=True).start()

    def _retry(self, _: object) -> None:
        with self.notice.guard():
            imp = self._chosen()
            if imp is not None:
                imp.retry(wait=False)
                self.status.value = f"Retrying the failed records of import {imp.id}…"
                threading.Thread(target=self._finish, args=(imp,), daemon=True).start()

    def _finish(self, imp: Any) -> None:
        with self.notice.guard():
            info = imp.wait()
            self.status.value = f"Import {imp.id} is now <b>{info['status']}</b>."
            self.refresh(self.page)

    def _cancel(self, _: object) -> None:
        with self.notice.guard():
            imp = self._chosen()
            if imp is not None:
                info = imp.cancel()
                self.status.value = f"Import {imp.id} is now <b>{info['status']}</b>."
                self.notice.clear()
                self.refresh(self.page)


def _readable(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Domains and operations as a person names them ("Client Assignment", "Add & Update"), dates as a person
    reads them in their time zone ("30 Nov 2026, 18:30")."""
    titles = {d.name: d.title for d in all_domains()}
    return frame.with_columns(
        pl.col("Domain").replace(titles),
        pl.col("Operation").replace(OPERATION_LABELS),
        local_times(pl.col("Date"), zone).alias("Date"),
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={name: pl.String for name in HISTORY_COLUMNS.values()})
