"""No input makes the server fail: Schemathesis over every operation of the OpenAPI document, as each role.

A bounded pass on each database (more cases on SQLite, a shorter one on PostgreSQL, where the four classes of
issue 10 lived: out-of-range ids, repeated CAD numbers, unknown policy names, NUL characters). The long pass is
``benchmarks/fuzz.py``. ``HEART_FUZZ_EXAMPLES`` / ``HEART_FUZZ_SEED`` change the budget and the seed.
"""

from __future__ import annotations

import os

from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.config import Settings
from heart.main import create_app
from tests.api_fuzz import ROLES, fuzz, seed_world
from tests.dispatch.scenario import always_open

EXAMPLES = {"sqlite": 10, "postgres": 4}  # cases per operation and generation mode (positive, negative)


def test_no_operation_answers_a_server_error_for_any_role(app_settings: Settings, database_url: str) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    examples = int(os.environ.get("HEART_FUZZ_EXAMPLES", EXAMPLES[backend]))
    app = create_app(app_settings)  # served by Schemathesis' in-process ASGI client, lifespan included
    try:
        signed = seed_world(app.state.sessionmaker, always_open())
        report = fuzz(app, signed, examples=examples, random_seed=int(os.environ.get("HEART_FUZZ_SEED", "10")))
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()
    print(report.summary())
    every = report.in_document
    assert sorted(report.operations) == sorted(every) and len(every) >= 40
    assert not report.errors, report.summary()
    # The run reached past the door: every outcome a caller can meet was met, not only 401/403.
    assert {200, 201, 401, 403, 404, 422} <= set(report.statuses), report.summary()
    assert report.cases >= len(every) * examples


def test_each_role_signs_in_with_a_session_and_its_csrf_token(client: TestClient) -> None:
    signed = seed_world(client.app.state.sessionmaker, always_open())  # type: ignore[attr-defined]
    assert set(signed) == set(ROLES)
    for role, credentials in signed.items():
        client.cookies.clear()
        client.cookies.set("heart_session", credentials.token)
        assert client.get("/api/auth/me").json()["role"] == role.value
        # A write without the CSRF token is refused; with it, it goes through.
        assert client.post("/api/auth/logout").status_code == 403
        answer = client.post("/api/auth/logout", headers={"X-CSRF-Token": credentials.csrf_token})
        assert answer.status_code == 204, role
    assert Role.RESPONDER in signed
