"""An unexpected failure answers 500 without leaking what the request carried, to the client or the log."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.calls import service as calls_service
from tests.conftest import PASSWORD, Account, LiveServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_crash_is_a_plain_500_and_the_log_holds_no_personal_data(
    signed_in: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = signed_in(Role.CALL_TAKER)

    def explode(**_: object) -> None:
        raise ValueError("Jane Roe, born 1990-01-02, phone 919-555-0100")

    monkeypatch.setattr(calls_service, "create_call", explode)
    with caplog.at_level(logging.ERROR):
        answer = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies,
                            headers=client.headers).post("/api/calls", json={"summary": "Jane Roe is upset"})
    assert answer.status_code == 500
    assert "Jane" not in answer.text and "Something went wrong" in answer.json()["detail"]
    assert "ValueError" in caplog.text and "/api/calls" in caplog.text
    assert "Jane" not in caplog.text and "919" not in caplog.text


DRIVER_DETAIL = "Key (external_id)=(Jane Roe 919-555-0100) already exists"  # as a database driver words it
BUILT_FROM_DATA = "Jane Roe, born 1990-01-02"


def test_a_served_crash_logs_where_it_broke_and_never_what_the_request_or_database_said(
    live_server: LiveServer, make_user: Callable[..., Account], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn logs "Exception in ASGI application" with the traceback: the frames stay, every message goes."""
    account = make_user(Role.CALL_TAKER)

    def explode(**_: object) -> None:
        try:
            raise KeyError(DRIVER_DETAIL)  # (a source line in a traceback is code, so the values are not written here)
        except KeyError as cause:
            raise ValueError(BUILT_FROM_DATA) from cause

    monkeypatch.setattr(calls_service, "create_call", explode)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    watched = [logging.getLogger(name) for name in ("uvicorn.error", "heart", "")]
    for logger in watched:
        logger.addHandler(handler)
    try:
        with httpx.Client(base_url=live_server.url) as http:
            signed = http.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
            answer = http.post("/api/calls", json={"summary": "Jane Roe is upset"},
                               headers={"X-CSRF-Token": signed.json()["csrf_token"]})
        assert answer.status_code == 500 and "Jane" not in answer.text
        deadline = time.monotonic() + 5
        while "Exception in ASGI application" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for logger in watched:
            logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "Exception in ASGI application" in logged and "Traceback (most recent call last)" in logged
    assert "builtins.ValueError: (message withheld" in logged and "builtins.KeyError: (message withheld" in logged
    assert "in explode" in logged  # where it broke is kept
    assert "Jane" not in logged and "919" not in logged and "1990" not in logged


# --- one map from a refusal to its status ---------------------------------------------------------------------

def test_a_page_and_the_api_answer_the_same_refusal_with_the_same_status(
    signed_in: Callable[..., TestClient],
) -> None:
    """The JSON API answers JSON, a page answers a page (or a board fragment) — with the one status."""
    client = signed_in(Role.DISPATCHER)
    api = client.get("/api/calls/999999")
    page = client.get("/calls/999999", headers={"Accept": "text/html"})
    assert api.status_code == page.status_code == 404
    assert api.json()["detail"] == "call 999999 does not exist"
    assert page.headers["content-type"].startswith("text/html") and "Not found" in page.text
    assert "call 999999 does not exist" in page.text
    board = client.post("/dispatch/calls/999999/assign", data={"unit_id": "1", "token": "t-404"})
    sent = client.post("/api/calls/999999/responses", json={"unit_id": 1})
    assert board.status_code == sent.status_code == 404
    assert 'role="alert"' in board.text


def test_no_free_database_connection_is_a_503_to_retry_not_a_fault(
    signed_in: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Overload (every pooled connection taken for the pool's whole timeout) says so, with when to try again."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    client = signed_in(Role.DISPATCHER)

    def no_connection(**_: object) -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 20 reached, connection timed out")

    monkeypatch.setattr(calls_service, "search_calls", no_connection)
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies, headers=client.headers)
    with caplog.at_level(logging.WARNING):
        answer = quiet.get("/api/calls")
        page = quiet.get("/calls", headers={"accept": "text/html"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert "very busy" in answer.json()["detail"]
    assert page.status_code == 503 and "very busy" in page.text and page.headers["retry-after"] == "2"
    assert "content-security-policy" in page.headers
    assert "busy: no database connection free on GET /api/calls" in caplog.text
