"""What each domain does on the server beyond its spec: the plug-in point of the life cycle.

The life cycle (`lifecycle.py`, `committer.py`) never names a domain. It asks
the domain's `Behaviour` three things:

- `review(ctx, rows)`: the authoritative checks that need the database (does
  this Client ID exist? is this assignment new?) as extra issues, and the
  action (Insert / Update) each valid row will really take;
- `write(ctx, rows)`: write a chunk of valid rows and say, per row, what
  happened (Success / Failed, the record ID, an invoice ID);
- `before_commit` / `after_commit`: side effects around a commit (the course
  record importer lock of seed 004).

`RecordBehaviour` covers every domain generically from its spec (match key,
ID field, parent links); subclasses add what a seed says on top. A new
domain is a spec plus, only if it needs one, a subclass registered in
`BEHAVIOURS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.engine.report import ISSUE_SCHEMA
from bulkassist.errors import Locked
from bulkassist.server.bulk import allocate_ids, insert_rows
from bulkassist.server.models import Course, DomainLock, Invoice, Record, Section, utcnow
from bulkassist.spec import ADD, ADD_UPDATE, Domain
from bulkassist.spec import UPDATE as OP_UPDATE
from bulkassist.status import VALID_ACTIONS, ImportStatus, RowAction, RowStatus

OUTCOME_SCHEMA = {"row": pl.Int64, "status": pl.String, "action": pl.String, "record_id": pl.Int64,
                  "invoice_id": pl.Int64, "message": pl.String}
_KEY_SEP = "\x1f"
_RECORD_COLUMNS = ("id", "org_id", "domain", "key", "parent_id", "import_id", "data", "created_at")
_IN_CHUNK = 900  # ids per IN (...) query: under SQLite's variable limit


@dataclass
class Ctx:
    """What a behaviour may use: the session, who imports, and how."""

    session: Session
    org_id: int
    import_id: int
    domain: Domain
    operation: str
    options: dict[str, Any] = field(default_factory=dict)


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


def outcomes(rows: list[int], status: str, action: list[str | None] | str | None = None,
             record_ids: list[int | None] | None = None, message: list[str] | str = "",
             invoice_ids: list[int | None] | None = None) -> pl.DataFrame:
    n = len(rows)
    return pl.DataFrame({
        "row": rows,
        "status": [status] * n,
        "action": action if isinstance(action, list) else [action] * n,
        "record_id": record_ids if record_ids is not None else [None] * n,
        "invoice_id": invoice_ids if invoice_ids is not None else [None] * n,
        "message": message if isinstance(message, list) else [message] * n,
    }, schema=OUTCOME_SCHEMA)


def _chunks(items: list, size: int = _IN_CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class RecordBehaviour:
    """Generic: records found by the domain's match key (or by their ID), parents resolved at commit."""

    key_fields: tuple[str, ...] | None = None  # default: the domain's match key
    existing_under_add = "error"  # what a row whose key already exists does under Add: "error" | "update"
    unique_keys = True  # one record per key (cases may repeat an Identifier)

    def __init__(self, domain: Domain):
        self.domain = domain

    # ------------------------------------------------------------ keys
    @property
    def keys(self) -> tuple[str, ...]:
        return self.key_fields if self.key_fields is not None else self.domain.match_key

    @property
    def id_keyed(self) -> bool:
        """The match key is the record's own ID (Client ID): present means update that record."""
        return self.keys == (self.domain.id_field,) and self.domain.id_field in self.domain.field_names

    def key_series(self, rows: pl.DataFrame) -> pl.Series:
        if not self.keys or self.id_keyed:
            return pl.Series("key", [None] * rows.height, pl.String)
        parts = [pl.col(f).cast(pl.String).fill_null("") if f in rows.columns else pl.lit("") for f in self.keys]
        return rows.select(pl.concat_str(parts, separator=_KEY_SEP).alias("key"))["key"]

    def existing(self, ctx: Ctx, keys: list[str]) -> dict[str, int]:
        """key -> record id of the organisation's records with these keys."""
        found: dict[str, int] = {}
        for part in _chunks(sorted(set(keys))):
            found.update(ctx.session.execute(
                sa.select(Record.key, Record.id).where(
                    Record.org_id == ctx.org_id, Record.domain == self.domain.name, Record.key.in_(part))
            ).all())
        return found

    def existing_ids(self, ctx: Ctx, ids: list[int], domain: str | None = None) -> set[int]:
        found: set[int] = set()
        for part in _chunks(sorted(set(ids))):
            found.update(ctx.session.scalars(
                sa.select(Record.id).where(Record.org_id == ctx.org_id, Record.domain == (domain or self.domain.name),
                                           Record.id.in_(part))).all())
        return found

    # ---------------------------------------------------------- review
    def review(self, ctx: Ctx, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
        """Extra issues and the action each valid row will really take (Insert / Update).

        `rows`: the normalized fields + `row` + `action` of the validation report.
        """
        actions = rows["action"]
        valid = actions.is_in(VALID_ACTIONS)
        issues: list[pl.DataFrame] = []
        if self.id_keyed:
            actions, found = self._review_by_id(ctx, rows, valid)
            issues.append(found)
        elif self.keys:
            actions, found = self._review_by_key(ctx, rows, valid)
            issues.append(found)
        extra = self.extra_checks(ctx, rows.with_columns(actions.alias("action")))
        if extra is not None:
            issues.append(extra)
        # `Report.add_issues` turns the rows these issues fail into Error rows.
        return (pl.concat(issues) if issues else pl.DataFrame(schema=ISSUE_SCHEMA)), actions

    def _review_by_id(self, ctx: Ctx, rows: pl.DataFrame, valid: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
        id_field = self.domain.id_field
        if id_field not in rows.columns:  # no ID column: every valid row is new
            rows = rows.with_columns(pl.lit(None, pl.String).alias(id_field))
        ids = rows[id_field]
        has_id = ids.is_not_null() & (ids.cast(pl.String).str.strip_chars() != "")
        actions = pl.select(
            pl.when(~valid).then(rows["action"]).when(has_id).then(pl.lit(RowAction.UPDATE)).otherwise(pl.lit(RowAction.INSERT))
        ).to_series().alias("action")
        wanted = rows.filter(valid & has_id)
        numeric = wanted[id_field].cast(pl.Int64, strict=False)
        known = self.existing_ids(ctx, [int(i) for i in numeric.drop_nulls().to_list()])
        missing = wanted.filter(~numeric.is_in(list(known)) | numeric.is_null())
        title = self.domain.title
        issues = issues_frame(
            missing["row"].to_list(), [id_field] * missing.height, missing[id_field].to_list(), "not_found",
            [f"{id_field} {v} does not exist in your organisation; correct it, or leave {id_field} blank "
             f"to create a new {title.lower()}" for v in missing[id_field].to_list()])
        return actions, issues

    def _review_by_key(self, ctx: Ctx, rows: pl.DataFrame, valid: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
        keys = self.key_series(rows)
        found = self.existing(ctx, [k for k, v in zip(keys.to_list(), valid.to_list(), strict=True) if v and k])
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
        actions = pl.select(pl.when(~valid).then(rows["action"]).otherwise(wanted)).to_series().alias("action")
        label = " + ".join(self.keys)
        shown = [" / ".join(p for p in (k or "").split(_KEY_SEP)) for k in keys.to_list()]
        title = self.domain.title.lower()

        def flag(mask: pl.Series, code: str, message: str) -> pl.DataFrame:
            """Issues on the key column of the rows in `mask`; `message` is formatted with the key."""
            where = mask.arg_true().to_list()
            return issues_frame(rows["row"].gather(where).to_list(), [self.keys[0]] * len(where),
                                [shown[i] for i in where], code, [message.format(key=shown[i]) for i in where])

        frames = [
            flag(valid & ~exists & (actions == RowAction.UPDATE), "not_found",
                 f"no existing {title} has {label} {{key}}; use Add or Add & Update to create it"),
            flag(valid & exists & (actions == RowAction.INSERT) & (op == ADD), "already_exists",
                 f"a {title} with {label} {{key}} already exists; use Update or Add & Update to change it"),
            # The same key twice in one file would write one record twice.
            flag(valid & keys.is_duplicated() & ~keys.is_first_distinct() & keys.is_not_null(), "duplicate_key",
                 f"{label} {{key}} appears on an earlier row of this file; keep one row per record"),
        ]
        return actions, pl.concat(frames)

    def extra_checks(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame | None:
        """Domain-specific database checks (subclasses)."""
        return None

    # ----------------------------------------------------------- write
    def check_can_start(self, session: Session, org_id: int) -> None:
        """Refuse a new import when the domain's importer cannot take one (subclasses)."""

    def before_commit(self, ctx: Ctx) -> None:
        """Side effects before the first chunk (subclasses)."""

    def after_commit(self, ctx: Ctx, status: str) -> None:
        """Side effects once the commit has finished with `status` (subclasses)."""

    def record_data(self, ctx: Ctx, rows: pl.DataFrame) -> list[dict[str, Any]]:
        """Per row, the fields present in the file with a value (blank cells never clear a stored value)."""
        fields = [f for f in self.domain.field_names if f in rows.columns and f != self.domain.id_field]
        extra = [c for c in rows.columns if self.domain.custom_prefix and c.startswith(self.domain.custom_prefix)]
        data = rows.select(fields + extra).to_dicts()
        return [{k: v for k, v in d.items() if v is not None and v != ""} for d in data]

    def parents(self, ctx: Ctx, rows: pl.DataFrame) -> tuple[list[int | None], list[str | None]]:
        """Per row, the parent record ID and, when a named parent is missing, why the row fails."""
        parent_ids: list[int | None] = [None] * rows.height
        errors: list[str | None] = [None] * rows.height
        for link in self.domain.parents:
            if link.field not in rows.columns:
                continue
            refs = rows[link.field].to_list()
            found = {}
            for part in _chunks(sorted({r for r in refs if r})):
                found.update(ctx.session.execute(sa.select(Record.key, Record.id).where(
                    Record.org_id == ctx.org_id, Record.domain == link.parent_domain, Record.key.in_(part))).all())
            for i, ref in enumerate(refs):
                if not ref:
                    continue
                if ref in found:
                    parent_ids[i] = found[ref]
                else:
                    errors[i] = (f"parent {link.parent_domain.replace('_', ' ')} with {link.parent_field} {ref!r} "
                                 f"is not imported (it failed or has not been sent); fix the parent first, then "
                                 f"retry")
        return parent_ids, errors

    def write(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame:
        """Write a chunk of valid rows; one outcome per row."""
        parent_ids, problems = self.parents(ctx, rows)
        rows = self.recheck(ctx, rows.with_columns(pl.Series("_parent", parent_ids, pl.Int64),
                                                   pl.Series("_problem", problems, pl.String)))
        results = []
        bad = rows.filter(pl.col("_problem").is_not_null())
        if bad.height:
            results.append(outcomes(bad["row"].to_list(), RowStatus.FAILED, bad["action"].to_list(),
                                    message=bad["_problem"].to_list()))
        good = rows.filter(pl.col("_problem").is_null())
        inserts = good.filter(pl.col("action") == RowAction.INSERT)
        if inserts.height:
            results.append(self.insert(ctx, inserts, inserts["_parent"].to_list()))
        updates = good.filter(pl.col("action") == RowAction.UPDATE)
        if updates.height:
            results.append(self.update(ctx, updates))
        return pl.concat(results) if results else pl.DataFrame(schema=OUTCOME_SCHEMA)

    def recheck(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame:
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
            .otherwise(pl.col("_problem")).alias("_problem"))

    def insert(self, ctx: Ctx, rows: pl.DataFrame, parent_ids: list[int | None]) -> pl.DataFrame:
        table = Record.__table__
        ids = allocate_ids(ctx.session, table, rows.height)
        now = utcnow()
        insert_rows(ctx.session, table, _RECORD_COLUMNS, [
            (i, ctx.org_id, self.domain.name, k, p, ctx.import_id, d, now)
            for i, k, p, d in zip(ids, self.key_series(rows).to_list(), parent_ids, self.record_data(ctx, rows),
                                  strict=True)
        ])
        return outcomes(rows["row"].to_list(), RowStatus.SUCCESS, RowAction.INSERT, ids)

    def update(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame:
        if self.id_keyed:
            ids = rows[self.domain.id_field].cast(pl.Int64, strict=False).to_list()
            stored = {}
            for part in _chunks([i for i in ids if i is not None]):
                stored.update(ctx.session.execute(sa.select(Record.id, Record.data).where(
                    Record.org_id == ctx.org_id, Record.domain == self.domain.name, Record.id.in_(part))).all())
            targets = ids
        else:
            keys = self.key_series(rows).to_list()
            found = self.existing(ctx, keys)
            targets = [found.get(k) for k in keys]
            stored = {}
            for part in _chunks([t for t in targets if t is not None]):
                stored.update(ctx.session.execute(
                    sa.select(Record.id, Record.data).where(Record.id.in_(part))).all())
        now = utcnow()
        changes, done_rows, done_ids, failed_rows = [], [], [], []
        for row, target, data in zip(rows["row"].to_list(), targets, self.record_data(ctx, rows), strict=True):
            if target is None or target not in stored:
                failed_rows.append(row)
                continue
            changes.append({"id": target, "data": {**(stored[target] or {}), **data}, "updated_at": now})
            done_rows.append(row)
            done_ids.append(target)
        if changes:
            ctx.session.execute(sa.update(Record), changes)
        result = [outcomes(done_rows, RowStatus.SUCCESS, RowAction.UPDATE, done_ids)]
        if failed_rows:
            result.append(outcomes(failed_rows, RowStatus.FAILED, RowAction.UPDATE,
                                   message=f"the {self.domain.title.lower()} to update no longer exists"))
        return pl.concat(result)


class ClientAssignmentBehaviour(RecordBehaviour):
    """Seed 000: matched on Client ID + CourseID + SectionID; the client, course and section must exist;
    Auto Create Invoices invoices each inserted assignment, never an updated one."""

    def extra_checks(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame | None:
        if not set(self.domain.match_key) <= set(rows.columns):
            return None  # a key column is missing: the validator already failed every row
        valid = rows.filter(pl.col("action").is_in(VALID_ACTIONS))
        frames = []
        ids = valid["Client ID"].cast(pl.Int64, strict=False)
        known = self.existing_ids(ctx, [int(i) for i in ids.drop_nulls().to_list()], domain="client")
        missing = valid.filter(~ids.is_in(list(known)) | ids.is_null())
        frames.append(issues_frame(
            missing["row"].to_list(), ["Client ID"] * missing.height, missing["Client ID"].to_list(), "not_found",
            [f"Client ID {v} does not exist in your organisation; import the client first or correct the ID"
             for v in missing["Client ID"].to_list()]))
        sections = {(c, s) for c, s in ctx.session.execute(
            sa.select(Course.code, Section.code).join(Section, Section.course_id == Course.id)
            .where(Course.org_id == ctx.org_id)).all()}
        courses = {c for c, _ in sections}
        pairs = list(zip(valid["CourseID"].to_list(), valid["SectionID"].to_list(), strict=True))
        bad = [(r, c, s) for r, (c, s) in zip(valid["row"].to_list(), pairs, strict=True) if (c, s) not in sections]
        frames.append(issues_frame(
            [r for r, _, _ in bad], ["CourseID" if c not in courses else "SectionID" for _, c, _ in bad],
            [c if c not in courses else s for _, c, s in bad], "not_found",
            [f"course {c!r} does not exist; search the Course Code in the template step" if c not in courses
             else f"section {s!r} does not exist in course {c!r}" for _, c, s in bad]))
        return pl.concat(frames)

    def insert(self, ctx: Ctx, rows: pl.DataFrame, parent_ids: list[int | None]) -> pl.DataFrame:
        client_ids = rows["Client ID"].cast(pl.Int64, strict=False).to_list()
        result = super().insert(ctx, rows, client_ids)
        if not ctx.options.get("auto_create_invoices") or ctx.operation == OP_UPDATE:
            return result
        fees = dict(ctx.session.execute(
            sa.select(Course.code + _KEY_SEP + Section.code, Section.fee)
            .join(Section, Section.course_id == Course.id).where(Course.org_id == ctx.org_id)).all())
        keys = (rows["CourseID"] + _KEY_SEP + rows["SectionID"]).to_list()
        table = Invoice.__table__
        invoice_ids = allocate_ids(ctx.session, table, result.height)
        now = utcnow()
        insert_rows(ctx.session, table, ("id", "org_id", "record_id", "import_id", "amount", "created_at"), [
            (i, ctx.org_id, rid, ctx.import_id, fees.get(k, 0.0), now)
            for i, rid, k in zip(invoice_ids, result["record_id"].to_list(), keys, strict=True)])
        return result.with_columns(pl.Series("invoice_id", list(invoice_ids), pl.Int64))


class CaseBehaviour(RecordBehaviour):
    """Seed 001: cases are created; the Duplicate Case Action decides what an existing Identifier does."""

    unique_keys = False

    def _review_by_key(self, ctx: Ctx, rows: pl.DataFrame, valid: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
        action = ctx.options.get("duplicate_action", "create")
        keys = self.key_series(rows)
        has_key = keys.is_not_null() & (keys != "")
        if action != "skip":
            return rows["action"], pl.DataFrame(schema=ISSUE_SCHEMA)
        found = self.existing(ctx, keys.filter(valid & has_key).to_list())
        dup = valid & has_key & (keys.is_in(list(found)) | (keys.is_duplicated() & ~keys.is_first_distinct()))
        actions = pl.select(pl.when(dup).then(pl.lit(RowAction.SKIP)).otherwise(rows["action"])).to_series()
        sel = rows.filter(dup)
        return actions.alias("action"), issues_frame(
            sel["row"].to_list(), ["Identifier"] * sel.height, sel["Identifier"].to_list(), "duplicate_skipped",
            ["a case with this Identifier already exists; skipped (Duplicate Case Action: Skip/Do not create)"]
            * sel.height, severity="warning")

    def record_data(self, ctx: Ctx, rows: pl.DataFrame) -> list[dict[str, Any]]:
        data = super().record_data(ctx, rows)
        if ctx.options.get("duplicate_action") == "create_increment" and "Identifier" in rows.columns:
            counts: dict[str, int] = {}
            for d in data:
                ident = d.get("Identifier")
                if not ident:
                    continue
                base = self._periods.get(ident, 0) + counts.get(ident, 0)
                counts[ident] = counts.get(ident, 0) + 1
                d["TreatmentPeriod"] = str(base + 1)
        if ctx.options.get("run_workflow"):
            for d in data:
                d["_workflow"] = "case_created"
        return data

    def insert(self, ctx: Ctx, rows: pl.DataFrame, parent_ids: list[int | None]) -> pl.DataFrame:
        self._periods = {}
        if ctx.options.get("duplicate_action") == "create_increment":
            keys = self.key_series(rows).to_list()
            for part in _chunks(sorted({k for k in keys if k})):
                for key, data in ctx.session.execute(sa.select(Record.key, Record.data).where(
                        Record.org_id == ctx.org_id, Record.domain == self.domain.name, Record.key.in_(part))):
                    period = int((data or {}).get("TreatmentPeriod") or 1)
                    self._periods[key] = max(self._periods.get(key, 0), period)
        return super().insert(ctx, rows, parent_ids)

    _periods: dict[str, int] = {}  # Identifier -> highest stored TreatmentPeriod, for this chunk


class QualificationBehaviour(RecordBehaviour):
    """Seed 002: records are keyed ULN + Qualification Number + Registration number.

    A row with a Registration number updates the record with that number or, failing that, the record
    of the same ULN + Qualification Number that has no number yet (which then takes it); a row without
    one matches only that unregistered record. A number, once given, cannot be removed by import
    (blank cells never clear a value).
    """

    def existing(self, ctx: Ctx, keys: list[str]) -> dict[str, int]:
        found = super().existing(ctx, keys)
        first_time = {k: _unregistered(k) for k in keys if k and k not in found and _registration(k)}
        if first_time:
            unregistered = super().existing(ctx, list(first_time.values()))
            found.update({k: unregistered[u] for k, u in first_time.items() if u in unregistered})
        return found

    def update(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame:
        keys = self.key_series(rows).to_list()
        targets = self.existing(ctx, keys)
        result = super().update(ctx, rows)
        # A record that received its first Registration number is found by it from now on.
        rekey = [{"id": targets[k], "key": k} for k in keys if k in targets and _registration(k)]
        if rekey:
            ctx.session.execute(sa.update(Record), rekey)
        return result

    def extra_checks(self, ctx: Ctx, rows: pl.DataFrame) -> pl.DataFrame | None:
        """A row without a Registration number whose learner + qualification is already registered creates
        a second record: say so, since the person almost certainly meant to update the first."""
        keys = self.key_series(rows)
        new = rows.with_columns(keys.alias("_key")).filter((pl.col("action") == RowAction.INSERT) & (pl.col("_key") != "")
                                                            & pl.col("_key").str.ends_with(_KEY_SEP))
        if not new.height:
            return None
        registered: dict[str, str] = {}
        for part in _chunks(sorted(set(new["_key"].to_list()))):
            for key in ctx.session.scalars(sa.select(Record.key).where(
                    Record.org_id == ctx.org_id, Record.domain == self.domain.name,
                    sa.or_(*[Record.key.startswith(k, autoescape=True) for k in part]))):
                if _registration(key):
                    registered.setdefault(_unregistered(key), _registration(key))
        hits = new.filter(pl.col("_key").is_in(list(registered)))
        return issues_frame(
            hits["row"].to_list(), ["Registration number"] * hits.height, [None] * hits.height,
            "registered_elsewhere",
            [f"this ULN and Qualification Number already have a record with Registration number "
             f"{registered[k]}; without it this row creates a second record. Add the Registration number to "
             f"update that record" for k in hits["_key"].to_list()], severity="warning")


def _registration(key: str) -> str:
    return key.rsplit(_KEY_SEP, 1)[-1]


def _unregistered(key: str) -> str:
    return key.rsplit(_KEY_SEP, 1)[0] + _KEY_SEP


class CourseRecordBehaviour(RecordBehaviour):
    """Seed 004: one import at a time; an import that fails leaves the importer locked until a site admin
    unlocks it (`POST /api/v1/admin/locks/course_record/unlock`). Records are never updated."""

    def check_can_start(self, session: Session, org_id: int) -> None:
        lock = session.get(DomainLock, (org_id, self.domain.name))
        if lock is not None:
            raise Locked(locked_message(lock))

    def before_commit(self, ctx: Ctx) -> None:
        lock = ctx.session.get(DomainLock, (ctx.org_id, self.domain.name))
        if lock is not None and lock.import_id != ctx.import_id:
            raise Locked(locked_message(lock))
        if lock is None:
            ctx.session.add(DomainLock(org_id=ctx.org_id, domain=self.domain.name, import_id=ctx.import_id,
                                       reason="import in progress"))

    def after_commit(self, ctx: Ctx, status: str) -> None:
        lock = ctx.session.get(DomainLock, (ctx.org_id, self.domain.name))
        if lock is None or lock.import_id != ctx.import_id:
            return
        if status == ImportStatus.COMMITTED:
            ctx.session.delete(lock)
        else:
            lock.reason = (f"import {ctx.import_id} ended {status}; review the file for special characters and "
                           f"spaces in the headers, then ask a site admin to unlock the importer")


def locked_message(lock: DomainLock) -> str:
    return (f"the {lock.domain.replace('_', ' ')} importer is locked by import {lock.import_id} "
            f"({lock.reason}); a site admin must unlock it (Admin → Unlock) before you can import again")


BEHAVIOURS: dict[str, type[RecordBehaviour]] = {
    "client_assignment": ClientAssignmentBehaviour,
    "case": CaseBehaviour,
    "qualification": QualificationBehaviour,
    "course_record": CourseRecordBehaviour,
}


def behaviour_for(domain: Domain) -> RecordBehaviour:
    return BEHAVIOURS.get(domain.name, RecordBehaviour)(domain)
