"""Commands that work on a file, without an import server: validate, fix, template, domains, lists.

`--server` (or BULKASSIST_URL) only fetches the organisation's select lists through the client;
without it the packaged demo lists are used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bulkassist.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    format_option,
    mapping_options,
    operation_option,
    parse_mapping,
    parse_options,
    progress_option,
    server_options,
)
from bulkassist.cli.progress import ProgressBar, progress_bar
from bulkassist.client import Client
from bulkassist.domains import all_domains, get_domain
from bulkassist.engine import validation
from bulkassist.engine.mapping import propose_mapping
from bulkassist.engine.report import Report
from bulkassist.engine.selectlists import SelectLists, demo_lists
from bulkassist.io.annotate import write_annotated
from bulkassist.io.reading import Table, column_letter
from bulkassist.io.templates import write_template
from bulkassist.io.xlsx import write_data
from bulkassist.spec import OPERATION_LABELS


def _lists(domain: str, server: str | None, token: str | None) -> SelectLists:
    """The server's select lists when a server is given (flag or BULKASSIST_URL), else the demo lists."""
    if server:
        return Client(server, token or "").lists(domain)
    return demo_lists()


def _validate_options(f):
    f = server_options(False, "Import server URL: check against its select lists (default: the demo lists "
                              "shipped with the package).")(f)
    f = progress_option(f)
    f = click.option("--option", "options", multiple=True, metavar="NAME=VALUE",
                     help="An import option, e.g. auto_create_invoices=true or duplicate_action=skip.")(f)
    f = click.option("--separator", help="CSV separator (default: detected among , ; tab |).")(f)
    f = click.option("--encoding", help="CSV encoding such as cp1250 or cp1254 (default: detected).")(f)
    f = click.option("--sheet", help="Worksheet name (default: the first sheet).")(f)
    f = operation_option(False, "Default: the domain's only operation, else add_update.")(f)
    f = click.option("--domain", "-d", required=True, help="client, client_assignment, case, qualification, ...")(f)
    f = mapping_options(f)
    return click.argument("file", type=click.Path(dir_okay=False))(f)


def _run_validation(file, domain, operation, sheet, separator, encoding, options, lists: SelectLists, maps,
                    mapping_file, bar: ProgressBar) -> Report:
    """Read and check FILE, then place its issues (the report does that lazily, and on a large file it is
    a step of its own)."""
    bar.stage(f"Checking {Path(file).name}")
    report = validation.validate(file, domain, operation, lists=lists, options=parse_options(options), sheet=sheet,
                                 separator=separator, encoding=encoding, mapping=parse_mapping(maps, mapping_file))
    bar.stage("Listing issues")
    report.issues  # noqa: B018 - placing them is the step the bar shows
    return report


def _print_proposal(report, lists: SelectLists) -> None:
    """The proposed target of every column that is not mapped, and how to map it."""
    table = Table(frame=report.data, headers=report.columns, source=report.source, header_row=report.header_row)
    proposed = {p["column"]: p for p in propose_mapping(table, report.domain, lists=lists)}
    click.echo("Columns not mapped (map each with --map \"Column=Target\", or --map \"Column=-\" not to import):")
    for column in report.unmapped:
        p = proposed.get(column) or {"target": None}
        guess = (f"proposed {p['target']} ({p['method']}, {p['confidence']:.0%})" if p["target"] else "no proposal")
        samples = ", ".join(repr(v) for v in p.get("samples", [])[:3])
        click.echo(f"  {column!r}: {guess}" + (f"; values {samples}" if samples else ""))


def _cell_name(row: int | None, col_index: int | None, column: str | None) -> str:
    where = f"{column_letter(col_index)}{row}" if row is not None and col_index is not None else (
        f"row {row}" if row is not None else "file")
    return f"{where} ({column.strip()})" if column else where


@click.command()
@_validate_options
@format_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write an annotated copy of the workbook (.xlsx).")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), help="Write every issue to a CSV file.")
@click.option("--limit", default=200, show_default=True, help="Issues printed in table format (0: all).")
def validate(file, domain, operation, sheet, separator, encoding, options, progress, server, token, maps,
             mapping_file, fmt, output, errors_path, limit):
    """Check FILE against a domain's rules and list every invalid cell.

    \b
    Exit codes:
      0  nothing is wrong
      1  the file has errors, or columns that are not mapped
      2  the command could not run (unreadable file, unknown domain, bad option)
    """
    lists = _lists(domain, server, token)
    with progress_bar("Checking", progress, stages=2 + bool(output) + bool(errors_path)) as bar:
        report = _run_validation(file, domain, operation, sheet, separator, encoding, options, lists, maps,
                                 mapping_file, bar)
        if output:
            bar.stage(f"Writing {Path(output).name}")
            write_annotated(report, output, lists=lists)
        if errors_path:
            bar.stage(f"Writing {Path(errors_path).name}")
            report.errors_csv(errors_path)
    if fmt == "json":
        click.echo(report.to_json())
    else:
        _print_table(report, limit)
        if report.unmapped:
            _print_proposal(report, lists)
        if output:
            click.echo(f"annotated workbook: {output}")
        if errors_path:
            click.echo(f"errors file: {errors_path}")
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


