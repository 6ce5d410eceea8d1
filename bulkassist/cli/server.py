"""Commands that run or administer an import server and its dashboard: serve, worker, demo, dashboard, admin ...

They import the server (FastAPI, SQLAlchemy: the [server] extra), so `bulkassist.cli` loads this
module only when one of them is used; the local and remote commands never do.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import tempfile
from typing import Any

import click
import polars as pl

from bulkassist.engine import selectlists
from bulkassist.errors import BulkAssistError
from bulkassist.server import admin as ops
from bulkassist.server.__main__ import serve as run_server
from bulkassist.server.db import default_database_url, make_engine, migrate, sessions
from bulkassist.server.demo import IMPORTERS
from bulkassist.server.jobs import run_worker
from bulkassist.server.launch import start_server_process

_db_option = click.option("--database-url", envvar="DATABASE_URL", default=None, show_envvar=True,
                          help="SQLAlchemy URL (postgresql://... or sqlite:///...); default: SQLite in your "
                               "data folder.")


@click.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="uvicorn worker processes (share one PostgreSQL; SQLite: keep 1).")
def serve(database_url: str | None, host: str, port: int, workers: int) -> None:
    """Run the import server (migrates the database first).

    On PostgreSQL, commits, undos and webhook deliveries wait in the database's job queue: run `bulkassist
    worker` processes too. On SQLite the server runs them itself.
    """
    url = database_url or default_database_url()
    click.echo(f"BulkAssist import server on http://{host}:{port}/api/v1 (docs: /api/v1/docs), database "
               f"{_safe_url(url)}", err=True)
    run_server(url, host=host, port=port, workers=workers)


@click.command()
@_db_option
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1),
              help="Jobs this process runs at once (each in a thread).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def worker(database_url: str | None, concurrency: int, log_level: str) -> None:
    """Run the jobs of an import server on PostgreSQL: commits, retries, undos, webhook deliveries.

    Start as many as you like, on any machines that reach the database; a job whose worker died runs
    again on another after BULKASSIST_STALE_SECONDS (30) without its heartbeat. Stops on Ctrl+C / SIGTERM
    once its running jobs end.
    """
    url = database_url or default_database_url()
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"BulkAssist worker on {_safe_url(url)}, {concurrency} job(s) at a time", err=True)
    try:
        run_worker(url, concurrency=concurrency)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@_db_option
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--server-only", is_flag=True, help="Do not start the dashboard.")
def demo(database_url: str | None, port: int, server_only: bool) -> None:
    """Start the server with demo organisations, users, lists, clients and courses, and the dashboard; print
    the URLs, each demo user's API token and dashboard password.

    Runs until Ctrl+C / SIGTERM, then stops the server (and the dashboard) it started.
    """
    url = database_url or default_database_url()
    server = start_server_process(url, port=port, demo=True, passwords=True,
                                  data_dir=tempfile.mkdtemp(prefix="bulkassist-demo-"))
    dashboard = None
    # SIGTERM ends the demo like Ctrl+C, so the `finally` below stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        click.echo(f"BulkAssist demo server: {server.url}  (API docs: {server.url}/api/v1/docs; "
                   f"log: {server.log_path})")
        click.echo("Demo users (shown once): name, dashboard password, API token")
        for role, token in server.tokens.items():
            click.echo(f"  {role:<11} {server.passwords[role]:<14} {token}")
        click.echo("\nIn a notebook:\n"
                   f"  client = bulkassist.Client({server.url!r}, {server.tokens['importer']!r})\n"
                   "  imp = client.start_import('clients.xlsx', domain='client', operation='add_update')")
        if not server_only:
            dashboard = _start_dashboard(server.url, {})
            if dashboard is not None:
                click.echo(f"Dashboard: {dashboard.url}  (sign in as a demo user above, e.g. importer)")
        click.echo("Press Ctrl+C to stop.", err=True)
        _wait_for(server.process)
    except KeyboardInterrupt:
        pass
    finally:
        if dashboard is not None:
            dashboard.stop()
        server.stop()


def _wait_for(process: subprocess.Popen) -> None:
    """Until `process` ends, in short waits: Ctrl+C (KeyboardInterrupt) gets through. A wait without a timeout
    blocks in waitpid, which a SIGINT handled on one of polars' threads never interrupts: the demo kept
    waiting for its server (a session of its own, so Ctrl+C does not reach it) and never stopped."""
    while True:
        try:
            process.wait(timeout=0.5)
            return
        except subprocess.TimeoutExpired:
            continue


def _start_dashboard(server_url: str, culling: dict[str, Any], **kwargs: Any) -> Any:
    """Voila serving the dashboard with `culling` (`KernelCulling` fields; the rest its defaults), or None (and a
    note) without the [dashboard] extra."""
    try:
        # The dashboard is another extra (Voila, ipywidgets): the demo serves the API without it.
        from bulkassist.dashboard.launch import KernelCulling, start_voila
    except ImportError:
        click.echo("(the dashboard needs the [dashboard] extra; serving the API only)", err=True)
        return None
    settings = KernelCulling(**{k: v for k, v in culling.items() if v is not None})
    voila = start_voila(server_url, culling=settings, **kwargs)
    click.echo(f"Dashboard kernels end after {settings.idle_timeout} s without activity"
               f"{' (open pages too)' if settings.cull_connected else ''}, checked every "
               f"{settings.cull_interval} s; at most {settings.max_kernels} run at once.", err=True)
    return voila


@click.command()
@click.option("--server", "server_url", required=True, envvar="BULKASSIST_URL", show_envvar=True,
              help="The import server's URL, e.g. https://imports.example.org")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (behind your proxy).")
@click.option("--port", default=8866, show_default=True, type=int)
@click.option("--idle-timeout", type=click.IntRange(1), default=None,
              help="Seconds without activity after which a page's kernel is shut down [default: 1800].")
@click.option("--cull-interval", type=click.IntRange(1), default=None,
              help="Seconds between checks for idle kernels [default: 60].")
@click.option("--cull-connected/--keep-connected", default=None,
              help="Also end idle kernels whose page is still open: the visitor reloads and signs in again "
                   "[default: --cull-connected].")
@click.option("--max-kernels", type=click.IntRange(1), default=None,
              help="Most kernels (open pages) at once; over it the least recently active kernel without a page "
                   "ends, or the new page is refused with 503 [default: 20].")
def dashboard(server_url: str, host: str, port: int, idle_timeout: int | None, cull_interval: int | None,
              cull_connected: bool | None, max_kernels: int | None) -> None:
    """Serve the dashboard for a team: each visitor signs in to the import server at --server as themselves.

    Runs until Ctrl+C / SIGTERM.
    """
    culling = {"idle_timeout": idle_timeout, "cull_interval": cull_interval, "cull_connected": cull_connected,
               "max_kernels": max_kernels}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    voila = _start_dashboard(server_url.rstrip("/"), culling, host=host, port=port)
    if voila is None:
        raise click.ClickException("install the dashboard with pip install 'bulkassist[dashboard]'")
    click.echo(f"Dashboard for {server_url}: {voila.url}  (log: {voila.log_path}). Press Ctrl+C to stop.",
               err=True)
    try:
        _wait_for(voila.process)
    except KeyboardInterrupt:
        pass
    finally:
        voila.stop()


# ------------------------------------------------------------------- admin
@click.group()
def admin() -> None:
    """Administer the server's database directly: organisations, users, tokens, groups, limits."""


def _session(database_url: str | None):
    engine = make_engine(database_url or default_database_url())
    migrate(engine)
    return sessions(engine).begin()


def _run(database_url: str | None, action) -> Any:
    try:
        with _session(database_url) as session:
            return action(session)
    except BulkAssistError as exc:  # what the admin helpers refuse: no such user, a name taken, unknown domain
        raise click.ClickException(str(exc)) from None


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

    def act(session):
        org = ops.create_org(session, name, licensed=not unlicensed, limit_day=limit_day, limit_week=limit_week,
                             limit_month=limit_month)
        if demo_lists:
            packaged = selectlists.demo_lists()
            for list_name in packaged.names():
                ops.set_list(session, org, list_name, packaged.options(list_name))
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
    def act(session):
        user = ops.create_user(session, ops.organisation(session, org), name, email=email, groups=groups)
        return ops.create_token(session, user)

    click.echo(_run(database_url, act))


_org_option = click.option("--org", default=None,
                           help="The user's organisation (needed when several organisations have a user of that name).")


def _user(session, name: str, org: str | None):
    return ops.user(session, name, ops.organisation(session, org) if org else None)


@admin.command("create-token")
@click.argument("user")
@click.option("--name", default="token")
@_org_option
@_db_option
def create_token(user, name, org, database_url) -> None:
    """Print a new API token for USER (only its hash is stored)."""
    click.echo(_run(database_url, lambda s: ops.create_token(s, _user(s, user, org), name)))


@admin.command("revoke-tokens")
@click.argument("user")
@_org_option
@_db_option
def revoke_tokens(user, org, database_url) -> None:
    """Revoke every API token of USER (they answer 401 from now on)."""
    count = _run(database_url, lambda s: ops.revoke_tokens(s, _user(s, user, org)))
    click.echo(f"{count} token(s) of {user!r} revoked")


@admin.command("set-password")
@click.argument("user")
@_org_option
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (scripts) instead of a prompt.")
@_db_option
def set_password(user, org, password_stdin, database_url) -> None:
    """Give USER a password to sign in to the dashboard with (stored as an argon2id hash; ends their sessions).

    The password is asked for (twice, not echoed), or read from standard input with --password-stdin; it is
    never an argument, so it stays out of the shell history and the process list.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    ended = _run(database_url, lambda s: ops.set_password(s, _user(s, user, org), password))
    click.echo(f"password of {user!r} set ({ended} open sign-in session(s) ended)")


@admin.command("set-list")
@click.argument("org")
@click.argument("list_name")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@_db_option
def set_list(org, list_name, source, database_url) -> None:
    """Replace ORG's select list LIST_NAME with the values of SOURCE (CSV with value[,label] columns)."""
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
@click.option("--domain", "domains", multiple=True,
              help="Bulk Upload: a domain this group may import (repeatable; * = all).")
@click.option("--records", "record_domains", multiple=True,
              help="Manage records: a domain whose screen and records this group sees (repeatable; * = all).")
@click.option("--export", "export_domains", multiple=True,
              help="Data Export: a domain this group may export (repeatable; * = all).")
@click.option("--admin", "is_admin", is_flag=True, help="Members administer the organisation.")
@_db_option
def create_group(org, name, domains, record_domains, export_domains, is_admin, database_url) -> None:
    """Create a permission group granting import, records and/or export on some domains (and/or admin)."""
    _run(database_url, lambda s: ops.create_group(s, ops.organisation(s, org), name, import_domains=domains,
                                                  is_admin=is_admin, record_domains=record_domains,
                                                  export_domains=export_domains))
    click.echo(f"group {name!r} created in {org!r}")


@admin.command("set-limits")
@click.argument("org")
@click.option("--day", type=int, default=None)
@click.option("--week", type=int, default=None)
@click.option("--month", type=int, default=None)
@_db_option
def set_limits(org, day, week, month, database_url) -> None:
    """Set ORG's import usage limits (rows per day / week / month; omitted: unlimited)."""
    _run(database_url, lambda s: ops.set_limits(s, ops.organisation(s, org), day=day, week=week, month=month))
    click.echo(f"limits of {org!r}: day {day}, week {week}, month {month}")


@admin.command("licence")
@click.argument("org")
@click.option("--on/--off", "licensed", default=True)
@_db_option
def licence(org, licensed, database_url) -> None:
    """Grant or withdraw the Bulk Data Import licence of ORG."""
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
    _run(database_url, lambda s: ops.enable_domain(s, ops.organisation(s, org), domain, not disable))
    click.echo(f"{domain} {'disabled' if disable else 'enabled'} for {org!r}")


@admin.command("unlock")
@click.argument("org")
@click.argument("domain", default="course_record")
@_db_option
def unlock(org, domain, database_url) -> None:
    """Unlock a hung importer of ORG (seed 004: course record import)."""
    done = _run(database_url, lambda s: ops.unlock(s, ops.organisation(s, org).id, domain))
    click.echo(f"{domain} importer {'unlocked' if done else 'was not locked'}")


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}@{host}"
    return url


COMMANDS: dict[str, click.Command] = {"serve": serve, "worker": worker, "demo": demo, "dashboard": dashboard,
                                      "admin": admin}

