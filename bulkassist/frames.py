"""DataFrame libraries in and out: the user's library in, the same library back.

BulkAssist works in polars inside. Whatever a user hands in — a pandas or polars DataFrame, a polars
LazyFrame, a pyarrow Table — the frames BulkAssist hands back (a report's errors and results, an
import's issues, results and records, the import history) come in the same library, unless the
call's `as_=` names one: "pandas", "polars" or "pyarrow". pandas and pyarrow are imported only when
a frame of theirs is made.
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

Flavour = Literal["pandas", "polars", "pyarrow"]
FLAVOURS: tuple[str, ...] = ("pandas", "polars", "pyarrow")


def flavour_of(source: Any) -> Flavour | None:
    """The library of `source` when it is a frame of one (None for a path, bytes, a `Table` ...)."""
    if isinstance(source, (pl.DataFrame, pl.LazyFrame)):
        return "polars"
    module = type(source).__module__
    if module.startswith("pandas") and hasattr(source, "iloc"):
        return "pandas"
    if module.startswith("pyarrow") and hasattr(source, "column_names") and hasattr(source, "schema"):
        return "pyarrow"
    return None


def polars_of(source: Any) -> pl.DataFrame | None:
    """`source` as a polars DataFrame when it is a LazyFrame or a pyarrow Table / RecordBatch (their
    column types kept: a date column stays dates); None for anything else."""
    if isinstance(source, pl.LazyFrame):
        return source.collect()
    if flavour_of(source) == "pyarrow":
        return pl.from_arrow(source)  # type: ignore[return-value]  # a Table or RecordBatch gives a DataFrame
    return None


def as_flavour(frame: pl.DataFrame, as_: str | None = None, like: str | None = None) -> Any:
    """`frame` in the library `as_`, else `like` (the library the user gave), else polars."""
    chosen = as_ or like or "polars"
    if chosen == "polars":
        return frame
    if chosen == "pandas":
        return frame.to_pandas()
    if chosen == "pyarrow":
        return frame.to_arrow()
    raise ValueError(f"as_={as_!r} is not a DataFrame library BulkAssist answers in; use one of "
                     f"{', '.join(repr(f) for f in FLAVOURS)}")
