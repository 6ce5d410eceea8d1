"""Cross-field rules named by `Rule.check` in the domain specs, vectorised.

Each rule reads the normalized values of the fields it names and returns
issues for the rows that break it, placed on the cell of the field the
person has to change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from bulkassist.kinds import kind_of
from bulkassist.kinds.base import FIELD_FINDING_SCHEMA, FINDING_SCHEMA
from bulkassist.kinds.date import parse_dates
from bulkassist.spec import Domain, Rule

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass
class RuleContext:
    domain: Domain
    values: dict[str, pl.Series]  # field -> normalized text (null where blank), for fields in the file
    height: int
    first_row: int  # spreadsheet row of data row 0
    parsed_dates: dict[str, pl.Series] = field(default_factory=dict)  # DATE fields already parsed by the checks
    # The distinct texts of `values[f]` (null included), for the fields validation already knows them of.
    distinct: dict[str, pl.Series] = field(default_factory=dict)

    def col(self, name: str) -> pl.Series:
        if name in self.values:
            return self.values[name]
        return pl.repeat(None, self.height, dtype=pl.String, eager=True).alias(name)

    def present(self, name: str) -> bool:
        return name in self.values

    def dates(self, name: str) -> pl.Series:
        if name in self.parsed_dates:
            return self.parsed_dates[name]
        return parse_dates(self.col(name), self.domain.field(name).formats)


def render(template: str, **values: pl.Expr) -> pl.Expr:
    """A message template such as "Date From {a} is after Date To {b}" filled per row."""
    pieces: list[pl.Expr] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        pieces.append(pl.lit(template[pos:m.start()]))
        pieces.append(values[m.group(1)] if m.group(1) in values else pl.lit(m.group(0)))
        pos = m.end()
    pieces.append(pl.lit(template[pos:]))
    return pl.concat_str(pieces, ignore_nulls=True)


def _issues(frame: pl.DataFrame, mask: pl.Expr, rule: Rule, at: str, code: str, message: pl.Expr) -> pl.DataFrame:
    hits = (frame if "idx" in frame.columns else frame.with_row_index("idx")).filter(mask)
    return hits.select(
        pl.col("idx").cast(pl.Int64),
        pl.lit(at).alias("field"),
        pl.lit(code).alias("code"),
        pl.lit(rule.severity).alias("severity"),
        message.alias("message"),
        pl.lit(None, pl.String).alias("suggestion"),
        pl.lit(None, pl.Float64).alias("confidence"),
        pl.lit(False).alias("safe"),
    )


def requires_when(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    """When field A holds one of `values` (or anything, with `any_value`), field B must be filled."""
    a, b = rule.fields
    frame = pl.DataFrame({"a": ctx.col(a), "b": ctx.col(b)})
    trigger = pl.col("a").is_not_null() if rule.params.get("any_value") else pl.col("a").is_in(rule.params["values"])
    return _issues(frame, trigger & pl.col("b").is_null(), rule, a, "requires_" + _slug(b),
                   render(rule.message, value=pl.col("a")))


def exactly_one(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    """Exactly one of the fields is filled (an address belongs to a client or to a contact)."""
    frame = pl.DataFrame({f: ctx.col(f) for f in rule.fields})
    filled = pl.sum_horizontal([pl.col(f).is_not_null().cast(pl.Int32) for f in rule.fields])
    at = next((f for f in rule.fields if ctx.present(f)), rule.fields[0])
    return _issues(frame, filled != 1, rule, at, "exactly_one", render(rule.message))


def date_order(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    """The first date is not after the second."""
    a, b = rule.fields
    frame = pl.DataFrame({"a": ctx.dates(a), "b": ctx.dates(b), "ta": ctx.col(a), "tb": ctx.col(b)})
    return _issues(frame, pl.col("a") > pl.col("b"), rule, b, "date_order",
                   render(rule.message, a=pl.col("ta"), b=pl.col("tb")))


def not_future(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    (a,) = rule.fields
    frame = pl.DataFrame({"d": ctx.dates(a), "t": ctx.col(a)})
    return _issues(frame, pl.col("d") > pl.lit(date.today()), rule, a, "future_date",
                   render(rule.message, value=pl.col("t")))


def single_value(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    """One value per cell (one credit type per row)."""
    (a,) = rule.fields
    frame = pl.DataFrame({"a": ctx.col(a)})
    several = pl.col("a").str.contains(r"[,;|/&]|\s+and\s+")
    return _issues(frame, several, rule, a, "several_values", render(rule.message, value=pl.col("a")))


def forbidden_unless(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    """Field A may only be non-zero when the boolean field `when_true` is 1 (no credits unless complete)."""
    a, _ = rule.fields
    flag = rule.params["when_true"]
    frame = pl.DataFrame({"a": ctx.col(a), "flag": ctx.col(flag)})
    amount = pl.col("a").cast(pl.Float64, strict=False)
    return _issues(frame, (amount > 0) & (pl.col("flag") == "0"), rule, a, "not_complete",
                   render(rule.message, value=pl.col("a")))


def unique_together(rule: Rule, ctx: RuleContext) -> pl.DataFrame:
    """The same combination of the fields appears only once in the file."""
    if not all(ctx.present(f) for f in rule.fields[:1]):
        return pl.DataFrame(schema={"field": pl.String, **FINDING_SCHEMA})
    keys = [f"k{i}" for i in range(len(rule.fields))]
    frame = pl.DataFrame({k: ctx.col(f) for k, f in zip(keys, rule.fields, strict=True)}).with_row_index("i")
    caseless = {k for k, f in zip(keys, rule.fields, strict=True) if kind_of(ctx.domain.field(f)).caseless}
    known = {k: ctx.distinct[f] for k, f in zip(keys, rule.fields, strict=True) if f in ctx.distinct}
    dup = duplicate_rows(frame, keys, caseless, known=known)
    if not dup.height:
        return pl.DataFrame(schema={"field": pl.String, **FINDING_SCHEMA})
    rows = (pl.col("i") + ctx.first_row).cast(pl.String)
    dup = dup.with_columns(rows=rows.head(10).implode().over(keys).list.join(", ")).rename({"i": "idx"})
    return _issues(dup.sort("idx"), pl.lit(True), rule, rule.fields[0], "duplicate_in_file",
                   render(rule.message, rows=pl.col("rows"), value=pl.col("k0")))


_HASH_SLICE = 200_000
_AS_LIST = 10_000  # repeated hash values handed to polars as a list up to this many


def key_hash(keys: list[pl.Expr]) -> pl.Expr:
    """One 64-bit hash per row of the key values (what `duplicate_rows` compares first): the columns'
    hashes, each seeded by its position, combined. A struct's hash was measured 5x slower; equal keys
    still give equal hashes, and a collision only adds a candidate that is then compared exactly."""
    combined = keys[0].hash(seed=0)
    for position, key in enumerate(keys[1:], start=1):
        combined = combined ^ key.hash(seed=position)
    return combined


def duplicate_rows(frame: pl.DataFrame, keys: list[str], caseless: set[str],
                   hasher: Callable[[list[pl.Expr]], pl.Expr] = key_hash,
                   known: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """The rows of `frame` whose complete key (`keys`, compared lower-cased) appears more than once, with
    the keys lower-cased.

    Rows with equal keys have equal hashes (text in `caseless` is hashed lower-cased), so a sort of the
    hashes finds every candidate at integer speed (1M rows: 0.05 s, against 0.2 s for a hash table of
    them); a hash collision only adds a candidate, and the candidates (few) are compared exactly. `known`:
    the distinct texts of some `keys` columns, when the caller has them (`_case_matters`).
    """
    complete = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
    folded = _case_matters(frame, caseless, known)
    hash_expr = pl.when(complete).then(
        hasher([pl.col(k).str.to_lowercase() if k in folded else pl.col(k) for k in keys])).alias("h")
    # Lower-cased, in slices: the lower-cased text only ever exists for one slice (a full copy of the names
    # cost 120 MB per million rows); the hashes are 8 bytes a row. Without it, in one pass (the slices' passes
    # and their joining cost 2 ms more at 1M rows).
    step = _HASH_SLICE if folded else max(frame.height, 1)
    hashes = pl.concat([frame.slice(start, step).select(hash_expr)["h"]
                        for start in range(0, frame.height, step)] or [frame.select(hash_expr)["h"]])
    # The hashes' low 32 bits are sorted (numpy's vectorised sort of 1M 32-bit integers: 9 ms, against 26 ms
    # for polars' single-threaded sort of the 64-bit hashes; on two busy cores its parallel sort took twice
    # that). Equal keys still share them; the few more rows sharing them by chance are compared exactly.
    low = hashes.drop_nulls().to_numpy().astype(np.uint32)
    low.sort()
    shared = low[1:][low[1:] == low[:-1]]
    del low
    # Each once (`shared` is sorted), handed over as a list when few (1M clients: 445): `np.unique` and a
    # Series made from an array both import numpy.ma on first use (11 ms of CPU and wall in every fresh
    # process), which nothing else of a validation needs.
    first = np.ones(shared.size, dtype=bool)
    first[1:] = shared[1:] != shared[:-1]
    kept = shared[first]
    repeated = pl.Series(kept.tolist() if kept.size <= _AS_LIST else kept, dtype=pl.UInt64)
    # Their rows by a join of the low bits (a semi join: 6 ms; `is_in` of 32-bit values in 64 bits took 15 ms
    # at 1M rows, three times its time on the full hashes), in the rows' order.
    rows = (hashes & 0xFFFFFFFF).to_frame("h").with_row_index("row").join(
        repeated.to_frame("h"), on="h", how="semi", maintain_order="left")["row"]
    candidates = frame[rows]
    return candidates.with_columns(pl.col(k).str.to_lowercase() for k in keys).filter(
        pl.struct(keys).is_duplicated())


_SAMPLE, _FEW = 20_000, 2_000


def _case_matters(frame: pl.DataFrame, columns: set[str], known: dict[str, pl.Series] | None = None) -> set[str]:
    """The `columns` of `frame` in which two distinct texts may differ only in case. For the others, equal
    lower-cased texts are equal texts, and the hashes need no lower-cased copy. Known only for a column of
    few distinct texts (names, lists), whose distinct texts cost less than lower-casing every cell, or whose
    distinct texts are `known` already (validation found them). Every column is measured in one `select`
    (polars runs them side by side)."""
    if not columns:
        return set()
    known = {c: texts for c, texts in (known or {}).items() if c in columns and texts.len() <= _FEW}
    names = sorted(columns)
    unknown = [c for c in names if c not in known]
    sample = frame.select(pl.col(c).head(_SAMPLE).n_unique() for c in unknown).row(0) if unknown else ()
    few = [c for c, n in zip(unknown, sample, strict=True) if n <= _FEW]
    if not few and not known:
        return set(names)
    distinct = dict(known)
    if few:
        found = frame.lazy().select(pl.col(c).unique().implode() for c in few).collect()
        distinct |= {c: found[c][0] for c in few}
    # At most `_FEW` texts a column: lower-cased one column at a time.
    return {c for c in names if c not in distinct} | {
        c for c, texts in distinct.items() if texts.str.to_lowercase().n_unique() < texts.len()}


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text.lower()).strip("_")


RULES: dict[str, Callable[[Rule, RuleContext], pl.DataFrame]] = {
    "requires_when": requires_when,
    "exactly_one": exactly_one,
    "date_order": date_order,
    "not_future": not_future,
    "single_value": single_value,
    "forbidden_unless": forbidden_unless,
    "unique_together": unique_together,
}


def run_rules(ctx: RuleContext) -> pl.DataFrame:
    """Issues of every cross-field rule of the domain (`field` says where each goes)."""
    parts = []
    for rule in ctx.domain.rules:
        if not any(ctx.present(f) for f in rule.fields):
            continue
        found = RULES[rule.check](rule, ctx)
        if found.height:
            parts.append(found)
    if not parts:
        return pl.DataFrame(schema=FIELD_FINDING_SCHEMA)
    return pl.concat(parts, how="diagonal_relaxed")
