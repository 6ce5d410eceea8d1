"""Commands that talk to an import server through `bulkassist.Client`: submit, start, edit, map,
apply-to-all, mappings, cancel, retry, history, results, usage, locks, unlock, undo.

They need only the base install (the client), never the server's own packages. Every command that
prints data takes `--format json` (one JSON document on stdout; prompts and progress go to stderr).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bulkassist.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    format_option,
    id_argument,
    mapping_options,
    operation_option,
    parse_mapping,
    parse_options,
    progress_option,
    server_required,
)
from bulkassist.cli.progress import progress_bar
from bulkassist.client import HISTORY_COLUMNS, Client, Import, undo_plan_text, undo_text
from bulkassist.status import ImportStatus, RowAction

SHOWN_CHANGES = 200  # lines of changes `submit --show-changes` prints before asking


def _emit(fmt: str, data: Any, table: Callable[[], None]) -> None:
    """`data` as JSON, or `table()` printing it for people."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        table()


def _limit(used: int, limit: int | None) -> str:
    return f"{used} of {limit}" if limit is not None else f"{used} (no limit)"


def _print_usage(usage: dict[str, Any], err: bool = False) -> None:
    limits = usage["limits"]
    click.echo(f"Import Usage: today {_limit(usage['today'], limits['today'])}, this week "
               f"{_limit(usage['week'], limits['week'])}, this month {_limit(usage['month'], limits['month'])}",
               err=err)


def _print_confirmation(confirm: dict[str, Any], err: bool = False) -> None:
    """Step 5 of seed 000, Confirm Import."""
    click.echo(f"File Name: {confirm['File Name']}\nRows to Import: {confirm['Rows to Import']}\n"
               f"Total Rows: {confirm['Total Rows']}\nErrors Skipped: {confirm['Errors Skipped']}", err=err)
    _print_usage(confirm["Import Usage"], err=err)


def _print_issues(issues: list[dict[str, Any]], err: bool = False) -> None:
    for issue in issues:
        where = f"row {issue['row']}" if issue["row"] else "file"
        hint = f"  → {issue['suggestion']}" if issue.get("suggestion") else ""
        mark = "ERROR" if issue.get("severity", "error") == "error" else "warn "
        click.echo(f"  {mark} {where}, {issue['column'] or ''}: {issue['message']}{hint}", err=err)


def _commit(imp: Import, progress: bool | None, *, retry: bool = False) -> dict[str, Any]:
    """Commit (or retry) and wait, with a progress bar on stderr."""
    with progress_bar("Retrying" if retry else "Committing", progress) as bar:
        return (imp.retry if retry else imp.commit)(progress=bar)


def _outcome(final: dict[str, Any]) -> str:
    c, s = final["committed"], final["summary"]
    return (f"Import {final['id']} {final['status']}: Records Inserted {c['inserted']}, Updated {c['updated']}, "
            f"Failed {c['failed'] + s['errors']}")


def _finished_code(final: dict[str, Any]) -> int:
    ok = final["status"] == ImportStatus.COMMITTED and not final["summary"]["errors"]
    return EXIT_OK if ok else EXIT_INVALID


def _write_results(imp: Import, output: str | None, fmt: str) -> None:
    if output:
        kind = "xlsx" if output.lower().endswith(".xlsx") else "csv"
        Path(output).write_bytes(imp.results_file(kind))
        click.echo(f"Results written to {output}", err=fmt == "json")


