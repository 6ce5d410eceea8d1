"""Who is calling and what they may do: API tokens, sign-in sessions, the licence, permission groups.

Tokens are random (`ba_` + 32 url-safe bytes); only their SHA-256 is stored,
which is enough for high-entropy secrets and keeps a leaked database from
leaking working tokens. A browser's sign-in session (`bs_` + 32 bytes, issued
by `signin.py`) is sent the same way, as a bearer credential, and is checked
here too: it must not have expired or been revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.orm import Session

from bulkassist.errors import (
    AuthenticationFailed,
    InvalidToken,
    NotLicensed,
    PermissionDenied,
    SessionExpired,
)
from bulkassist.server.models import (
    ApiToken,
    GroupMember,
    Organisation,
    PermissionGroup,
    SignInSession,
    User,
    user_ref,
    utcnow,
)

SESSION_PREFIX = "bs_"


def new_token() -> str:
    return "ba_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user_id: int, name: str = "token") -> str:
    """Create a token for a user; the plain token is returned once and never stored."""
    token = new_token()
    session.add(ApiToken(user_id=user_id, name=name, token_hash=hash_token(token), prefix=token[:10]))
    return token


@dataclass
class Caller:
    """The authenticated user with their organisation and permissions."""

    user_id: int
    user_name: str
    org_id: int
    org_name: str
    licensed: bool
    is_admin: bool
    import_domains: set[str] = field(default_factory=set)
    record_domains: set[str] = field(default_factory=set)
    export_domains: set[str] = field(default_factory=set)

    @property
    def imports_every_domain(self) -> bool:
        return self.is_admin or "*" in self.import_domains

    def can_import(self, domain: str) -> bool:
        return self.imports_every_domain or domain in self.import_domains

    def can_see_records(self, domain: str) -> bool:
        """Manage Registration & Certification (seed 002): the domain's screen and its records."""
        return self.is_admin or bool({"*", domain} & self.record_domains)

    def can_export(self, domain: str) -> bool:
        """Data Export (seed 002)."""
        return self.is_admin or bool({"*", domain} & self.export_domains)

    def can_open_record(self, domain: str) -> bool:
        """Open one record: who may see the domain's records, or import into it (seed 001's Records tab)."""
        return self.can_see_records(domain) or self.can_import(domain)

    def require_records(self, domain: str) -> None:
        if not self.can_see_records(domain):
            raise PermissionDenied(f"user {self.user_name!r} has no permission to manage {domain!r} records; ask "
                                   f"your administrator to add you to a permission group that grants it")

    def require_export(self, domain: str) -> None:
        if not self.can_export(domain):
            raise PermissionDenied(f"user {self.user_name!r} has no Data Export permission for domain {domain!r}; "
                                   f"ask your administrator to add you to a permission group that grants it")

    def require_licence(self) -> None:
        if not self.licensed:
            raise NotLicensed(f"Bulk Data Import is a licensed feature and organisation {self.org_name!r} does "
                              f"not have it; submit a support ticket to request it")

    def require_import(self, domain: str) -> None:
        self.require_licence()
        if not self.can_import(domain):
            raise PermissionDenied(f"user {self.user_name!r} has no import permission for domain {domain!r}; ask "
                                   f"your administrator to add you to a permission group that grants it")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied(f"user {self.user_name!r} is not an administrator of {self.org_name!r}")

    def to_dict(self) -> dict:
        return {"user": self.user_name, "user_id": self.user_id, "user_ref": user_ref(self.user_id),
                "organisation": self.org_name,
                "org_id": self.org_id, "licensed": self.licensed, "admin": self.is_admin,
                "import_domains": sorted(self.import_domains), "record_domains": sorted(self.record_domains),
                "export_domains": sorted(self.export_domains)}


def caller_for_token(session: Session, token: str) -> Caller | None:
    """The caller of a live API token, else None."""
    user_id = session.scalar(sa.select(ApiToken.user_id).where(ApiToken.token_hash == hash_token(token),
                                                               ApiToken.revoked_at.is_(None)))
    return None if user_id is None else caller_for_user(session, user_id)


def caller_for_session(session: Session, credential: str) -> Caller:
    """The caller of a live sign-in session credential; `SessionExpired` when it ended, expired or is unknown."""
    row = session.scalars(sa.select(SignInSession).where(SignInSession.token_hash == hash_token(credential))).first()
    if row is None or row.revoked_at is not None:
        raise SessionExpired("your sign-in session has ended (signed out, or your password was changed); "
                             "sign in again")
    if row.expires_at <= utcnow():
        raise SessionExpired("your sign-in session has expired; sign in again")
    caller = caller_for_user(session, row.user_id)
    if caller is None:
        raise SessionExpired("your user account is no longer active; ask your administrator")
    return caller


def caller_for_user(session: Session, user_id: int) -> Caller | None:
    """The caller for an active user: organisation, licence and the grants of their permission groups."""
    row = session.execute(
        sa.select(User, Organisation).join(Organisation, Organisation.id == User.org_id)
        .where(User.id == user_id, User.active.is_(True))
    ).first()
    if row is None:
        return None
    user, org = row
    groups = session.scalars(
        sa.select(PermissionGroup).join(GroupMember, GroupMember.group_id == PermissionGroup.id)
        .where(GroupMember.user_id == user.id)
    ).all()
    domains: set[str] = set()
    records: set[str] = set()
    exports: set[str] = set()
    for g in groups:
        domains.update(g.import_domains or [])
        records.update(g.record_domains or [])
        exports.update(g.export_domains or [])
    return Caller(user_id=user.id, user_name=user.name, org_id=org.id, org_name=org.name,
                  licensed=org.licensed, is_admin=any(g.is_admin for g in groups), import_domains=domains,
                  record_domains=records, export_domains=exports)


def authenticate(request: Request) -> Caller:
    """FastAPI dependency: the caller of this request, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send your API token as 'Authorization: Bearer <token>' (create one with "
                                   "`bulkassist admin create-token`)")
    token = token.strip()
    with request.app.state.sessions() as session:
        if token.startswith(SESSION_PREFIX):
            return caller_for_session(session, token)
        caller = caller_for_token(session, token)
    if caller is None:
        raise InvalidToken("the API token is unknown or revoked; ask for a new one")
    return caller
