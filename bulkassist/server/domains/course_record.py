"""Course records on the server (seed 004): one import at a time, and a lock after a failure.

An import that fails leaves the importer locked until a site admin unlocks it
(`POST /api/v1/admin/locks/course_record/unlock`). Records are never updated (Add only, in the spec).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bulkassist.domains.course_record import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.errors import Locked
from bulkassist.server.domains.base import Context, RecordBehaviour
from bulkassist.server.models import DomainLock
from bulkassist.status import ImportStatus


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


def locked_message(lock: DomainLock) -> str:
    return (f"the {lock.domain.replace('_', ' ')} importer is locked by import {lock.import_id} "
            f"({lock.reason}); a site admin must unlock it (Admin → Unlock) before you can import again")


BEHAVIOUR = CourseRecordBehaviour