def _confirm_and_commit(imp: Import, *, yes: bool, fmt: str, output: str | None, progress: bool | None,
                        show_changes: bool = False) -> None:
    """The seed's Confirm Import step, then Confirm & Import (asks when rows with errors would be skipped, and,
    after `--show-changes`, whether to write the changes shown)."""
    s = imp.summary
    if s["valid"] == 0 and not s.get("no_change"):
        click.echo(f"Import {imp.id}: nothing can be imported; fix the errors (`bulkassist edit {imp.id} ROW "
                   f"\"Field=value\"`) or submit a corrected file.", err=True)
        if fmt == "json":
            click.echo(json.dumps(imp.status(), indent=2, default=str))
        sys.exit(EXIT_INVALID)
    confirm = imp.confirm()
    _print_confirmation(confirm, err=fmt == "json")
    if show_changes and not yes:
        question = "Write these changes" + (f" and skip the {s['errors']} rows with errors?" if s["errors"] else "?")
        if not click.confirm(question, default=True, err=fmt == "json"):
            imp.cancel()
            click.echo(f"Import {imp.id} cancelled; nothing was written.", err=fmt == "json")
            sys.exit(EXIT_INVALID)
    elif s["errors"] and not yes and not click.confirm(
            f"Import the {s['valid']} valid rows and skip the {s['errors']} with errors?", default=True, err=True):
        click.echo(f"Import {imp.id} not committed; `bulkassist start {imp.id}` commits it later, "
                   f"`bulkassist cancel {imp.id}` cancels it.", err=True)
        sys.exit(EXIT_INVALID)
    final = _commit(imp, progress)
    _write_results(imp, output, fmt)
    _emit(fmt, final, lambda: click.echo(_outcome(final)))
    sys.exit(_finished_code(final))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--domain", "-d", required=True, help="client, client_assignment, case, qualification, ...")
@operation_option(True)
@click.option("--option", "options", multiple=True, metavar="NAME=VALUE",
              help="An import option, e.g. auto_create_invoices=true (repeatable).")
@click.option("--sheet", default=None)
@click.option("--separator", default=None)
@click.option("--yes", "-y", is_flag=True, help="Commit without asking when the review shows errors.")
@click.option("--validate-only", is_flag=True,
              help="Upload and validate, do not commit (`bulkassist start ID` commits it later).")
@click.option("--show-changes", is_flag=True,
              help="Print what each Update row will change (stored value -> new value) and ask before committing.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the results file here (.csv or .xlsx).")
@mapping_options
@click.option("--save-mapping", "save_as", default=None, metavar="NAME",
              help="Save the mapping for your organisation under NAME (reused on files with the same headers).")
@format_option()
@progress_option
@server_required
def submit(file: str, domain: str, operation: str, options: tuple[str, ...], sheet: str | None,
           separator: str | None, yes: bool, validate_only: bool, show_changes: bool, output: str | None,
           maps: tuple[str, ...], mapping_file: str | None, save_as: str | None, fmt: str, progress: bool | None,
           server: str, token: str) -> None:
    """Upload FILE to the import server, map its columns, review, confirm and commit it (with a progress bar).

    \b
    Exit codes:
      0  every row was imported (--validate-only: no row has errors)
      1  some rows failed (validation or commit), a column is not mapped, or you declined
      2  the command could not run (unreadable file, server refused)
    """
    client = Client(server, token)
    mapping = parse_mapping(maps, mapping_file)
    with progress_bar("Uploading", progress) as bar:
        imp = client.start_import(file, domain, operation, options=parse_options(options), sheet=sheet,
                                  separator=separator, progress=bar, mapping=mapping)
    err = fmt == "json"
    if save_as:
        imp.save_mapping(save_as)
    if imp.info.get("saved_mapping"):
        click.echo(f"Columns mapped with your saved mapping {imp.info['saved_mapping']!r}", err=err)
    s = imp.summary
    unchanged = f", {s['no_change']} no change" if s.get("no_change") else ""
    click.echo(f"Import {imp.id}: {s['total']} rows — {s['valid']} valid ({s['insert']} insert, "
               f"{s['update']} update){unchanged}, {s['errors']} with errors, {s['skipped']} skipped", err=err)
    if s["errors"]:
        _print_issues(imp.review(issues_limit=20)["issues"], err=err)
    if imp.info.get("unmapped"):
        _print_unmapped(imp, err=err)
    if show_changes:
        _print_changes(imp, err=err)
    if validate_only:
        _emit(fmt, imp.info, lambda: None)
        sys.exit(EXIT_INVALID if s["errors"] or imp.info.get("unmapped") else EXIT_OK)
    if imp.info.get("unmapped"):
        click.echo(f"Import {imp.id} not committed: map every column first (`bulkassist map {imp.id} --map ...`).",
                   err=True)
        sys.exit(EXIT_INVALID)
    _confirm_and_commit(imp, yes=yes, fmt=fmt, output=output, progress=progress, show_changes=show_changes)


