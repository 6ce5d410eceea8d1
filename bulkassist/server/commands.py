"""Click commands of the server and its client: serve, demo, submit, history, results, admin ...

`bulkassist.cli` adds everything in `COMMANDS` to the main group. Server
modules are imported inside the commands, so `submit` / `history` /
`results` work with the base install and only `serve`, `demo` and `admin`
need the [server] extra.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

_server_option = click.option("--server", envvar="BULKASSIST_URL", required=True, show_envvar=True,
                              help="URL of the import server.")
_token_option = click.option("--token", envvar="BULKASSIST_TOKEN", required=True, show_envvar=True,
                             help="Your API token.")
_db_option = click.option("--database-url", envvar="DATABASE_URL", default=None, show_envvar=True,
                          help="SQLAlchemy URL (postgresql://... or sqlite:///...); default: SQLite in your "
                               "data folder.")


def _client(server: str, token: str):
    from bulkassist.client import Client

    return Client(server, token)


# ------------------------------------------------------------------ server
@click.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="uvicorn worker processes (share one PostgreSQL; SQLite: keep 1).")
def serve(database_url: str | None, host: str, port: int, workers: int) -> None:
    """Run the import server (migrates the database first)."""
    from bulkassist.server.__main__ import serve as run
    from bulkassist.server.db import default_database_url

    url = database_url or default_database_url()
    click.echo(f"BulkAssist import server on http://{host}:{port}/api/v1 (docs: /api/v1/docs), database "
               f"{_safe_url(url)}", err=True)
    run(url, host=host, port=port, workers=workers)


@click.command()
@_db_option
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--server-only", is_flag=True, help="Do not start the dashboard.")
def demo(database_url: str | None, port: int, server_only: bool) -> None:
    """Start the server with a demo organisation, users, lists, clients and courses; print URL and tokens.

    Runs until Ctrl+C / SIGTERM, then stops the server (and the dashboard) it started.
    """
    import signal
    import tempfile

    from bulkassist.server.db import default_database_url
    from bulkassist.server.launch import start_server_process

    url = database_url or default_database_url()
    server = start_server_process(url, port=port, demo=True,
                                  data_dir=tempfile.mkdtemp(prefix="bulkassist-demo-"))
    dashboard = None
    # SIGTERM ends the demo like Ctrl+C, so the `finally` below stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        click.echo(f"BulkAssist demo server: {server.url}  (API docs: {server.url}/api/v1/docs; "
                   f"log: {server.log_path})")
        click.echo("API tokens of the demo users (shown once):")
        for role, token in server.tokens.items():
            click.echo(f"  {role:<11} {token}")
        click.echo("\nIn a notebook:\n"
                   f"  client = bulkassist.Client({server.url!r}, {server.tokens['importer']!r})\n"
                   "  imp = client.start_import('clients.xlsx', domain='client', operation='add_update')")
        if not server_only:
            try:
                from bulkassist.dashboard.launch import start_voila
            except ImportError:
                click.echo("(the dashboard needs the [dashboard] extra; serving the API only)", err=True)
            else:
                dashboard = start_voila(server.url, server.tokens["importer"])
                click.echo(f"Dashboard: {dashboard.url}")
        click.echo("Press Ctrl+C to stop.", err=True)
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if dashboard is not None:
            dashboard.stop()
        server.stop()


# ------------------------------------------------------------------ client
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
    from bulkassist.cli import EXIT_INVALID, _parse_options

    client = _client(server, token)
    with click.progressbar(length=1, label="Uploading", file=sys.stderr) as bar:
        def uploaded(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        imp = client.start_import(file, domain, operation, options=_parse_options(options), sheet=sheet,
                                  separator=separator, progress=uploaded)
    s = imp.summary
    click.echo(f"Import {imp.id}: {s['total']} rows — {s['valid']} valid ({s['insert']} insert, "
               f"{s['update']} update), {s['errors']} with errors, {s['skipped']} skipped")
    if s["errors"]:
        for issue in imp.review(issues_limit=20)["issues"]:
            where = f"row {issue['row']}" if issue["row"] else "file"
            click.echo(f"  {where}, {issue['column'] or ''}: {issue['message']}")
    if validate_only:
        sys.exit(EXIT_INVALID if s["errors"] else 0)
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
    sys.exit(0 if final["status"] == "Committed" and not s["errors"] else EXIT_INVALID)


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
    body = _client(server, token).imports(domain=domain, status=status, user=user, page=page,
                                          page_size=page_size)
    from bulkassist.client import HISTORY_COLUMNS

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
    imp = _client(server, token).get_import(import_id)
    fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
    data = imp.errors_file() if errors_only else imp.results_file(fmt)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"Written {output}", err=True)
    else:
        click.echo(data.decode("utf-8-sig"), nl=False)


# ------------------------------------------------------------------- admin
@click.group()
def admin() -> None:
    """Administer the server's database directly: organisations, users, tokens, groups, limits."""


