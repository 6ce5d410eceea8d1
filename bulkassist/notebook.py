"""The report as a colour-coded pandas Styler, for Jupyter.

Errors are red, warnings amber, and each marked cell carries its message and
suggestion as a tooltip. Only the first `max_rows` rows are styled: a Styler
renders HTML, and nobody reads a million rows of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from bulkassist.engine.report import ERROR_SEVERITY
from bulkassist.status import RowAction

if TYPE_CHECKING:  # pragma: no cover
    from pandas.io.formats.style import Styler

    from bulkassist.engine.report import Report

ERROR_CSS = "background-color: #FFC7CE; color: #9C0006"
WARNING_CSS = "background-color: #FFEB9C; color: #9C5700"


def style_report(report: Report, max_rows: int = 500) -> Styler:
    import pandas as pd

    shown = report.data.head(max_rows)
    frame = shown.to_pandas()
    frame.columns = list(report.columns)  # headers as the person wrote them
    frame.index = pd.RangeIndex(report.first_row, report.first_row + shown.height, name="Row")
    frame.insert(0, "Action", report.actions.head(max_rows).to_list())

    last_row = report.first_row + shown.height - 1
    cells = report.cell_issues.filter((pl.col("row") <= last_row) & pl.col("col_index").is_not_null())
    worst = cells.group_by("row", "col_index").agg(
        error=(pl.col("severity") == ERROR_SEVERITY).any(),
        tip=pl.concat_str([pl.col("message"), pl.when(pl.col("suggestion").is_not_null())
                           .then(pl.lit(" → ") + pl.col("suggestion")).otherwise(pl.lit(""))]).str.join("\n"),
    )
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    tips = pd.DataFrame("", index=frame.index, columns=frame.columns)
    # One assignment per marked cell of the *shown* rows (at most max_rows × columns), not per cell of the file.
    for row, col_index, error, tip in worst.iter_rows():
        css.iat[row - report.first_row, col_index + 1] = ERROR_CSS if error else WARNING_CSS
        tips.iat[row - report.first_row, col_index + 1] = tip
    action_css = {RowAction.ERROR: ERROR_CSS, RowAction.SKIP: "color: #888"}
    css["Action"] = [action_css.get(a, "") for a in frame["Action"]]
    styler = frame.style.apply(lambda _: css, axis=None).set_tooltips(tips)
    return styler.set_caption(
        f"{report.domain.title} · {report.operation} · {report.source}: {report.summary_sentence()}"
        + (f" — first {max_rows} rows shown" if report.data.height > max_rows else "")
    )