def _print_unmapped(imp: Import, err: bool = False) -> None:
    answer = imp.mapping_answer()
    click.echo("Columns not mapped (map each with --map \"Column=Target\", or \"Column=-\" not to import):", err=err)
    for col in answer["columns"]:
        if col["column"] in answer["unmapped"]:
            guess = (f"proposed {col['target']} ({col['method']}, {col['confidence']:.0%})" if col["target"]
                     else "no proposal")
            click.echo(f"  {col['column']!r}: {guess}", err=err)


def _print_mapping(answer: dict[str, Any]) -> None:
    if answer.get("saved_mapping"):
        click.echo(f"Saved mapping: {answer['saved_mapping']}")
    for col in answer["columns"]:
        target = "Do not import" if col["target"] == "-" else col["target"] or "(not mapped)"
        how = f" ({col['method']}, {col['confidence']:.0%})" if col["method"] else ""
        click.echo(f"  {col['column']} -> {target}{how}")
    if answer.get("partial"):
        p = answer["partial"]
        click.echo(f"Saved mapping {p['name']!r} fits in part; the file lacks: {', '.join(p['missing'])}")
    click.echo("Every column is mapped." if answer["complete"] else f"Not mapped: {', '.join(answer['unmapped'])}")


@click.command("map")
@id_argument
@mapping_options
@click.option("--save", "save_as", default=None, metavar="NAME", help="Also save the mapping under NAME.")
@format_option()
@server_required
def map_columns(import_id: int, maps: tuple[str, ...], mapping_file: str | None, save_as: str | None, fmt: str,
                server: str, token: str) -> None:
    """Show or set the column mapping of an import (the Import Field Mapping page); exit 1 while a column is
    not mapped."""
    imp = Client(server, token).get_import(import_id)
    mapping = parse_mapping(maps, mapping_file)
    answer = imp.set_mapping(mapping or {}, save=bool(save_as), name=save_as) if mapping or save_as else (
        imp.mapping_answer())
    _emit(fmt, answer, lambda: _print_mapping(answer))
    sys.exit(EXIT_OK if answer["complete"] else EXIT_INVALID)


@click.command("mappings")
@click.argument("domain")
@format_option()
@server_required
def saved_mappings(domain: str, fmt: str, server: str, token: str) -> None:
    """Your organisation's saved column mappings of DOMAIN."""
    found = Client(server, token).mappings(domain)

    def table() -> None:
        if not found:
            click.echo(f"No saved {domain} mapping.")
        for m in found:
            pairs = ", ".join(f"{c} -> {'Do not import' if t == '-' else t}" for c, t in m["columns"].items())
            click.echo(f"{m['id']}: {m['name']} (by {m['user']}, {m['updated_at']}): {pairs}")

    _emit(fmt, found, table)


@click.command("apply-to-all")
@id_argument
@click.argument("column")
@click.argument("value")
@click.argument("new_value")
@click.option("--remember", is_flag=True, help="Remember the fix for your organisation (applied to later files).")
@format_option()
@server_required
def apply_to_all(import_id: int, column: str, value: str, new_value: str, remember: bool, fmt: str, server: str,
                 token: str) -> None:
    """Bulk fix: every cell of COLUMN equal to VALUE becomes NEW_VALUE, revalidated once."""
    answer = Client(server, token).get_import(import_id).apply_to_all(column, value, new_value, remember=remember)
    s = answer["summary"]
    _emit(fmt, answer, lambda: click.echo(
        f"{answer['cells_changed']} cells of {column!r} changed from {value!r} to {new_value!r}"
        + (" (remembered for your organisation)" if remember else "")
        + f"; Total {s['total']}, Valid {s['valid']}, Errors {s['errors']}, Skipped {s['skipped']}"))


@click.command()
@id_argument
@click.option("--yes", "-y", is_flag=True, help="Commit without asking when rows with errors will be skipped.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the results file here (.csv or .xlsx).")
@format_option()
@progress_option
@server_required
def start(import_id: int, yes: bool, output: str | None, fmt: str, progress: bool | None, server: str,
          token: str) -> None:
    """Confirm & Import an import validated earlier (`submit --validate-only`, the notebook, Excel).

    Exit codes: 0 every row was imported, 1 some rows failed or you declined, 2 the command could not run.
    """
    imp = Client(server, token).get_import(import_id)
    _confirm_and_commit(imp, yes=yes, fmt=fmt, output=output, progress=progress)


