"""An unexpected failure answers 500 without leaking what the request carried, to the client or the log."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.calls import service as calls_service

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
