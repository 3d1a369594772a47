"""Signing in and out through the pages: cookies, CSRF on forms, and no open redirects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.config import Settings
from heart.main import create_app
from tests.conftest import PASSWORD, Account, form_login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_signing_in_sets_an_http_only_cookie_and_lands_on_the_home_page(
    client: TestClient, make_user: Callable[..., Account]
) -> None:
    account = make_user(Role.DISPATCHER)
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    signed = form_login(client, account.username, next="/calls")
    assert signed.status_code == 303 and signed.headers["location"] == "/calls"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # test env: plain http
    home = client.get("/")
    assert "Calls" in home.text and "Dispatcher" in home.text


def test_cookies_are_secure_in_production(database_url: str, make_user: Callable[..., Account]) -> None:
    account = make_user(Role.ANALYST)
    settings = Settings(env="production", secret_key="x" * 40, database_url=database_url)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        signed = client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
    assert "Secure" in signed.headers["set-cookie"]


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient, make_user: Callable[..., Account]
) -> None:
    account = make_user(Role.SUPERVISOR)
    wrong = form_login(client, account.username, "nope")
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json() == {"detail": "wrong username or password"}


def test_logout_ends_the_session_on_the_server(client: TestClient, make_user: Callable[..., Account]) -> None:
    account = make_user(Role.CALL_TAKER)
    form_login(client, account.username)
    token = client.cookies.get("heart_session")
    home = client.get("/")
    csrf = home.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("heart_session", token)  # replaying the old cookie does not work any more
    assert client.get("/api/auth/me").status_code == 401


def test_a_form_post_without_its_csrf_token_is_refused(client: TestClient, make_user: Callable[..., Account]) -> None:
    account = make_user(Role.CALL_TAKER)
    form_login(client, account.username)
    refused = client.post("/logout", data={}, headers={"accept": "text/html"})
    assert refused.status_code == 403 and "CSRF" in refused.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_login_never_redirects_to_another_site(
    target: str, client: TestClient, make_user: Callable[..., Account]
) -> None:
    account = make_user(Role.NAVIGATOR)
    signed = form_login(client, account.username, next=target)
    assert signed.headers["location"] == "/"