@click.command()
@id_argument
@click.argument("row", type=click.IntRange(2, 10**9))
@click.argument("values", nargs=-1, required=True, metavar='"COLUMN=VALUE"...')
@format_option()
@server_required
def edit(import_id: int, row: int, values: tuple[str, ...], fmt: str, server: str, token: str) -> None:
    """Change cells of spreadsheet ROW of an import (the seed's pencil) and revalidate it at once.

    Each change is "Column=new value" (the column's header or field name; "Column=" blanks the cell).
    Prints the row's new action and issues; exit 1 while the row still has errors.
    """
    changes: dict[str, Any] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r}: write each change as \"Column=value\", e.g. \"Date of Birth=02/03/1990\"",
                                     param_hint='"COLUMN=VALUE"')
        changes[key.strip()] = value if value != "" else None
    imp = Client(server, token).get_import(import_id)
    answer = imp.edit_row(row, changes)
    errors = [i for i in answer["issues"] if i.get("severity", "error") == "error"]

    def table() -> None:
        state = "has errors" if errors else ("will be imported" if answer["action"] in (
            RowAction.INSERT, RowAction.UPDATE) else "will not be imported")
        click.echo(f"Row {answer['row']} of import {imp.id}: {answer['action']} — {state}")
        _print_issues(answer["issues"])
        s = answer["summary"]
        click.echo(f"Import {imp.id} is {answer['status']}: Total {s['total']}, Valid {s['valid']}, "
                   f"Errors {s['errors']}, Skipped {s['skipped']}")

    _emit(fmt, answer, table)
    sys.exit(EXIT_INVALID if errors else EXIT_OK)


@click.command()
@id_argument
@format_option()
@server_required
def cancel(import_id: int, fmt: str, server: str, token: str) -> None:
    """Cancel an import; during a commit the server stops after its current chunk (committed rows stay)."""
    info = Client(server, token).get_import(import_id).cancel()
    _emit(fmt, info, lambda: click.echo(
        f"Import {info['id']}: {info['status']}" + ("" if info["status"] == ImportStatus.CANCELLED else
                                                   " (stops after the chunk being written)")))


@click.command()
@id_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the results file here (.csv or .xlsx).")
@format_option()
@progress_option
@server_required
def retry(import_id: int, output: str | None, fmt: str, progress: bool | None, server: str, token: str) -> None:
    """Commit again only the rows of a CommitFailed import that failed; imported rows are never written twice.

    Exit codes: 0 every row was imported, 1 some rows failed, 2 the command could not run.
    """
    imp = Client(server, token).get_import(import_id)
    final = _commit(imp, progress, retry=True)
    _write_results(imp, output, fmt)
    _emit(fmt, final, lambda: click.echo(_outcome(final)))
    sys.exit(_finished_code(final))


def _print_changes(imp: Import, limit: int = SHOWN_CHANGES, err: bool = False) -> None:
    """The preview of the import's updates, one line per field: stored value -> new value (or kept)."""
    body = imp.changes_page(1, limit)
    if not body["total"]:
        click.echo("Changes: none (no Update row changes a stored value).", err=err)
        return
    click.echo(f"Changes ({body['total']} field values of Update rows):", err=err)
    for item in body["items"]:
        if item["change"] == "kept":
            click.echo(f"  row {item['row']}, {item['field']}: {_shown(item['old'])} kept (the cell is blank)", err=err)
        else:
            click.echo(f"  row {item['row']}, {item['field']}: {_shown(item['old'])} -> {_shown(item['new'])}", err=err)
    if body["total"] > len(body["items"]):
        click.echo(f"  ... and {body['total'] - len(body['items'])} more (all of them: Import.changes() in a notebook, "
                   f"or the dashboard's Changes view)", err=err)


def _shown(value: str | None) -> str:
    """A value as the terminal shows it: quoted (control characters escaped), (empty) for none."""
    if value is None or value == "":
        return "(empty)"
    return f'"{value}"' if value.isprintable() else repr(value)


