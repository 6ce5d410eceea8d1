"""The HTTP client of the BulkAssist import server (`bulkassist.Client`).

Every front end (notebook, Excel, dashboard, CLI) talks to the server through
this one class, so token auth, timeouts, batching at 10 MB, retries and the
mapping of HTTP errors onto `bulkassist.errors` live in one place.

Retries: only calls that are safe to repeat are retried (GETs, batch uploads
carrying a batch id, and POSTs carrying an Idempotency-Key), with exponential
backoff, on connection errors and 502/503/504. Anything else fails at once
with a typed exception whose message says what to do.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import polars as pl
import requests

from bulkassist.engine.report import ISSUE_SCHEMA, RESULT_COLUMNS, issue_texts
from bulkassist.engine.selectlists import StaticLists
from bulkassist.errors import (
    AuthenticationFailed,
    BulkAssistError,
    DomainNotEnabled,
    FileTooLarge,
    InvalidRequest,
    NotLicensed,
    PayloadTooLarge,
    PermissionDenied,
    ServerError,
    ServerUnreachable,
    SessionExpired,
    SignInFailed,
    TooManySignInAttempts,
    UsageLimitExceeded,
    error_class,
)
from bulkassist.frames import as_flavour, flavour_of
from bulkassist.io import batches
from bulkassist.io.csv import csv_size
from bulkassist.io.reading import read_table, unique_names
from bulkassist.spec import Domain
from bulkassist.status import FINAL, UNDONE, ImportStatus

API = "/api/v1"
_RETRY_STATUS = {502, 503, 504}

Progress = Callable[[int, int], None]  # (rows done, rows in total)
DOWNLOAD_CHUNK = 256 * 1024  # bytes read at a time from a download that reports its progress
CHANGE_COLUMNS = ("row", "field", "old", "new", "change")  # `Import.changes()`
CHANGES_PAGE = 5000  # entries per request when `Import.changes()` reads the whole preview

HISTORY_COLUMNS = {
    "id": "Import ID",
    "domain": "Domain",
    "status": "Status",
    "operation": "Operation",
    "file_name": "File Name",
    "total": "Total Records",
    "valid": "Valid Records",
    "successful_percent": "Successful %",  # seed 001's Info tab
    "error_count": "Errors",  # validation errors + rows the commit failed
    "user": "User",
    "created_at": "Date",
}
_HISTORY_TYPES = {"id": pl.Int64, "total": pl.Int64, "valid": pl.Int64, "error_count": pl.Int64,
                  "successful_percent": pl.Float64}
RECORDS_COLUMNS = {"row": "Row Number", "status": "Status", "action": "Action", "record_id": "Record ID",
                   "link": "Link", "error": "Error"}

# What to do next, for an error class and its subclasses.
_HINTS: dict[type[ServerError], str] = {
    SignInFailed: "",  # these messages say what to do: sign in again, or ask for a new password
    SessionExpired: "",
    TooManySignInAttempts: "",
    AuthenticationFailed: "Check the API token (ask your administrator for a new one: `bulkassist admin create-token`).",
    NotLicensed: "Bulk Data Import is a licensed feature: submit a support ticket to have it enabled.",
    DomainNotEnabled: "Ask your administrator to enable this domain for your organisation.",
    PermissionDenied: "Ask your administrator to add you to a permission group that grants this.",
    UsageLimitExceeded: "Import fewer rows, or wait until the usage period resets, or ask for a higher limit.",
    FileTooLarge: "",  # its message says what to do: split the file
    PayloadTooLarge: "Send smaller batches (at most 10 MB each); Client.start_import does this for you.",
}


class Client:
    """A session with one import server, as one user (an API token, or a sign-in session: `Client.sign_in`)."""

    def __init__(self, url: str, token: str, *, timeout: float = 30, retries: int = 3,
                 session: requests.Session | None = None, as_: str | None = None):
        """`as_` ("pandas", "polars" or "pyarrow") is the DataFrame library of the frames this client hands
        back when nothing else says which: the history, and imports not started from a frame (polars)."""
        self.url = url.rstrip("/")
        self.as_ = as_
        self.timeout = timeout
        self.retries = retries
        self._http = session or requests.Session()
        self._http.headers["Authorization"] = f"Bearer {token}"
        self._http.headers["User-Agent"] = "bulkassist-client/0.1"
        self._lists: dict[str, tuple[str, dict[str, Any]]] = {}  # domain -> (etag, payload)
        self._domains: dict[str, Domain] = {}
        self.expires_at: str | None = None  # a sign-in session's end (UTC, ISO 8601); None for an API token

    @classmethod
    def sign_in(cls, url: str, name: str | None = None, password: str | None = None, *,
                organisation: str | None = None, token: str | None = None, **kwargs: Any) -> Client:
        """A client acting as the user who signs in with `name` and `password` (or an API `token`): it holds
        a session credential that expires (`expires_at`) and ends with `sign_out()`. Raises `SignInFailed`
        for a wrong name or password, `TooManySignInAttempts` after repeated failures."""
        body = {"token": token} if token else {"name": name, "password": password, "organisation": organisation}
        anonymous = cls(url, "", **kwargs)
        issued = anonymous._json("POST", "/sessions", json={k: v for k, v in body.items() if v is not None})
        client = cls(url, issued["token"], **kwargs)
        client.expires_at = issued["expires_at"]
        return client

    def sign_out(self) -> None:
        """End this client's sign-in session on the server (one already ended is fine)."""
        try:
            self.request("DELETE", "/sessions/current")
        except SessionExpired:
            pass

    # ------------------------------------------------------------ transport
    def request(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
                ) -> requests.Response:
        """One API call; raises the `bulkassist.errors` class that matches the answer."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        kwargs.setdefault("timeout", self.timeout)
        attempts = 1 + (self.retries if idempotent else 0)
        url = self.url + API + path
        for attempt in range(attempts):
            try:
                response = self._http.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 < attempts:
                    time.sleep(_backoff(attempt))
                    continue
                raise ServerUnreachable(
                    f"the import server at {self.url} did not answer ({type(exc).__name__}); check that it is "
                    f"running (`bulkassist serve`) and the URL is right"
                ) from exc
            if response.status_code in _RETRY_STATUS and attempt + 1 < attempts:
                time.sleep(_backoff(attempt))
                continue
            if response.status_code >= 400:
                raise _error_from(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # ---------------------------------------------------- specs and lists
    def me(self) -> dict[str, Any]:
        """Who the token belongs to: user, organisation, permissions."""
        return self._json("GET", "/me")

    def domains(self) -> list[dict[str, Any]]:
        """Every domain with whether it is enabled for the organisation and importable by this user."""
        return self._json("GET", "/domains")

    def domain(self, name: str) -> Domain:
        """The server's spec of a domain (what it will enforce)."""
        if name not in self._domains:
            self._domains[name] = Domain.from_dict(self._json("GET", f"/domains/{name}"))
        return self._domains[name]

    def lists(self, domain: str) -> StaticLists:
        """The organisation's select lists used by `domain`, as a `SelectLists` provider (cached by ETag)."""
        headers = {}
        cached = self._lists.get(domain)
        if cached:
            headers["If-None-Match"] = cached[0]
        response = self.request("GET", f"/domains/{domain}/lists", headers=headers)
        if response.status_code == 304 and cached:
            payload = cached[1]
        else:
            payload = response.json()
            self._lists[domain] = (response.headers.get("ETag", ""), payload)
        return StaticLists.from_dict(payload)

    def suggest(self, list_name: str, text: str, limit: int = 5) -> list[dict[str, Any]]:
        """Ranked candidates `{value, label, score}` of a select list for a typed value."""
        body = self._json("GET", f"/lists/{list_name}/suggest", params={"q": text, "limit": limit})
        return body["candidates"]

    def template(self, domain: str, *, course_code: str | None = None, fmt: str = "xlsx") -> bytes:
        """A blank template, or one pre-filled with the clients of a course's assignments."""
        params: dict[str, Any] = {"format": fmt}
        if course_code:
            params["course_code"] = course_code
        return self.request("GET", f"/domains/{domain}/template", params=params).content

    def export(self, domain: str, record_ids: list[int] | None = None, *, fmt: str = "csv",
               page: int | None = None, page_size: int = 50, progress: Progress | None = None) -> bytes:
        """The domain's export file (Registration & Certification): the chosen records, one `page` of
        `records(domain)`, or (neither) all of them; csv or xlsx. Needs the Data Export permission.
        `progress(bytes received, bytes in total)` follows the download (total 0 when the server does not say)."""
        params: dict[str, Any] = {"format": fmt}
        if record_ids:
            params["record_id"] = [int(i) for i in record_ids]
        if page is not None:
            params.update(page=page, page_size=page_size)
        response = self.request("GET", f"/domains/{domain}/export", params=params, stream=progress is not None)
        if progress is None:
            return response.content
        total = int(response.headers.get("Content-Length") or 0)
        received = bytearray()
        for chunk in response.iter_content(DOWNLOAD_CHUNK):
            received += chunk
            progress(len(received), total)
        return bytes(received)

    def records(self, domain: str, *, page: int = 1, page_size: int = 50) -> dict[str, Any]:
        """One page of the domain's records `{items, total, page, page_size}` (the Registration &
        Certification screen; needs the permission to manage the domain's records)."""
        return self._json("GET", f"/records/{quote(domain, safe='')}", params={"page": page, "page_size": page_size})

    def record(self, domain: str, record_id: int) -> dict[str, Any]:
        """One record of your organisation: `{id, domain, link, import_id, fields, ...}`."""
        return self._json("GET", f"/records/{quote(domain, safe='')}/{int(record_id)}")

    # ------------------------------------------------------------ webhooks (administrators)
    def webhooks(self) -> list[dict[str, Any]]:
        return self._json("GET", "/admin/webhooks")

    def add_webhook(self, url: str, secret: str | None = None) -> dict[str, Any]:
        """Add a webhook URL; the answer holds the signing `secret` (shown once)."""
        body = {"url": url} if secret is None else {"url": url, "secret": secret}
        return self._json("POST", "/admin/webhooks", json=body, idempotent=False)

    def delete_webhook(self, webhook_id: int) -> dict[str, Any]:
        return self._json("DELETE", f"/admin/webhooks/{int(webhook_id)}", idempotent=True)

    def deliveries(self, *, webhook_id: int | None = None, status: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        """The webhook delivery log, newest first, each delivery with its attempts."""
        params = {k: v for k, v in {"webhook_id": webhook_id, "status": status, "limit": limit}.items()
                  if v is not None}
        return self._json("GET", "/admin/webhooks/deliveries", params=params)

    def courses(self, search: str) -> list[dict[str, Any]]:
        """Courses whose Course Code starts with `search` (the server answers from two characters on)."""
        return self._json("GET", "/courses", params={"search": search})["courses"]

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Your organisation's settings (administrators), e.g. `settings(undo_retention_days=7)` to change."""
        if changes:
            current = self._json("GET", "/admin/settings")
            return self._json("PUT", "/admin/settings", json={**current, **changes})
        return self._json("GET", "/admin/settings")

    def usage(self) -> dict[str, Any]:
        """Rows imported today / this week / this month and the organisation's limits."""
        return self._json("GET", "/usage")

    def daily_usage(self, days: int = 30) -> pl.DataFrame:
        """Rows imported per UTC day over the last `days` days (columns `day`, `rows`; today last); the
        organisation's limits are in `usage()`."""
        answer = self._json("GET", "/usage/daily", params={"days": days})
        return pl.DataFrame(answer["days"], schema={"day": pl.String, "rows": pl.Int64}, orient="row").with_columns(
            pl.col("day").str.to_date())

    # ------------------------------------------------------ administration
    def locks(self) -> list[dict[str, Any]]:
        """The organisation's importer locks `{domain, import_id, reason, locked_at}` (administrators only)."""
        return self._json("GET", "/admin/locks")

    def unlock(self, domain: str) -> bool:
        """Release a domain's importer lock (seed 004; administrators only); False when it was not locked."""
        answer = self._json("POST", f"/admin/locks/{quote(domain, safe='')}/unlock", idempotent=True)
        return bool(answer["unlocked"])

    # ------------------------------------------------------------- imports
    def start_import(self, source: Any, domain: str, operation: str, *, options: dict[str, Any] | None = None,
                     name: str | None = None, sheet: str | None = None, separator: str | None = None,
                     progress: Progress | None = None, mapping: dict[str, str] | None = None) -> Import:
        """Read `source`, create an import, upload its rows in batches of at most 10 MB, validate it.

        `source` is a path, bytes, a pandas/polars DataFrame, a polars LazyFrame, a pyarrow Table or a `Table`;
        the import's frames (issues, results, records) come back in the library of a frame. `mapping` pairs columns with
        target fields ({"Student Number": "Identifier", "Notes": "-"}; "-" is do not import); without it
        the organisation's saved mapping for the same headers applies. Returns the validated `Import`;
        call `.mapping()`, `.review()`, `.edit_row()`, `.confirm()`, `.commit()`.
        """
        headers, rows, file_name, typed = _read_rows(source, name=name, sheet=sheet, separator=separator)
        size = _file_size(source, headers, rows)
        # The domain's file limit (seed 002: under 2 MB), checked here before a byte is uploaded, with the
        # sentence the server answers; the server checks the declared size and the rows it receives again.
        too_large = self.domain(domain).file_too_large(file_name, size)
        if too_large:
            raise FileTooLarge(too_large, size=size, limit=self.domain(domain).max_file_bytes)
        imp = self.create_import(domain, operation, options=options, file_name=file_name, sheet=sheet,
                                 file_size=size)
        imp.flavour = flavour_of(source) or self.as_
        imp.upload(headers, rows, progress=progress, typed=typed)
        if mapping:
            imp.set_mapping(mapping)
        imp.validate()
        return imp

    def create_import(self, domain: str, operation: str, *, options: dict[str, Any] | None = None,
                      file_name: str = "upload.csv", sheet: str | None = None, file_size: int | None = None
                      ) -> Import:
        """An empty import to upload rows into (see `Import.upload`); resending the create is safe.
        `file_size` (bytes of the file) lets the server refuse a file over the domain's limit at once."""
        body: dict[str, Any] = {"domain": domain, "operation": operation, "options": options or {},
                                "file_name": file_name, "sheet": sheet}
        if file_size is not None:
            body["file_size"] = file_size
        info = self._json("POST", "/imports", json=body, idempotent=True,
                          headers={"Idempotency-Key": uuid.uuid4().hex})
        return Import(self, info)

    def imports(self, *, domain: str | None = None, status: str | None = None, user: str | None = None,
                page: int = 1, page_size: int = 50) -> dict[str, Any]:
        """One page of the organisation's import history: `{items, total, page, page_size}`."""
        params = {k: v for k, v in {"domain": domain, "status": status, "user": user, "page": page,
                                    "page_size": page_size}.items() if v is not None}
        return self._json("GET", "/imports", params=params)

    def history(self, as_: str | None = None, **filters: Any) -> Any:
        """The import history as the seed's table: Import ID, Domain, Status, Operation, File Name, ...
        in the DataFrame library `as_` (default: the client's, else polars)."""
        items = self.imports(**filters)["items"]
        frame = pl.DataFrame([{k: item.get(k) for k in HISTORY_COLUMNS} for item in items],
                             schema={k: _HISTORY_TYPES.get(k, pl.String) for k in HISTORY_COLUMNS}, orient="row")
        return as_flavour(frame.rename(HISTORY_COLUMNS), as_, self.as_)

    def get_import(self, import_id: int) -> Import:
        return Import(self, self._json("GET", f"/imports/{import_id}"))

    # ------------------------------------------------ mappings and memory
    def mappings(self, domain: str) -> list[dict[str, Any]]:
        """The organisation's saved column mappings of `domain`: `{id, name, headers, columns, ...}`."""
        return self._json("GET", f"/mappings/{quote(domain, safe='')}")

    def save_mapping(self, domain: str, columns: dict[str, str], name: str,
                     headers: list[str] | None = None) -> dict[str, Any]:
        """Save a column mapping ({header: target or "-"}) for the organisation without an import; the next file
        with these `headers` (default: the keys of `columns`), in any order, is mapped by it."""
        body: dict[str, Any] = {"name": name, "columns": columns}
        if headers is not None:
            body["headers"] = list(headers)
        return self._json("POST", f"/mappings/{quote(domain, safe='')}", json=body, idempotent=True)

    def rename_mapping(self, domain: str, mapping_id: int, name: str) -> dict[str, Any]:
        return self._json("PATCH", f"/mappings/{quote(domain, safe='')}/{mapping_id}", json={"name": name},
                          idempotent=True)

    def delete_mapping(self, domain: str, mapping_id: int) -> dict[str, Any]:
        """Delete a saved mapping; imports mapped by it keep their targets."""
        return self._json("DELETE", f"/mappings/{quote(domain, safe='')}/{mapping_id}")

    def remembered_values(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Value fixes the organisation remembered `{id, domain, field, value, new_value, user, created_at}`."""
        return self._json("GET", "/remembered-values", params={} if domain is None else {"domain": domain})

    def forget_value(self, value_id: int) -> dict[str, Any]:
        """Forget a remembered value fix (administrators)."""
        return self._json("DELETE", f"/remembered-values/{value_id}")

    def __repr__(self) -> str:
        return f"<bulkassist.Client {self.url}>"


class Import:
    """One import job on the server, following the seed's life cycle."""

    def __init__(self, client: Client, info: dict[str, Any]):
        self.client = client
        self.info = info
        # The DataFrame library the import's frames come back in: the started-from frame's, else the client's.
        self.flavour: str | None = client.as_

    @property
    def id(self) -> int:
        return self.info["id"]

    @property
    def _path(self) -> str:
        return f"/imports/{self.id}"

    def refresh(self) -> Import:
        self.info = self.client._json("GET", self._path)
        return self

    def status(self) -> dict[str, Any]:
        """The import as the server sees it now: status, message, counts, progress."""
        return self.refresh().info

    # ------------------------------------------------------------- upload
    def upload(self, headers: list[str], rows: pl.DataFrame, *, progress: Progress | None = None,
               first_row: int = 0, typed: dict[str, dict[int, list[int]]] | None = None) -> None:
        """Send `rows` (text cells, one column per header) in batches under the domain's `batch_bytes`
        (10 MB), as Arrow (`bulkassist.io.batches`); each batch has an id, so a resend is stored once.

        `typed` ({"date_cells"|"number_cells": {column index: [row positions]}}) tells the server which
        cells were date or number cells in the workbook, so it judges them as the local validation does.
        """
        total = rows.height
        done = 0
        limit = self.client.domain(self.info["domain"]).batch_bytes
        frame = _batch_frame(headers, rows, typed or {})
        # One batch in flight while the next is encoded: the server checks batch n while we build n + 1.
        with ThreadPoolExecutor(max_workers=1) as sender:
            in_flight = None
            for start, count in _batches(frame, limit):
                batch_id = f"{self.id}-{first_row + start}-{count}"
                body = batches.encode(batches.RowBatch(batch_id, first_row + start, list(headers),
                                                       frame.slice(start, count)))
                if in_flight is not None:
                    done += in_flight.result()
                    if progress:
                        progress(done, total)
                in_flight = sender.submit(self._send_batch, body, count)
            if in_flight is not None:
                done += in_flight.result()
                if progress:
                    progress(done, total)
        if not total:
            # A 0-row file still reaches the server so it can say so.
            empty = {"batch_id": f"{self.id}-empty", "first_row": first_row, "headers": headers, "rows": []}
            self.client.request("POST", f"{self._path}/batches", json=empty, idempotent=True)

    def _send_batch(self, body: bytes, rows: int) -> int:
        self.client.request("POST", f"{self._path}/batches", data=body,
                            headers={"Content-Type": batches.MEDIA_TYPE}, idempotent=True)
        return rows

    def drop_batch(self, batch_id: str) -> dict[str, Any]:
        """Remove an uploaded batch before validation (`{batch_id, first_row, rows}`), e.g. to resend its
        rows cut differently: batches may not overlap."""
        return self.client._json("DELETE", f"{self._path}/batches/{quote(batch_id, safe='')}")

    def validate(self, *, poll: float = 0.2, timeout: float | None = None) -> dict[str, Any]:
        """Validate every uploaded row on the server (authoritatively), waiting for the server's validation
        job; returns the summary. Rows the server cannot validate raise `InvalidRequest` with its reason."""
        self.info = self.client._json("POST", f"{self._path}/validate", idempotent=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.info["status"] == ImportStatus.VALIDATING:
            if deadline is not None and time.monotonic() > deadline:
                raise ServerError(f"import {self.id} is still Validating after {timeout} s; call .validate() "
                                  f"again to go on waiting")
            time.sleep(poll)
            self.refresh()
        if self.info["status"] == ImportStatus.UPLOADING:  # the job could not validate the rows
            raise InvalidRequest(f"import {self.id} could not be validated: {self.info['message']}")
        return self.info["summary"]

    # ------------------------------------------------------------- review
    def review(self, issues_limit: int | None = None) -> dict[str, Any]:
        """Summary (total, valid, errors, skipped, insert, update), per-row actions and issues."""
        params = {} if issues_limit is None else {"issues_limit": issues_limit}
        return self.client._json("GET", f"{self._path}/review", params=params)

    @property
    def summary(self) -> dict[str, int]:
        return self.info.get("summary") or {}

    @property
    def issues(self) -> Any:
        """Every issue (columns of `ISSUE_SCHEMA`), in the DataFrame library the import was started from."""
        return self.issues_frame()

    def issues_frame(self, as_: str | None = None) -> Any:
        """Every issue (columns of `ISSUE_SCHEMA`) in the DataFrame library `as_` ("pandas", "polars",
        "pyarrow"; default: the one the import was started from, else polars)."""
        return as_flavour(issue_texts(issue_frame(self.review()["issues"])), as_, self.flavour)

    def edit_row(self, row: int, values: dict[str, Any]) -> dict[str, Any]:
        """Change cells of spreadsheet row `row` ({header: value}); revalidated at once.

        Returns `{row, action, issues, summary}` for that row after the edit.
        """
        answer = self.client._json("PATCH", f"{self._path}/rows/{row}", json={"values": values}, idempotent=True)
        self.info["summary"] = answer["summary"]
        return answer

    def changes_page(self, page: int = 1, page_size: int = 100, *, field: str | None = None,
                     change: str | None = None) -> dict[str, Any]:
        """One page of the preview of changes: `{id, total, page, page_size, fields, items}`, each item
        `{row, field, old, new, change}` (change: "changed", or "kept" when a blank cell keeps the stored value)."""
        params = {k: v for k, v in {"page": page, "page_size": page_size, "field": field, "change": change}.items()
                  if v is not None}
        return self.client._json("GET", f"{self._path}/changes", params=params)

    def changes(self, field: str | None = None, *, change: str | None = None):
        """What committing would change, as a pandas DataFrame: row, field, old (stored), new (the file's),
        change ("changed", or "kept": the cell is blank and the stored value stays, new is empty).

        Only Update rows are listed, and only fields whose value changes or is kept; rows whose values all
        equal the stored record are "No change" rows of the review (`summary["no_change"]`).
        """
        import pandas as pd  # pandas only when a notebook asks for the DataFrame (the client needs polars only)

        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.changes_page(page, CHANGES_PAGE, field=field, change=change)
            items.extend(body["items"])
            if not body["items"] or len(items) >= body["total"]:
                break
            page += 1
        frame = pd.DataFrame(items, columns=list(CHANGE_COLUMNS))
        texts = ["field", "old", "new", "change"]
        frame[texts] = frame[texts].astype(object).where(frame[texts].notna(), None)  # a missing value is None
        return frame.astype({"row": "int64"})

    # ------------------------------------------------------------ mapping
    def mapping_answer(self) -> dict[str, Any]:
        """The server's mapping page: `{columns, unmapped, saved_mapping, saved_mapping_id, partial, complete}`."""
        return self.client._json("GET", f"{self._path}/mapping")

    def mapping(self) -> Any:
        """The proposed mapping as a pandas DataFrame: column, target, confidence, method, samples (one row per
        column of the file); `.attrs` carries unmapped, saved_mapping, partial and complete."""
        import pandas as pd  # pandas only for notebook users who ask for a frame

        answer = self.mapping_answer()
        frame = pd.DataFrame(answer["columns"], columns=["column", "target", "confidence", "method", "samples"])
        for name in ("target", "method"):  # an unmapped column's target is None, as the server says, not NaN
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        frame.attrs.update({k: v for k, v in answer.items() if k != "columns"})
        return frame

    def set_mapping(self, mapping: Mapping[str, str | None], save: bool = False, name: str | None = None
                    ) -> dict[str, Any]:
        """Choose target fields ({column: field, "Custom.NAME", "-" or None}); the import is revalidated once."""
        answer = self.client._json("PUT", f"{self._path}/mapping",
                                   json={"mapping": mapping, "save": save, "name": name})
        self.refresh()
        return answer

    def save_mapping(self, name: str | None = None) -> dict[str, Any]:
        """Save the import's mapping for the organisation (Save Mapping): the next file with the same headers,
        in any order, is mapped by it."""
        return self.set_mapping({}, save=True, name=name)

    def apply_to_all(self, column: str, value: str, new_value: str, remember: bool = False) -> dict[str, Any]:
        """Every cell of `column` equal to `value` becomes `new_value`, revalidated once on the server;
        `remember=True` applies (and lists) the same fix on the organisation's later files.
        Returns `{cells_changed, summary, status, remembered_id}`."""
        answer = self.client._json("POST", f"{self._path}/fix", json={
            "column": column, "value": value, "new_value": new_value, "remember": remember}, idempotent=True)
        self.info["summary"] = answer["summary"]
        return answer

    def set_options(self, **options: Any) -> dict[str, Any]:
        """Change options before the commit (seed 001's Start Import window), e.g.
        `imp.set_options(run_workflow=True, duplicate_action="skip")`; the import is revalidated once."""
        self.info = self.client._json("PATCH", self._path, json={"options": options}, idempotent=True)
        return self.info

    def confirm(self) -> dict[str, Any]:
        """What Confirm Import shows: File Name, Rows to Import, Total Rows, Errors Skipped, Import Usage."""
        return self.client._json("GET", f"{self._path}/confirmation")

    # ------------------------------------------------------------- commit
    def commit(self, progress: Progress | None = None, wait: bool = True, *, poll: float = 0.3,
               timeout: float | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        """Commit the valid rows (in the background on the server); resends are safe (Idempotency-Key)."""
        return self._run("commit", idempotency_key, progress, wait, poll, timeout)

    def retry(self, progress: Progress | None = None, wait: bool = True, *, poll: float = 0.3,
              timeout: float | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        """Commit again only the rows that failed; rows already imported are skipped, never duplicated."""
        return self._run("retry", idempotency_key, progress, wait, poll, timeout)

    def _run(self, action: str, key: str | None, progress: Progress | None, wait: bool, poll: float,
             timeout: float | None) -> dict[str, Any]:
        self.info = self.client._json("POST", f"{self._path}/{action}",
                                      headers={"Idempotency-Key": key or uuid.uuid4().hex}, idempotent=True)
        return self.wait(progress, poll=poll, timeout=timeout) if wait else self.info

    def wait(self, progress: Progress | None = None, *, poll: float = 0.3, timeout: float | None = None
             ) -> dict[str, Any]:
        """Poll until the commit (or the undo) has finished; `progress(done, total)` after each poll."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.refresh().info
            undo = info.get("undo")
            if progress:
                counts = undo if undo else info["progress"]
                progress(counts["done"], counts["total"])
            if info["status"] in (UNDONE if undo else FINAL):
                return info
            if deadline is not None and time.monotonic() > deadline:
                raise ServerError(f"import {self.id} is still {info['status']} after {timeout} s; "
                                  f"call .wait() again or look at .status()")
            time.sleep(poll)

    def cancel(self) -> dict[str, Any]:
        """Cancel; rows committed before the cancel stay committed and are listed in the results."""
        self.info = self.client._json("POST", f"{self._path}/cancel", idempotent=True)
        return self.info

    # --------------------------------------------------------------- undo
    def undo_plan(self) -> dict[str, Any]:
        """What undoing would do now: `{remove, restore, conflicts, linked, gone, invoices, undo_until,
        effects}` (records to remove, to restore, changed since, ...)."""
        return self.client._json("GET", f"{self._path}/undo")

    def undo(self, force: bool = False, progress: Progress | None = None, wait: bool = True, *,
             poll: float = 0.3, timeout: float | None = None) -> dict[str, Any]:
        """Undo the import: the records it inserted are removed, the fields it updated get their old values
        back. Records changed since are conflicts, left as they are, unless `force`. The answer's `undo`
        says what was done, and how invoices, workflow events and usage were handled."""
        self.info = self.client._json("POST", f"{self._path}/undo", json={"force": force}, idempotent=True)
        return self.wait(progress, poll=poll, timeout=timeout) if wait else self.info

    def undo_results(self) -> pl.DataFrame:
        """The undo's results: Record ID, Row Number, Action, Outcome, Invoice ID, Message."""
        body = self.client._json("GET", f"{self._path}/undo/results", params={"format": "json"})
        return pl.DataFrame(body["rows"], schema=body["columns"], orient="row")

    def undo_results_file(self, fmt: str = "csv") -> bytes:
        """The undo's results file (csv or xlsx) as the server builds it."""
        return self.client.request("GET", f"{self._path}/undo/results", params={"format": fmt}).content

    # ------------------------------------------------------------ results
    def results(self, as_: str | None = None) -> Any:
        """Row Number, Status, Action, Created/Updated ID, Error Messages (+ Invoice ID when invoiced), in the
        DataFrame library `as_` (default: the one the import was started from, else polars)."""
        body = self.client._json("GET", f"{self._path}/results", params={"format": "json"})
        columns = body["columns"]
        frame = pl.DataFrame(body["rows"], schema=columns, orient="row") if body["rows"] else pl.DataFrame(
            schema=dict.fromkeys(columns or RESULT_COLUMNS, pl.String))
        return as_flavour(frame, as_, self.flavour)

    @property
    def successful_percent(self) -> float | None:
        """Seed 001's Successful %: rows written over rows written or refused (None before the commit)."""
        return self.info.get("successful_percent")

    @property
    def error_count(self) -> int:
        """Seed 001's Errors: rows with a validation error plus rows the commit failed."""
        return int(self.info.get("error_count") or 0)

    def records(self, as_: str | None = None) -> Any:
        """Seed 001's Records tab: Row Number, Status, Action, Record ID, Link (to open the record with
        `client.record`) and Error (the reason a row failed), in the DataFrame library `as_` (default: the
        one the import was started from, else polars)."""
        items = self.client._json("GET", f"{self._path}/records")["items"]
        frame = pl.DataFrame([{k: item.get(k) for k in RECORDS_COLUMNS} for item in items],
                             schema={k: pl.Int64 if k in ("row", "record_id") else pl.String for k in RECORDS_COLUMNS},
                             orient="row")
        return as_flavour(frame.rename(RECORDS_COLUMNS), as_, self.flavour)

    def results_file(self, fmt: str = "csv") -> bytes:
        """The results file (csv, xlsx, or json `{columns, rows}`) as the server builds it."""
        return self.client.request("GET", f"{self._path}/results", params={"format": fmt}).content

    def errors_file(self, fmt: str = "csv") -> bytes:
        """Every validation and commit error (csv, xlsx, or json `{columns, rows}`)."""
        return self.client.request("GET", f"{self._path}/errors", params={"format": fmt}).content

    def __repr__(self) -> str:
        return f"<Import {self.id} {self.info.get('domain')}/{self.info.get('operation')} {self.info.get('status')}>"


# ------------------------------------------------------- undo sentences
def undo_plan_text(plan: dict[str, Any]) -> str:
    """What an undo will do, in the words every front end shows before asking to confirm."""
    parts = [f"{plan['remove']} record(s) the import added will be removed",
             f"{plan['restore']} record(s) it updated get their old values back"]
    if plan["conflicts"]:
        parts.append(f"{plan['conflicts']} record(s) changed since will be left as they are (conflicts; undo with "
                     f"force to undo them too)")
    if plan["linked"]:
        parts.append(f"{plan['linked']} record(s) later records link to will be kept")
    if plan["invoices"]:
        parts.append(f"{plan['invoices']} invoice(s) of removed assignments will be voided")
    effects = plan["effects"]
    if effects["workflow"]["events"]:
        parts.append(effects["workflow"]["note"])
    parts.append(effects["usage"]["note"])
    return "; ".join(parts) + "."


def undo_text(info: dict[str, Any]) -> str:
    """What an undo did (`info`: the import as the server answers it after an undo)."""
    undo = info["undo"]
    text = (f"Import {info['id']} {info['status']}: {undo['removed']} record(s) removed, {undo['restored']} "
            f"restored, {undo['conflicts']} conflict(s) left as they are")
    invoices = undo["effects"].get("invoices")
    if invoices:
        text += f"; {invoices['voided']} invoice(s) voided"
    return f"{text}; {undo['effects']['usage']['note']}."


# ---------------------------------------------------------------- helpers
def _backoff(attempt: int) -> float:
    return min(0.25 * (2 ** attempt), 4.0)


def _error_from(response: requests.Response) -> BulkAssistError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    code = (error or {}).get("code", "")
    message = (error or {}).get("message") or (body.get("detail") if isinstance(body, dict) else None) \
        or response.text[:300] or response.reason
    cls = error_class(code, response.status_code)
    if not issubclass(cls, ServerError):
        return cls(message)  # about the request itself (an unknown domain): as it would be raised locally
    hint = next((_HINTS[c] for c in cls.__mro__ if c in _HINTS), "")
    if response.status_code >= 500:
        hint = "The server failed; try again later or send the server log to your administrator."
    text = f"{message} ({response.status_code})"
    if hint and hint not in text:
        text = f"{text}. {hint}"
    return cls(text, status=response.status_code, detail=body)


def _read_rows(source: Any, *, name: str | None, sheet: str | None, separator: str | None
               ) -> tuple[list[str], pl.DataFrame, str, dict[str, dict[int, list[int]]]]:
    """Headers as written, the text cells, the file name, and where the workbook had typed cells."""
    table = read_table(source, sheet=sheet, separator=separator, name=name)
    frame = table.frame.cast(pl.String)
    columns = list(frame.columns)
    typed = {
        kind: {columns.index(col): mask.arg_true().to_list() for col, mask in getattr(table, kind).items()
               if col in columns}
        for kind in ("date_cells", "number_cells")
    }
    return list(table.headers), frame, str(table.source or name or "upload"), typed


def _file_size(source: Any, headers: list[str], rows: pl.DataFrame) -> int:
    """Bytes of the file the rows come from: the file's own size, or (a sheet, a data frame) the size
    of the rows as a CSV, as the server counts them."""
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    if isinstance(source, (bytes, bytearray)):
        return len(source)
    return csv_size(headers, rows)


def _batch_frame(headers: list[str], rows: pl.DataFrame, typed: dict[str, dict[int, list[int]]]) -> pl.DataFrame:
    """`rows` as a batch's frame: text columns named for `headers`, then a mask column per typed column."""
    names = unique_names(headers)
    frame = rows.rename(dict(zip(rows.columns, names, strict=True))).cast(pl.String)
    masks = [pl.Series(batches.MASKS[kind] + names[col], [False] * frame.height).scatter(where, True)
             for kind, by_col in typed.items() for col, where in by_col.items() if where]
    return frame.with_columns(masks) if masks else frame


def _batches(frame: pl.DataFrame, limit: int):
    """(start, row count) slices of `frame` whose Arrow form stays under `limit` bytes: the rows are cut by
    their cumulative size in one vectorised pass, so a million-row file costs no Python call per row."""
    if not frame.height:
        return
    # A cell's bytes plus its 8-byte offset (large strings), and a tenth of the limit left for the rest.
    size = frame.select(pl.sum_horizontal(pl.all().cast(pl.String).str.len_bytes().fill_null(0)).cast(pl.Int64)
                        + 8 * frame.width + 1).to_series()
    batch_of = (size.cum_sum() - 1) // int(limit * 0.9)
    starts = batch_of.rle()
    start = 0
    for count in starts.struct.field("len").to_list():
        yield start, count
        start += count


def issue_frame(issues: list[dict[str, Any]]) -> pl.DataFrame:
    if not issues:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    # Keys outside the schema are left out and missing ones are null, in polars (no dict per issue in Python).
    return pl.from_dicts(issues, schema=ISSUE_SCHEMA)


def read_results_csv(data: bytes) -> pl.DataFrame:
    """A results or errors CSV as the server sends it, as text columns."""
    return pl.read_csv(io.BytesIO(data), infer_schema=False)
