"""What every domain does on the server beyond validation, read from its spec alone.

The life cycle (`lifecycle.py`, `committer.py`) never names a domain. It asks the domain's
`RecordBehaviour` (`behaviour_for`):

- `review(ctx, rows)`: the authoritative checks that need the database (does this record exist? is
  this row new?) as extra issues, the action (Insert / Update) each valid row will really take, and
  what every row would do, a row with errors too (the results' Action of a failed row, seed 003);
- `write(ctx, rows)`: write a chunk of valid rows and say, per row, what happened (Success / Failed,
  the record ID, an invoice ID);
- `check_can_start`, `before_commit` / `after_commit`: side effects around an import.

The base covers a domain from its spec: the match key (or the record's own ID) finds existing
records; `parents` link a row to its parent record, checked at review when the row names the parent
by its ID (it must exist already) and resolved at commit when by its reference (it may arrive in a
later batch); a `course_link` names a course section that must exist. A domain module adds only what
its seed says on top.

A record is stored with its match key's values joined by KEY_SEP (`RecordBehaviour.key_series`);
`RecordStore` is the one place that looks records up, a chunk of keys or IDs per query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.domains import get_domain
from bulkassist.engine.report import ISSUE_SCHEMA
from bulkassist.server.bulk import (
    allocate_ids,
    driver_connection,
    insert_frame,
    json_objects,
    update_records,
)
from bulkassist.server.changelog import log_updates
from bulkassist.server.models import Course, Record, Section, User, user_id_of, user_ref, utcnow
from bulkassist.spec import ADD, ADD_UPDATE, OPERATION_LABELS, Domain, ParentLink
from bulkassist.spec import UPDATE as OP_UPDATE
from bulkassist.status import VALID_ACTIONS, RowAction, RowStatus

OUTCOME_SCHEMA = {"row": pl.Int64, "status": pl.String, "action": pl.String, "record_id": pl.Int64,
                  "invoice_id": pl.Int64, "message": pl.String, "field": pl.String}
KEY_SEP = "\x1f"  # joins a match key's values into the stored key; validation strips control characters
_IN_CHUNK = 900  # values per IN (...) query: under SQLite's variable limit
_LIKE_SPECIAL = re.compile(r"([/%_])")
# The records that have a key: the rows of the partial key index (migration 0015). Every query by key says
# so, and both planners use the index without having to prove it from the key condition.
_KEYED = Record.key.is_not(None)


def issues_frame(rows: list[int], fields: list[str], values: list[str | None], code: str,
                 messages: list[str], columns: dict[str, int] | None = None, severity: str = "error"
                 ) -> pl.DataFrame:
    """Issues in ISSUE_SCHEMA for whole rows (the server's checks name a field, not a typed cell)."""
    columns = columns or {}
    return pl.DataFrame({
        "row": rows,
        "col_index": [columns.get(f) for f in fields],
        "column": fields,
        "field": fields,
        "value": values,
        "code": [code] * len(rows),
        "severity": [severity] * len(rows),
        "message": messages,
        "suggestion": [None] * len(rows),
        "confidence": [None] * len(rows),
        "safe": [False] * len(rows),
    }, schema=ISSUE_SCHEMA)


def outcomes(rows: pl.Series | list[int], status: str, action: pl.Series | list[str | None] | str | None = None,
             record_ids: pl.Series | list[int | None] | None = None, message: pl.Series | list[str] | str = "",
             invoice_ids: pl.Series | list[int | None] | None = None,
             field: pl.Series | list[str | None] | str | None = None) -> pl.DataFrame:
    """Per-row outcomes of a commit; `field`: the field a failure is about (the errors file's Field). A
    value given once holds for every row."""
    n = len(rows)

    def column(name: str, value: Any) -> pl.Series:
        if isinstance(value, pl.Series | list):
            return pl.Series(name, value, OUTCOME_SCHEMA[name])
        return pl.repeat(value, n, dtype=OUTCOME_SCHEMA[name], eager=True).alias(name)

    return pl.DataFrame([column("row", rows), column("status", status), column("action", action),
                         column("record_id", record_ids), column("invoice_id", invoice_ids),
                         column("message", message), column("field", field)])


def with_notes(result: pl.DataFrame, notes: pl.DataFrame) -> pl.DataFrame:
    """Outcomes whose successful rows carry the note `notes` (row, _note) gives them: what the server did
    to a row on its own (a status kept, a credit awarded), for the results' Error Messages column."""
    if not notes.height:
        return result
    return (result.join(notes.select("row", "_note"), on="row", how="left")
            .with_columns(pl.when((pl.col("status") == RowStatus.SUCCESS) & pl.col("_note").is_not_null())
                          .then(pl.col("_note")).otherwise(pl.col("message")).alias("message"))
            .drop("_note"))


def matched_by_id(domain: Domain) -> bool:
    """The match key is the record's own ID (Client ID): a present ID means update that record."""
    return domain.match_key == (domain.id_field,) and domain.id_field in domain.field_names


def names_parent_by_id(link: ParentLink) -> bool:
    """The link names its parent by the parent's own ID (which exists already), not by a reference."""
    parent = get_domain(link.parent_domain)
    return link.parent_field == parent.id_field and matched_by_id(parent)


def _by_key(keys: list) -> sa.ColumnElement[bool]:
    return _KEYED & Record.key.in_(keys)


class RecordStore:
    """The organisation's stored records (and course sections), as the behaviours look them up."""

    def __init__(self, session: Session, org_id: int) -> None:
        self.session = session
        self.org_id = org_id

    def _lookup(self, columns: tuple, domain: str, values: Iterable,
                condition: Callable[[list], sa.ColumnElement[bool]]) -> Iterator[sa.Result]:
        """`columns` of the `domain` records that meet `condition(chunk)`, one query per chunk of `values`."""
        query = sa.select(*columns).where(Record.org_id == self.org_id, Record.domain == domain)
        ordered = sorted(set(values))
        for i in range(0, len(ordered), _IN_CHUNK):
            yield self.session.execute(query.where(condition(ordered[i:i + _IN_CHUNK])))

    def ids_by_key(self, domain: str, keys: Iterable[str]) -> dict[str, int]:
        """key -> record ID of the records with these keys."""
        return {k: i for found in self._lookup((Record.key, Record.id), domain, keys, _by_key) for k, i in found}

    def data_by_key(self, domain: str, keys: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
        """(key, fields) of every record with one of these keys (several when keys may repeat)."""
        return [(k, d) for found in self._lookup((Record.key, Record.data), domain, keys, _by_key)
                for k, d in found]

    def keys_starting(self, domain: str, prefixes: Iterable[str]) -> list[str]:
        """The keys of the records whose key starts with one of `prefixes`."""
        return [k for found in self._lookup((Record.key,), domain, prefixes, lambda part: _KEYED & sa.or_(
            *[Record.key.startswith(p, autoescape=True) for p in part])) for k in found.scalars()]

    def existing_ids(self, domain: str, ids: Iterable[int]) -> set[int]:
        """Those of `ids` that are records of `domain`."""
        return {i for found in self._lookup((Record.id,), domain, ids, Record.id.in_) for i in found.scalars()}

    def data_by_id(self, domain: str, ids: Iterable[int]) -> dict[int, dict[str, Any] | None]:
        """record ID -> stored fields (None for a record without any)."""
        if self.session.get_bind().dialect.name == "sqlite":
            return self._sqlite_data_by_id(domain, ids)
        # PostgreSQL: the IDs as one array parameter: one query, not one per 900.
        return dict(self.session.execute(sa.text(
            "SELECT id, data FROM records WHERE org_id = :org AND domain = :domain AND id = ANY(CAST(:ids AS BIGINT[]))"
        ).columns(id=sa.BigInteger, data=Record.data.type), {"org": self.org_id, "domain": domain,
                                                            "ids": sorted(set(ids))}).all())

    def _sqlite_data_by_id(self, domain: str, ids: Iterable[int]) -> dict[int, dict[str, Any] | None]:
        """`data_by_id` on SQLite: the IDs as one JSON parameter, the JSON read straight from the driver (an
        update commit reads every record it updates: SQLAlchemy's per-row result processing and the
        expanded IN lists cost more than the query)."""
        self.session.flush()  # the driver's cursor does not autoflush
        cursor = driver_connection(self.session).cursor()
        try:
            found = cursor.execute(
                "SELECT id, data FROM records WHERE org_id = ? AND domain = ? AND id IN (SELECT value FROM "
                "json_each(?))", (self.org_id, domain, json.dumps(sorted(set(ids))))).fetchall()
        finally:
            cursor.close()
        return {i: None if d is None else orjson.loads(d) for i, d in found}


    def parents(self, link: ParentLink, refs: pl.Series) -> pl.Series:
        """Per value of `refs`, the ID of the parent record it names (by the parent's ID or by its match
        key), null when there is none."""
        if names_parent_by_id(link):
            ids = refs.cast(pl.Int64, strict=False)
            known = self.existing_ids(link.parent_domain, ids.drop_nulls().to_list())
            return pl.select(pl.when(ids.is_in(list(known))).then(ids)).to_series()
        found = self.ids_by_key(link.parent_domain, [r for r in refs.to_list() if r])
        return refs.replace_strict(found, default=None, return_dtype=pl.Int64)

    def with_key_part(self, domain: Domain, field: str, value: str) -> list[sa.Row]:
        """(id, parent_id, data) of the records whose match key holds `value` as `field`."""
        position, last = domain.match_key.index(field), len(domain.match_key) - 1
        pattern = ((f"%{KEY_SEP}" if position else "") + _LIKE_SPECIAL.sub(r"/\1", value)
                   + (f"{KEY_SEP}%" if position < last else ""))
        return list(self.session.execute(sa.select(Record.id, Record.parent_id, Record.data).where(
            Record.org_id == self.org_id, Record.domain == domain.name, _KEYED,
            Record.key.like(pattern, escape="/"))).all())

    def users(self, ids: Iterable[int]) -> set[int]:
        """Those of `ids` that are users of the organisation."""
        ordered = sorted(set(ids))
        return {i for start in range(0, len(ordered), _IN_CHUNK) for i in self.session.scalars(
            sa.select(User.id).where(User.org_id == self.org_id, User.id.in_(ordered[start:start + _IN_CHUNK])))}

    def sections(self) -> dict[tuple[str, str], float]:
        """(Course Code, section code) -> the section's fee, for every section of the organisation."""
        return {(c, s): fee for c, s, fee in self.session.execute(
            sa.select(Course.code, Section.code, Section.fee).join(Section, Section.course_id == Course.id)
            .where(Course.org_id == self.org_id)).all()}


@dataclass
class Context:
    """One import as a behaviour sees it: the session, who imports what and how, and their records."""

    session: Session
    org_id: int
    import_id: int
    domain: Domain
    operation: str
    options: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None  # who runs the import
    store: RecordStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = RecordStore(self.session, self.org_id)


def _valid(rows: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """The valid rows' `row` and `columns` (only those: `rows` holds every field of the whole import)."""
    return rows.select("row", *columns).filter(rows["action"].is_in(VALID_ACTIONS))


class RecordBehaviour:
    """Records found by the domain's match key (or by their ID), parents and course sections checked."""

    existing_under_add = "error"  # what a row whose key already exists does under Add: "error" | "update"
    unique_keys = True  # one record per key (cases may repeat an Identifier)

    def __init__(self, domain: Domain):
        self.domain = domain

    # ------------------------------------------------------------ keys
    @property
    def keys(self) -> tuple[str, ...]:
        return self.domain.match_key

    @property
    def id_keyed(self) -> bool:
        return matched_by_id(self.domain)

    @property
    def id_field(self) -> str:
        """The field holding the record ID, of a domain matched by it (`id_keyed`)."""
        if self.domain.id_field is None:
            raise TypeError(f"{self.domain.title} records are not matched by an ID field")
        return self.domain.id_field

    def key_series(self, rows: pl.DataFrame) -> pl.Series:
        """Each row's stored key: its match key values joined by KEY_SEP (null when records have none)."""
        if not self.keys or self.id_keyed:
            return pl.Series("key", [None] * rows.height, pl.String)
        parts = [pl.col(f).cast(pl.String).fill_null("") if f in rows.columns else pl.lit("") for f in self.keys]
        return rows.select(pl.concat_str(parts, separator=KEY_SEP).alias("key"))["key"]

    def existing(self, ctx: Context, keys: list[str]) -> dict[str, int]:
        """key -> record id of the organisation's records with these keys."""
        return ctx.store.ids_by_key(self.domain.name, keys)

    # ---------------------------------------------------------- review
    def review(self, ctx: Context, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
        """Extra issues, the action each valid row will really take (Insert / Update), and the action every
        row would take, valid or not (what a failed row would have done).

        `rows`: the normalized fields + `row` + `action` of the validation report.
        """
        valid = rows["action"].is_in(VALID_ACTIONS)
        issues: list[pl.DataFrame] = []
        if self.id_keyed:
            intents, found = self._review_by_id(ctx, rows, valid)
            issues.append(found)
        elif self.keys:
            intents, found = self._review_by_key(ctx, rows, valid)
            issues.append(found)
        else:
            default = RowAction.UPDATE if ctx.operation == OP_UPDATE else RowAction.INSERT
            intents = pl.select(pl.when(valid).then(rows["action"]).otherwise(pl.lit(default))).to_series()
        intents = intents.alias("intent")
        actions = pl.select(pl.when(valid).then(intents).otherwise(rows["action"])).to_series().alias("action")
        reviewed = rows.with_columns(actions)
        issues += self._check_parents(ctx, reviewed)
        issues += self._check_sections(ctx, reviewed)
        issues += self._check_users(ctx, reviewed)
        extra = self.extra_checks(ctx, reviewed)
        if extra is not None:
            issues.append(extra)
        # `Report.add_issues` turns the rows these issues fail into Error rows.
        return (pl.concat(issues) if issues else pl.DataFrame(schema=ISSUE_SCHEMA)), actions, intents

    def _review_by_id(self, ctx: Context, rows: pl.DataFrame, valid: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
        id_field = self.id_field
        if id_field not in rows.columns:  # no ID column: every valid row is new
            rows = rows.with_columns(pl.lit(None, pl.String).alias(id_field))
        ids = rows[id_field]
        has_id = ids.is_not_null() & (ids.cast(pl.String).str.strip_chars() != "")
        intents = pl.select(pl.when(has_id).then(pl.lit(RowAction.UPDATE)).otherwise(pl.lit(RowAction.INSERT))
                            ).to_series()
        wanted = rows.select("row", id_field).filter(valid & has_id)
        numeric = wanted[id_field].cast(pl.Int64, strict=False)
        known = ctx.store.existing_ids(self.domain.name, numeric.drop_nulls().to_list())
        missing = wanted.filter(~numeric.is_in(list(known)) | numeric.is_null())
        title = self.domain.title
        issues = issues_frame(
            missing["row"].to_list(), [id_field] * missing.height, missing[id_field].to_list(), "not_found",
            [f"{id_field} {v} does not exist in your organisation; correct it, or leave {id_field} blank "
             f"to create a new {title.lower()}" for v in missing[id_field].to_list()])
        return intents, issues

    def _review_by_key(self, ctx: Context, rows: pl.DataFrame, valid: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
        keys = self.key_series(rows)
        found = self.existing(ctx, [k for k in keys.to_list() if k])
        exists = keys.is_in(list(found))
        op = ctx.operation
        if op == ADD and self.existing_under_add == "update":
            wanted = pl.when(exists).then(pl.lit(RowAction.UPDATE)).otherwise(pl.lit(RowAction.INSERT))
        elif op == ADD:
            wanted = pl.lit(RowAction.INSERT)
        elif op == OP_UPDATE:
            wanted = pl.lit(RowAction.UPDATE)
        else:
            wanted = pl.when(exists).then(pl.lit(RowAction.UPDATE)).otherwise(pl.lit(RowAction.INSERT))
        actions = rows.with_columns(wanted.alias("_intent"))["_intent"]  # every row, valid or not
        label = " + ".join(self.keys)
        shown = [" / ".join(p for p in (k or "").split(KEY_SEP)) for k in keys.to_list()]
        title = self.domain.title.lower()

        def flag(mask: pl.Series, code: str, message: str) -> pl.DataFrame:
            """Issues on the key column of the rows in `mask`; `message` is formatted with the key."""
            where = mask.arg_true().to_list()
            return issues_frame(rows["row"].gather(where).to_list(), [self.keys[0]] * len(where),
                                [shown[i] for i in where], code, [message.format(key=shown[i]) for i in where])

        frames = [
            flag(valid & ~exists & (actions == RowAction.UPDATE), "not_found",
                 f"no existing {title} has {label} {{key}}; {self._refusal_hint(ADD, ADD_UPDATE, to='create it')}"),
            flag(valid & exists & (actions == RowAction.INSERT) & (op == ADD), "already_exists",
                 f"a {title} with {label} {{key}} already exists; "
                 f"{self._refusal_hint(OP_UPDATE, ADD_UPDATE, to='change it')}"),
            # The same key twice in one file would write one record twice.
            flag(valid & keys.is_duplicated() & ~keys.is_first_distinct() & keys.is_not_null(), "duplicate_key",
                 f"{label} {{key}} appears on an earlier row of this file; keep one row per record"),
        ]
        return actions, pl.concat(frames)

    def _refusal_hint(self, *operations: str, to: str) -> str:
        """What to do instead, naming only operations the domain offers (seed 004: course records offer
        only Add, and cannot change a record already imported)."""
        offered = [OPERATION_LABELS[o] for o in operations if o in self.domain.operations]
        if offered:
            return f"use {' or '.join(offered)} to {to}"
        only = " and ".join(OPERATION_LABELS[o] for o in self.domain.operations)
        return (f"{self.domain.title} imports offer only {only} and cannot {to}: remove the row, or correct its "
                f"{' + '.join(self.keys)}")

    def _check_parents(self, ctx: Context, rows: pl.DataFrame) -> list[pl.DataFrame]:
        """A parent named by its ID must exist now; one named by a reference may come in a later batch."""
        frames = []
        for link in self.domain.parents:
            if link.field not in rows.columns or not names_parent_by_id(link):
                continue
            valid = _valid(rows, link.field)
            missing = valid.filter(ctx.store.parents(link, valid[link.field]).is_null())
            parent = get_domain(link.parent_domain).title.lower()
            frames.append(issues_frame(
                missing["row"].to_list(), [link.field] * missing.height, missing[link.field].to_list(), "not_found",
                [f"{link.field} {v} does not exist in your organisation; import the {parent} first or correct the ID"
                 for v in missing[link.field].to_list()]))
        return frames

    def _check_sections(self, ctx: Context, rows: pl.DataFrame) -> list[pl.DataFrame]:
        """The course section each row names must exist."""
        link = self.domain.course_link
        if link is None or not {link.course_field, link.section_field} <= set(rows.columns):
            return []
        valid = _valid(rows, link.course_field, link.section_field)
        sections = ctx.store.sections()
        courses = {c for c, _ in sections}
        pairs = zip(valid[link.course_field].to_list(), valid[link.section_field].to_list(), strict=True)
        bad = [(r, c, s) for r, (c, s) in zip(valid["row"].to_list(), pairs, strict=True) if (c, s) not in sections]
        return [issues_frame(
            [r for r, _, _ in bad], [link.course_field if c not in courses else link.section_field for _, c, _ in bad],
            [c if c not in courses else s for _, c, s in bad], "not_found",
            [f"course {c!r} does not exist; search the Course Code in the template step" if c not in courses
             else f"section {s!r} does not exist in course {c!r}" for _, c, s in bad])]

    def _check_users(self, ctx: Context, rows: pl.DataFrame) -> list[pl.DataFrame]:
        """A cell naming a user (`Field.names_user`) must name a user of the organisation; one that should
        name the user running the import and names another gets a warning."""
        fields = [f for f in self.domain.fields if f.names_user and f.name in rows.columns]
        if not fields:
            return []
        valid = _valid(rows, *[f.name for f in fields])
        named = {v for f in fields for v in valid[f.name].drop_nulls().unique().to_list()}
        users = ctx.store.users(i for i in map(user_id_of, named) if i is not None)
        known = {v for v in named if user_id_of(v) in users}
        me = user_ref(ctx.user_id) if ctx.user_id is not None else None
        frames = []
        for f in fields:
            cells = valid.select("row", pl.col(f.name).alias("value")).filter(pl.col("value").is_not_null())
            unknown = cells.filter(~pl.col("value").is_in(list(known)))
            frames.append(issues_frame(
                unknown["row"].to_list(), [f.name] * unknown.height, unknown["value"].to_list(), "unknown_user",
                [f"{f.name} '{v}' is not a user of your organisation; use the User ID on the user's detail page"
                 f"{f' (yours is {me})' if me else ''}" for v in unknown["value"].to_list()]))
            if f.names_user == "importer" and me:
                other = cells.filter(pl.col("value").is_in(list(known)) & (pl.col("value") != me))
                frames.append(issues_frame(
                    other["row"].to_list(), [f.name] * other.height, other["value"].to_list(), "not_the_importer",
                    [f"{f.name} '{v}' is not you: {f.name} is the User ID of the staff user running this import "
                     f"({me}); the case will be recorded as created by {v}" for v in other["value"].to_list()],
                    severity="warning"))
        return frames

    def extra_checks(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame | None:
        """Domain-specific database checks (subclasses)."""
        return None

    # ----------------------------------------------------------- write
    def check_can_start(self, session: Session, org_id: int) -> None:
        """Refuse a new import when the domain's importer cannot take one (subclasses)."""

    def before_commit(self, ctx: Context) -> None:
        """Side effects before the first chunk (subclasses)."""

    def after_commit(self, ctx: Context, status: str) -> None:
        """Side effects once the commit has finished with `status` (subclasses)."""

    def stored_fields(self, rows: pl.DataFrame) -> list[str]:
        """The columns of `rows` a record stores: the domain's fields but its ID, and custom fields."""
        domain = self.domain
        fields = [f for f in domain.field_names if f in rows.columns and f != domain.id_field]
        return fields + [c for c in rows.columns if domain.custom_prefix and c.startswith(domain.custom_prefix)]

    def record_fields(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        """Per row, the fields present in the file, a blank cell null (blank cells never clear a stored value)."""
        return rows.select(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) if rows.schema[c] == pl.String
                           else pl.col(c) for c in self.stored_fields(rows))

    def kept_options(self, ctx: Context) -> dict[str, Any]:
        """Options the results show, kept on every record too (seed 004: which importer wrote it)."""
        return {f"_{o.name}": ctx.options.get(o.name, o.default) for o in self.domain.options if o.in_results}

    def record_json(self, ctx: Context, rows: pl.DataFrame) -> pl.Series:
        """Per row, the JSON text of the record's data (`record_data`), built over whole columns."""
        return json_objects(self.record_fields(ctx, rows), self.kept_options(ctx))

    def record_data(self, ctx: Context, rows: pl.DataFrame) -> list[dict[str, Any]]:
        """Per row, the record's data: the fields with a value (`record_fields`), then the kept options."""
        kept = self.kept_options(ctx)
        return [{**{k: v for k, v in d.items() if v is not None}, **kept}
                for d in self.record_fields(ctx, rows).to_dicts()]

    def parents(self, ctx: Context, rows: pl.DataFrame) -> tuple[pl.Series, pl.Series, pl.Series]:
        """Per row, the parent record ID and, when a named parent is missing, why the row fails and the link
        field that names the parent (seed 003: the errors file's Field)."""
        parent_ids = pl.repeat(None, rows.height, dtype=pl.Int64, eager=True).alias("_parent")
        problems = pl.repeat(None, rows.height, dtype=pl.String, eager=True).alias("_problem")
        fields = pl.repeat(None, rows.height, dtype=pl.String, eager=True).alias("_field")
        for link in self.domain.parents:
            if link.field not in rows.columns:
                continue
            refs = rows[link.field]
            if names_parent_by_id(link):
                # Checked at review (`_check_parents`) and records are never deleted: the ID is the parent's.
                found = refs.cast(pl.Int64, strict=False)
            else:
                found = ctx.store.parents(link, refs)
                missing = (refs.is_not_null() & (refs != "") & found.is_null()).arg_true()
                parent = get_domain(link.parent_domain).title.lower()
                problems = problems.scatter(missing, [
                    f"parent {parent} with {link.parent_field} {ref!r} is not imported (it failed or has not been "
                    f"sent); fix the parent first, then retry" for ref in refs.gather(missing).to_list()])
                fields = fields.scatter(missing, link.field)
            parent_ids = pl.select(pl.coalesce(found, parent_ids)).to_series().alias("_parent")
        return parent_ids, problems, fields

    def write(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        """Write a chunk of valid rows; one outcome per row."""
        rows = self.recheck(ctx, rows.with_columns(*self.parents(ctx, rows)))
        results = []
        bad = rows.filter(pl.col("_problem").is_not_null())
        if bad.height:
            results.append(outcomes(bad["row"].to_list(), RowStatus.FAILED, bad["action"].to_list(),
                                    message=bad["_problem"].to_list(), field=bad["_field"].to_list()))
        good = rows.filter(pl.col("_problem").is_null())
        inserts = good.filter(pl.col("action") == RowAction.INSERT)
        if inserts.height:
            results.append(self.insert(ctx, inserts, inserts["_parent"]))
        updates = good.filter(pl.col("action") == RowAction.UPDATE)
        if updates.height:
            results.append(self.update(ctx, updates))
        return pl.concat(results) if results else pl.DataFrame(schema=OUTCOME_SCHEMA)

    def recheck(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        """Rows to insert whose key was written since validation (another import): Add & Update updates
        them, Add fails them, so no record is ever written twice."""
        if not self.unique_keys or not self.keys or self.id_keyed:
            return rows
        keys = self.key_series(rows)
        inserting = rows["action"] == RowAction.INSERT
        found = self.existing(ctx, [k for k, i in zip(keys.to_list(), inserting.to_list(), strict=True)
                                    if i and k])
        if not found:
            return rows
        clash = inserting & keys.is_in(list(found))
        if ctx.operation == ADD_UPDATE:
            return rows.with_columns(pl.when(clash).then(pl.lit(RowAction.UPDATE)).otherwise(pl.col("action")).alias("action"))
        label = " + ".join(self.keys)
        return rows.with_columns(
            pl.when(clash).then(pl.lit(f"a {self.domain.title.lower()} with this {label} was imported after this "
                                       f"file was validated; it is not added twice"))
            .otherwise(pl.col("_problem")).alias("_problem"),
            pl.when(clash).then(pl.lit(self.keys[0])).otherwise(pl.col("_field")).alias("_field"))

    def insert(self, ctx: Context, rows: pl.DataFrame, parent_ids: pl.Series) -> pl.DataFrame:
        table = Record.__table__
        ids = allocate_ids(ctx.session, table, rows.height)
        records = pl.DataFrame([ids, self.key_series(rows).alias("key"), parent_ids.alias("parent_id"),
                                self.record_json(ctx, rows)])
        insert_frame(ctx.session, table, records.with_columns(
            org_id=pl.lit(ctx.org_id, pl.Int64), domain=pl.lit(self.domain.name),
            import_id=pl.lit(ctx.import_id, pl.Int64), created_at=pl.lit(utcnow(), pl.Datetime("us"))))
        return outcomes(rows["row"], RowStatus.SUCCESS, RowAction.INSERT, ids)

    def update(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        if self.id_keyed:
            targets = rows[self.id_field].cast(pl.Int64, strict=False).to_list()
        else:
            keys = self.key_series(rows).to_list()
            found = self.existing(ctx, keys)
            targets = [found.get(k) for k in keys]
        stored = ctx.store.data_by_id(self.domain.name, [t for t in targets if t is not None])
        now = utcnow()
        changes, done_rows, done_ids, failed_rows = [], [], [], []
        for row, target, data in zip(rows["row"].to_list(), targets, self.record_data(ctx, rows), strict=True):
            if target is None or target not in stored:
                failed_rows.append(row)
                continue
            changes.append((target, {**(stored[target] or {}), **data}))
            done_rows.append(row)
            done_ids.append(target)
        if changes:
            log_updates(ctx.session, ctx.import_id, ctx.org_id, done_ids, now)  # what undo puts back
            update_records(ctx.session, Record.__table__, changes, now)
        result = [outcomes(done_rows, RowStatus.SUCCESS, RowAction.UPDATE, done_ids)]
        if failed_rows:
            result.append(outcomes(failed_rows, RowStatus.FAILED, RowAction.UPDATE,
                                   message=f"the {self.domain.title.lower()} to update no longer exists"))
        return pl.concat(result)

