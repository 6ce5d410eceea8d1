"""Commands that read what an import did and the records it wrote, through `bulkassist.Client`:
status (seed 001's Info tab), records (its Records tab), export (seed 002's export file)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bulkassist.cli.options import format_option, id_argument, progress_option, server_required
from bulkassist.cli.progress import progress_bar
from bulkassist.client import RECORDS_COLUMNS, Client
from bulkassist.status import ImportStatus


@click.command()
@id_argument
@format_option()
@server_required
def status(import_id: int, fmt: str, server: str, token: str) -> None:
    """An import's Info: status, counts, Successful % and Errors."""
    info = Client(server, token).get_import(import_id).info
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
        return
    c, s = info["committed"], info["summary"]
    percent = info.get("successful_percent")
    click.echo(f"Import {info['id']}: {info['domain']} / {info['operation_label']} — {info['status']}"
               + (f" ({info['message']})" if info["message"] else ""))
    click.echo(f"File: {info['file_name']}  User: {info['user']}  Date: {info['created_at']}")
    click.echo(f"Rows: {s['total']} total, {s['valid']} valid, {s['errors']} with errors, {s['skipped']} skipped")
    click.echo(f"Committed: {c['inserted']} inserted, {c['updated']} updated, {c['failed']} failed")
    if info["status"] == ImportStatus.COMMITTING:
        click.echo(f"Committing: {info['progress']['done']} of {info['progress']['total']} rows written")
    click.echo(f"Successful: {'—' if percent is None else f'{percent:g}%'}  Errors: {info['error_count']}")


@click.command()
@id_argument
@format_option()
@server_required
def records(import_id: int, fmt: str, server: str, token: str) -> None:
    """An import's Records: each row's record (with its link) and the reason each failed row failed."""
    frame = Client(server, token).get_import(import_id).records()
    if fmt == "json":
        click.echo(json.dumps(frame.rename({v: k for k, v in RECORDS_COLUMNS.items()}).to_dicts(), indent=2))
        return
    for r in frame.iter_rows(named=True):
        where = r["Link"] or r["Error"] or ""
        click.echo(f"row {r['Row Number']}: {r['Status']} {r['Action'] or ''} {where}".rstrip())


@click.command()
@click.argument("domain")
@click.option("--id", "record_ids", type=int, multiple=True, help="A record to export (repeatable; default: all).")
@click.option("--page", type=int, default=None, help="Export this page of the records list instead.")
@click.option("--page-size", type=int, default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="Default: from the output file's extension (csv otherwise).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The file to write.")
@progress_option
@server_required
def export(domain: str, record_ids: tuple[int, ...], page: int | None, page_size: int, fmt: str | None,
           output: str, progress: bool | None, server: str, token: str) -> None:
    """Export DOMAIN's records (Registration & Certification: seed 002's 32 columns) to a CSV or XLSX file."""
    fmt = fmt or ("xlsx" if output.lower().endswith(".xlsx") else "csv")
    with progress_bar(f"Downloading {Path(output).name}", progress) as bar:
        data = Client(server, token).export(domain, list(record_ids) or None, fmt=fmt, page=page,
                                            page_size=page_size, progress=bar)
    Path(output).write_bytes(data)
    what = f"{len(record_ids)} chosen record(s)" if record_ids else f"page {page}" if page else "all records"
    click.echo(f"Exported {what} of {domain} to {output}", err=True)


COMMANDS: list[click.Command] = [status, records, export]
