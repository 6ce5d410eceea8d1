"""The FastAPI application: `create_app(database_url)`.

Everything is under /api/v1 and described by the generated OpenAPI document
(/api/v1/openapi.json), browsable with Swagger UI at /api/v1/docs and ReDoc at /api/v1/redoc (`docs`: they work offline).
Every answer has a model in `schemas`, so the document shows the shape of each. Every error is JSON
`{"error": {"code", "message"}, "detail"}`; bad input is a 4xx with a
message, never a 500. Services raise `bulkassist.errors` classes, which carry
their status and code; one handler answers them all.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bulkassist.errors import (
    BulkAssistError,
    Conflict,
    InvalidRequest,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    ServerError,
)
from bulkassist.server.allocator import return_freed_memory
from bulkassist.server.bodies import BodyLimit, BodyTooLarge
from bulkassist.server.db import make_engine, migrate, sessions
from bulkassist.server.docs import add_docs
from bulkassist.server.jobs import queue_for
from bulkassist.server.listindex import ListIndex
from bulkassist.server.routes import admin, catalog, imports, mappings, records
from bulkassist.server.routes import sessions as signin_routes
from bulkassist.server.schemas import Health
from bulkassist.server.signin import SignInPolicy

log = logging.getLogger("bulkassist.server")
API_PREFIX = "/api/v1"


def create_app(database_url: str | None = None, *, workers: bool = True,
               signin_policy: SignInPolicy | None = None) -> FastAPI:
    """The import server on `database_url` (default: DATABASE_URL or SQLite in the user's data folder).

    Migrations run here. Commits, undos and webhook deliveries are jobs (`jobs.py`): on PostgreSQL queued for
    `bulkassist worker` processes, on SQLite run in threads of this process (`workers=False` leaves those out:
    tests of pure HTTP).
    `signin_policy`: session lifetime and failed sign-in limit (default: from the environment, `SignInPolicy.from_env`).
    """
    return_freed_memory()
    engine = make_engine(database_url)
    migrate(engine)
    maker = sessions(engine)
    queue = queue_for(engine.url.render_as_string(hide_password=False), maker)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if workers:
            queue.start()
        yield
        queue.stop()

    app = FastAPI(
        title="BulkAssist import server",
        version="1",
        description="Bulk Data Import: specs, select lists, templates and import jobs (create, upload, "
                    "validate, review, edit, confirm, commit, results, history, cancel, retry).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # `add_docs`: Swagger UI and ReDoc that work offline
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    add_docs(app, API_PREFIX)
    app.add_middleware(BodyLimit)
    app.state.engine = engine
    app.state.sessions = maker
    app.state.jobs = queue
    app.state.signin_policy = signin_policy or SignInPolicy.from_env()
    app.state.list_index = ListIndex()  # the suggest endpoint's matchers, per organisation and list
    origins = [o.strip() for o in os.environ.get("BULKASSIST_CORS_ORIGINS", "").split(",") if o.strip()]
    if origins:
        # Excel on the web (xlwings Lite, Office.js) calls the API from the add-in's origin: allow only
        # the origins the administrator names; tokens still authenticate every request.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            expose_headers=["ETag"],
        )

    @app.exception_handler(BulkAssistError)
    async def _refused(_: Request, exc: BulkAssistError) -> JSONResponse:
        return _refusal(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:10]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return _refusal(MalformedRequest("the request is not valid: " + "; ".join(problems)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, BodyTooLarge):
            return _refusal(PayloadTooLarge(f"{exc.detail} of {request.method} {request.url.path}; send a smaller "
                                            f"body (rows: in more, smaller batches)"))
        if isinstance(exc.__cause__, RecursionError):  # FastAPI reading a JSON body
            return _refusal(InvalidRequest("the request body is JSON nested too deeply to read; send the body "
                                           "the OpenAPI document describes"))
        code = {404: NotFound.code, 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _answer(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A unique key hit by a race between two requests: the request conflicts with existing data.
        log.warning("integrity error: %s", exc.orig)
        return _refusal(Conflict("the request conflicts with existing data (it was probably sent twice); "
                                 "reload and try again"))

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (a NUL character, a number out of range): the request's fault.
        reason = str(exc.orig).splitlines()[0]
        return _refusal(MalformedRequest(f"a value in the request cannot be stored: {reason}; remove it and "
                                         f"send the request again"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return _failed(exc)

    process = f"{socket.gethostname()}:{os.getpid()}"

    @app.get(f"{API_PREFIX}/health", tags=["server"], response_model=Health)
    def health() -> dict:
        """Liveness: no authentication needed."""
        return {"status": "ok", "worker": process, "database": engine.dialect.name}

    for module in (catalog, imports, mappings, records, admin, signin_routes):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def _operation_id(route: APIRoute) -> str:
    """`imports_commit`, not `commit_api_v1_imports__import_id__commit_post`: the method names a client
    generated from the document gets."""
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def _answer(status: int, code: str, message: str, headers: dict[str, str] | None = None, **fields: object
            ) -> JSONResponse:
    """The one shape of every error answer: `{"error": {"code", "message", ...}, "detail"}`."""
    return JSONResponse({"error": {"code": code, "message": message, **fields}, "detail": message},
                        status_code=status, headers=headers)


def _refusal(exc: BulkAssistError) -> JSONResponse:
    """What a service raised, answered with its class's status and code."""
    if exc.http_status >= 500:
        return _failed(exc)
    return _answer(exc.http_status, exc.code, str(exc), **exc.fields)


def _failed(exc: Exception) -> JSONResponse:
    """The server's own failure: logged with its traceback, answered without internals."""
    log.error("unexpected error", exc_info=exc)
    return _answer(500, ServerError.code, "the server failed; see its log")


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory bulkassist.server.app:app_from_env` (several workers)."""
    return create_app(os.environ.get("DATABASE_URL"))
