"""`bulkassist ARGS...` run in the test's own process, for the tests of what a command does (exit code, stdout,
stderr, the files it writes).

It calls the command line's `main` through click's test runner with the same arguments, environment, current
folder and typed input as a subprocess would get, and answers a `subprocess.CompletedProcess`. Starting a new
interpreter per command cost ~1.4 s of CPU (polars, pyarrow and requests imported again each time); the tests
of the process itself (`python -m bulkassist`, the installed entry point, the README's command lines, a
missing server extra) still start one.

An exception the command line does not turn into an exit code fails the test with its traceback, where a
subprocess would have exited 1 with the traceback on stderr.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

from click.testing import CliRunner

from bulkassist.cli import main


def bulkassist(*args: str, env: dict[str, str] | None = None, input: str | None = None,
               cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """`bulkassist *args` with `env` added to the environment, `input` typed at its prompts, run in `cwd`."""
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        ran = CliRunner().invoke(main, list(args), env=env, input=input, prog_name="bulkassist",
                                 catch_exceptions=False)
    return subprocess.CompletedProcess(["bulkassist", *args], ran.exit_code, ran.stdout, ran.stderr)
