"""The `bulkassist` command line (`main`; `python -m bulkassist` runs it too).

Five kinds of command, one module each:

- `local`: validate, fix, template, domains, lists — a file checked on this machine;
- `remote`: submit, start, edit, map, cancel, retry, history, results, undo ... — an import server,
  through `bulkassist.Client`;
- `records`: status, records, export — what an import did and the records it wrote, through the client;
- `addin`: addin path, addin install — the Excel add-in packaged in the wheel;
- `server`: serve, worker, demo, dashboard, admin ... — run or administer a server and its dashboard. They need FastAPI and SQLAlchemy
  (the [server] extra), so the group loads that module only when one of them is run or asked for its help;
  `bulkassist -h` lists them with the summaries in `SERVER_COMMANDS` (loading the server took seconds).

Exit codes (`options`): 0 nothing is wrong, 1 the file has errors, 2 the command could not run (bad
usage, unreadable file, unknown domain, server refused).
"""

from __future__ import annotations

from typing import Any

import click

from bulkassist.cli import addin, local, records, remote
from bulkassist.cli.options import EXIT_USAGE
from bulkassist.errors import BulkAssistError

# The first sentence of each server command's help (tests/test_cli.py checks they are the commands' own).
SERVER_COMMANDS = {
    "admin": "Administer the server's database directly: organisations, users, tokens, groups, limits.",
    "dashboard": "Serve the dashboard for a team: each visitor signs in to the import server at --server as "
                 "themselves.",
    "demo": "Start the server with demo organisations, users, lists, clients and courses, and the dashboard; print "
            "the URLs, each demo user's API token and dashboard password.",
    "serve": "Run the import server (migrates the database first).",
    "worker": "Run the jobs of an import server on PostgreSQL: commits, retries, undos, webhook deliveries.",
}


class _Group(click.Group):
    """Turns every BulkAssistError into one readable line and exit code 2; loads the server commands
    on demand."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BulkAssistError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *SERVER_COMMANDS])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `bulkassist -h`, as click writes it, without loading the server commands."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        # A server command's summary is shortened as click shortens a loaded command's help.
        rows = [(name, (click.Command(name, help=SERVER_COMMANDS[name]) if name in SERVER_COMMANDS
                        else self.commands[name]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SERVER_COMMANDS:
            return super().get_command(ctx, cmd_name)
        try:
            # Loads FastAPI and SQLAlchemy: only for a server command, never for the local ones.
            from bulkassist.cli import server
        except ImportError as exc:
            return _needs_server_extra(cmd_name, exc)
        return server.COMMANDS[cmd_name]


def _needs_server_extra(name: str, exc: ImportError) -> click.Command:
    """Stands for a server command when the [server] extra is not installed, and says how to get it."""

    def fail(**_: Any) -> None:
        raise BulkAssistError(f"`bulkassist {name}` needs the server packages ({exc}); install them with "
                              f"pip install 'bulkassist[server]'")

    return click.Command(name, callback=fail, help="(needs the [server] extra)", context_settings={
        "ignore_unknown_options": True, "allow_extra_args": True})


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=(
    "Every command takes -h. The commands that talk to an import server read its URL and your API token from "
    "BULKASSIST_URL and BULKASSIST_TOKEN when --server / --token are not given. Exit codes: 0 nothing is "
    "wrong, 1 the file or import has errors, 2 the command could not run."))
@click.version_option(package_name="bulkassist")
def main() -> None:
    """Validate, fix and submit bulk-import spreadsheets (CSV / XLSX).

    Also runs as `python -m bulkassist`.
    """


for _command in (*local.COMMANDS, *remote.COMMANDS, *records.COMMANDS, *addin.COMMANDS):
    main.add_command(_command)
