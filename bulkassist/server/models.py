"""The server's tables (SQLAlchemy 2). Alembic migrations in `migrations/` create them.

Three groups: who may do what (organisations, users, tokens, permission
groups, usage), the import jobs (imports, batches, stored reports, per-row
outcomes), and the records the imports write (records, courses, sections,
invoices) — the stand-in for the system of record behind the seeds.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bulkassist.server.jsontext import JSONText
from bulkassist.status import ImportStatus


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    # Every model here is a plain table (no joined or aliased mapping), so its `__table__` is a `Table`
    # with a name and columns, as the bulk writers (`bulk.insert_rows`) need.
    __table__: ClassVar[sa.Table]


# ------------------------------------------------------------------ access
class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    licensed: Mapped[bool] = mapped_column(default=True)  # the Bulk Data Import licence
    limit_day: Mapped[int | None] = mapped_column(default=None)
    limit_week: Mapped[int | None] = mapped_column(default=None)
    limit_month: Mapped[int | None] = mapped_column(default=None)
    # How long after its commit an import can be undone (the organisation's choice, set by its admin).
    undo_retention_days: Mapped[int] = mapped_column(default=30, server_default="30")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgDomain(Base):
    """A domain switched on or off for one organisation (overrides the spec's default)."""

    __tablename__ = "org_domains"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)


USER_REF_PREFIX = "user_"


def user_ref(user_id: int) -> str:
    """The User ID a file names a user by (seed 001: ProviderUserID, CreatedByID), shown by /me and the
    admin user list."""
    return f"{USER_REF_PREFIX}{user_id}"


def user_id_of(ref: str | None) -> int | None:
    """The user a User ID names (None when it names none)."""
    digits = (ref or "")[len(USER_REF_PREFIX):]
    return int(digits) if (ref or "").startswith(USER_REF_PREFIX) and digits.isdigit() and len(digits) < 12 else None


class User(Base):
    """A user of one organisation. Names are unique within the organisation only (another organisation's
    user names are none of its business); the API token, not the name, identifies a user."""

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("org_id", "name", name="uq_users_org_id_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # argon2id (salt and cost inside the string); None: the user signs in with an API token only.
    password_hash: Mapped[str | None] = mapped_column(sa.String(200), default=None)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="token")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInSession(Base):
    """A browser's sign-in: like an API token only its SHA-256 is stored, but it ends at `expires_at` or when
    revoked (sign-out, a new password)."""

    __tablename__ = "sign_in_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInFailure(Base):
    """Failed sign-ins per user name (whether or not a user has it) since `first_at`: the limit on guessing."""

    __tablename__ = "sign_in_failures"
    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)


