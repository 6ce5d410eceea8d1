"""Course records on the server (seed 004): courses, credit types, one import at a time, and a lock.

- A record names an existing course of the organisation. With *Create course shells* an unknown course
  becomes a shell at commit; imported shells have no certificates, and a warning says so, as it does
  for a record imported into an existing course without a certificate.
- Credit types are configured per organisation (`CreditType`: name, maximum credits, Variable). Less
  than the maximum on a type that is not Variable is an error telling the person to enable Variable
  first; more than the maximum is an error too.
- A completion imported without credit, for a user who exists, on a type that is not Variable, is
  awarded the type's credit automatically (the seed's workaround, so the credit reports as expected);
  the results row says so.
- An import that fails leaves the importer locked until a site admin unlocks it
  (`POST /api/v1/admin/locks/course_record/unlock`). Records are never updated (Add only, in the spec).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.domains.course_record import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.errors import Conflict, Locked
from bulkassist.server.domains.base import Context, RecordBehaviour, issues_frame, with_notes
from bulkassist.server.models import Course, CreditType, DomainLock, Organisation, User
from bulkassist.server.orgdata import replace_list
from bulkassist.status import VALID_ACTIONS, ImportStatus

# The spec's fields this behaviour reads.
_USER, _COURSE, _COMPLETE, _CREDIT_TYPE, _CREDITS = "username", "course_code", "complete", "credit_type", "credits"
_SHELLS = "create_course_shells"
_IN_CHUNK = 400  # names per query: each is compared twice (name, e-mail), under SQLite's variable limit
_NO_CERTIFICATE = ("imported course shells have no certificates: if a certificate is needed, create the course "
                   "(with its certificate) first and import the records into it")


def credit_types(session: Session, org_id: int) -> dict[str, CreditType]:
    """The organisation's credit types by name."""
    return {t.name: t for t in session.scalars(sa.select(CreditType).where(CreditType.org_id == org_id))}


def set_credit_type(session: Session, org: Organisation, name: str, max_credits: float, variable: bool, *,
                    replace: bool = True) -> CreditType:
    """Create (or, with `replace`, change) a credit type; its name joins the select list course records
    are checked against."""
    found = credit_types(session, org.id).get(name)
    if found is not None and not replace:
        raise Conflict(f"credit type {name!r} already exists; change it with PUT /api/v1/admin/credit-types/{name}")
    if found is None:
        found = CreditType(org_id=org.id, name=name)
        session.add(found)
    found.max_credits, found.variable = max_credits, variable
    session.flush()
    list_name = DOMAIN.field(_CREDIT_TYPE).select_list
    assert list_name is not None  # the spec gives Credit Type its select list
    names = sorted(credit_types(session, org.id))
    replace_list(session, org.id, list_name, [(n, n) for n in names])
    return found


def describe_credit_type(t: CreditType) -> dict:
    return {"name": t.name, "max_credits": t.max_credits, "variable": t.variable}


