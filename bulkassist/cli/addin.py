"""`bulkassist addin path` / `bulkassist addin install`: the Excel add-in packaged in the wheel."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bulkassist.addin import addin_path, install_addin


@click.group()
def addin() -> None:
    """The Excel add-in (BulkAssist.xlam) shipped with this package."""


@addin.command()
def path() -> None:
    """Print the path of the packaged BulkAssist.xlam."""
    click.echo(addin_path())


@addin.command()
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to copy the add-in into (default: Excel for Windows' XLSTART folder, "
                   "%APPDATA%\\Microsoft\\Excel\\XLSTART).")
def install(dest: Path | None) -> None:
    """Copy BulkAssist.xlam where Excel opens it at start-up; restart Excel to get the BulkAssist tab."""
    target = install_addin(dest)
    click.echo(f"installed {target}")
    click.echo("Restart Excel: the BulkAssist tab appears. The add-in runs `python` from your PATH; if that is "
               f"not {sys.executable}, create %USERPROFILE%\\.bulkassist\\bulkassist.conf with the line")
    click.echo(f'    "INTERPRETER_WIN","{sys.executable}"')


COMMANDS: list[click.Command] = [addin]
