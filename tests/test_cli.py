"""The command line as a user runs it: exit codes, JSON layout, annotated output, safe fixes."""

import json
import subprocess
import sys

import openpyxl
import pytest

from tests.commands import bulkassist
from tests.sheets import write_csv

HEADER = ["Client ID", "First Name", "Last Name", "SSN", "Date of Birth", "Ethnicity"]


def python_m_bulkassist(*args: str) -> subprocess.CompletedProcess:
    """The command as a new process runs it (the other tests run it in this one: `tests.commands`)."""
    return subprocess.run([sys.executable, "-m", "bulkassist", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def messy(tmp_path):
    return write_csv(tmp_path / "clients.csv", HEADER, [
        ["", "Maria", "Lopez", "123456789", "02/03/1990", "Asian"],
        ["", "Jo", "", "123-45-6789", "1990-02-03", "asian"],
        ["", "", "", "", "", ""],
        ["", "Ann", "Ray", "12345678", "13/25/1990", "Asain"],
    ], bom=True)


def test_validate_exits_1_and_names_every_bad_cell(messy):
    result = bulkassist("validate", str(messy), "--domain", "client", "--operation", "add")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Total rows 3  Valid 1 (Insert 1, Update 0)  Error rows 2  Skipped 1" in out
    assert "ERROR C3 (Last Name): Last Name is required" in out
    assert "ERROR E5 (Date of Birth): '13/25/1990' is not a real date" in out
    assert "→ 012345678" in out


def test_validate_json_has_summary_issues_and_rows(messy):
    result = bulkassist("validate", str(messy), "-d", "client", "-p", "add", "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"total": 3, "valid": 1, "errors": 2, "skipped": 1, "insert": 1, "update": 0,
                              "no_change": 0}
    keys = {"row", "column", "field", "value", "code", "severity", "message", "suggestion", "confidence"}
    assert keys <= set(doc["issues"][0])
    assert {"row": 4, "action": "Skip"} in doc["rows"]
    ssn = next(i for i in doc["issues"] if i["column"] == "SSN" and i["row"] == 3)
    assert (ssn["value"], ssn["suggestion"], ssn["confidence"]) == ("123-45-6789", "123456789", 1.0)


def test_operation_and_options_are_read_as_the_spec_reads_them(messy, tmp_path):
    cases = write_csv(tmp_path / "cases.csv", ["Identifier"], [["jd1"]])
    result = bulkassist("validate", str(cases), "-d", "case", "-p", "Create", "--option", "duplicate_action=Skip",
                 "--option", "run_workflow=no", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["operation"] == "add"
    result = bulkassist("validate", str(messy), "-d", "client", "-p", "Add & Update", "--option", "colour=1")
    assert result.returncode == 2 and "Client has no option 'colour'" in result.stderr


def test_validate_exits_0_for_a_clean_file(tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, [["", "Maria", "Lopez", "123456789", "02/03/1990", "Asian"]])
    assert bulkassist("validate", str(path), "-d", "client", "-p", "add").returncode == 0


@pytest.mark.parametrize("args, message", [
    (["validate", "missing.csv", "-d", "client"], "does not exist"),
    (["validate", "{file}", "-d", "clients"], "unknown domain 'clients'"),
    (["validate", "{file}", "-d", "case", "-p", "update"], "Case imports do not support Update"),
])
def test_usage_errors_exit_2_with_a_message(messy, args, message):
    result = bulkassist(*[a.format(file=messy) for a in args])
    assert result.returncode == 2
    assert message in result.stderr


def test_binary_file_is_an_unreadable_file_exit_2(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes("First Name\r\nMaria\r\n".encode("utf-16-le"))  # no byte-order mark: not readable text
    result = bulkassist("validate", str(path), "-d", "client")
    assert result.returncode == 2 and "UTF-8" in result.stderr


def test_annotated_workbook_and_errors_file(messy, tmp_path):
    out, errors = tmp_path / "checked.xlsx", tmp_path / "errors.csv"
    result = bulkassist("validate", str(messy), "-d", "client", "-p", "add", "-o", str(out), "--errors", str(errors))
    assert result.returncode == 1
    wb = openpyxl.load_workbook(out)
    assert "Errors" in wb.sheetnames
    text = errors.read_text(encoding="utf-8-sig")
    assert "'13/25/1990' is not a real date" in text


def test_fix_applies_only_safe_fixes_and_lists_them(messy, tmp_path):
    out = tmp_path / "fixed.csv"
    result = bulkassist("fix", str(messy), "-d", "client", "-p", "add", "-o", str(out))
    assert result.returncode == 1, result.stderr  # written, but errors remain for a person
    assert "fixed row 3 SSN: '123-45-6789' -> '123456789'" in result.stdout
    assert "fixed row 3 Date of Birth: '1990-02-03' -> '02/03/1990'" in result.stdout
    assert "fixed row 3 Ethnicity: 'asian' -> 'Asian'" in result.stdout
    assert "Asain" not in result.stdout  # a fuzzy guess is not a safe fix
    again = bulkassist("validate", str(out), "-d", "client", "-p", "add", "--format", "json")
    issues = json.loads(again.stdout)["issues"]
    assert {(i["row"], i["column"]) for i in issues} == {(3, "Last Name"), (5, "SSN"), (5, "Date of Birth"),
                                                         (5, "Ethnicity")}


def test_domains_and_lists(tmp_path):
    result = bulkassist("domains")
    assert result.returncode == 0
    assert "required for Add: First Name, Last Name" in result.stdout
    assert "not enabled in every environment" in result.stdout
    lists = json.loads(bulkassist("lists", "client_assignment").stdout)
    assert {"value": "Enrolled", "label": "Enrolled"} in lists["Enrollment Status"]["values"]


def test_template_command_writes_headers(tmp_path):
    out = tmp_path / "case.csv"
    result = bulkassist("template", "case", "--format", "csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("Identifier,FirstName,LastName")


def test_local_commands_run_without_the_server_extra_and_server_commands_say_how_to_install_it(messy):
    """`python -m bulkassist` with FastAPI, SQLAlchemy and uvicorn impossible to import."""
    without_server = ("import runpy, sys; sys.modules.update(dict.fromkeys(['fastapi', 'sqlalchemy', 'uvicorn'])); "
                      "runpy.run_module('bulkassist', run_name='__main__')")

    def bare(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", without_server, *args], capture_output=True, text=True,
                              timeout=120)

    checked = bare("validate", str(messy), "-d", "client", "-p", "add")
    assert checked.returncode == 1 and "Total rows 3" in checked.stdout, checked.stderr
    listed = bare("--help")
    assert listed.returncode == 0 and "serve" in listed.stdout and "submit" in listed.stdout
    assert "Run the import server (migrates the database first)." in listed.stdout  # listed without loading it
    refused = bare("serve")
    assert refused.returncode == 2 and "pip install 'bulkassist[server]'" in refused.stderr


# ------------------------------------------------------- the command line's conventions (issue 13)
def _commands(group=None, path=()):
    """Every command and subcommand of `bulkassist` (the server ones too) as (path, command)."""
    import click
    from click.testing import CliRunner  # noqa: F401 - the walk below shares click's context

    from bulkassist.cli import main

    group = group or main
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def _help(path) -> str:
    from click.testing import CliRunner

    from bulkassist.cli import main

    shown = CliRunner().invoke(main, [*path, "-h"])
    assert shown.exit_code == 0, (path, shown.output)
    return shown.output


def test_python_m_bulkassist_is_the_bulkassist_command():
    version = python_m_bulkassist("--version")
    assert version.returncode == 0 and "version" in version.stdout, version.stderr
    helped = python_m_bulkassist("-h")
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: bulkassist [OPTIONS] COMMAND")
    assert "BULKASSIST_URL" in helped.stdout and "validate" in helped.stdout
    assert python_m_bulkassist("validate", "-h").stdout.startswith("Usage: bulkassist validate [OPTIONS] FILE")


def test_every_command_and_subcommand_answers_dash_h():
    paths = [path for path, _ in _commands()]
    assert {("validate",), ("submit",), ("admin", "create-org"), ("addin", "install"), ("serve",)} <= set(paths)
    for path in paths:
        assert f"Usage: main {' '.join(path)}" in _help(path)


def test_the_command_list_shows_each_server_commands_own_summary():
    from bulkassist.cli import SERVER_COMMANDS, server

    assert set(SERVER_COMMANDS) == set(server.COMMANDS)
    for name, summary in SERVER_COMMANDS.items():
        assert server.COMMANDS[name].get_short_help_str(limit=1000) == summary, name


SERVER_COMMANDS = {"validate", "fix", "template", "lists", "submit", "start", "edit", "map", "apply-to-all",
                   "mappings", "cancel", "retry", "history", "results", "usage", "locks", "unlock", "undo",
                   "status", "records", "export"}


def test_commands_that_talk_to_a_server_show_its_environment_variables_in_their_help():
    found = {}
    for path, command in _commands():
        envvars = {p.envvar for p in command.params if p.envvar}
        if {p.name for p in command.params} & {"server", "server_url", "token"}:
            assert {"BULKASSIST_URL"} <= envvars, path  # every --server / --token reads the environment
            found[" ".join(path)] = envvars
    assert SERVER_COMMANDS <= set(found) and set(found) <= SERVER_COMMANDS | {"dashboard"}
    for name, envvars in found.items():
        text = " ".join(_help(name.split()).split())  # as read, whatever the line breaks
        for var in envvars:
            assert f"env var: {var}" in text, (name, var)
        if name != "dashboard":  # the dashboard signs each visitor in: it takes no token
            assert {"BULKASSIST_URL", "BULKASSIST_TOKEN"} <= envvars, name


DATA_COMMANDS = {"validate", "fix", "domains", "lists", "submit", "start", "edit", "map", "apply-to-all", "mappings",
                 "cancel", "retry", "history", "results", "usage", "locks", "status", "records"}


def test_json_output_is_spelled_format_json_everywhere():
    with_json = set()
    for path, command in _commands():
        for param in command.params:
            names = " ".join(getattr(param, "opts", []) + getattr(param, "secondary_opts", []))
            assert "json" not in names.lower() or param.name == "fmt", (path, names)  # no --json, --as-json ...
            if param.name == "fmt" and "json" in getattr(param.type, "choices", ()):
                assert param.opts == ["--format"], path
                with_json.add(" ".join(path))
    assert with_json == DATA_COMMANDS


def test_operation_takes_the_seeds_names_as_well_as_the_apis(messy):
    seen = {}
    for spelling in ("Add & Update", "add_update", "ADD AND UPDATE"):
        result = bulkassist("validate", str(messy), "-d", "client", "--operation", spelling, "--format", "json")
        assert result.returncode == 1, result.stderr
        seen[spelling] = json.loads(result.stdout)["operation"]
    assert set(seen.values()) == {"add_update"}
    refused = bulkassist("validate", str(messy), "-d", "client", "-p", "Upsert")
    assert refused.returncode == 2
    assert "unknown operation 'Upsert'" in refused.stderr and "Add & Update" in refused.stderr
    assert '"Add & Update"' in bulkassist("submit", "-h").stdout


def test_fix_exit_codes_are_documented_and_kept(tmp_path, messy):
    assert "Exit codes:" in bulkassist("fix", "-h").stdout
    only_safe = write_csv(tmp_path / "safe.csv", HEADER, [["", "Jo", "Ray", "123-45-6789", "1990-02-03", "asian"]])
    clean = bulkassist("fix", str(only_safe), "-d", "client", "-p", "add", "-o", str(tmp_path / "safe.fixed.csv"))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "3 safe fixes written" in clean.stdout and "0 issues still need a person" in clean.stdout
    left = bulkassist("fix", str(messy), "-d", "client", "-p", "add", "-o", str(tmp_path / "left.csv"), "--format", "json")
    assert left.returncode == 1 and json.loads(left.stdout)["remaining"] == 4
    missing = bulkassist("fix", str(tmp_path / "nope.csv"), "-d", "client", "-o", str(tmp_path / "never.csv"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert not (tmp_path / "never.csv").exists()


def test_progress_bar_only_on_request_when_stderr_is_not_a_terminal(messy, tmp_path):
    quiet = bulkassist("validate", str(messy), "-d", "client", "-p", "add", "-o", str(tmp_path / "a.xlsx"))
    assert quiet.stderr == ""
    shown = bulkassist("validate", str(messy), "-d", "client", "-p", "add", "-o", str(tmp_path / "b.xlsx"), "--progress")
    assert shown.stdout == quiet.stdout.replace("a.xlsx", "b.xlsx")  # the answer is unchanged
    # one line redrawn in place ("\r", read here as a line break) through the steps, ended at 100%
    assert "Checking clients.csv [" in shown.stderr and "Listing issues [" in shown.stderr
    assert shown.stderr.endswith("Writing b.xlsx [" + "#" * 30 + "] 100%  3/3\n")
    fixed = bulkassist("fix", str(messy), "-d", "client", "-p", "add", "-o", str(tmp_path / "f.csv"), "--progress")
    assert "Applying safe fixes" in fixed.stderr and fixed.stderr.endswith("100%  5/5\n")
    assert bulkassist("fix", str(messy), "-d", "client", "-p", "add", "-o", str(tmp_path / "g.csv")).stderr == ""


def test_submit_and_export_show_progress_on_request_against_a_real_server(sqlite_server, tmp_path):
    import uuid

    env = {"BULKASSIST_URL": sqlite_server.url, "BULKASSIST_TOKEN": sqlite_server.tokens["importer"]}
    last = "Bar" + uuid.uuid4().hex[:6]
    path = write_csv(tmp_path / "people.csv", ["Client ID", "First Name", "Last Name", "Date of Birth", "Language"],
                     [["", f"P{i}", last, "01/02/1990", "English"] for i in range(40)])

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return bulkassist(*args, env={**env, **extra})

    shown = cli("submit", str(path), "-d", "client", "--operation", "Add & Update", "--yes", "--progress")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "Committed: Records Inserted 40, Updated 0, Failed 0" in shown.stdout
    assert "Uploading [" in shown.stderr and "100%  40/40" in shown.stderr and "Committing [" in shown.stderr
    quiet = cli("submit", str(path), "-d", "client", "-p", "add", "--validate-only", "--format", "json")
    assert "[#" not in quiet.stderr and json.loads(quiet.stdout)["operation"] == "add"

    out = tmp_path / "all.csv"
    exported = cli("export", "qualification", "-o", str(out), "--progress",
                   BULKASSIST_TOKEN=sqlite_server.tokens["registrar"])
    assert exported.returncode == 0, exported.stderr
    size = out.stat().st_size
    assert "Downloading all.csv [" in exported.stderr and f"100%  {size:,}/{size:,}" in exported.stderr
