"""The HTTP client's transport rules: retries with backoff for idempotent calls only, typed errors."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bulkassist.client import Client
from bulkassist.errors import ServerError, ServerUnreachable
from bulkassist.server.launch import free_port


class FlakyUpstream:
    """A real HTTP server that answers 503 `failures` times, then 200; it counts the requests."""

    def __init__(self, failures: int):
        self.failures = failures
        self.requests: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                upstream.requests.append(self.command)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                failing = len(upstream.requests) <= upstream.failures
                body = json.dumps({"error": {"code": "unavailable", "message": "try later"}} if failing
                                  else {"user": "x"}).encode()
                self.send_response(503 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky():
    made = []

    def make(failures: int) -> FlakyUpstream:
        made.append(FlakyUpstream(failures))
        return made[-1]

    yield make
    for upstream in made:
        upstream.close()


def test_idempotent_calls_are_retried_until_they_succeed(flaky):
    upstream = flaky(2)
    assert Client(upstream.url, "t", retries=3).me() == {"user": "x"}
    assert upstream.requests == ["GET", "GET", "GET"]


def test_non_idempotent_calls_are_not_retried(flaky):
    upstream = flaky(1)
    with pytest.raises(ServerError, match="try later"):
        Client(upstream.url, "t", retries=3).request("POST", "/imports/1/anything", json={})
    assert upstream.requests == ["POST"]


def test_retries_give_up_with_the_server_message(flaky):
    upstream = flaky(10)
    with pytest.raises(ServerError) as info:
        Client(upstream.url, "t", retries=1).me()
    assert info.value.status == 503 and len(upstream.requests) == 2


def test_unreachable_server_says_what_to_do():
    with pytest.raises(ServerUnreachable, match="bulkassist serve"):
        Client(f"http://127.0.0.1:{free_port()}", "t", retries=1, timeout=2).me()


def test_typed_errors_carry_status_and_detail(server):
    from bulkassist.errors import NotFound

    with pytest.raises(NotFound) as info:
        Client(server.url, server.tokens["importer"]).get_import(2**31 - 1)
    assert info.value.status == 404 and info.value.detail["error"]["code"] == "not_found"


def test_every_error_the_server_answers_reads_back_as_the_class_that_raised_it():
    """One table both ways: the server answers a class's status and code; the client finds the class again."""
    import bulkassist.errors as errors

    raised = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.BulkAssistError)
              and cls is not errors.BulkAssistError and "code" in vars(cls)]
    assert {cls.code for cls in raised} >= {"bad_request", "not_found", "conflict", "locked", "not_licensed",
                                            "permission_denied", "invalid_token", "usage_limit_exceeded"}
    for cls in raised:
        assert errors.error_class(cls.code, cls.http_status) is cls
    # An answer without a code (a proxy's 413, a gateway's 502): the most general class of its status.
    assert errors.error_class("", 413) is errors.PayloadTooLarge
    assert errors.error_class("", 403) is errors.PermissionDenied
    assert errors.error_class("", 502) is errors.ServerError
