"""Annotated-workbook writing speed: BulkAssist's streamed XML writer against xlsxwriter.

    python bench/workbook.py [--rows 100000] [--runs 3]

Builds a deterministic client sheet (13 columns, about 3% bad cells, see
`_data.py`), validates it once, then writes the same annotated workbook
(filled cells with notes, dropdowns on select-list columns, an Errors sheet)
with `bulkassist.io.annotate.write_annotated` and with xlsxwriter in
constant-memory mode, and prints the median seconds of each and the ratio;
then how long `read_table` takes to read the annotated workbook back.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl  # noqa: E402
from _data import client_frame  # noqa: E402

import bulkassist  # noqa: E402
from bulkassist.engine.selectlists import demo_lists  # noqa: E402
from bulkassist.io.annotate import write_annotated
from bulkassist.io.cells import is_formula_like  # noqa: E402
from bulkassist.io.reading import read_table  # noqa: E402
from bulkassist.io.xlsx import ERROR_FILL, WARNING_FILL  # noqa: E402
from bulkassist.spec import Kind  # noqa: E402


def write_with_xlsxwriter(report: bulkassist.Report, path: Path) -> None:
    """The same annotated workbook through xlsxwriter: one call per cell and per note."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})

    def formats(**props: str) -> tuple:
        """A text format and its quote-prefix twin (for text that begins like a formula)."""
        return (wb.add_format({"num_format": "@", **props}),
                wb.add_format({"num_format": "@", "quote_prefix": True, **props}))

    text = formats()
    fills = {"error": formats(bg_color=f"#{ERROR_FILL}"), "warning": formats(bg_color=f"#{WARNING_FILL}")}
    quoted = wb.add_format({"quote_prefix": True})
    data = wb.add_worksheet("Data")
    errors = wb.add_worksheet("Errors")
    lists_sheet = wb.add_worksheet("Lists")
    lists_sheet.hide()
    marks = (
        report.cell_issues.filter(pl.col("col_index").is_not_null())
        .group_by("row", "col_index")
        .agg(pl.col("severity").min().alias("severity"),
             pl.concat_str([pl.col("message"), pl.lit("\nSuggested: "), pl.col("suggestion").fill_null("")])
             .str.join("\n\n").alias("note"))
    )
    mark = {(r, c): (s, n) for r, c, s, n in marks.iter_rows()}
    header = report.header_row - 1
    data.write_row(header, 0, report.columns)
    for offset, row in enumerate(report.data.iter_rows()):
        r = report.first_row + offset
        for c, value in enumerate(row):
            hit = mark.get((r, c))
            fmt = fills[hit[0]] if hit else text
            if value is not None:
                data.write_string(r - 1, c, value, fmt[is_formula_like(value)])
            elif hit:
                data.write_blank(r - 1, c, None, fmt[0])
            if hit:
                data.write_comment(r - 1, c, hit[1])
    lists = demo_lists()
    for i, field in enumerate(report.column_fields.values()):
        spec = report.domain.field(field) if field else None
        if spec is None or spec.kind is not Kind.SELECT:
            continue
        values = lists.values(spec.select_list)
        lists_sheet.write_column(0, i, values)
        letter = chr(65 + i)
        data.data_validation(report.first_row - 1, i, report.first_row + report.data.height - 2, i,
                             {"validate": "list", "source": f"=Lists!${letter}$1:${letter}${len(values)}"})
    frame = report.errors_frame()
    errors.write_row(0, 0, ["Row", "Column", "Value", "Severity", "Message", "Suggestion"])
    for i, (row, column, value, severity, message, suggestion) in enumerate(
        frame.select("Row", "Column", "Value", "Severity", "Message", "Suggestion").iter_rows(), start=1
    ):
        if row is not None:
            errors.write_number(i, 0, row)
        for c, v in enumerate((column, value, severity, message, suggestion), start=1):
            if v is not None:
                errors.write_string(i, c, v, quoted if is_formula_like(v) else None)
    wb.close()


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    frame = client_frame(args.rows)
    report = bulkassist.validate(frame, "client", "add_update")
    notes = report.cell_issues.select("row", "col_index").unique().height
    print(f"{args.rows} rows x {frame.width} columns, {report.issues.height} issues, {notes} annotated cells")
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, xw_path = Path(tmp) / "ours.xlsx", Path(tmp) / "xlsxwriter.xlsx"
        ours = timed(lambda: write_annotated(report, ours_path), args.runs)
        print(f"bulkassist write_annotated: {ours:.2f} s (median of {args.runs}), "
              f"{ours_path.stat().st_size / 1e6:.1f} MB")
        theirs = timed(lambda: write_with_xlsxwriter(report, xw_path), args.runs)
        print(f"xlsxwriter (constant_memory): {theirs:.2f} s (median of {args.runs}), "
              f"{xw_path.stat().st_size / 1e6:.1f} MB")
        print(f"ratio xlsxwriter / bulkassist: {theirs / ours:.1f}x")
        back = timed(lambda: read_table(ours_path), args.runs)
        print(f"read_table of the annotated workbook (fastexcel): {back:.2f} s (median of {args.runs})")


if __name__ == "__main__":
    main()
