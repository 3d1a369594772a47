"""A request body over the limit gets 413 with a message naming the limit, declared or chunked; EIDO has its own."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.body_limit import Limits, size_in_words
from heart.calls.models import Call
from heart.config import Settings
from tests.conftest import PASSWORD, Account, LiveServer

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
LIMIT = 4 * 1024
EIDO_LIMIT = 16 * 1024


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, max_body_bytes=LIMIT,
                    max_eido_body_bytes=EIDO_LIMIT)


def _call_json(summary_bytes: int) -> bytes:
    return json.dumps({"nature_code": "CHECK WELFARE", "priority": "3", "summary": "x" * summary_bytes}).encode()


def _chunks(body: bytes, size: int = 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _calls(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Call)) or 0)


@SQLITE
def test_a_body_over_the_limit_is_refused_with_413_and_saves_nothing(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    client = signed_in(Role.CALL_TAKER)
    big = _call_json(LIMIT)
    refused = client.post("/api/calls", content=big, headers={"content-type": "application/json"})
    assert refused.status_code == 413
    assert refused.json()["detail"] == "the request body is larger than 4 kB, the most this address accepts; send less"
    assert _calls(sessions) == 0
    accepted = client.post("/api/calls", content=_call_json(LIMIT // 2), headers={"content-type": "application/json"})
    assert accepted.status_code == 201, accepted.text
    assert _calls(sessions) == 1


@SQLITE
def test_a_chunked_body_without_a_length_is_counted_and_refused_once_it_passes_the_limit(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    client = signed_in(Role.CALL_TAKER)
    refused = client.post("/api/calls", content=_chunks(_call_json(LIMIT)),
                          headers={"content-type": "application/json"})
    assert refused.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in refused.request.headers
    assert refused.status_code == 413 and "larger than" in refused.json()["detail"]
    small = client.post("/api/calls", content=_chunks(_call_json(LIMIT // 2)),
                        headers={"content-type": "application/json"})
    assert small.status_code == 201
    assert _calls(sessions) == 1


@SQLITE
def test_a_page_form_over_the_limit_is_refused_too(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.CALL_TAKER)
    refused = client.post("/calls", data={"nature_code": "CHECK WELFARE", "summary": "y" * LIMIT},
                          headers={"accept": "text/html"})
    assert refused.status_code == 413


@SQLITE
def test_eido_documents_have_their_own_larger_limit(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.CALL_TAKER)
    between = b'{"notes": "' + b"n" * (LIMIT * 2) + b'"}'  # over the default, under EIDO's own limit
    assert LIMIT < len(between) < EIDO_LIMIT
    answer = client.post("/api/eido", content=between, headers={"content-type": "application/json"})
    assert answer.status_code == 422  # read and judged on its content, not refused for its size
    too_big = b'{"notes": "' + b"n" * EIDO_LIMIT + b'"}'
    refused = client.post("/api/eido", content=too_big, headers={"content-type": "application/json"})
    assert refused.status_code == 413 and "larger than" in refused.json()["detail"]
    chunked = client.post("/api/eido", content=_chunks(too_big), headers={"content-type": "application/json"})
    assert chunked.status_code == 413


def _raw_post(server: LiveServer, path: str, cookie: str, csrf: str, framing: str, body: Iterator[bytes]) -> bytes:
    """POST over a plain socket, sending ``body`` until the server answers; the answer's status line."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                      f"Cookie: heart_session={cookie}\r\nX-CSRF-Token: {csrf}\r\n{framing}\r\n").encode())
        sock.settimeout(0.05)
        answer = b""
        for chunk in body:
            try:
                sock.sendall(chunk)
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # the server closed the connection after answering
                break
            if answer:
                break
        sock.settimeout(30)
        while b"\r\n" not in answer:
            answer += sock.recv(65536)
        return answer.split(b"\r\n")[0]


@SQLITE
def test_a_50_mb_eido_document_on_a_real_server_is_refused_declared_or_chunked(
    live_server: LiveServer, make_user: Callable[..., Account],
) -> None:
    account = make_user(Role.CALL_TAKER)
    with httpx.Client(base_url=live_server.url) as http:
        signed = http.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
        cookie, csrf = signed.cookies["heart_session"], signed.json()["csrf_token"]
    megabyte = b"x" * 2**20
    sent: list[int] = []

    def declared() -> Iterator[bytes]:
        for _ in range(50):
            sent.append(len(megabyte))
            yield megabyte

    status = _raw_post(live_server, "/api/eido", cookie, csrf, f"Content-Length: {50 * 2**20}\r\n", declared())
    assert status.split()[1] == b"413", status
    assert sum(sent) < 50 * 2**20  # answered before the document was all sent
    sent.clear()

    def chunked() -> Iterator[bytes]:
        for _ in range(50):
            sent.append(len(megabyte))
            yield f"{len(megabyte):x}\r\n".encode() + megabyte + b"\r\n"

    status = _raw_post(live_server, "/api/eido", cookie, csrf, "Transfer-Encoding: chunked\r\n", chunked())
    assert status.split()[1] == b"413", status
    assert EIDO_LIMIT < sum(sent) < 50 * 2**20  # refused once past the limit, long before the end


def test_limits_are_chosen_by_path() -> None:
    limits = Limits(default=1, by_prefix=(("/api/eido", 5),))
    assert limits.for_path("/api/eido") == 5 and limits.for_path("/api/eido/x") == 5
    assert limits.for_path("/api/eidolon") == 1 and limits.for_path("/api/calls") == 1
    assert size_in_words(2**20) == "1 MB" and size_in_words(5 * 2**20) == "5 MB"
    assert size_in_words(1536 * 1024) == "1.5 MB" and size_in_words(4096) == "4 kB" and size_in_words(12) == "12 bytes"
    defaults = Settings(env="test")
    assert defaults.max_body_bytes == 2**20 and defaults.max_eido_body_bytes == 5 * 2**20