class CourseRecordBehaviour(RecordBehaviour):
    def check_can_start(self, session: Session, org_id: int) -> None:
        lock = session.get(DomainLock, (org_id, self.domain.name))
        if lock is not None:
            raise Locked(locked_message(lock))

    def before_commit(self, ctx: Context) -> None:
        lock = ctx.session.get(DomainLock, (ctx.org_id, self.domain.name))
        if lock is not None and lock.import_id != ctx.import_id:
            raise Locked(locked_message(lock))
        if lock is None:
            ctx.session.add(DomainLock(org_id=ctx.org_id, domain=self.domain.name, import_id=ctx.import_id,
                                       reason="import in progress"))

    def after_commit(self, ctx: Context, status: str) -> None:
        lock = ctx.session.get(DomainLock, (ctx.org_id, self.domain.name))
        if lock is None or lock.import_id != ctx.import_id:
            return
        if status == ImportStatus.COMMITTED:
            ctx.session.delete(lock)
        else:
            lock.reason = (f"import {ctx.import_id} ended {status}; review the file for special characters and "
                           f"spaces in the headers, then ask a site admin to unlock the importer")

    # ---------------------------------------------------------------- review
    def extra_checks(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame | None:
        valid = rows.filter(pl.col("action").is_in(VALID_ACTIONS))
        frames = [self._check_courses(ctx, valid)]
        if {_CREDIT_TYPE, _CREDITS} <= set(valid.columns):
            frames.append(self._check_credits(ctx, valid))
        return pl.concat(frames)

    def _check_courses(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        """A record names an existing course; a shell (new, or an existing course without a certificate)
        gets no certificate, and the person is told so."""
        if _COURSE not in rows.columns or not rows.height:
            return issues_frame([], [], [], "", [])
        courses = dict(ctx.session.execute(sa.select(Course.code, Course.has_certificate)
                                           .where(Course.org_id == ctx.org_id)).all())
        cells = rows.select("row", pl.col(_COURSE).alias("value")).filter(pl.col("value").is_not_null())
        unknown = cells.filter(~pl.col("value").is_in(list(courses)))
        bare = cells.filter(pl.col("value").is_in([c for c, cert in courses.items() if not cert]))
        shells = bool(ctx.options.get(_SHELLS))
        label = self.domain.option(_SHELLS).label
        return pl.concat([
            issues_frame(unknown["row"].to_list(), [_COURSE] * unknown.height, unknown["value"].to_list(),
                         "course_shell" if shells else "unknown_course",
                         [f"course '{v}' does not exist; a course shell will be created: {_NO_CERTIFICATE}" if shells
                          else f"course '{v}' does not exist in your organisation; create the course first, correct "
                               f"the course_code, or choose {label} ({_NO_CERTIFICATE})"
                          for v in unknown["value"].to_list()], severity="warning" if shells else "error"),
            issues_frame(bare["row"].to_list(), [_COURSE] * bare.height, bare["value"].to_list(), "no_certificate",
                         [f"course '{v}' is a course shell without a certificate: {_NO_CERTIFICATE}"
                          for v in bare["value"].to_list()], severity="warning"),
        ])

    def _check_credits(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        """Credits within the credit type's maximum; less than it only on a Variable type."""
        types = pl.DataFrame([(t.name, t.max_credits, f"{t.max_credits:g}", t.variable)
                              for t in credit_types(ctx.session, ctx.org_id).values()],
                             schema={_CREDIT_TYPE: pl.String, "_max": pl.Float64, "_shown": pl.String,
                                     "_variable": pl.Boolean}, orient="row")
        given = (rows.select("row", _CREDIT_TYPE, _CREDITS).filter(pl.col(_CREDITS).is_not_null())
                 .join(types, on=_CREDIT_TYPE, how="inner")
                 .with_columns(pl.col(_CREDITS).cast(pl.Float64, strict=False).alias("_amount")))
        over = pl.format("credits {} are more than the {} credits of credit type {}; award at most {}",
                         pl.col(_CREDITS), pl.col("_shown"), pl.col(_CREDIT_TYPE), pl.col("_shown"))
        under = pl.format("credits {} are less than the {} credits of credit type {}, which is not Variable: enable "
                          "Variable on the {} credit type before importing partial or variable credit",
                          pl.col(_CREDITS), pl.col("_shown"), pl.col(_CREDIT_TYPE), pl.col(_CREDIT_TYPE))
        bad = given.select("row", _CREDITS, pl.when(pl.col("_amount") > pl.col("_max")).then(over)
                           .when((pl.col("_amount") < pl.col("_max")) & ~pl.col("_variable")).then(under)
                           .alias("_message")).filter(pl.col("_message").is_not_null())
        return issues_frame(bad["row"].to_list(), [_CREDITS] * bad.height, bad[_CREDITS].to_list(), "credit_amount",
                            bad["_message"].to_list())

    # ----------------------------------------------------------------- write
    def write(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        if ctx.options.get(_SHELLS) and _COURSE in rows.columns:
            self._create_shells(ctx, rows[_COURSE].drop_nulls().unique().to_list())
        rows, notes = self._award_credit(ctx, rows)
        return with_notes(super().write(ctx, rows), notes)

    def _create_shells(self, ctx: Context, codes: list[str]) -> None:
        existing = set(ctx.session.scalars(sa.select(Course.code).where(Course.org_id == ctx.org_id,
                                                                        Course.code.in_(codes))))
        for code in sorted(set(codes) - existing):
            ctx.session.add(Course(org_id=ctx.org_id, code=code, title=f"{code} (imported course shell)",
                                   has_certificate=False))
        ctx.session.flush()

    def _award_credit(self, ctx: Context, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Seed 004's workaround: a completion without credit, for a user who exists, on a credit type that is
        not Variable, is awarded the type's credit."""
        none = pl.DataFrame(schema={"row": pl.Int64, "_note": pl.String})
        if not {_USER, _COMPLETE, _CREDIT_TYPE} <= set(rows.columns):
            return rows, none
        fixed = [t for t in credit_types(ctx.session, ctx.org_id).values() if not t.variable]
        credits = rows[_CREDITS] if _CREDITS in rows.columns else pl.repeat(None, rows.height, dtype=pl.String,
                                                                             eager=True)
        wanted = rows.filter((pl.col(_COMPLETE) == "1") & credits.is_null()
                             & pl.col(_CREDIT_TYPE).is_in([t.name for t in fixed]))
        if not wanted.height:
            return rows, none
        names = sorted({n.lower() for n in wanted[_USER].drop_nulls().to_list()})
        users: set[str] = set()
        for start in range(0, len(names), _IN_CHUNK):
            part = names[start:start + _IN_CHUNK]
            users |= {n.lower() for pair in ctx.session.execute(sa.select(User.name, User.email).where(
                User.org_id == ctx.org_id, User.active.is_(True),
                sa.or_(sa.func.lower(User.name).in_(part), sa.func.lower(User.email).in_(part)))) for n in pair if n}
        awarded = wanted.filter(pl.col(_USER).str.to_lowercase().is_in(list(users)))
        maximum = {t.name: f"{t.max_credits:g}" for t in fixed}
        notes = awarded.select("row", _CREDIT_TYPE, pl.col(_CREDIT_TYPE).replace_strict(
            maximum, return_dtype=pl.String).alias("_award")).with_columns(pl.format(
                "credit awarded automatically: {} {} (a completion without credit, for an existing user, on a "
                "credit type that is not Variable)", pl.col("_award"), pl.col(_CREDIT_TYPE)).alias("_note"))
        if _CREDITS not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.String).alias(_CREDITS))
        rows = (rows.join(notes.select("row", "_award"), on="row", how="left")
                .with_columns(pl.coalesce(_CREDITS, "_award").alias(_CREDITS)).drop("_award"))
        return rows, notes.select("row", "_note")


def locked_message(lock: DomainLock) -> str:
    return (f"the {lock.domain.replace('_', ' ')} importer is locked by import {lock.import_id} "
            f"({lock.reason}); a site admin must unlock it (Admin → Unlock) before you can import again")


BEHAVIOUR = CourseRecordBehaviour