def _session(database_url: str | None):
    from bulkassist.server.db import default_database_url, make_engine, migrate, sessions

    engine = make_engine(database_url or default_database_url())
    migrate(engine)
    return sessions(engine).begin()


def _run(database_url: str | None, action) -> Any:
    from bulkassist.server.errors import ApiError

    try:
        with _session(database_url) as session:
            return action(session)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    except Exception as exc:  # unknown domain and the like from the admin helpers
        from bulkassist.errors import BulkAssistError

        if isinstance(exc, BulkAssistError):
            raise click.ClickException(str(exc)) from None
        raise


@admin.command("create-org")
@click.argument("name")
@click.option("--unlicensed", is_flag=True, help="Without the Bulk Data Import licence.")
@click.option("--limit-day", type=int, default=None)
@click.option("--limit-week", type=int, default=None)
@click.option("--limit-month", type=int, default=None)
@click.option("--demo-lists/--no-demo-lists", default=True, help="Start with the packaged demo select lists.")
@_db_option
def create_org(name, unlicensed, limit_day, limit_week, limit_month, demo_lists, database_url) -> None:
    """Create an organisation with an Administrators and an Importers permission group."""
    from bulkassist.server import admin as ops
    from bulkassist.server.demo import IMPORTERS

    def act(session):
        org = ops.create_org(session, name, licensed=not unlicensed, limit_day=limit_day, limit_week=limit_week,
                             limit_month=limit_month)
        if demo_lists:
            from bulkassist.engine.selectlists import demo_lists as lists

            for list_name in lists().names():
                ops.set_list(session, org, list_name, lists().options(list_name))
        ops.create_group(session, org, "Administrators", is_admin=True, import_domains=["*"])
        ops.create_group(session, org, "Importers", import_domains=IMPORTERS)
        return org.id

    click.echo(f"organisation {name!r} created (id {_run(database_url, act)})")


@admin.command("create-user")
@click.argument("org")
@click.argument("name")
@click.option("--email", default=None)
@click.option("--group", "groups", multiple=True, help="Permission group (repeatable), e.g. Importers.")
@_db_option
def create_user(org, name, email, groups, database_url) -> None:
    """Create a user in ORG and print an API token for them."""
    from bulkassist.server import admin as ops

    def act(session):
        user = ops.create_user(session, ops.organisation(session, org), name, email=email, groups=groups)
        return ops.create_token(session, user)

    click.echo(_run(database_url, act))


@admin.command("create-token")
@click.argument("user")
@click.option("--name", default="token")
@_db_option
def create_token(user, name, database_url) -> None:
    """Print a new API token for USER (only its hash is stored)."""
    from bulkassist.server import admin as ops

    click.echo(_run(database_url, lambda s: ops.create_token(s, ops.user(s, user), name)))


