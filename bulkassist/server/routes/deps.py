"""What every route needs: the caller (token) and a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bulkassist.server.auth import Caller, authenticate

CallerDep = Annotated[Caller, Depends(authenticate)]


_READING = frozenset({"GET", "HEAD"})


def transaction(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent (scope="function"), so the
    next request of the same client sees it; rolled back when the route raises. A GET only reads: on
    SQLite it never waits for a validation or a commit holding the write lock (`db.py`)."""
    maker = request.app.state.sessions
    if request.method in _READING:
        with maker() as session:
            yield session
            session.commit()
        return
    with maker.begin() as session:
        yield session


SessionDep = Annotated[Session, Depends(transaction, scope="function")]
