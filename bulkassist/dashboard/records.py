"""Records in the dashboard: open one record (seed 001's Records tab links), and the Registration &
Certification page (seed 002): its records a page at a time, select individual records, the page, or
all of them, and export the selection as CSV or XLSX.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from bulkassist.dashboard.downloads import DownloadLink
from bulkassist.dashboard.notices import Notice

PAGE_SIZE = 20
MAX_IDS = 500  # the server takes at most 500 record IDs per export request
SHOWN_FIELDS = ("ULN", "Qualification Number", "Status", "Registration number")


class RecordViewer(widgets.HTML):
    """One record's fields, as the server stores them."""

    def __init__(self, client: Any, notice: Notice, css_class: str = "ba-record-view"):
        super().__init__()
        self.client, self.notice = client, notice
        self.add_class(css_class)

    def show_record(self, domain: str, record_id: int) -> None:
        with self.notice.guard():
            record = self.client.record(domain, record_id)
            rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                           for k, v in record["fields"].items())
            made = f" · created by import {record['import_id']}" if record.get("import_id") else ""
            self.value = (f'<div class="ba-record"><h4>Record {record["id"]}{html.escape(made)}</h4>'
                          f'<table class="ba-table">{rows}</table></div>')

    def clear(self) -> None:
        self.value = ""


def open_button(label: str, on_click: Any) -> widgets.Button:
    button = widgets.Button(description=label, layout=widgets.Layout(width="auto"))
    button.add_class("ba-open-record")
    button.on_click(lambda _: on_click())
    return button


class ImportRecords(widgets.VBox):
    """Seed 001's Records tab of one import: each row's record, openable, and each failed row's reason."""

    def __init__(self, client: Any, notice: Notice, limit: int = 100):
        self.client, self.notice, self.limit = client, notice, limit
        self.viewer = RecordViewer(client, notice)
        self.rows = widgets.VBox()
        self.rows.add_class("ba-import-records")
        super().__init__([self.rows, self.viewer])

    def show(self, imp: Any) -> None:
        with self.notice.guard():
            frame = imp.records()
            domain = imp.info["domain"]
            lines = []
            for r in frame.head(self.limit).iter_rows(named=True):
                text = (f"Row {r['Row Number']}: <b>{html.escape(str(r['Status']))}</b> "
                        f"{html.escape(str(r['Action'] or ''))}")
                if r["Error"]:
                    text += f' — <span class="ba-record-error">{html.escape(r["Error"])}</span>'
                parts: list[widgets.Widget] = [widgets.HTML(text)]
                if r["Record ID"] is not None:
                    parts.insert(0, open_button(f"Open record {r['Record ID']}",
                                                lambda rid=r["Record ID"]: self.viewer.show_record(domain, rid)))
                lines.append(widgets.HBox(parts))
            more = frame.height - self.limit
            if more > 0:
                lines.append(widgets.HTML(f'<div class="ba-hint">… and {more} more rows: download the results '
                                          f'for all of them.</div>'))
            self.rows.children = lines or [widgets.HTML('<div class="ba-hint">No rows yet.</div>')]
            self.viewer.clear()


