"""Preview of changes: per Update row and field, the stored value -> the new value, before anything is written.

After validation (`lifecycle._validated`) every Update row is joined with the record it will update,
set-based: the rows' match keys (or record IDs) go to the database as one JSON parameter per chunk
of `CHUNK` rows, and one query per chunk joins them with the stored records, reading each compared
field out of the record's JSON in SQL. The comparison itself is columnar (polars), no Python loop
per cell. What a commit would write is what this compares: the fields the domain stores
(`RecordBehaviour.record_data`), blank cells keeping the stored value.

Per (row, field) an entry of `CHANGE_SCHEMA`:

- change "changed": the file's value differs from the stored one (`old` -> `new`);
- change "kept": the cell is blank, so the stored value (`old`) stays; `new` is null.

Fields whose value equals the stored one are not listed. An Update row with no "changed" entry becomes
`RowAction.NO_CHANGE`: the commit writes nothing for it and it uses no usage allowance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.errors import Conflict, InvalidRequest
from bulkassist.server.bulk import driver_connection
from bulkassist.server.domains import Context, RecordBehaviour
from bulkassist.server.frames import from_blob, to_blob
from bulkassist.server.models import Import, ImportChanges, ImportReport
from bulkassist.status import RowAction

CHANGE_SCHEMA = {"row": pl.Int64, "field": pl.String, "old": pl.String, "new": pl.String, "change": pl.String}
CHANGED, KEPT = "changed", "kept"
CHUNK = 10_000  # import rows per query: one bound parameter (a JSON array), so no variable limit applies
_REF = "\x1fref"


def empty_changes() -> pl.DataFrame:
    return pl.DataFrame(schema=CHANGE_SCHEMA)


def preview(ctx: Context, behaviour: RecordBehaviour, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """(changes in CHANGE_SCHEMA, the rows' actions with No change for Update rows that change nothing).

    `rows`: the normalized fields + `row` + `action` of the reviewed report.
    """
    actions = rows["action"]
    updates = rows.filter(pl.col("action") == RowAction.UPDATE)
    fields = behaviour.stored_fields(rows)
    if updates.height == 0 or not fields:
        return empty_changes(), actions
    updates = updates.select("row", *[pl.col(f).cast(pl.String) for f in fields], _refs(behaviour, updates))
    stored = _stored_records(ctx, behaviour, updates, fields)
    if stored.height == 0:
        return empty_changes(), actions
    found = updates.join(stored, on=_REF, how="inner")  # each Update row with its stored record
    positions = {f: i for i, f in enumerate(fields)}
    new = found.select("row", *fields).unpivot(index="row", variable_name="field", value_name="new")
    old = found.select("row", *[pl.col(f"\x1fold{i}").alias(f) for i, f in enumerate(fields)]).unpivot(
        index="row", variable_name="field", value_name="old")
    blank_new = pl.col("new").is_null() | (pl.col("new").str.strip_chars() == "")
    blank_old = pl.col("old").is_null() | (pl.col("old") == "")
    change = (pl.when(blank_new & ~blank_old).then(pl.lit(KEPT))
              .when(blank_new).then(pl.lit(None, pl.String))
              .when(pl.col("new").ne_missing(pl.col("old"))).then(pl.lit(CHANGED)))
    changes = (
        new.with_columns(old["old"])  # both unpivoted from `found`: the same (row, field) order
        .with_columns(change.alias("change"), pl.when(blank_new).then(None).otherwise(pl.col("new")).alias("new"))
        .filter(pl.col("change").is_not_null())
        .with_columns(pl.col("field").replace_strict(positions, return_dtype=pl.Int32).alias("_pos"))
        .sort("row", "_pos")
        .select(list(CHANGE_SCHEMA))
    )
    changed_rows = changes.filter(pl.col("change") == CHANGED)["row"].unique()
    unchanged = found["row"].filter(~found["row"].is_in(changed_rows.implode()))
    marked = pl.select(pl.when(rows["row"].is_in(unchanged.implode())).then(pl.lit(RowAction.NO_CHANGE))
                       .otherwise(actions).alias("action")).to_series()
    return changes, marked


def _refs(behaviour: RecordBehaviour, updates: pl.DataFrame) -> pl.Expr | pl.Series:
    """What finds each Update row's record: its record ID (ID-matched domains) or its stored key."""
    if behaviour.id_keyed:
        return pl.col(behaviour.id_field).cast(pl.String).str.strip_chars().cast(pl.Int64, strict=False
                                                                                          ).cast(pl.String).alias(_REF)
    return behaviour.key_series(updates).alias(_REF)


def _stored_records(ctx: Context, behaviour: RecordBehaviour, updates: pl.DataFrame, fields: list[str]
                    ) -> pl.DataFrame:
    """`_REF`, then per field i `\\x1fold{i}`: the stored values of the records the Update rows name."""
    refs = updates[_REF].drop_nulls().unique().to_list()
    frames = [_lookup(ctx.session, ctx.org_id, behaviour.domain.name, refs, fields, by_id=behaviour.id_keyed)]
    if not behaviour.id_keyed and type(behaviour).existing is not RecordBehaviour.existing:
        # The domain finds some records by more than their key (a qualification's first Registration
        # number finds the record without one): those rows are looked up the domain's way, then by ID.
        missing = sorted(set(refs) - set(frames[0][_REF].to_list()))
        ids = behaviour.existing(ctx, missing) if missing else {}
        if ids:
            by_id = _lookup(ctx.session, ctx.org_id, behaviour.domain.name, [str(i) for i in ids.values()], fields,
                            by_id=True)
            ref_of = {str(i): k for k, i in ids.items()}
            frames.append(by_id.with_columns(pl.col(_REF).replace_strict(ref_of, return_dtype=pl.String)))
    return pl.concat(frames).unique(_REF, keep="first", maintain_order=True)


def _lookup(session: Session, org_id: int, domain: str, refs: Sequence[str], fields: list[str], *, by_id: bool
            ) -> pl.DataFrame:
    """One query per CHUNK refs joining them (a JSON array) with the stored records of `domain`; the
    records' JSON is sent as text and read by polars in one pass (the database parses nothing)."""
    if session.get_bind().dialect.name == "postgresql":
        # LATERAL ... OFFSET 0 (not flattened into a join): one index lookup per import row, the primary
        # key or the (org, domain, key) index, whatever the organisation's record count and however stale
        # the planner's statistics (with stale ones it would hash-join every record of the domain per chunk).
        where = ("r.id = CAST(v.ref AS BIGINT)" if by_id
                 else "r.org_id = :org AND r.domain = :domain AND r.key IS NOT NULL AND r.key = v.ref")
        query = sa.text("SELECT v.ref, d.data FROM json_array_elements_text(CAST(:refs AS JSON)) AS v(ref) "
                        "CROSS JOIN LATERAL (SELECT CAST(r.data AS TEXT) AS data, r.org_id, r.domain FROM records "
                        f"AS r WHERE {where} OFFSET 0) AS d WHERE d.org_id = :org AND d.domain = :domain")
    else:
        # CROSS JOIN fixes SQLite's join order: the rows outside, one primary-key or key-index lookup each
        # (a plain JOIN lets the planner scan the domain's records and search the JSON array per record).
        query = sa.text("SELECT CAST(v.value AS TEXT), CAST(r.data AS TEXT) FROM json_each(:refs) AS v CROSS JOIN "
                        "records AS r ON r.org_id = :org AND r.domain = :domain AND "
                        + ("r.id = v.value" if by_id else "r.key IS NOT NULL AND r.key = v.value"))
    schema = {_REF: pl.String, "data": pl.String}
    parts = []
    for start in range(0, len(refs), CHUNK):
        part = refs[start:start + CHUNK]
        params = {"org": org_id, "domain": domain,
                  "refs": json.dumps([int(r) for r in part] if by_id else list(part))}
        if session.get_bind().dialect.name == "postgresql":
            parts.append(_copied(session, query, params, schema))
        else:
            parts.append(pl.DataFrame(session.execute(query, params).all(), schema=schema, orient="row"))
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return pl.concat([frame.select(_REF), _values(frame["data"], fields)], how="horizontal")


def _copied(session: Session, query: sa.TextClause, params: dict[str, Any], schema: dict[str, Any]
            ) -> pl.DataFrame:
    """PostgreSQL: the query's rows streamed as CSV (COPY ... TO STDOUT) into polars, no Python object per row."""
    sql = str(query.compile(dialect=session.get_bind().dialect))  # :name -> %(name)s, as psycopg binds them
    raw = driver_connection(session)
    buffer = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for block in copy:
            buffer += block
    if not buffer:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(bytes(buffer), has_header=False, new_columns=list(schema), schema=schema)


def _values(data: pl.Series, fields: list[str]) -> pl.DataFrame:
    """Per record (its JSON text), the stored value of each field as text, in columns `\x1fold{i}`."""
    names = {f: f"\x1fold{i}" for i, f in enumerate(fields)}
    try:
        values = data.str.json_decode(pl.Struct(dict.fromkeys(fields, pl.String))).struct.unnest()
    except pl.exceptions.ComputeError:
        # A compared field holds a list or an object (not written by an import): read row by row, as text.
        docs = [json.loads(d) if d else {} for d in data.to_list()]
        values = pl.DataFrame({f: [None if d.get(f) is None else str(d.get(f)) for d in docs] for f in fields},
                              schema=dict.fromkeys(fields, pl.String))
    return values.select(pl.col(f).alias(n) for f, n in names.items())


# ---------------------------------------------------------------- storage
def store(session: Session, imp: Import, changes: pl.DataFrame) -> None:
    """Keep the preview with the import (replacing the one of the previous validation)."""
    session.merge(ImportChanges(import_id=imp.id, data=to_blob(changes), changes=changes.height))


def stored_changes(session: Session, imp: Import) -> pl.DataFrame:
    """The preview of a validated import (an import validated before previews existed has none: empty)."""
    blob = session.scalar(sa.select(ImportChanges.data).where(ImportChanges.import_id == imp.id))
    if blob is not None:
        return from_blob(blob)
    if session.scalar(sa.select(ImportReport.import_id).where(ImportReport.import_id == imp.id)) is None:
        raise Conflict(f"import {imp.id} is {imp.status} and has not been validated yet; validate it first")
    return empty_changes()


def page(session: Session, imp: Import, *, page: int, page_size: int, field: str | None = None,
         change: str | None = None) -> dict[str, Any]:
    """One page of the preview (`items`: row, field, old, new, change), filtered by field and/or change."""
    if change is not None and change not in (CHANGED, KEPT):
        raise InvalidRequest(f"change must be {CHANGED!r} or {KEPT!r}, not {change!r}")
    changes = stored_changes(session, imp)
    fields = changes["field"].unique(maintain_order=True).to_list()
    if field is not None:
        changes = changes.filter(pl.col("field") == field)
    if change is not None:
        changes = changes.filter(pl.col("change") == change)
    shown = changes.slice((page - 1) * page_size, page_size)
    return {"id": imp.id, "total": changes.height, "page": page, "page_size": page_size, "fields": fields,
            "items": shown.to_dicts()}
