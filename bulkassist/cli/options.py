"""What the command modules share: the exit codes and the `--option NAME=VALUE` import options.

Exit codes: 0 nothing is wrong, 1 the file has errors, 2 the command could not run (bad usage,
unreadable file, unknown domain, server refused).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`("auto_create_invoices=true", ...)` as `{"auto_create_invoices": True, ...}`."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: use NAME=VALUE, e.g. auto_create_invoices=true", param_hint="--option")
        out[key.strip()] = value.strip()  # the domain's spec parses the value (`Option.parse`)
    return out


def mapping_options(f):
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
