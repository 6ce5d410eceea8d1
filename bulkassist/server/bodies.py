"""Request bodies, limited while they stream in.

Every body is counted as it arrives, so one sent without `Content-Length` (chunked) is refused at the
limit instead of being buffered whole; a declared length over the limit is refused before a byte is
read. The limit is `BODY_BYTES` unless the route raised it for its own request (`read_body`: a batch may
be as large as its domain's `batch_bytes`). The refusal is an HTTP 413 the app's one error handler
answers like every other error.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_BYTES = 2**20
"""The largest request body the server reads (1 MB), but for a batch (its domain's `batch_bytes`)."""
_LIMIT_KEY = "bulkassist.body_limit"


class BodyTooLarge(HTTPException):
    """The body passed `limit` bytes (an HTTPException: FastAPI lets it through while reading a body)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is over the {limit / 2**20:g} MB limit")
        self.limit = limit


class BodyLimit:
    """ASGI middleware counting every request body against its limit."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            # Read the limit at each step: the route may have raised it for its own body (read_body).
            limit = scope.get(_LIMIT_KEY, BODY_BYTES)
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused (413) as soon as it passes `limit` bytes: the rest is never read."""
    request.scope[_LIMIT_KEY] = limit
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
    return bytes(raw)
