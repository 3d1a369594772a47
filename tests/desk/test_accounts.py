"""The administrators' accounts screen: create, role and unit, disable (sessions end), reset password (a one-time
password shown once, never logged)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role, User
from heart.events import Event
from tests.conftest import PASSWORD, Account, login
from tests.dispatch.scenario import world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _account(sessions: sessionmaker[Session], username: str) -> User:
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        session.expunge(user)
        return user


def test_an_administrator_creates_changes_disables_and_resets_accounts(
    client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = world(sessions, "CRT")
    unit_id = w.add_unit("CRT", "CRT-1")
    admin = make_user(Role.ADMIN)
    crew = make_user(Role.RESPONDER)
    other = TestClient(client.app)
    login(other, crew.username)
    assert other.get("/api/auth/me").status_code == 200
    login(client, admin.username)
    caplog.set_level(logging.DEBUG)

    made = client.post("/admin/accounts", data={"username": "new.taker", "display_name": "New Taker",
                                                 "role": "call-taker", "unit_id": "", "password": ""})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    one_time = re.search(r'id="one-time-password">([^<]+)<', made.text)
    assert one_time is not None
    fresh = TestClient(client.app)
    assert login(fresh, "new.taker", one_time.group(1)).get("/api/auth/me").json()["role"] == "call-taker"

    taken = client.post("/admin/accounts", data={"username": "new.taker", "display_name": "Again",
                                                  "role": "dispatcher", "password": "long enough pass"})
    assert taken.status_code == 409 and "already taken" in taken.text and 'value="Again"' in taken.text

    changed = client.post(f"/admin/accounts/{crew.user_id}", data={"role": "responder", "unit_id": str(unit_id)},
                          follow_redirects=False)
    assert changed.status_code == 303 and _account(sessions, crew.username).unit_id == unit_id

    disabled = client.post(f"/admin/accounts/{crew.user_id}/disable", follow_redirects=False)
    assert disabled.status_code == 303 and _account(sessions, crew.username).active is False
    assert other.get("/api/auth/me").status_code == 401  # the disabled account's session ended at once
    assert client.post(f"/admin/accounts/{admin.user_id}/disable", follow_redirects=False).status_code == 409

    client.post(f"/admin/accounts/{crew.user_id}/enable")
    reset = client.post(f"/admin/accounts/{crew.user_id}/password", data={"password": ""})
    new_password = re.search(r'id="one-time-password">([^<]+)<', reset.text)
    assert new_password is not None
    assert login(TestClient(client.app), crew.username, new_password.group(1)).get("/api/auth/me").status_code == 200
    set_one = client.post(f"/admin/accounts/{crew.user_id}/password", data={"password": "a chosen password"})
    assert set_one.status_code == 200 and "one-time-password" not in set_one.text
    short = client.post(f"/admin/accounts/{crew.user_id}/password", data={"password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text

    with sessions() as session:
        events = list(session.scalars(select(Event).where(Event.kind.like("user.%"))))
    stored = repr([(e.before, e.after) for e in events]) + caplog.text
    for secret in (one_time.group(1), new_password.group(1), "a chosen password", PASSWORD):
        assert secret not in stored
    assert {"user.created", "user.changed", "user.disabled", "user.enabled", "user.password_reset"} <= {
        e.kind for e in events}


def test_only_administrators_see_the_accounts_screen(signed_in: Callable[..., TestClient]) -> None:
    assert signed_in(Role.SUPERVISOR).get("/admin/accounts", headers={"Accept": "text/html"}).status_code == 403
    page = signed_in(Role.ADMIN).get("/admin/accounts")
    assert page.status_code == 200 and "New account" in page.text
