"""Annotated-workbook writing: time, peak memory and zlib level, against the path before issue 15.

    python bench/workbook.py [--rows 1000000] [--runs 3] [--deflaters isal:1,zlib:1,zlib:6] [--xlsxwriter]

Builds a deterministic client sheet (13 columns, about 3% bad cells, see
`_data.py`) and validates it once, in a child process; then writes the
annotated workbook (filled cells with notes, dropdowns, an Errors sheet with
links, a Summary) with `bulkassist.io.annotate.write_annotated` --runs times
with each deflater:level of --deflaters (ISA-L's `isal`, which the writer
uses, and zlib), and prints median wall and CPU seconds, the
file size and the peak resident memory while writing (VmHWM reset before each
write; the report itself is in memory: "added" is the peak above the resident
size before the write).

The baseline, measured in the same run, is the writer as it ran before issue
15: every part deflated at zlib's default level 6 (ZipFile.open with a ZipInfo
ignored the archive's level 1), the comments, VML drawing and hyperlinks
built as one string each, and every cell through the escaping passes
(`old_parts()` puts that back in the child).
`--xlsxwriter` adds xlsxwriter in constant-memory mode, one call per cell and
note (slow: use it with --rows 100000).

Targets (issue 15, at 1M rows): <= 15 s, peak <= 1 GB added by writing.
Figures, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET_S, TARGET_PEAK_MB = 15.0, 1000


def old_parts() -> Any:
    """Put back the whole-string notes and links parts written before issue 15; returns how to undo it."""
    from collections.abc import Iterator

    import bulkassist.io.xlsx as xlsx

    comments, vml, tail, cell = xlsx._comments_xml, xlsx._vml_xml, xlsx.Sheet.tail, xlsx._cell_xml

    def whole(build):
        def joined(*args: Any) -> Iterator[str]:
            yield "".join(build(*args))
        return joined

    def escaped(*args: Any, **kwargs: Any) -> Any:  # every cell through the escaping passes, none patched in
        return cell(*args, **{**kwargs, "plain": False})

    deflater, level = xlsx.ZIP_DEFLATER, xlsx.ZIP_LEVEL
    xlsx._comments_xml, xlsx._vml_xml, xlsx.Sheet.tail = whole(comments), whole(vml), whole(tail)
    xlsx._cell_xml = escaped
    xlsx.ZIP_DEFLATER, xlsx.ZIP_LEVEL = "zlib", 6

    def undo() -> None:
        xlsx._comments_xml, xlsx._vml_xml, xlsx.Sheet.tail, xlsx._cell_xml = comments, vml, tail, cell
        xlsx.ZIP_DEFLATER, xlsx.ZIP_LEVEL = deflater, level
    return undo


def write_with_xlsxwriter(report: Any, path: Path) -> None:
    """The same annotated workbook through xlsxwriter: one call per cell and per note."""
    import polars as pl
    import xlsxwriter

    from bulkassist.engine.selectlists import demo_lists
    from bulkassist.io.cells import is_formula_like
    from bulkassist.io.xlsx import ERROR_FILL, WARNING_FILL
    from bulkassist.spec import Kind

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})

    def formats(**props: str) -> tuple:
        return (wb.add_format({"num_format": "@", **props}),
                wb.add_format({"num_format": "@", "quote_prefix": True, **props}))

    text = formats()
    fills = {"error": formats(bg_color=f"#{ERROR_FILL}"), "warning": formats(bg_color=f"#{WARNING_FILL}")}
    quoted = wb.add_format({"quote_prefix": True})
    data, errors, lists_sheet = wb.add_worksheet("Data"), wb.add_worksheet("Errors"), wb.add_worksheet("Lists")
    lists_sheet.hide()
    marks = (
        report.cell_issues.filter(pl.col("col_index").is_not_null())
        .group_by("row", "col_index")
        .agg(pl.col("severity").min().alias("severity"),
             pl.concat_str([pl.col("message"), pl.lit("\nSuggested: "), pl.col("suggestion").fill_null("")])
             .str.join("\n\n").alias("note"))
    )
    mark = {(r, c): (s, n) for r, c, s, n in marks.iter_rows()}
    data.write_row(report.header_row - 1, 0, report.columns)
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
    errors.write_row(0, 0, ["Row", "Column", "Value", "Severity", "Message", "Suggestion"])
    frame = report.errors_frame().select("Row", "Column", "Value", "Severity", "Message", "Suggestion")
    for i, (row, *rest) in enumerate(frame.iter_rows(), start=1):
        if row is not None:
            errors.write_number(i, 0, row)
        for c, v in enumerate(rest, start=1):
            if v is not None:
                errors.write_string(i, c, v, quoted if is_formula_like(v) else None)
    wb.close()


# ------------------------------------------------------------------ one child: one report, many writes
def _status_mb(key: str) -> float:
    return int(re.search(rf"{key}:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def child(rows: int, runs: int, modes: list[str]) -> dict[str, Any]:
    """One report, written `runs` times in each mode ("new:<deflater>:<level>", "old", "xlsxwriter")."""
    import gc

    from _data import client_frame

    import bulkassist
    import bulkassist.io.xlsx as xlsx
    from bulkassist.io.annotate import write_annotated

    report = bulkassist.validate(client_frame(rows), "client", "add_update")
    notes = report.cell_issues.select("row", "col_index").unique().height
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "annotated.xlsx"
        for mode in modes:
            undo = old_parts() if mode == "old" else None
            used = xlsx.ZIP_DEFLATER, xlsx.ZIP_LEVEL
            if mode.startswith("new:"):
                _, deflater, level = mode.split(":")
                xlsx.ZIP_DEFLATER, xlsx.ZIP_LEVEL = deflater, int(level)
            write = write_with_xlsxwriter if mode == "xlsxwriter" else write_annotated
            out: dict[str, Any] = {"walls": [], "cpus": [], "peaks": [], "added_runs": [], "notes": notes,
                                   "issues": report.issues.height}
            for _ in range(runs):
                gc.collect()
                before = _status_mb("VmRSS")
                Path("/proc/self/clear_refs").write_text("5")  # peak RSS from here on
                cpu, wall = time.process_time(), time.perf_counter()
                write(report, path)
                out["cpus"].append(time.process_time() - cpu)
                out["walls"].append(time.perf_counter() - wall)
                peak = _status_mb("VmHWM")
                out["peaks"].append(peak)
                out["added_runs"].append(peak - before)
                out["mb"] = path.stat().st_size / 1e6
                path.unlink()
            for many, one in (("walls", "wall"), ("cpus", "cpu"), ("peaks", "peak"), ("added_runs", "added")):
                out[one] = statistics.median(out[many])
            print(f"  {mode}: walls {', '.join(f'{w:.2f}' for w in out['walls'])} s, "
                  f"CPU {', '.join(f'{c:.2f}' for c in out['cpus'])} s, "
                  f"added {', '.join(f'{a:,.0f}' for a in out['added_runs'])} MB, {out['mb']:.1f} MB file",
                  file=sys.stderr, flush=True)
            results[mode] = out
            xlsx.ZIP_DEFLATER, xlsx.ZIP_LEVEL = used
            if undo:
                undo()
    return results


def measure(rows: int, runs: int, modes: list[str]) -> dict[str, Any]:
    """All `modes` in one fresh child process (the report is built once)."""
    cmd = [sys.executable, __file__, "--child", ",".join(modes), "--rows", str(rows), "--runs", str(runs)]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False, env=os.environ)
    if done.returncode:
        sys.exit(f"child failed ({' '.join(cmd)})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deflaters", default="isal:1,zlib:1,zlib:6",
                        help="deflater:level pairs to compare (the writer's own is always included)")
    parser.add_argument("--xlsxwriter", action="store_true", help="also xlsxwriter, one call per cell (slow)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.rows, args.runs, args.child.split(","))))
        return

    import bulkassist.io.xlsx as xlsx

    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(),
          f"({os.cpu_count()} cores); medians of {args.runs} writes of one report, in a fresh process")
    used = f"{xlsx.ZIP_DEFLATER}:{xlsx.ZIP_LEVEL}"
    deflaters = list(dict.fromkeys([used, *args.deflaters.split(",")]))
    modes = [f"new:{d}" for d in deflaters] + ["old"] + (["xlsxwriter"] if args.xlsxwriter else [])
    measured = measure(args.rows, args.runs, modes)
    results = {d: measured[f"new:{d}"] for d in deflaters}
    old, new = measured["old"], results[used]
    print(f"== {args.rows:,} rows x 13 columns, {new['issues']:,} issues, {new['notes']:,} annotated cells")
    for d, r in results.items():
        mark = "  <- used" if d == used else ""
        print(f"{d:8s}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, {r['mb']:.1f} MB, {r['added']:,.0f} MB added"
              f"{mark}")
    print(f"write_annotated ({used}): {new['wall']:.2f} s wall, {new['cpu']:.2f} s CPU; "
          f"before issue 15 (zlib 6, whole-string parts, every cell escaped) {old['wall']:.2f} s wall, {old['cpu']:.2f} s CPU; "
          f"ratio before/now {old['wall'] / new['wall']:.1f}x wall, {old['cpu'] / new['cpu']:.1f}x CPU"
          f"   target <= {TARGET_S:g} s: {verdict(new['wall'] <= TARGET_S)}")
    print(f"peak memory while writing: {new['added']:,.0f} MB added ({new['peak']:,.0f} MB resident with the "
          f"report); before issue 15 {old['added']:,.0f} MB added   target <= {TARGET_PEAK_MB:,} MB: "
          f"{verdict(new['added'] <= TARGET_PEAK_MB)}")
    if args.xlsxwriter:
        theirs = measured["xlsxwriter"]
        print(f"xlsxwriter (constant_memory): {theirs['wall']:.2f} s wall, {theirs['cpu']:.2f} s CPU, "
              f"{theirs['mb']:.1f} MB, {theirs['added']:,.0f} MB added; ratio xlsxwriter/bulkassist "
              f"{theirs['wall'] / new['wall']:.1f}x wall")


if __name__ == "__main__":
    main()