@click.command()
@click.option("--domain", default=None)
@click.option("--status", default=None, help="Committed, ValidationFailed, CommitFailed, Cancelled, ...")
@click.option("--user", default=None)
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--page-size", default=20, show_default=True, type=click.IntRange(1, 500))
@format_option()
@server_required
def history(domain, status, user, page, page_size, fmt, server, token) -> None:
    """Import History: Import ID, Domain, Status, Operation, File Name, Total Records, Valid Records, Errors, User,
    Date."""
    body = Client(server, token).imports(domain=domain, status=status, user=user, page=page,
                                         page_size=page_size)

    def table() -> None:
        titles = list(HISTORY_COLUMNS.values())
        rows = [[str(item.get(c) if item.get(c) is not None else "") for c in HISTORY_COLUMNS]
                for item in body["items"]]
        widths = [max([len(t)] + [len(r[i]) for r in rows]) for i, t in enumerate(titles)]
        click.echo("  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)))
        for r in rows:
            click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        click.echo(f"page {body['page']} — {len(rows)} of {body['total']} imports")

    _emit(fmt, body, table)


@click.command()
@id_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (.csv or .xlsx); default: print CSV.")
@click.option("--errors", "errors_only", is_flag=True, help="The errors file instead of the results.")
@format_option(default="csv", other="csv", what="what to print without -o: the CSV file")
@server_required
def results(import_id: int, output: str | None, errors_only: bool, fmt: str, server: str, token: str) -> None:
    """Download an import's results file (Row Number, Status, Action, Created/Updated ID, Error Messages);
    --format json prints it as {columns, rows}."""
    imp = Client(server, token).get_import(import_id)
    kind = "xlsx" if output and output.lower().endswith(".xlsx") else "json" if fmt == "json" and not output else "csv"
    data = imp.errors_file(kind) if errors_only else imp.results_file(kind)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"Written {output}", err=True)
    else:
        click.echo(data.decode("utf-8-sig"), nl=False)


@click.command()
@format_option()
@server_required
def usage(fmt: str, server: str, token: str) -> None:
    """Import Usage: rows imported today / this week / this month, against your organisation's limits."""
    body = Client(server, token).usage()
    _emit(fmt, body, lambda: _print_usage(body))


@click.command()
@format_option()
@server_required
def locks(fmt: str, server: str, token: str) -> None:
    """Importer locks of your organisation (seed 004; administrators only)."""
    found = Client(server, token).locks()

    def table() -> None:
        if not found:
            click.echo("No importer is locked.")
        for lk in found:
            click.echo(f"{lk['domain']}: locked by import {lk['import_id']} since {lk['locked_at']} — {lk['reason']}")

    _emit(fmt, found, table)


@click.command()
@click.argument("domain")
@server_required
def unlock(domain: str, server: str, token: str) -> None:
    """Unlock DOMAIN's importer after an import hung or failed (seed 004; administrators only)."""
    done = Client(server, token).unlock(domain)
    click.echo(f"{domain} importer {'unlocked' if done else 'was not locked'}")


@click.command()
@id_argument
@click.option("--force", is_flag=True, help="Undo records changed since the import too (otherwise they are "
                                            "conflicts, left as they are).")
@click.option("--yes", "-y", is_flag=True, help="Undo without asking.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the undo's results file here (.csv or .xlsx).")
@progress_option
@server_required
def undo(import_id: int, force: bool, yes: bool, output: str | None, progress: bool | None, server: str,
         token: str) -> None:
    """Undo import ID: remove the records it added, give the records it updated their old values back.

    Exit codes: 0 Reverted, 1 conflicts were kept (PartlyReverted) or you declined, 2 the command could not run.
    """
    imp = Client(server, token).get_import(import_id)
    plan = imp.undo_plan()
    click.echo(f"Undo import {import_id}: {undo_plan_text(plan)}")
    if not yes and not click.confirm("Undo it?", default=False):
        click.echo(f"Import {import_id} left as it is.")
        sys.exit(EXIT_INVALID)
    with progress_bar("Undoing", progress) as bar:
        final = imp.undo(force=force, progress=bar)
    click.echo(undo_text(final))
    if output:
        fmt = "xlsx" if output.lower().endswith(".xlsx") else "csv"
        Path(output).write_bytes(imp.undo_results_file(fmt))
        click.echo(f"Undo results written to {output}")
    sys.exit(EXIT_OK if final["status"] == ImportStatus.REVERTED else EXIT_INVALID)


COMMANDS: list[click.Command] = [submit, start, edit, map_columns, apply_to_all, saved_mappings, cancel, retry,
                                 history, results, usage, locks, unlock, undo]
