"""The Webhooks panel of the Administration tab: the organisation's webhook URLs and the delivery log.

Run Workflow on Import (seed 001) sends a signed `case.created` event for each inserted case to every
active webhook of the organisation. Here an administrator lists the URLs, adds one (the signing secret
the server answers is shown once, to be copied now), deletes one (asking once more, like Unlock) and
reads the delivery log. Every server-provided string is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from bulkassist.dashboard.clock import BrowserClock, local_time
from bulkassist.dashboard.notices import Notice

HINT = ("Imports with Run Workflow on Import send a signed case.created event for each new case to every "
        "active webhook URL below (header X-BulkAssist-Signature: sha256=HMAC of the body with the secret).")
SECRET_NOTE = "Copy this signing secret now: it is shown only this once and cannot be read back later."
DELIVERY_COLUMNS = ("Event", "Record", "Webhook", "Status", "Attempts", "Last answer")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def last_answer(delivery: dict[str, Any]) -> str:
    """The last attempt's HTTP status and error, e.g. "HTTP 500 — answered 500" (empty before any attempt)."""
    if not delivery.get("log"):
        return ""
    last = delivery["log"][-1]
    parts = [f"HTTP {last['status_code']}" if last.get("status_code") is not None else "",
             str(last.get("error") or "")]
    return " — ".join(p for p in parts if p)


def deliveries_html(deliveries: list[dict[str, Any]]) -> str:
    """The delivery log as an escaped HTML table (newest first, as the server answers)."""
    if not deliveries:
        return "<div class='ba-hint ba-deliveries-empty'>No deliveries yet.</div>"
    head = "".join(f"<th>{c}</th>" for c in DELIVERY_COLUMNS)
    rows = []
    for d in deliveries:
        record = f"record {_e(d.get('record_id'))} (import {_e(d.get('import_id'))})"
        cells = [_e(d.get("event")), record, _e(d.get("url")), _e(d.get("status")), _e(d.get("attempts")),
                 _e(last_answer(d))]
        rows.append(f"<tr class='ba-delivery ba-delivery-{_e(d.get('status'))}'>"
                    + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table class='ba-deliveries-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class Webhooks(widgets.VBox):
    """List, add and delete the organisation's webhooks; the delivery log with Refresh."""

    def __init__(self, client: Any, notice: Notice, clock: BrowserClock):
        self.client = client
        self.notice = notice
        self.clock = clock
        self.found: list[dict[str, Any]] = []
        self.url = widgets.Text(placeholder="https://example.org/hooks", description="URL")
        self.url.add_class("ba-webhook-url")
        self.secret = widgets.Text(placeholder="optional: leave empty for a generated one", description="Secret")
        self.secret.add_class("ba-webhook-secret")
        add = widgets.Button(description="＋ Add webhook", button_style="primary")
        add.add_class("ba-webhook-add")
        add.on_click(lambda _: self.add())
        self.shown_secret = widgets.HTML()
        self.shown_secret.add_class("ba-webhook-secret-once")
        self.rows = widgets.VBox()
        self.rows.add_class("ba-webhooks")
        self.confirm = widgets.VBox()
        self.confirm.add_class("ba-webhook-delete-confirm-box")
        self.status = widgets.HTML()
        self.status.add_class("ba-webhooks-status")
        self.delivery_log = widgets.HTML()
        self.delivery_log.add_class("ba-deliveries")
        refresh = widgets.Button(description="⟳ Refresh")
        refresh.add_class("ba-deliveries-refresh")
        refresh.on_click(lambda _: self.refresh())
        super().__init__([
            widgets.HTML(f"<h2>Webhooks</h2><div class='ba-hint'>{html.escape(HINT)}</div>"),
            widgets.HBox([self.url, self.secret, add]), self.shown_secret, self.rows, self.confirm, self.status,
            widgets.HTML("<h3>Delivery log</h3>"), refresh, self.delivery_log])
        self.add_class("ba-admin-webhooks")

    def refresh(self) -> None:
        """Fetch the webhooks and the recent deliveries from the server."""
        with self.notice.guard():
            self.found = self.client.webhooks()
            self.confirm.children = []
            if self.found:
                self.rows.children = [self._row(hook) for hook in self.found]
            else:
                empty = widgets.HTML("<div class='ba-hint'>No webhook yet: add a URL above.</div>")
                empty.add_class("ba-webhooks-empty")
                self.rows.children = [empty]
            self.delivery_log.value = deliveries_html(self.client.deliveries(limit=50))

    def _row(self, hook: dict[str, Any]) -> widgets.HBox:
        text = widgets.HTML(f"<b>{_e(hook['url'])}</b> — added {_e(local_time(hook.get('created_at'), self.clock.zone))}, "
                            f"{'active' if hook.get('active') else 'inactive'}")
        button = widgets.Button(description="Delete", button_style="warning")
        button.add_class("ba-webhook-delete")
        button.on_click(lambda _, h=hook: self.ask(h))
        row = widgets.HBox([button, text])
        row.add_class("ba-webhook-row")
        row.add_class(f"ba-webhook-{int(hook['id'])}")
        return row

    def add(self) -> None:
        """Add the URL; the server's answer holds the signing secret, shown here once."""
        self.shown_secret.value = ""
        with self.notice.guard():
            hook = self.client.add_webhook(self.url.value.strip(), self.secret.value or None)
            self.url.value = self.secret.value = ""
            self.shown_secret.value = (
                f"<div class='ba-notice-warning'><b>Webhook added: {_e(hook['url'])}.</b> {html.escape(SECRET_NOTE)}"
                f"<br><code class='ba-webhook-secret-value'>{_e(hook['secret'])}</code></div>")
            self.status.value = ""
            self.notice.clear()
            self.refresh()

    def ask(self, hook: dict[str, Any]) -> None:
        """Say what deleting does, then Delete (or keep the webhook)."""
        question = widgets.HTML(f"Delete the webhook <b>{_e(hook['url'])}</b>? It receives no more events.")
        yes = widgets.Button(description="Delete", button_style="danger")
        yes.add_class("ba-webhook-delete-confirm")
        yes.on_click(lambda _: self.delete(hook))
        keep = widgets.Button(description="Keep")
        keep.add_class("ba-webhook-keep")
        keep.on_click(lambda _: setattr(self.confirm, "children", []))
        self.confirm.children = [widgets.HBox([question, yes, keep])]

    def delete(self, hook: dict[str, Any]) -> None:
        with self.notice.guard():
            self.client.delete_webhook(hook["id"])
            self.status.value = f"The webhook {_e(hook['url'])} is deleted."
            self.shown_secret.value = ""
            self.notice.clear()
        self.refresh()
