"""What the command modules share: the exit codes and the `--option NAME=VALUE` import options.

Exit codes: 0 nothing is wrong, 1 the file has errors, 2 the command could not run (bad usage,
unreadable file, unknown domain, server refused).
"""

from __future__ import annotations

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
