"""The progress bar of the commands that can take more than a second (validate, fix, submit, start,
retry, undo, export).

It goes to stderr, and only when stderr is a terminal or the user asked with `--progress`: stdout stays
the command's answer, and scripts and tests that read stderr see no bar unless they ask for one. One line,
redrawn in place (`\\r`) while the label or the percentage changes, ended with a newline.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

WIDTH = 30  # characters of the bar itself


class ProgressBar:
    """`bar(done, total)` is a `bulkassist.client.Progress` callback; `bar.stage(label)` moves to the next of
    `stages` named steps (for work that reports no counts, such as reading and checking a file)."""

    def __init__(self, label: str, stream: TextIO | None, stages: int = 0) -> None:
        self.label = label
        self._stream = stream
        self._stages = stages
        self._stage = 0
        self._line = ""

    def __call__(self, done: int, total: int) -> None:
        if self._stream is None:
            return
        if total > 0:
            share = min(max(done / total, 0.0), 1.0)
            filled = round(share * WIDTH)
            line = f"{self.label} [{'#' * filled}{'-' * (WIDTH - filled)}] {share:4.0%}  {done:,}/{total:,}"
        else:  # a total nobody knows yet (a download without its length): the count alone
            line = f"{self.label} {done:,}"
        if line != self._line:
            pad = " " * max(len(self._line) - len(line), 0)  # wipe what the longer previous line left
            self._stream.write(f"\r{line}{pad}")
            self._stream.flush()
            self._line = line

    def stage(self, label: str) -> None:
        """Start the next named step: the bar shows the steps finished so far and what is being done."""
        self.label = label
        self(self._stage, self._stages)
        self._stage += 1

    def close(self) -> None:
        if self._stream is not None and self._line:
            if self._stages:
                self(self._stages, self._stages)
            self._stream.write("\n")
            self._stream.flush()


@contextmanager
def progress_bar(label: str, shown: bool | None, *, stages: int = 0) -> Iterator[ProgressBar]:
    """A bar on stderr when `shown` (`--progress`), or when `shown` is None (no flag given) and stderr is a
    terminal; otherwise a bar that draws nothing."""
    visible = sys.stderr.isatty() if shown is None else shown
    bar = ProgressBar(label, sys.stderr if visible else None, stages=stages)
    try:
        yield bar
    finally:
        bar.close()
