"""Each role against each route family: allowed, or 403. Everything is closed unless declared public."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.auth.permissions import PERMISSIONS
from heart.main import create_app

# One representative request per family; the body is irrelevant for roles that are refused, and for allowed
# roles we only check that the answer is not 401/403 (it may be 404 or 422: the guard let them through).
FAMILY_PROBES: dict[str, tuple[str, str]] = {
    "calls.read": ("GET", "/api/calls"),
    "calls.write": ("POST", "/api/calls"),
    "triage.decide": ("POST", "/api/calls/999999/triage"),
    "triage.override": ("POST", "/api/calls/999999/triage/override"),
    "dispatch.assign": ("POST", "/api/calls/999999/responses"),
    "dispatch.status": ("POST", "/api/responses/999999/en-route"),
    "dispatch.board": ("GET", "/api/alerts"),
    "responder.view": ("GET", "/responder/panel"),
    "encounters.read": ("GET", "/api/encounters/999999"),
    "encounters.write": ("POST", "/api/encounters/999999/narrative"),
    "programs.read": ("GET", "/api/programs"),
    "programs.admin": ("POST", "/api/units"),
    "units.duty": ("POST", "/api/units/999999/off-duty"),
    "users.admin": ("GET", "/api/users"),
    "signed_in": ("GET", "/api/auth/me"),
    "audit.read": ("GET", "/calls/999999/why"),
    "metrics.read": ("GET", "/metrics"),
    "simulation.run": ("GET", "/simulation/runs/no-such-run/status"),
    "resources.read": ("GET", "/api/resources/services"),
}


def test_every_family_has_a_probe() -> None:
    assert set(FAMILY_PROBES) == set(PERMISSIONS)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_gets_exactly_its_families(role: Role, signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(role)
    wrong: list[str] = []
    for family, (method, path) in FAMILY_PROBES.items():
        answer = client.request(method, path, json={})
        allowed = role in PERMISSIONS[family]
        if allowed and answer.status_code in (401, 403):
            wrong.append(f"{family}: {role.value} refused ({answer.status_code})")
        if not allowed and answer.status_code != 403:
            wrong.append(f"{family}: {role.value} got {answer.status_code}, expected 403")
    assert not wrong, wrong


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_nobody_signed_in_gets_401_from_the_api_and_the_login_page_from_pages(client: TestClient) -> None:
    for method, path in FAMILY_PROBES.values():
        assert client.request(method, path, json={}).status_code == 401, path
    page = client.get("/calls", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/calls"


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
