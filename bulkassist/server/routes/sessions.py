"""Sign-in sessions over HTTP: sign in (name and password, or an API token) and sign out.

The credentials travel in the body and the Authorization header only, never in a URL, so neither the
access log nor a proxy's log records them. See `signin.py` for the rules (expiry, the failure limit).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from bulkassist.errors import PermissionDenied, SignInFailed
from bulkassist.server import signin
from bulkassist.server.auth import SESSION_PREFIX, Caller, caller_for_user
from bulkassist.server.routes.deps import CallerDep
from bulkassist.server.schemas import (
    ErrorAnswer,
    SessionIssued,
    SignedOut,
    SignIn,
    TokenSignIn,
    error_responses,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])

_TOO_MANY: dict[int | str, dict[str, Any]] = {429: {"model": ErrorAnswer, "description": "too many failed sign-ins for this user name: it is "
                                                        "refused until the lock window has passed"}}


@router.post("", status_code=201, response_model=SessionIssued,
             responses={**error_responses(400, 401, 422), **_TOO_MANY})
def sign_in(body: SignIn, request: Request) -> dict:
    """Sign in: a session credential that expires (the server's `BULKASSIST_SESSION_SECONDS`, default 8 hours).

    A wrong user name and a wrong password get the same 401; after `BULKASSIST_SIGNIN_MAX_FAILURES` failures
    for one name within `BULKASSIST_SIGNIN_LOCK_SECONDS` the name gets 429 until that window has passed.
    """
    policy: signin.SignInPolicy = request.app.state.signin_policy
    if isinstance(body, TokenSignIn):
        with request.app.state.sessions() as session:
            caller = signin.sign_in_with_token(session, body.token)
    else:
        caller = _sign_in_with_password(request, body.name, body.password, body.organisation, policy)
    with request.app.state.sessions.begin() as session:
        credential, row = signin.open_session(session, caller.user_id, policy)
    return {"token": credential, "expires_at": row.expires_at.isoformat(timespec="seconds") + "Z",
            "user": caller.user_name, "organisation": caller.org_name}


def _sign_in_with_password(request: Request, name: str, password: str, organisation: str | None,
                           policy: signin.SignInPolicy) -> Caller:
    # Its own transaction, committed before the 401: a failure counts although the request is refused.
    with request.app.state.sessions.begin() as session:
        signin.check_failures(session, name, policy)
        user = signin.user_for_password(session, name, password, organisation)
        if user is None:
            signin.record_failure(session, name, policy)
        else:
            signin.clear_failures(session, name)
            caller = caller_for_user(session, user.id)
    if user is None or caller is None:
        raise SignInFailed(signin.WRONG_NAME_OR_PASSWORD)
    return caller


@router.delete("/current", response_model=SignedOut, responses=error_responses(401, 403))
def sign_out(caller: CallerDep, request: Request) -> dict:
    """Sign out: the session credential sent with this request stops working at once."""
    credential = request.headers.get("authorization", "").partition(" ")[2].strip()
    if not credential.startswith(SESSION_PREFIX):
        raise PermissionDenied(f"user {caller.user_name!r} sent an API token, not a sign-in session: an API token "
                             f"is revoked by an administrator (`bulkassist admin revoke-tokens`)")
    with request.app.state.sessions.begin() as session:
        return {"signed_out": signin.close_session(session, credential)}
