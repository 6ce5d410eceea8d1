"""Commands that work on a file, without an import server: validate, fix, template, domains, lists.

`--server` (or BULKASSIST_URL) only fetches the organisation's select lists through the client;
without it the packaged demo lists are used.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from bulkassist.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    mapping_options,
    parse_mapping,
    parse_options,
)
from bulkassist.client import Client
from bulkassist.domains import all_domains, get_domain
from bulkassist.engine import validation
from bulkassist.engine.mapping import propose_mapping
from bulkassist.engine.selectlists import SelectLists, demo_lists
from bulkassist.io.annotate import write_annotated
from bulkassist.io.reading import Table, column_letter
from bulkassist.io.templates import write_template
from bulkassist.io.xlsx import write_data
from bulkassist.spec import OPERATION_LABELS


def _lists(domain: str, server: str | None, token: str | None) -> SelectLists:
    """The server's select lists when a server is given (flag or BULKASSIST_URL), else the demo lists."""
    if server:
        return Client(server, token or os.environ.get("BULKASSIST_TOKEN", "")).lists(domain)
    return demo_lists()


def _validate_options(f):
    f = click.option("--server", envvar="BULKASSIST_URL", help="Import server URL: validate against its select lists.")(f)
    f = click.option("--token", envvar="BULKASSIST_TOKEN", help="API token for --server.")(f)
    f = click.option("--option", "options", multiple=True, metavar="NAME=VALUE",
                     help="An import option, e.g. auto_create_invoices=true or duplicate_action=skip.")(f)
    f = click.option("--separator", help="CSV separator (default: detected among , ; tab |).")(f)
    f = click.option("--encoding", help="CSV encoding such as cp1250 or cp1254 (default: detected).")(f)
    f = click.option("--sheet", help="Worksheet name (default: the first sheet).")(f)
    f = click.option("--operation", "-p", default=None,
                     help="add, update or add_update (default: the domain's only operation, else add_update).")(f)
    f = click.option("--domain", "-d", required=True, help="client, client_assignment, case, qualification, ...")(f)
    f = mapping_options(f)
    return click.argument("file", type=click.Path(dir_okay=False))(f)


def _run_validation(file, domain, operation, sheet, separator, encoding, options, server, token, maps,
                    mapping_file):
    return validation.validate(file, domain, operation, lists=_lists(domain, server, token),
                               options=parse_options(options), sheet=sheet, separator=separator, encoding=encoding,
                               mapping=parse_mapping(maps, mapping_file))


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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write an annotated copy of the workbook (.xlsx).")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), help="Write every issue to a CSV file.")
@click.option("--limit", default=200, show_default=True, help="Issues printed in table format (0: all).")
def validate(file, domain, operation, sheet, separator, encoding, options, server, token, maps, mapping_file, fmt,
             output, errors_path, limit):
    """Check FILE against a domain's rules; exit 1 when it has errors or columns that are not mapped."""
    report = _run_validation(file, domain, operation, sheet, separator, encoding, options, server, token, maps,
                             mapping_file)
    if output:
        write_annotated(report, output, lists=_lists(domain, server, token))
    if errors_path:
        report.errors_csv(errors_path)
    if fmt == "json":
        click.echo(report.to_json())
    else:
        _print_table(report, limit)
        if report.unmapped:
            _print_proposal(report, _lists(domain, server, token))
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def fix(file, domain, operation, sheet, separator, encoding, options, server, token, maps, mapping_file, output,
        fmt):
    """Apply every safe fix to FILE and list each change; what is not safe is left for a person."""
    report = _run_validation(file, domain, operation, sheet, separator, encoding, options, server, token, maps,
                             mapping_file)
    data, changes = report.fixed_data()
    lists = _lists(domain, server, token)
    fixed = validation.validate(Table(frame=data, headers=report.columns, source=Path(output).name,
                                      header_row=report.header_row), report.domain, report.operation,
                                lists=lists, options=report.options, mapping=parse_mapping(maps, mapping_file))
    if output.lower().endswith(".csv"):
        write_data(data, output, headers=report.columns)
    else:
        write_annotated(fixed, output, lists=lists)
    if fmt == "json":
        click.echo(json.dumps({"output": output, "remaining": fixed.errors.height, "changes": [
            {"row": row, "column": column.strip(), "value": value, "fixed": suggestion}
            for row, column, value, suggestion, _ in changes.iter_rows()]}, indent=2, ensure_ascii=False))
        sys.exit(EXIT_OK)
    for row, column, value, suggestion, _ in changes.iter_rows():
        click.echo(f"fixed row {row} {column.strip()}: {value!r} -> {suggestion!r}")
    click.echo(f"{changes.height} safe fixes written to {output}; {fixed.errors.height} issues still need a person")
    sys.exit(EXIT_OK)


@click.command()
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Default: templates-style name in this folder.")
@click.option("--server", envvar="BULKASSIST_URL", help="Take dropdown values from this import server.")
@click.option("--token", envvar="BULKASSIST_TOKEN")
def template(domain, fmt, output, server, token):
    """Write a blank template for DOMAIN (headers, dropdowns, format notes)."""
    dom = get_domain(domain)
    path = output or f"{dom.name}.{fmt}"
    write_template(dom, path, lists=_lists(dom.name, server, token), fmt=fmt)
    click.echo(path)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: the full specs.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def domains(fmt, as_json):
    """List the import domains, their operations and required fields."""
    if as_json or fmt == "json":
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
@click.option("--server", envvar="BULKASSIST_URL")
@click.option("--token", envvar="BULKASSIST_TOKEN")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
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