@admin.command("revoke-tokens")
@click.argument("user")
@_db_option
def revoke_tokens(user, database_url) -> None:
    """Revoke every API token of USER (they answer 401 from now on)."""
    from bulkassist.server import admin as ops

    count = _run(database_url, lambda s: ops.revoke_tokens(s, ops.user(s, user)))
    click.echo(f"{count} token(s) of {user!r} revoked")


@admin.command("set-list")
@click.argument("org")
@click.argument("list_name")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@_db_option
def set_list(org, list_name, source, database_url) -> None:
    """Replace ORG's select list LIST_NAME with the values of SOURCE (CSV with value[,label] columns)."""
    import polars as pl

    from bulkassist.server import admin as ops

    frame = pl.read_csv(source, infer_schema=False)
    if "value" not in frame.columns:
        raise click.ClickException(f"{source} needs a 'value' column (and optionally 'label')")
    labels = frame["label"] if "label" in frame.columns else frame["value"]
    options = [(v, lbl or v) for v, lbl in zip(frame["value"], labels, strict=True) if v]
    _run(database_url, lambda s: ops.set_list(s, ops.organisation(s, org), list_name, options))
    click.echo(f"{list_name} of {org!r}: {len(options)} values")


@admin.command("create-group")
@click.argument("org")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="Domain this group may import (repeatable; * = all).")
@click.option("--admin", "is_admin", is_flag=True, help="Members administer the organisation.")
@_db_option
def create_group(org, name, domains, is_admin, database_url) -> None:
    """Create a permission group granting import on some domains (and/or admin)."""
    from bulkassist.server import admin as ops

    _run(database_url, lambda s: ops.create_group(s, ops.organisation(s, org), name, import_domains=domains,
                                                  is_admin=is_admin))
    click.echo(f"group {name!r} created in {org!r}")


@admin.command("set-limits")
@click.argument("org")
@click.option("--day", type=int, default=None)
@click.option("--week", type=int, default=None)
@click.option("--month", type=int, default=None)
@_db_option
def set_limits(org, day, week, month, database_url) -> None:
    """Set ORG's import usage limits (rows per day / week / month; omitted: unlimited)."""
    from bulkassist.server import admin as ops

    _run(database_url, lambda s: ops.set_limits(s, ops.organisation(s, org), day=day, week=week, month=month))
    click.echo(f"limits of {org!r}: day {day}, week {week}, month {month}")


@admin.command("licence")
@click.argument("org")
@click.option("--on/--off", "licensed", default=True)
@_db_option
def licence(org, licensed, database_url) -> None:
    """Grant or withdraw the Bulk Data Import licence of ORG."""
    from bulkassist.server import admin as ops

    def act(session):
        ops.organisation(session, org).licensed = licensed

    _run(database_url, act)
    click.echo(f"{org!r}: bulk import {'licensed' if licensed else 'not licensed'}")


@admin.command("enable-domain")
@click.argument("org")
@click.argument("domain")
@click.option("--disable", is_flag=True)
@_db_option
def enable_domain(org, domain, disable, database_url) -> None:
    """Enable (or --disable) a domain for ORG, e.g. payment."""
    from bulkassist.server import admin as ops

    _run(database_url, lambda s: ops.enable_domain(s, ops.organisation(s, org), domain, not disable))
    click.echo(f"{domain} {'disabled' if disable else 'enabled'} for {org!r}")


@admin.command("unlock")
@click.argument("org")
@click.argument("domain", default="course_record")
@_db_option
def unlock(org, domain, database_url) -> None:
    """Unlock a hung importer of ORG (seed 004: course record import)."""
    from bulkassist.server import admin as ops

    done = _run(database_url, lambda s: ops.unlock(s, ops.organisation(s, org).id, domain))
    click.echo(f"{domain} importer {'unlocked' if done else 'was not locked'}")


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}@{host}"
    return url


COMMANDS: list[click.Command] = [serve, demo, submit, history, results, admin]

