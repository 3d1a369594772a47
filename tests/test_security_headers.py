"""Every answer carries the security headers: a strict Content-Security-Policy, no framing, no sniffing, a same-origin
referrer, and ``no-store`` wherever personal data can be (static assets may be cached); HSTS where cookies are
Secure."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.calls import service as calls_service
from heart.config import Settings
from heart.main import create_app
from heart.security_headers import content_security_policy
from tests.conftest import Account, login

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = [part.split() for part in policy.split(";") if part.strip()]
    return {words[0]: words[1:] for words in parsed}


def assert_protected(answer: httpx.Response, *, cached: bool = False) -> None:
    headers = answer.headers
    policy = directives(headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other site
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    if not cached:
        assert headers["cache-control"] == "no-store", answer.request.url


@SQLITE
def test_pages_api_answers_and_errors_all_carry_the_headers_and_are_never_stored(
    signed_in: Callable[..., TestClient],
) -> None:
    client = signed_in(Role.DISPATCHER)
    for path in ("/", "/dispatch", "/calls", "/api/auth/me", "/api/dispatch/queue", "/api/calls/999999",
                 "/api/calls/not-a-number", "/docs", "/openapi.json", "/healthz"):
        answer = client.get(path, headers={"accept": "text/html"} if not path.startswith("/api") else {})
        assert_protected(answer)
    forbidden = client.get("/metrics", headers={"accept": "text/html"})
    assert forbidden.status_code == 403
    assert_protected(forbidden)
    client.cookies.clear()
    for path in ("/login", "/api/auth/me", "/responder"):
        assert_protected(client.get(path, follow_redirects=False))


@SQLITE
def test_static_assets_may_be_cached_but_still_carry_the_headers(client: TestClient) -> None:
    for path in ("/static/heart.css", "/static/board.js", "/vendor/htmx.org/dist/htmx.min.js"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert_protected(answer, cached=True)
        assert "no-store" not in answer.headers.get("cache-control", "")


@SQLITE
def test_a_crash_answered_by_the_outermost_error_handler_carries_the_headers(
    signed_in: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = signed_in(Role.CALL_TAKER)

    def explode(**_: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(calls_service, "create_call", explode)
    crashed = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies,
                         headers=client.headers).post("/api/calls", json={"summary": "x"})
    assert crashed.status_code == 500
    assert_protected(crashed)


@SQLITE
def test_hsts_only_where_cookies_are_secure(database_url: str, make_user: Callable[..., Account]) -> None:
    plain = Settings(env="test", database_url=database_url, cookie_secure=False)
    secure = Settings(env="production", secret_key="x" * 40, database_url=database_url)
    with TestClient(create_app(plain)) as client:
        assert "strict-transport-security" not in client.get("/login").headers
    with TestClient(create_app(secure), base_url="https://testserver") as client:
        assert client.get("/login").headers["strict-transport-security"].startswith("max-age=")
        account = make_user(Role.ANALYST)
        login(client, account.username)
        assert client.get("/api/auth/me").headers["strict-transport-security"].startswith("max-age=")


def test_images_come_from_heart_alone_even_map_tiles() -> None:
    """Tiles are fetched by HEART and served from /map/tiles (heart.places.pages): no tile server in the policy."""
    for tiles in ("", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"):
        images = directives(content_security_policy(Settings(env="test", map_tiles_url=tiles)))["img-src"]
        assert images == ["'self'", "data:", "blob:"]