class RegistrationPage(widgets.VBox):
    """The Registration & Certification screen: records, selection, export (seed 002)."""

    def __init__(self, client: Any, notice: Notice, domain: str = "qualification"):
        self.client, self.notice, self.domain = client, notice, domain
        self.page, self.total = 1, 0
        self.items: list[dict[str, Any]] = []
        self.chosen: set[int] = set()
        self.select_page = widgets.Checkbox(description="Select all on this page", indent=False)
        self.select_page.add_class("ba-select-page")
        self.select_page.observe(self._on_select_page, "value")
        self.select_all = widgets.Checkbox(description="Select all records", indent=False)
        self.select_all.add_class("ba-select-all")
        self.select_all.observe(lambda _: self._update_banner(), "value")
        self.rows = widgets.VBox()
        self.rows.add_class("ba-records")
        self.previous = widgets.Button(description="‹ Previous")
        self.next = widgets.Button(description="Next ›")
        self.previous.on_click(lambda _: self.refresh(self.page - 1))
        self.next.on_click(lambda _: self.refresh(self.page + 1))
        self.counter = widgets.HTML()
        self.format = widgets.Dropdown(options=[("CSV", "csv"), ("XLSX", "xlsx")], value="csv", description="Format")
        self.format.add_class("ba-export-format")
        self.export_button = widgets.Button(description="⤓ Export", button_style="primary")
        self.export_button.add_class("ba-export-button")
        self.export_button.on_click(self._export)
        self.banner_text = widgets.HTML()
        self.banner = widgets.HBox([self.banner_text, self.format, self.export_button])
        self.banner.add_class("ba-export-banner")
        self.link = DownloadLink("ba-export-link")
        self.viewer = RecordViewer(client, notice)
        self.checks: dict[int, widgets.Checkbox] = {}
        super().__init__([
            widgets.HTML("<h2>Registration &amp; Certification</h2><div class='ba-hint'>Select records, the page, "
                         "or all records, then Export.</div>"),
            widgets.HBox([self.select_page, self.select_all]), self.banner, self.link, self.rows,
            widgets.HBox([self.previous, self.next, self.counter]), self.viewer,
        ])
        self.add_class("ba-registration")
        self._update_banner()

    def refresh(self, page: int = 1) -> None:
        with self.notice.guard():
            page = max(1, page)
            body = self.client.records(self.domain, page=page, page_size=PAGE_SIZE)
            self.page, self.total, self.items = page, body["total"], body["items"]
            self.checks = {}
            lines = []
            for item in self.items:
                fields = item["fields"]
                check = widgets.Checkbox(value=item["id"] in self.chosen, indent=False,
                                         layout=widgets.Layout(width="32px"))
                check.add_class("ba-record-check")
                check.add_class(f"ba-record-check-{item['id']}")
                check.observe(lambda change, rid=item["id"]: self._on_check(rid, change["new"]), "value")
                self.checks[item["id"]] = check
                text = " · ".join(html.escape(str(fields.get(f) or "—")) for f in SHOWN_FIELDS)
                lines.append(widgets.HBox([check, open_button(f"Record {item['id']}",
                                                              lambda rid=item["id"]: self.viewer.show_record(self.domain, rid)),
                                           widgets.HTML(text)]))
            self.rows.children = lines or [widgets.HTML('<div class="ba-hint">No records.</div>')]
            last = max(1, -(-self.total // PAGE_SIZE))
            self.previous.disabled, self.next.disabled = page <= 1, page >= last
            self.counter.value = f"page {page} of {last} — {self.total} records"
            self.select_page.unobserve(self._on_select_page, "value")
            self.select_page.value = bool(self.items) and all(i["id"] in self.chosen for i in self.items)
            self.select_page.observe(self._on_select_page, "value")
            self._update_banner()

    def _on_check(self, record_id: int, checked: bool) -> None:
        (self.chosen.add if checked else self.chosen.discard)(record_id)
        self._update_banner()

    def _on_select_page(self, change: dict) -> None:
        for check in self.checks.values():
            check.value = change["new"]

    def selection(self) -> tuple[str, list[int]]:
        """("all", []) or ("ids", the chosen record IDs)."""
        if self.select_all.value:
            return "all", []
        return "ids", sorted(self.chosen)

    def _update_banner(self) -> None:
        kind, ids = self.selection()
        count = self.total if kind == "all" else len(ids)
        self.banner_text.value = f'<span class="ba-selected-count">{count} selected</span>'
        self.export_button.disabled = count == 0
        self.link.withdraw()

    def _export(self, _: object) -> None:
        with self.notice.guard():
            kind, ids = self.selection()
            if len(ids) > MAX_IDS:
                self.notice.show(f"{len(ids)} records are selected; export at most {MAX_IDS} chosen records at a "
                                 f"time, or Select all records.", "warning")
                return
            fmt = self.format.value
            content = self.client.export(self.domain, ids or None, fmt=fmt)
            count = self.total if kind == "all" else len(ids)
            self.link.offer(content, f"registration_certification_export.{fmt}",
                            f"Save the export of {count} record(s) ({fmt.upper()})")
            self.notice.clear()
