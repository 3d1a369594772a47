"""An open event stream ends when its sign-in ends: signed out (elsewhere), expired or the account deactivated. It
says so (``signed_out``) and sends nothing more; the sign-in is re-checked more often than the keep-alives."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import LoginSession, Role, User
from heart.db import transaction, utcnow
from heart.dispatch import service
from heart.realtime import feed, lease
from heart.realtime.lease import Lease
from tests.conftest import PASSWORD, Account, LiveServer
from tests.dispatch.scenario import world

CHECK = 0.5  # seconds between sign-in checks in these tests (the product's is lease.CHECK_SECONDS)
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PRODUCT_CHECK_SECONDS = lease.CHECK_SECONDS
T = TypeVar("T")  # read before the fixture below shortens it


@pytest.fixture(autouse=True)
def _quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease, "CHECK_SECONDS", CHECK)


def test_the_sign_in_is_checked_more_often_than_keep_alives_are_sent() -> None:
    assert PRODUCT_CHECK_SECONDS <= feed.KEEPALIVE_SECONDS


class Stream:
    """Reads a server-sent event stream in a thread, keeping every event with the time it arrived."""

    def __init__(self, server: LiveServer, path: str, cookie: str) -> None:
        self.events: list[tuple[float, str]] = []
        self.ended_at: float | None = None
        self._client = httpx.Client(base_url=server.url, cookies={"heart_session": cookie}, timeout=30)
        self._thread = threading.Thread(target=self._read, args=(path,), daemon=True)
        self._thread.start()

    def _read(self, path: str) -> None:
        with self._client.stream("GET", path, headers={"accept": "text/event-stream"}) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("event: "):
                    self.events.append((time.monotonic(), line.removeprefix("event: ")))
        self.ended_at = time.monotonic()

    def wait_for(self, name: str, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, event in self.events:
                if event == name:
                    return at
            time.sleep(0.05)
        raise AssertionError(f"no {name!r} event within {timeout} s: {[e for _, e in self.events]}")

    def wait_end(self, timeout: float = 10) -> float:
        self._thread.join(timeout)
        assert self.ended_at is not None, "the stream is still open"
        return self.ended_at

    def close(self) -> None:
        self._client.close()


def _sign_in(server: LiveServer, account: Account) -> tuple[str, str]:
    with httpx.Client(base_url=server.url) as http:
        signed = http.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
        return signed.cookies["heart_session"], signed.json()["csrf_token"]


@pytest.fixture
def streams() -> Iterator[list[Stream]]:
    opened: list[Stream] = []
    yield opened
    for stream in opened:
        stream.close()


@SQLITE
def test_a_board_stream_ends_within_a_check_of_signing_out_and_sends_nothing_after(
    live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    streams: list[Stream],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_call(address="12 North St")
    cookie, csrf = _sign_in(live_server, make_user(Role.DISPATCHER))
    board = Stream(live_server, "/dispatch/stream", cookie)
    streams.append(board)
    board.wait_for("queue")
    with httpx.Client(base_url=live_server.url, cookies={"heart_session": cookie}) as http:
        signed_out_at = time.monotonic()
        assert http.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    farewell = board.wait_for("signed_out")
    ended = board.wait_end()
    assert farewell - signed_out_at < CHECK + 1.5
    assert board.events[-1][1] == "signed_out"  # its last word: no fragment after it
    assert ended >= farewell
    with httpx.Client(base_url=live_server.url, cookies={"heart_session": cookie}) as http:
        assert http.get("/dispatch/stream", headers={"accept": "text/event-stream"}).status_code == 401


@SQLITE
def test_a_responder_stream_ends_when_the_session_expires_or_the_account_is_deactivated(
    live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    streams: list[Stream],
) -> None:
    w = world(sessions, "CRT")
    unit_id = w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(address="12 North St")
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=call_id, unit_id=unit_id, at=w.now, now=w.now, by=w.dispatcher)
    first = make_user(Role.RESPONDER, unit_id=unit_id)
    second = make_user(Role.RESPONDER, unit_id=unit_id)
    expiring = Stream(live_server, "/responder/stream", _sign_in(live_server, first)[0])
    deactivated = Stream(live_server, "/responder/stream", _sign_in(live_server, second)[0])
    streams.extend([expiring, deactivated])
    expiring.wait_for("state")
    deactivated.wait_for("state")

    with transaction(sessions) as session:  # the session's time runs out
        session.execute(update(LoginSession).where(LoginSession.user_id == first.user_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    expiring.wait_for("signed_out")
    expiring.wait_end()
    assert deactivated.ended_at is None  # the other crew member's stream goes on

    with transaction(sessions) as session:
        session.execute(update(User).where(User.id == second.user_id).values(active=False))
    deactivated.wait_for("signed_out")
    deactivated.wait_end()
    assert [name for _, name in deactivated.events][-1] == "signed_out"


def test_a_lease_asks_at_most_every_check_and_stays_over_once_revoked() -> None:
    answers = iter([True, False])
    asked: list[float] = []

    async def still_valid() -> bool:
        asked.append(time.monotonic())
        return next(answers)

    async def scenario() -> list[bool]:
        watched = Lease(60, still_valid, check_seconds=0.2)
        seen = [await watched.over()]  # not yet due: nobody asked
        await asyncio.sleep(0.25)
        seen.append(await watched.over())  # asked: still valid
        seen.append(await watched.over())  # not due again yet
        await asyncio.sleep(0.25)
        seen.append(await watched.over())  # asked: revoked
        seen.append(await watched.over())  # stays over without asking
        return seen

    assert run(scenario()) == [False, False, False, True, True]
    assert len(asked) == 2
    unwatched = Lease(0.0)
    assert run(unwatched.over()) is True and unwatched.farewell() is None  # time ran out: no farewell


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a loop of its own thread (a browser test's Playwright may hold this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