def _print_table(report, limit: int) -> None:
    s = report.summary
    click.echo(f"{report.source} · {report.domain.title} · {report.operation}")
    click.echo(f"Total rows {s['total']}  Valid {s['valid']} (Insert {s['insert']}, Update {s['update']})  "
               f"Error rows {s['errors']}  Skipped {s['skipped']}")
    issues = report.issues
    shown = issues if limit == 0 else issues.head(limit)
    for row, col_index, column, severity, message, suggestion in shown.select(
            "row", "col_index", "column", "severity", "message", "suggestion").iter_rows():
        mark = "ERROR" if severity == "error" else "warn "
        hint = f"  → {suggestion}" if suggestion else ""
        click.echo(f"{mark} {_cell_name(row, col_index, column)}: {message}{hint}")
    if issues.height > shown.height:
        click.echo(f"... and {issues.height - shown.height} more issues (see --errors FILE or --format json)")


@click.command()
@_validate_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the fixed file: .csv, or .xlsx annotated with what is left to fix.")
@format_option()
def fix(file, domain, operation, sheet, separator, encoding, options, progress, server, token, maps, mapping_file,
        output, fmt):
    """Apply every safe fix to FILE, write the result to --output and list each change; what is not safe
    (a fuzzy match, an ambiguous date) is left for a person.

    \b
    Exit codes:
      0  the fixed file has no errors left
      1  the fixed file was written, but errors remain that need a person
      2  the command could not run (unreadable file, unknown domain, bad option); nothing is written
    """
    lists = _lists(domain, server, token)
    with progress_bar("Fixing", progress, stages=5) as bar:
        report = _run_validation(file, domain, operation, sheet, separator, encoding, options, lists, maps,
                                 mapping_file, bar)
        bar.stage("Applying safe fixes")
        data, changes = report.fixed_data()
        bar.stage("Checking the fixed rows")
        fixed = validation.validate(Table(frame=data, headers=report.columns, source=Path(output).name,
                                          header_row=report.header_row), report.domain, report.operation,
                                    lists=lists, options=report.options, mapping=parse_mapping(maps, mapping_file))
        remaining = fixed.errors.height
        bar.stage(f"Writing {Path(output).name}")
        if output.lower().endswith(".csv"):
            write_data(data, output, headers=report.columns)
        else:
            write_annotated(fixed, output, lists=lists)
    code = EXIT_OK if fixed.ok else EXIT_INVALID
    if fmt == "json":
        click.echo(json.dumps({"output": output, "remaining": remaining, "changes": [
            {"row": row, "column": column.strip(), "value": value, "fixed": suggestion}
            for row, column, value, suggestion, _ in changes.iter_rows()]}, indent=2, ensure_ascii=False))
        sys.exit(code)
    for row, column, value, suggestion, _ in changes.iter_rows():
        click.echo(f"fixed row {row} {column.strip()}: {value!r} -> {suggestion!r}")
    click.echo(f"{changes.height} safe fixes written to {output}; {remaining} issues still need a person")
    sys.exit(code)


@click.command()
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Default: templates-style name in this folder.")
@server_options(False, "Take dropdown values from this import server (default: the demo lists).")
def template(domain, fmt, output, server, token):
    """Write a blank template for DOMAIN (headers, dropdowns, format notes)."""
    dom = get_domain(domain)
    path = output or f"{dom.name}.{fmt}"
    write_template(dom, path, lists=_lists(dom.name, server, token), fmt=fmt)
    click.echo(path)


@click.command()
@format_option(what="for people, the names and required fields")
def domains(fmt):
    """List the import domains, their operations and required fields (--format json: the full specs)."""
    if fmt == "json":
        click.echo(json.dumps([d.to_dict() for d in all_domains()], indent=2))
        return
    for d in all_domains():
        ops = ", ".join(OPERATION_LABELS[o] for o in d.operations)
        note = "" if d.available_by_default else "  (not enabled in every environment)"
        click.echo(f"{d.name:18} {d.title} — {ops}{note}")
        for op in d.operations:
            req = ", ".join(f.name for f in d.required_fields(op)) or "—"
            click.echo(f"{'':18}   required for {OPERATION_LABELS[op]}: {req}")


@click.command("lists")
@click.argument("domain")
@server_options(False, "Take the select lists from this import server (default: the demo lists).")
@format_option(default="json")
def lists_command(domain, server, token, fmt):
    """Print DOMAIN's select lists and their values (JSON, or a table)."""
    dom = get_domain(domain)
    provider = _lists(dom.name, server, token)
    out = {
        f.name: {"list": f.select_list, "values": [{"value": v, "label": lbl} for v, lbl in provider.options(f.select_list)]}
        for f in dom.fields if f.select_list
    }
    if fmt == "table":
        for name, spec in out.items():
            click.echo(f"{name} ({spec['list']}): " + ", ".join(
                v["value"] if v["label"] == v["value"] else f"{v['value']} ({v['label']})" for v in spec["values"]))
        return
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))


COMMANDS: list[click.Command] = [validate, fix, template, domains, lists_command]
