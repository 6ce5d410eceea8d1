"""What the command modules share: the exit codes, the options every command spells the same way
(`--server` / `--token` with their environment variables, `--format json`, `--operation`, `--progress`)
and the `--option NAME=VALUE` import options.

Exit codes: 0 nothing is wrong, 1 the file has errors, 2 the command could not run (bad usage,
unreadable file, unknown domain, server refused).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bulkassist.errors import SchemaError
from bulkassist.spec import OPERATION_LABELS, parse_operation

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


def server_options(required: bool, url_help: str) -> Callable[[F], F]:
    """`--server URL` and `--token T`, read from BULKASSIST_URL / BULKASSIST_TOKEN when not given (the help
    says so)."""

    def decorate(f: F) -> F:
        f = click.option("--token", envvar="BULKASSIST_TOKEN", required=required, show_envvar=True,
                         help="Your API token for the import server.")(f)
        return click.option("--server", envvar="BULKASSIST_URL", required=required, show_envvar=True,
                            help=url_help)(f)

    return decorate


server_required = server_options(True, "URL of the import server.")


def format_option(*, default: str = "table", other: str = "table", what: str = "for people") -> Callable[[F], F]:
    """`--format json`: the one spelling of JSON output, next to the command's own format for people."""
    return click.option("--format", "fmt", type=click.Choice([other, "json"]), default=default, show_default=True,
                        help=f"{other}: {what}; json: one JSON document on stdout.")


id_argument = click.argument("import_id", type=click.IntRange(1, 2**31 - 1), metavar="ID")


class Operation(click.ParamType):
    """An operation as the seeds name it ("Add", "Update", "Add & Update") or as the API does (add, update,
    add_update), in any case; becomes the API's name."""

    name = "operation"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return parse_operation(str(value))
        except SchemaError as exc:
            self.fail(str(exc), param, ctx)


OPERATION_HELP = ("add, update or add_update, or as the seeds write them: "
                  + ", ".join(f'"{label}"' for label in OPERATION_LABELS.values()) + ".")


def operation_option(required: bool, default_help: str = "") -> Callable[[F], F]:
    return click.option("--operation", "-p", type=Operation(), required=required, default=None,
                        help=OPERATION_HELP + (f" {default_help}" if default_help else ""))


def progress_option(f: F) -> F:
    return click.option("--progress/--no-progress", "progress", default=None,
                        help="Show a progress bar on stderr (default: only when stderr is a terminal).")(f)


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`("auto_create_invoices=true", ...)` as `{"auto_create_invoices": True, ...}`."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: use NAME=VALUE, e.g. auto_create_invoices=true", param_hint="--option")
        out[key.strip()] = value.strip()  # the domain's spec parses the value (`Option.parse`)
    return out


def mapping_options(f: F) -> F:
    """`--map "Column=Target"` (repeatable; "-" is do not import) and `--mapping FILE.json`."""
    f = click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False),
                     help='A JSON file {"Column": "Target", ...} ("-": do not import).')(f)
    return click.option("--map", "maps", multiple=True, metavar='"COLUMN=TARGET"',
                        help='Map a column to a field, Custom.NAME, or "-" (do not import); repeatable.')(f)


def parse_mapping(maps: tuple[str, ...], mapping_file: str | None) -> dict[str, str] | None:
    """The mapping of `--mapping FILE.json` and then each `--map "Column=Target"` (which wins), or None."""
    out: dict[str, str] = {}
    if mapping_file:
        try:
            loaded = json.loads(Path(mapping_file).read_text(encoding="utf-8-sig"))
        except ValueError as exc:
            raise click.BadParameter(f"{mapping_file} is not JSON ({exc})", param_hint="--mapping") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise click.BadParameter(f'{mapping_file} must hold one object {{"Column": "Target", ...}}',
                                     param_hint="--mapping")
        out.update(loaded)
    for pair in maps:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise click.BadParameter(f'{pair!r}: write "Column=Target", e.g. "Student Number=Identifier" or '
                                     f'"Notes=-"', param_hint="--map")
        out[column.strip()] = target.strip()
    return out or None
