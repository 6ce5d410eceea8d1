"""The dashboard's records against a real server (no browser): Successful % and Errors in the history,
the Records of an import with a button to open each record, and the Registration & Certification page
(seed 002) selecting records, the page or all, and exporting them."""

from __future__ import annotations

import base64
import io

import openpyxl
import polars as pl

from bulkassist.client import Client
from bulkassist.dashboard import App
from bulkassist.dashboard.records import PAGE_SIZE
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes


def _download(link_html: str) -> bytes:
    return base64.b64decode(link_html.split("base64,", 1)[1].split('"', 1)[0])


def test_history_shows_successful_percent_and_opens_each_record(sqlite_server) -> None:
    client = Client(sqlite_server.url, sqlite_server.tokens["importer"])
    imp = client.start_import(csv_bytes(CLIENT_HEADER, [["", "Dash", "Board", "01/02/1990", "English", ""],
                                                        ["", "Bad", "Row", "13/13/1990", "English", ""]]),
                              "client", "add", name="dash-records.csv")
    imp.commit(timeout=60)
    app = App(client)
    assert len(app.tabs.children) == 2  # no Registration & Certification role
    app.show_history()
    history = app.history
    assert "Successful %" in history.frame.columns
    history.selected.value = imp.id
    assert "Successful %: <b>50.0</b>" in history.detail.value and "Errors: <b>1</b>" in history.detail.value
    history.records_button.click()
    lines = history.records.rows.children
    assert len(lines) == 2
    opened, text = lines[0].children
    record_id = int(imp.records()["Record ID"][0])
    assert opened.description == f"Open record {record_id}" and "Success" in text.value
    failed = lines[1].children
    assert len(failed) == 1 and "Failed" in failed[0].value and "Date of Birth" in failed[0].value
    opened.click()
    assert f"Record {record_id}" in history.records.viewer.value and "Board" in history.records.viewer.value


def test_registration_page_exports_chosen_records_the_page_or_all(sqlite_server) -> None:
    registrar = Client(sqlite_server.url, sqlite_server.tokens["registrar"])
    app = App(registrar)
    assert app.tabs.titles[-1] == "Registration & Certification"
    app.show_registration()
    page = app.registration
    total = registrar.records("qualification")["total"]
    assert len(page.rows.children) == min(PAGE_SIZE, total) and f"{total} records" in page.counter.value
    assert page.export_button.disabled and "0 selected" in page.banner_text.value
    first, third = page.items[0]["id"], page.items[2]["id"]
    page.checks[first].value = True
    page.checks[third].value = True
    assert "2 selected" in page.banner_text.value and not page.export_button.disabled
    page.export_button.click()
    chosen = pl.read_csv(io.BytesIO(_download(page.link.value)), infer_schema=False)
    expected = registrar.export("qualification", [first, third])
    assert chosen.height == 2 and chosen.equals(pl.read_csv(io.BytesIO(expected), infer_schema=False))
    assert chosen["First Name"].null_count() == 0

    page.select_page.value = True
    assert f"{min(PAGE_SIZE, total)} selected" in page.banner_text.value
    page.format.value = "xlsx"
    page.export_button.click()
    sheet = openpyxl.load_workbook(io.BytesIO(_download(page.link.value))).active
    assert sheet.max_row == 1 + min(PAGE_SIZE, total)

    page.select_all.value = True
    assert f"{total} selected" in page.banner_text.value
    page.format.value = "csv"
    page.export_button.click()
    assert pl.read_csv(io.BytesIO(_download(page.link.value)), infer_schema=False).height == total

    page.rows.children[0].children[1].click()  # the first record opens from its button
    assert f"Record {first}" in page.viewer.value
