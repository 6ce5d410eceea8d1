"""Deterministic test data for the benchmarks: client sheets with about 3% bad cells."""

from __future__ import annotations

import numpy as np
import polars as pl

from bulkassist.engine.selectlists import demo_lists

CLIENT_COLUMNS = ["Client ID", "First Name", "Last Name", "Email Address", "Phone Number", "SSN", "Date of Birth",
                  "Sponsor Name", "Ethnicity", "Language", "Funding Source", "Staff Name", "Client Type"]


def client_frame(rows: int, bad_share: float = 0.03, seed: int = 7) -> pl.DataFrame:
    """`rows` client rows (13 columns); about `bad_share` of the cells hold a realistic mistake."""
    rng = np.random.default_rng(seed)
    lists = demo_lists()

    def pick(name: str) -> np.ndarray:
        return np.array(lists.values(name), dtype=object)[rng.integers(0, len(lists.values(name)), rows)].tolist()

    staff = [n.split(" ", 1) for n in lists.values("staff_name")]
    first = np.array(sorted({f for f, _ in staff}), dtype=object)
    last = np.array(sorted({f"{ln}{suffix}" for _, ln in staff for suffix in ("", "-Ruiz", "son", "ley")}), dtype=object)
    ids = rng.integers(100000, 999999, rows).astype(str).astype(object)
    ids[rng.random(rows) < 0.5] = None  # half new clients
    month, day, year = rng.integers(1, 13, rows), rng.integers(1, 29, rows), rng.integers(1950, 2006, rows)
    frame = pl.DataFrame({
        "Client ID": ids.tolist(),
        "First Name": first[rng.integers(0, len(first), rows)].tolist(),
        "Last Name": last[rng.integers(0, len(last), rows)].tolist(),
        "Email Address": [f"user{i}@example.org" for i in range(rows)],
        "Phone Number": [f"({a}) {b}-{c:04d}" for a, b, c in zip(rng.integers(200, 999, rows),
                                                                 rng.integers(200, 999, rows),
                                                                 rng.integers(0, 9999, rows), strict=False)],
        "SSN": [f"{x:09d}" for x in rng.integers(1_000_000, 999_999_999, rows)],
        "Date of Birth": [f"{m:02d}/{d:02d}/{y}" for m, d, y in zip(month, day, year, strict=False)],
        "Sponsor Name": pick("sponsor_name"),
        "Ethnicity": pick("ethnicity"),
        "Language": pick("language"),
        "Funding Source": pick("funding_source"),
        "Staff Name": pick("staff_name"),
        "Client Type": pick("client_type"),
    }, schema={c: pl.String for c in CLIENT_COLUMNS})
    # Mistakes people really make, spread over the columns that can hold them.
    mistakes = {
        "Email Address": lambda v: v.str.replace("@", " at "),
        "Phone Number": lambda v: v.str.replace_all(r"\D", ""),
        "SSN": lambda v: v.str.slice(0, 3) + "-" + v.str.slice(3, 2) + "-" + v.str.slice(5),
        "Date of Birth": lambda v: v.str.slice(3, 2) + "/" + v.str.slice(0, 2) + "/" + v.str.slice(6) + "x",
        "Sponsor Name": lambda v: v.str.to_lowercase(),
        "Ethnicity": lambda v: v.str.slice(0, 4) + "xx",
        "Language": lambda v: v.str.to_uppercase(),
        "Funding Source": lambda v: v.str.replace(" ", "  "),
        "Staff Name": lambda v: v.str.slice(1),
        "Client Type": lambda v: v + "s",
    }
    share = bad_share * len(CLIENT_COLUMNS) / len(mistakes)
    exprs = []
    for col, mutate in mistakes.items():
        mask = pl.Series(rng.random(rows) < share)
        exprs.append(pl.when(mask).then(mutate(pl.col(col))).otherwise(pl.col(col)).alias(col))
    return frame.with_columns(exprs)


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"  # the test PostgreSQL (trust auth)


def pg_schema_url() -> tuple[str, str]:
    """A fresh schema in the test PostgreSQL: (its SQLAlchemy URL, its name)."""
    import uuid

    import psycopg

    schema = f"ba_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
