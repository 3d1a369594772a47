"""CSRF on writes, and a route that declares no permission stops the app from starting (every route against
every role: tests/auth/test_route_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.main import create_app


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_without_the_csrf_token_is_refused(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.DISPATCHER)
    del client.headers["X-CSRF-Token"]
    refused = client.post("/api/calls", json={"nature_code": "CHECK WELFARE"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.headers["X-CSRF-Token"] = "forged"
    assert client.post("/api/calls", json={"nature_code": "CHECK WELFARE"}).status_code == 403


def test_a_route_that_declares_no_permission_stops_the_app_from_starting(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from heart import main
    from heart.config import Settings

    undeclared = APIRouter()

    @undeclared.get("/api/leaky")
    def leaky() -> dict[str, str]:
        return {}

    original = main._add_routes

    def with_leak(app):  # type: ignore[no-untyped-def]
        original(app)
        app.include_router(undeclared)

    monkeypatch.setattr(main, "_add_routes", with_leak)
    with pytest.raises(RuntimeError, match="/api/leaky"):
        create_app(Settings(env="test", database_url=sqlite_url))
