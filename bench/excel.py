"""Excel add-in benchmark: a 100k-row client sheet through Validate on xlwings' remote engine.

    XLWINGS_LICENSE_KEY=noncommercial python bench/excel.py [--rows 100000] [--bad 0.03]

Builds the JSON payload Excel sends for a deterministic client sheet with about
3% bad cells, runs `bulkassist.excel.validate(xw.Book(json=payload))` (the code
path of Excel on the web / xlwings Server / xlwings Lite) and prints:

- the time from payload to action list, and that time minus validation itself
  (validation is timed separately on the same table and lists);
- the number of fill actions against the number of invalid cells (one action
  per vertical run of invalid cells in a column, never one per cell), for
  scattered mistakes and for clustered ones (a block of rows typed wrongly);
- the size of the action JSON, and what makes it up.

Medians of three runs. Figures, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from typing import Any


def client_sheet(rows: int, bad: float, clustered: bool, seed: int = 7) -> list[list[Any]]:
    """Header + `rows` client records; about `bad` of the cells wrong (scattered or in row blocks)."""
    from bulkassist.domains import get_domain
    from bulkassist.engine.selectlists import demo_lists

    domain = get_domain("client")
    headers = domain.field_names
    lists = demo_lists()
    rng = random.Random(seed)
    choices = {f.name: [v for v, _ in lists.options(f.select_list)] for f in domain.fields if f.select_list}
    first = ["Maria", "James", "Ann", "Luis", "Chen", "Fatima", "Olga", "Kwame", "Priya", "Tom"]
    last = ["Lopez", "Smith", "Nguyen", "Okafor", "Schmidt", "Rossi", "Khan", "Brown", "Garcia", "Lee"]
    wrong = {
        "Client ID": "ID-%d", "First Name": None, "Last Name": None, "Email Address": "user%d(at)example",
        "Phone Number": "727-123-%d", "SSN": "12-%d", "Date of Birth": "13/%d/1990",
    }
    values = [headers]
    per_row_bad = bad * len(headers)
    for i in range(rows):
        row = [
            None, rng.choice(first), rng.choice(last), f"user{i}@example.org",
            f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            f"{rng.randint(100000000, 899999999)}", f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/19{rng.randint(40, 99)}",
        ] + [rng.choice(choices[h]) for h in headers[7:]]
        in_block = (i // 50) % 33 == 0  # 50-row blocks, ~3% of rows, every cell of a few columns wrong
        if clustered:
            targets = [3, 6, 11, 12] if in_block else []
        else:
            targets = [c for c in range(len(headers)) if rng.random() < per_row_bad / len(headers)]
        for c in targets:
            h = headers[c]
            if h in wrong:
                row[c] = wrong[h] % i if wrong[h] and "%d" in wrong[h] else wrong[h]
            else:
                row[c] = f"Unknown {h} {i % 97}"
        values.append(row)
    return values


def payload(values: list[list[Any]]) -> dict[str, Any]:
    import xlwings as xw

    return {
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "clients.xlsx", "active_sheet_index": 0, "selection": "A1"}, "names": [],
        "sheets": [{"name": "Clients", "values": [["" if v is None else v for v in r] for r in values],
                    "pictures": [], "tables": [], "notes": [], "visibility": "Visible"}],
    }


def run(values: list[list[Any]]) -> dict[str, Any]:
    import copy

    import xlwings as xw

    import bulkassist.excel as bx
    from bulkassist.domains import get_domain
    from bulkassist.engine import validation
    from bulkassist.engine.selectlists import demo_lists
    from bulkassist.excel.datasheet import DataSheet

    data = payload(values)
    totals, validations = [], []
    for _ in range(3):
        body = copy.deepcopy(data)
        start = time.perf_counter()
        book = xw.Book(json=body)
        report = bx.validate(book)
        actions = book.json()["actions"]
        text = json.dumps({"actions": actions}, default=str)
        totals.append(time.perf_counter() - start)

        table = DataSheet.read(xw.Book(json=copy.deepcopy(data)).sheets[0]).table("clients.xlsx")
        start = time.perf_counter()
        validation.validate(table, get_domain("client"), "add_update", lists=demo_lists())
        validations.append(time.perf_counter() - start)
    issues = report.cell_issues
    invalid = issues.select("row", "col_index").unique().height
    fills = [a for a in actions if a["func"] == "setRangeColor" and a["sheet_position"] == 0]
    funcs = Counter(a["func"] for a in actions)
    biggest = max((len(json.dumps(a, default=str)), a["func"]) for a in actions)
    return {
        "rows": len(values) - 1,
        "invalid_cells": invalid,
        "fill_actions": len(fills),
        "ratio": len(fills) / invalid if invalid else 0.0,
        "total_s": statistics.median(totals),
        "validation_s": statistics.median(validations),
        "beyond_s": statistics.median(totals) - statistics.median(validations),
        "json_mb": len(text.encode()) / 1e6,
        "actions": dict(funcs),
        "biggest_action": biggest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Excel add-in benchmark (remote engine)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad", type=float, default=0.03)
    args = parser.parse_args()
    import xlwings as xw

    if "remote" not in [e.name for e in xw.engines]:
        sys.exit("the xlwings remote engine needs a licence key: run with XLWINGS_LICENSE_KEY=noncommercial")
    for clustered in (False, True):
        values = client_sheet(args.rows, args.bad, clustered)
        r = run(values)
        kind = "clustered (50-row blocks)" if clustered else "scattered"
        print(f"== {r['rows']:,} rows, mistakes {kind}")
        print(f"payload -> action list: {r['total_s']:.2f} s (validation {r['validation_s']:.2f} s, "
              f"beyond validation {r['beyond_s']:.2f} s)")
        print(f"invalid cells {r['invalid_cells']:,}; fill actions {r['fill_actions']:,} "
              f"(ratio {r['ratio']:.3f} of one action per invalid cell)")
        print(f"action JSON {r['json_mb']:.2f} MB in {sum(r['actions'].values()):,} actions: {r['actions']}; "
              f"largest action {r['biggest_action'][1]} {r['biggest_action'][0] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