class PermissionGroup(Base):
    """Grants, per domain ("*" = all), three separate permissions (seed 002's roles), and/or administration
    of the organisation: import (Bulk Upload), see the domain's screen and records (Manage Registration &
    Certification) and export them (Data Export). Administrators have all three on every domain."""

    __tablename__ = "permission_groups"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    import_domains: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    record_domains: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    export_domains: Mapped[list[str]] = mapped_column(sa.JSON, default=list)


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("permission_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class SelectValue(Base):
    """One option of an organisation's select list."""

    __tablename__ = "select_values"
    __table_args__ = (sa.Index("ix_select_values_org_list", "org_id", "list_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    list_name: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)
    value: Mapped[str] = mapped_column(sa.String(400))
    label: Mapped[str] = mapped_column(sa.String(400))


class SelectList(Base):
    """One select list of an organisation: its version changes whenever its values are replaced.

    The version is random (not a counter), so a list deleted and made again, or an organisation's id
    reused, never matches a version cached for an older list (the suggest endpoint's index)."""

    __tablename__ = "select_lists"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    list_name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(32))


class UsageEvent(Base):
    """Rows committed for an organisation; written in the same transaction as the rows."""

    __tablename__ = "usage_events"
    __table_args__ = (sa.Index("ix_usage_org_at", "org_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(default=None)
    rows: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DomainLock(Base):
    """An importer lock (course records, seed 004): held while importing, kept when an import fails."""

    __tablename__ = "domain_locks"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    import_id: Mapped[int | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)


# ----------------------------------------------------------------- imports
class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (
        sa.Index("ix_imports_org_created", "org_id", "created_at"),
        sa.Index("ix_imports_status", "status"),
        sa.UniqueConstraint("org_id", "create_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    domain: Mapped[str] = mapped_column(sa.String(64))
    operation: Mapped[str] = mapped_column(sa.String(16))
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    file_name: Mapped[str] = mapped_column(sa.String(400), default="")
    sheet: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    status: Mapped[str] = mapped_column(sa.String(32), default=ImportStatus.CREATED)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    headers: Mapped[list[str] | None] = mapped_column(sa.JSON, default=None)
    create_key: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    commit_key: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    total: Mapped[int] = mapped_column(default=0)
    valid: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    to_insert: Mapped[int] = mapped_column(default=0)
    to_update: Mapped[int] = mapped_column(default=0)
    no_change: Mapped[int] = mapped_column(default=0)  # Update rows that would change nothing (not written)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    retry_only_failed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The column mapping chosen for this import ({header: target or "-"}), the saved mapping it came from,
    # and the headers still unmapped after the last validation (they block the commit).
    mapping: Mapped[dict[str, str] | None] = mapped_column(sa.JSON, default=None)
    mapping_id: Mapped[int | None] = mapped_column(default=None)
    unmapped: Mapped[list[str] | None] = mapped_column(sa.JSON, default=None)
    # The undo (`undo.py`): its options, progress over the changed records, and what it did.
    undo_force: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    undo_done: Mapped[int] = mapped_column(default=0, server_default="0")
    undo_total: Mapped[int] = mapped_column(default=0, server_default="0")
    removed: Mapped[int] = mapped_column(default=0, server_default="0")
    restored: Mapped[int] = mapped_column(default=0, server_default="0")
    conflicts: Mapped[int] = mapped_column(default=0, server_default="0")
    reverted_at: Mapped[datetime | None] = mapped_column(default=None)


class SavedMapping(Base):
    """A column mapping an organisation saved for a domain; applied to the next file with the same headers
    (in any order: `headers_key` is the hash of the sorted headers)."""

    __tablename__ = "mappings"
    __table_args__ = (sa.UniqueConstraint("org_id", "domain", "name", name="uq_mappings_name"),
                      sa.UniqueConstraint("org_id", "domain", "headers_key", name="uq_mappings_headers"))
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    headers_key: Mapped[str] = mapped_column(sa.String(64))
    headers: Mapped[list[str]] = mapped_column(sa.JSON)
    columns: Mapped[dict[str, str]] = mapped_column(sa.JSON)  # header -> target or "-"
    user_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RememberedValue(Base):
    """A value fix an organisation remembered for a field ("Asain" -> "Asian"): applied to later files as a
    listed, safe fix."""

    __tablename__ = "remembered_values"
    __table_args__ = (sa.Index("ix_remembered_values_org_domain", "org_id", "domain"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(sa.String(64))
    field: Mapped[str] = mapped_column(sa.String(200))
    value: Mapped[str] = mapped_column(sa.Text)
    new_value: Mapped[str] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportBatch(Base):
    """Rows as uploaded; (import, batch_id) is unique so a resent batch is stored once."""

    __tablename__ = "import_batches"
    __table_args__ = (sa.UniqueConstraint("import_id", "batch_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(sa.String(200))
    first_row: Mapped[int] = mapped_column()
    row_count: Mapped[int] = mapped_column()
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The rows' size as a CSV file: a domain's file limit counts what was really uploaded (seed 002).
    data_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportReport(Base):
    """The validation report of an import, columnar (Parquet blobs), rewritten on every edit."""

    __tablename__ = "import_reports"
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)  # cells after edits (empty: the batches, unchanged)
    normalized: Mapped[bytes] = mapped_column(sa.LargeBinary)  # per field, system format, + row, action
    issues: Mapped[bytes] = mapped_column(sa.LargeBinary)  # ISSUE_SCHEMA
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ImportChanges(Base):
    """The preview of an import's updates: per Update row and field, the stored value and the new one
    (`preview.CHANGE_SCHEMA`), a Parquet blob rewritten with the report on every validation and edit."""

    __tablename__ = "import_changes"
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    changes: Mapped[int] = mapped_column(default=0)  # entries (row, field) in `data`
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UndoLogEntry(Base):
    """One record an import wrote, logged in the commit's chunk transaction so the import can be undone.

    An inserted record has no `before`; an updated one keeps its fields (`before`) and key as they were
    before the import. `written_at` is the `updated_at` (`created_at` for an insert) the import gave the
    record: a record whose last write differs was changed since.
    `outcome` (an `UndoOutcome`) is set by the undo in the same transaction as the record's restore, so
    a resumed undo restores each record exactly once.
    """

    __tablename__ = "import_undo_log"
    __table_args__ = {"sqlite_with_rowid": False}  # SQLite: one b-tree (the key), not a table and an index
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(sa.String(16))  # a RowAction: Insert / Update
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONText, default=None)  # as records.data
    before_key: Mapped[str | None] = mapped_column(sa.String(400), default=None)
    written_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(sa.String(16), default=None)
    message: Mapped[str] = mapped_column(sa.Text, default="", server_default="")


class RowResult(Base):
    """The commit outcome of one row, written in the same transaction as the record it wrote."""

    __tablename__ = "row_results"
    # No foreign key on PostgreSQL (migration 0013): a per-row check cost as much as the COPY of the rows.
    import_id: Mapped[int] = mapped_column(primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(sa.String(16))  # a RowStatus: Success / Failed / Skipped
    action: Mapped[str | None] = mapped_column(sa.String(16), default=None)
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    invoice_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    field: Mapped[str | None] = mapped_column(sa.String(200), default=None)  # the field a failure is about
    at: Mapped[datetime] = mapped_column(default=utcnow)


class InsertOutcomes(Base):
    """The Success outcomes of one commit chunk's inserted rows that say nothing but the record they created
    (no message, no invoice), as a Parquet blob of (row, record_id): one row here per chunk, not one
    `row_results` row per inserted row, which cost a million-row insert about a fifth of its commit.
    Written in the chunk's transaction, as row_results; `outcomes.py` reads both as one frame."""

    __tablename__ = "insert_outcomes"
    __table_args__ = (sa.Index("ix_insert_outcomes_rows", "import_id", "first_row"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"))
    first_row: Mapped[int] = mapped_column()
    last_row: Mapped[int] = mapped_column()
    rows: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    at: Mapped[datetime] = mapped_column(default=utcnow)


# ----------------------------------------------------------------- records
class Record(Base):
    """A record an import wrote (client, assignment, case, ...): fields as JSON, found by its match key."""

    __tablename__ = "records"
    # Only records that have a key (migration 0015): a domain matched by the record's ID (clients) stores none,
    # and indexing a null per inserted record cost a tenth of a big commit.
    __table_args__ = (sa.Index("ix_records_key", "org_id", "domain", "key", postgresql_where=sa.text("key IS NOT NULL"),
                               sqlite_where=sa.text("key IS NOT NULL")), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    sa.Identity(start=100001), primary_key=True)
    org_id: Mapped[int] = mapped_column()  # no foreign key on PostgreSQL, as row_results.import_id
    domain: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str | None] = mapped_column(sa.String(400), default=None)
    parent_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    import_id: Mapped[int | None] = mapped_column(default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)  # text, not json (migration 0016)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (sa.UniqueConstraint("org_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    # Seed 004: a course shell made by an import has no certificate.
    has_certificate: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class CreditType(Base):
    """A credit type an organisation awards (seed 004): its maximum, and whether less may be awarded."""

    __tablename__ = "credit_types"
    __table_args__ = (sa.UniqueConstraint("org_id", "name", name="uq_credit_types_org_id_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(64))
    max_credits: Mapped[float] = mapped_column()
    variable: Mapped[bool] = mapped_column(default=False)


class Section(Base):
    __tablename__ = "sections"
    __table_args__ = (sa.UniqueConstraint("course_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(40))
    fee: Mapped[float] = mapped_column(default=0.0)


class Invoice(Base):
    """An invoice created by Auto Create Invoices for a newly inserted assignment."""

    __tablename__ = "invoices"
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    sa.Identity(start=500001), primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    import_id: Mapped[int | None] = mapped_column(default=None)
    amount: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An invoice is never deleted: undoing the import that created it voids it, saying why.
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    void_reason: Mapped[str | None] = mapped_column(sa.Text, default=None)


class Learner(Base):
    """A learner of the organisation (seed 002's export): the profile the Registration & Certification
    export joins to each record by ULN."""

    __tablename__ = "learners"
    __table_args__ = (sa.UniqueConstraint("org_id", "uln"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    uln: Mapped[str] = mapped_column(sa.String(128))
    title: Mapped[str] = mapped_column(sa.String(40), default="")
    first_name: Mapped[str] = mapped_column(sa.String(200), default="")
    last_name: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line_1: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line_2: Mapped[str] = mapped_column(sa.String(200), default="")
    town: Mapped[str] = mapped_column(sa.String(200), default="")
    county: Mapped[str] = mapped_column(sa.String(200), default="")
    post_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(100), default="")
    date_of_birth: Mapped[date | None] = mapped_column(default=None)
    gender: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    ethnicity: Mapped[str] = mapped_column(sa.String(200), default="")
    employer: Mapped[str] = mapped_column(sa.String(200), default="")
    programme: Mapped[str] = mapped_column(sa.String(200), default="")
    primary_tutor: Mapped[str] = mapped_column(sa.String(200), default="")
    start_date: Mapped[date | None] = mapped_column(default=None)
    planned_achievement_date: Mapped[date | None] = mapped_column(default=None)
    qa_verified: Mapped[bool] = mapped_column(default=False)


class QualificationInfo(Base):
    """A qualification the organisation offers: its name and Awarding Organisation, by Qualification number."""

    __tablename__ = "qualifications"
    __table_args__ = (sa.UniqueConstraint("org_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(400), default="")
    awarding_organisation: Mapped[str] = mapped_column(sa.String(200), default="")


# ----------------------------------------------------------------- events
class Webhook(Base):
    """A URL of the organisation that receives its events (Run Workflow on Import), signed with `secret`."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports (the transactional outbox);
    `deliver_pending` fans it out to the organisation's webhooks."""

    __tablename__ = "outbox_events"
    __table_args__ = (sa.Index("ix_outbox_pending", "fanned_out", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(sa.String(64))
    import_id: Mapped[int | None] = mapped_column(default=None)
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    fanned_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: pending until delivered or out of attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.UniqueConstraint("event_id", "webhook_id"),
                      sa.Index("ix_deliveries_due", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_events.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending / delivered / failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """One POST of a delivery: when, the receiver's HTTP status or the error."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(sa.Text, default="")
