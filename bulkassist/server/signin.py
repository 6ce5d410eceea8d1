"""Passwords and sign-in sessions: how a person in a browser becomes a `Caller` without holding an API token.

- A password is stored only as an argon2id hash (`argon2-cffi`: salted, deliberately slow and memory-hard),
  set by an administrator (`bulkassist admin set-password`, `PUT /api/v1/admin/users/{id}/password`).
- Signing in (`POST /api/v1/sessions`) with a user name and password, or with an API token, issues a
  session credential (`bs_` + 32 random bytes; only its SHA-256 is stored, like a token's) that ends at
  `expires_at` or when revoked (sign-out, a new password, `revoke-tokens`).
- A wrong name and a wrong password get the same answer, after the same work (a name without a user is
  checked against a dummy hash), so the answer does not tell which names exist.
- Failures are counted per name, whether a user has it or not, in the database (shared by every API
  process): after `max_failures` within `lock_seconds` the name is refused, right password or not, until
  the window has passed. A success clears the count.

Nothing here logs: names, passwords and credentials never reach a log line.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from bulkassist.errors import InvalidRequest, SignInFailed, TooManySignInAttempts
from bulkassist.server.auth import SESSION_PREFIX, Caller, caller_for_token, hash_token
from bulkassist.server.db import rows_changed
from bulkassist.server.models import Organisation, SignInFailure, SignInSession, User, utcnow

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
WRONG_NAME_OR_PASSWORD = ("the user name or password is wrong; try again, or ask your administrator to set a new "
                          "password")


POLICY_ENV = {"session_seconds": "BULKASSIST_SESSION_SECONDS", "max_failures": "BULKASSIST_SIGNIN_MAX_FAILURES",
              "lock_seconds": "BULKASSIST_SIGNIN_LOCK_SECONDS"}


@dataclass(frozen=True)
class SignInPolicy:
    """How long a session lasts and how many failed sign-ins a name gets (environment: the variables below)."""

    session_seconds: int = 8 * 3600
    max_failures: int = 5
    lock_seconds: int = 15 * 60

    @classmethod
    def from_env(cls) -> SignInPolicy:
        values = {}
        for name, variable in POLICY_ENV.items():
            raw = os.environ.get(variable)
            if raw is None:
                continue
            if not raw.strip().isdigit() or int(raw) < 1:
                raise InvalidRequest(f"{variable}={raw!r} is not a whole number of at least 1; set it to e.g. "
                                     f"{getattr(cls, name)}")
            values[name] = int(raw)
        return cls(**values)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, RFC 9106's low-memory profile (64 MiB, 3 passes)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """What a name without a user (or without a password) is checked against, so it costs the same time."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(f"a password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters "
                             f"(this one has {len(password)}); choose a longer one")
    return _hasher().hash(password)


def set_password(session: Session, user: User, password: str) -> int:
    """Give `user` a new password; ends their open sessions (how many)."""
    user.password_hash = hash_password(password)
    return end_sessions(session, user.id)


def end_sessions(session: Session, user_id: int) -> int:
    """Revoke every open sign-in session of a user; how many."""
    return rows_changed(session, sa.update(SignInSession).where(SignInSession.user_id == user_id,
                                                          SignInSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


def _matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def check_failures(session: Session, name: str, policy: SignInPolicy) -> None:
    """Refuse a name that failed `max_failures` times within the lock window."""
    row = session.get(SignInFailure, name)
    if row is None or row.failures < policy.max_failures:
        return
    wait = row.first_at + timedelta(seconds=policy.lock_seconds) - utcnow()
    if wait > timedelta(0):
        minutes = max(1, round(wait.total_seconds() / 60))
        raise TooManySignInAttempts(f"too many failed sign-ins for this user name; try again in about {minutes} "
                                    f"minute(s), or ask your administrator to set a new password")


def record_failure(session: Session, name: str, policy: SignInPolicy) -> None:
    now = utcnow()
    row = session.get(SignInFailure, name, with_for_update=True)
    if row is None:
        session.add(SignInFailure(name=name, failures=1, first_at=now))
    elif row.first_at + timedelta(seconds=policy.lock_seconds) < now:
        row.failures, row.first_at = 1, now  # the window has passed: count afresh
    else:
        row.failures += 1


def clear_failures(session: Session, name: str) -> None:
    session.execute(sa.delete(SignInFailure).where(SignInFailure.name == name))


def user_for_password(session: Session, name: str, password: str, organisation: str | None) -> User | None:
    """The active user of that name whose password matches (of `organisation`, when given)."""
    query = sa.select(User).where(User.name == name, User.active.is_(True))
    if organisation:
        query = query.join(Organisation, Organisation.id == User.org_id).where(Organisation.name == organisation)
    candidates = session.scalars(query.limit(10)).all()
    if not candidates:
        _matches(None, password)  # the same work as for a real user
        return None
    matching = [u for u in candidates if _matches(u.password_hash, password)]
    if len(matching) > 1:
        raise InvalidRequest("users of several organisations have this name and password; name your "
                             "organisation too")
    return matching[0] if matching else None


def open_session(session: Session, user_id: int, policy: SignInPolicy) -> tuple[str, SignInSession]:
    """A new session credential for a user: (the credential, shown once; its row)."""
    credential = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = SignInSession(user_id=user_id, token_hash=hash_token(credential),
                        expires_at=utcnow() + timedelta(seconds=policy.session_seconds))
    session.add(row)
    session.flush()
    return credential, row


def close_session(session: Session, credential: str) -> bool:
    """Sign out: revoke the session of this credential (False when it had already ended)."""
    return bool(rows_changed(session, sa.update(SignInSession).where(SignInSession.token_hash == hash_token(credential),
                                                               SignInSession.revoked_at.is_(None))
                                .values(revoked_at=utcnow())))


def sign_in_with_token(session: Session, token: str) -> Caller:
    caller = caller_for_token(session, token)
    if caller is None:
        raise SignInFailed("the API token is unknown or revoked; ask your administrator for a new one")
    return caller

