"""Commands that talk to an import server through `bulkassist.Client`: submit, history, results, undo.

They need only the base install (the client), never the server's own packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bulkassist.cli.options import EXIT_INVALID, EXIT_OK, parse_options
from bulkassist.client import HISTORY_COLUMNS, Client, undo_plan_text, undo_text
from bulkassist.status import ImportStatus

_server_option = click.option("--server", envvar="BULKASSIST_URL", required=True, show_envvar=True,
                              help="URL of the import server.")
_token_option = click.option("--token", envvar="BULKASSIST_TOKEN", required=True, show_envvar=True,
                             help="Your API token.")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--domain", "-d", required=True)
@click.option("--operation", "-p", required=True, help="add, update or add_update.")
@click.option("--option", "options", multiple=True, metavar="NAME=VALUE",
              help="An import option, e.g. auto_create_invoices=true (repeatable).")
@click.option("--sheet", default=None)
@click.option("--separator", default=None)
@click.option("--yes", "-y", is_flag=True, help="Commit without asking when the review shows errors.")
@click.option("--validate-only", is_flag=True, help="Upload and validate, do not commit.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the results file here (.csv or .xlsx).")
@_server_option
@_token_option
def submit(file: str, domain: str, operation: str, options: tuple[str, ...], sheet: str | None,
           separator: str | None, yes: bool, validate_only: bool, output: str | None, server: str,
           token: str) -> None:
    """Upload FILE to the import server, review, confirm and commit it (with a progress bar)."""
    client = Client(server, token)
    with click.progressbar(length=1, label="Uploading", file=sys.stderr) as bar:
        def uploaded(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        imp = client.start_import(file, domain, operation, options=parse_options(options), sheet=sheet,
                                  separator=separator, progress=uploaded)
    s = imp.summary
    click.echo(f"Import {imp.id}: {s['total']} rows — {s['valid']} valid ({s['insert']} insert, "
               f"{s['update']} update), {s['errors']} with errors, {s['skipped']} skipped")
    if s["errors"]:
        for issue in imp.review(issues_limit=20)["issues"]:
            where = f"row {issue['row']}" if issue["row"] else "file"
            click.echo(f"  {where}, {issue['column'] or ''}: {issue['message']}")
    if validate_only:
        sys.exit(EXIT_INVALID if s["errors"] else EXIT_OK)
    if s["valid"] == 0:
        click.echo("Nothing can be imported; fix the errors and submit again.", err=True)
        sys.exit(EXIT_INVALID)
    confirm = imp.confirm()
    usage = confirm["Import Usage"]
    click.echo(f"Rows to import: {confirm['Rows to Import']} of {confirm['Total Rows']} "
               f"(errors skipped: {confirm['Errors Skipped']}); usage today {usage['today']}"
               f"{' / ' + str(usage['limits']['today']) if usage['limits']['today'] else ''}")
    if s["errors"] and not yes and not click.confirm("Import the valid rows and skip the errors?", default=True):
        imp.cancel()
        click.echo(f"Import {imp.id} cancelled.")
        sys.exit(EXIT_INVALID)
    with click.progressbar(length=max(s["valid"], 1), label="Committing", file=sys.stderr) as bar:
        final = imp.commit(progress=lambda done, total: bar.update(done - bar.pos))
    c = final["committed"]
    click.echo(f"{final['status']}: Records Inserted {c['inserted']}, Updated {c['updated']}, "
               f"Failed {c['failed'] + s['errors']}")
    if output:
        fmt = "xlsx" if output.lower().endswith(".xlsx") else "csv"
        Path(output).write_bytes(imp.results_file(fmt))
        click.echo(f"Results written to {output}")
    sys.exit(EXIT_OK if final["status"] == ImportStatus.COMMITTED and not s["errors"] else EXIT_INVALID)


@click.command()
@click.option("--domain", default=None)
@click.option("--status", default=None, help="Committed, ValidationFailed, CommitFailed, Cancelled, ...")
@click.option("--user", default=None)
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--page-size", default=20, show_default=True, type=int)
@_server_option
@_token_option
def history(domain, status, user, page, page_size, server, token) -> None:
    """Import History: Import ID, Domain, Status, Operation, File Name, Total Records, Valid Records, Errors, User,
    Date."""
    body = Client(server, token).imports(domain=domain, status=status, user=user, page=page,
                                         page_size=page_size)
    titles = list(HISTORY_COLUMNS.values())
    rows = [[str(item.get(c) if item.get(c) is not None else "") for c in HISTORY_COLUMNS] for item in body["items"]]
    widths = [max([len(t)] + [len(r[i]) for r in rows]) for i, t in enumerate(titles)]
    click.echo("  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)))
    for r in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    click.echo(f"page {body['page']} — {len(rows)} of {body['total']} imports")


@click.command()
@click.argument("import_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (.csv or .xlsx); default: print CSV.")
@click.option("--errors", "errors_only", is_flag=True, help="The errors file instead of the results.")
@_server_option
@_token_option
def results(import_id: int, output: str | None, errors_only: bool, server: str, token: str) -> None:
    """Download an import's results file (Row Number, Status, Action, Created/Updated ID, Error Messages)."""
    imp = Client(server, token).get_import(import_id)
    fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
    data = imp.errors_file() if errors_only else imp.results_file(fmt)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"Written {output}", err=True)
    else:
        click.echo(data.decode("utf-8-sig"), nl=False)


@click.command()
@click.argument("import_id", type=int)
@click.option("--force", is_flag=True, help="Undo records changed since the import too (otherwise they are "
                                            "conflicts, left as they are).")
@click.option("--yes", "-y", is_flag=True, help="Undo without asking.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the undo's results file here (.csv or .xlsx).")
@_server_option
@_token_option
def undo(import_id: int, force: bool, yes: bool, output: str | None, server: str, token: str) -> None:
    """Undo import IMPORT_ID: remove the records it added, give the records it updated their old values back."""
    imp = Client(server, token).get_import(import_id)
    plan = imp.undo_plan()
    click.echo(f"Undo import {import_id}: {undo_plan_text(plan)}")
    if not yes and not click.confirm("Undo it?", default=False):
        click.echo(f"Import {import_id} left as it is.")
        sys.exit(EXIT_INVALID)
    with click.progressbar(length=1, label="Undoing", file=sys.stderr) as bar:
        def undone(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        final = imp.undo(force=force, progress=undone)
    click.echo(undo_text(final))
    if output:
        fmt = "xlsx" if output.lower().endswith(".xlsx") else "csv"
        Path(output).write_bytes(imp.undo_results_file(fmt))
        click.echo(f"Undo results written to {output}")
    sys.exit(EXIT_OK if final["status"] == ImportStatus.REVERTED else EXIT_INVALID)


COMMANDS: list[click.Command] = [submit, history, results, undo]
