"""Signing in cannot be turned against the service: no lock held while hashing, throttles shared by every
process, failed and throttled attempts on the record (never what was typed), and only HEART's own page signs in.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth import flows, service, throttle
from heart.auth.models import LoginSession, LoginThrottle, Role
from heart.config import Settings
from heart.db import make_engine, make_sessionmaker, utcnow
from heart.events import Event
from heart.main import create_app
from tests.conftest import PASSWORD, Account, form_login

SECRET = "test-secret"
WRONG = "Hunter2-is-not-it"


def attempt(sessions: sessionmaker[Session], username: str, password: str, now: datetime,
            address: str = "10.0.0.1") -> str:
    """One sign-in through the flow: "ok", "refused", "refused+wait" or "throttled"."""
    try:
        flows.sign_in(reads=sessions, writes=sessions, attempt=flows.LoginAttempt(username, password, address),
                      secret=SECRET, hours=1, clock=lambda: now)
    except flows.LoginThrottled:
        return "throttled"
    except flows.LoginRefused as refused:
        return "refused+wait" if refused.retry_after else "refused"
    return "ok"


def events(db: Session, kind: str) -> list[Event]:
    db.expire_all()
    return list(db.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def test_the_delay_grows_then_the_account_locks_and_a_known_or_unknown_name_behaves_the_same(
    sessions: sessionmaker[Session], make_user: Callable[..., Account], db: Session,
) -> None:
    account = make_user(Role.DISPATCHER)
    start = utcnow()

    def run(username: str) -> list[tuple[str, str]]:
        """Try a wrong password as soon as allowed; note each answer and whether trying earlier was refused."""
        seen, now = [], start
        for _ in range(throttle.ACCOUNT.lock_at):
            outcome = attempt(sessions, username, WRONG, now, address=f"10.1.{len(username)}.{len(seen)}")
            block = _block_of(sessions, username, now)
            early = attempt(sessions, username, PASSWORD, now, address="10.9.9.9") if block else "-"
            seen.append((outcome, early))
            now = block + timedelta(milliseconds=1) if block else now + timedelta(seconds=1)
        return seen

    known, unknown = run(account.username), run("nobody-" + account.username[:8])
    assert known == unknown  # the answers and delays do not tell which accounts exist
    assert [outcome for outcome, _ in known] == ["refused"] * 3 + ["refused+wait"] * 7
    assert all(early == "throttled" for _, early in known[3:])  # even the right password waits, unchecked
    delays = _delays(sessions, db)
    assert delays[:6] == [1, 2, 4, 8, 16, 32] and delays[6] == 15 * 60  # growing, then a 15-minute lock


def _block_of(sessions: sessionmaker[Session], username: str, now: datetime) -> datetime | None:
    account_key, _ = throttle.keys_for(username=username, address="", secret=SECRET)
    with sessions() as session:
        block = throttle.current_block(session=session, keys=(account_key,), now=now)
    return block.until if block else None


def _delays(sessions: sessionmaker[Session], db: Session) -> list[int]:
    failed = [e for e in events(db, "user.login_failed") if e.subject_type == "user"]
    return [round((datetime.fromisoformat(e.after["blocked_until"]) - e.at).total_seconds())  # type: ignore[index]
            for e in failed if e.after and e.after["blocked_until"]]


def test_a_correct_password_clears_the_account_count_but_not_the_address_count(
    sessions: sessionmaker[Session], make_user: Callable[..., Account],
) -> None:
    account = make_user(Role.CALL_TAKER)
    now = utcnow()
    for _ in range(3):
        assert attempt(sessions, account.username, WRONG, now, address="10.0.0.7") == "refused"
    assert attempt(sessions, account.username, PASSWORD, now, address="10.0.0.7") == "ok"
    assert attempt(sessions, account.username, WRONG, now, address="10.0.0.7") == "refused"  # count restarted
    with sessions() as session:
        rows = {row.key.split(":")[0]: row.failures for row in session.scalars(select(LoginThrottle))}
    assert rows == {"account": 1, "address": 4}


def test_one_address_trying_many_names_is_throttled_by_address(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    outcomes = [attempt(sessions, f"guess{n}", WRONG, now, address="203.0.113.5")
                for n in range(throttle.ADDRESS.free + 1)]
    assert outcomes == ["refused"] * throttle.ADDRESS.free + ["refused+wait"]
    assert attempt(sessions, "someone-else", WRONG, now, address="203.0.113.5") == "throttled"
    assert attempt(sessions, "someone-else", WRONG, now, address="198.51.100.9") == "refused"  # another address


def test_failed_and_throttled_sign_ins_are_recorded_without_what_was_typed(
    sessions: sessionmaker[Session], make_user: Callable[..., Account], db: Session,
) -> None:
    account = make_user(Role.SUPERVISOR)
    now = utcnow()
    typed_as_username = "MySecretPassw0rd!"  # people type their password into the username field
    attempt(sessions, typed_as_username, WRONG, now)
    for _ in range(4):
        attempt(sessions, account.username, WRONG, now)
    for _ in range(3):  # refused while blocked: one event for the block, not one per attempt
        assert attempt(sessions, account.username, PASSWORD, now) == "throttled"
    failed, throttled = events(db, "user.login_failed"), events(db, "user.login_throttled")
    assert [(e.subject_type, e.subject_id) for e in failed] == [("login", 0)] + [("user", account.user_id)] * 4
    assert failed[0].after == {"address": "10.0.0.1", "reason": "unknown username", "failures_in_a_row": 1,
                               "blocked_until": None}
    assert failed[1].after["reason"] == "wrong password"  # type: ignore[index]
    assert len(throttled) == 1 and throttled[0].after["scope"] == "account"  # type: ignore[index]
    recorded = " ".join(str(e.after) for e in failed + throttled)
    assert typed_as_username not in recorded and WRONG not in recorded and PASSWORD not in recorded
    assert all(typed_as_username not in row.key for row in db.scalars(select(LoginThrottle)))


def test_concurrent_wrong_passwords_are_each_counted(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda n=n: outcomes.append(attempt(sessions, "target", WRONG, now,
                                                                           f"10.2.0.{n}"))) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = sum(outcome.startswith("refused") for outcome in outcomes)
    assert len(outcomes) == 8 and checked >= throttle.ACCOUNT.free + 1  # the rest came after the block began
    with sessions() as session:
        key, _ = throttle.keys_for(username="target", address="", secret=SECRET)
        assert session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key.key)) == checked
    engine.dispose()


@pytest.fixture
def held_hash(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """While a password is being checked, the check waits here until the test lets it go."""
    entered, release = threading.Event(), threading.Event()

    class HeldHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            entered.set()
            release.wait(10)
            return super().verify(hash, password)

    monkeypatch.setattr(service, "_hasher", HeldHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield entered, release
    release.set()


def test_no_database_connection_is_held_while_the_password_is_checked(
    engine: Engine, sessions: sessionmaker[Session], make_user: Callable[..., Account],
    held_hash: tuple[threading.Event, threading.Event], database_url: str,
) -> None:
    account = make_user(Role.DISPATCHER)
    entered, release = held_hash
    result: list[str] = []
    signing_in = threading.Thread(target=lambda: result.append(attempt(sessions, account.username, WRONG, utcnow())))
    signing_in.start()
    assert entered.wait(10)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    if database_url.startswith("sqlite"):  # another writer gets the write lock at once, without waiting
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0.2, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE users SET display_name = 'still writable' WHERE id = ?", (account.user_id,))
        other.execute("COMMIT")
        other.close()
    release.set()
    signing_in.join(10)
    assert result == ["refused"]


# --- over HTTP: pages and API ---------------------------------------------------------------------------------

pytestmark_http = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytestmark_http
def test_throttled_sign_ins_answer_429_with_retry_after_on_the_api_and_the_page(
    client: TestClient, make_user: Callable[..., Account], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flows, "REFUSAL_DELAY_SECONDS", 0.0)  # the one-second block must outlast the answers
    account = make_user(Role.DISPATCHER)
    for _ in range(4):
        last = client.post("/api/auth/login", json={"username": account.username, "password": WRONG})
    assert last.status_code == 401 and last.headers["retry-after"] == "1"
    api = client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
    assert api.status_code == 429 and int(api.headers["retry-after"]) >= 1
    assert api.json()["detail"].startswith("too many failed sign-ins; try again in ")
    page = form_login(client, account.username)
    assert page.status_code == 429 and "Too many failed sign-ins. Try again in 1 second." in page.text
    assert "heart_session" not in client.cookies


@pytestmark_http
def test_the_count_is_shared_by_every_server_process(app_settings: Settings, make_user: Callable[..., Account]
                                                     ) -> None:
    account = make_user(Role.NAVIGATOR)
    first, second = create_app(app_settings), create_app(app_settings)
    with TestClient(first) as one, TestClient(second) as two:
        for client in (one, two, one, two):
            client.post("/api/auth/login", json={"username": account.username, "password": WRONG})
        assert two.post("/api/auth/login", json={"username": account.username, "password": PASSWORD}
                        ).status_code == 429
    for app in (first, second):
        app.state.engine.dispose()
        app.state.read_engine.dispose()


@pytestmark_http
@pytest.mark.parametrize("headers", [{"origin": "https://evil.example"}, {"referer": "https://evil.example/login"},
                                     {"origin": "null"}], ids=["origin", "referer", "opaque-origin"])
def test_a_cross_site_form_post_does_not_sign_the_browser_in(
    headers: dict[str, str], client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    account = make_user(Role.DISPATCHER)
    refused = form_login(client, account.username, headers=headers)  # even with a genuine token and cookie
    assert refused.status_code == 403 and "did not come from HEART" in refused.text
    assert "heart_session" not in client.cookies
    api = client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD}, headers=headers)
    assert api.status_code == 403 and "heart_session" not in client.cookies
    with sessions() as session:
        assert session.scalar(select(LoginSession.id)) is None


@pytestmark_http
def test_the_login_form_needs_its_own_token_and_cookie(client: TestClient, make_user: Callable[..., Account]) -> None:
    account = make_user(Role.DISPATCHER)
    no_token = client.post("/login", data={"username": account.username, "password": PASSWORD},
                           follow_redirects=False)
    assert no_token.status_code == 403
    client.get("/login")
    client.cookies.set("heart_login", "forged.0123456789abcdef0123456789abcdef", path="/login")
    forged = client.post("/login", data={"username": account.username, "password": PASSWORD,
                                         "csrf_token": "forged.0123456789abcdef0123456789abcdef"},
                         follow_redirects=False)
    assert forged.status_code == 403 and "heart_session" not in client.cookies
    client.cookies.clear()
    page = client.get("/login")
    assert page.cookies.get("heart_login") and 'name="csrf_token" value="' in page.text
    own = form_login(client, account.username, headers={"origin": "http://testserver",
                                                         "referer": "http://testserver/login"})
    assert own.status_code == 303 and "heart_session" in client.cookies


@pytestmark_http
def test_a_server_checks_passwords_at_the_lowest_cpu_priority_off_the_request_threads(
    client: TestClient, make_user: Callable[..., Account], monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = make_user(Role.DISPATCHER)
    seen: list[tuple[int, str]] = []

    class WatchedHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            thread = threading.current_thread()
            seen.append((os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), thread.name))
            return super().verify(hash, password)

    monkeypatch.setattr(service, "_hasher", WatchedHasher(time_cost=1, memory_cost=1024, parallelism=1))
    assert client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD}
                       ).status_code == 200
    priority, name = seen[0]
    assert name.startswith("password-check") and (priority == 19 or sys.platform != "linux")


@pytestmark_http
def test_more_sign_ins_than_a_process_takes_on_are_told_to_retry(
    client: TestClient, make_user: Callable[..., Account], monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = make_user(Role.DISPATCHER)
    monkeypatch.setattr(service, "MAX_WAITING", 0)
    busy = client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
    page = form_login(client, account.username)
    assert page.status_code == 503 and "try again in a few seconds" in page.text


@pytestmark_http
def test_a_refused_attempt_is_answered_late_and_again_without_the_database(
    app_settings: Settings, make_user: Callable[..., Account], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An app whose lifespan is not started: no realtime poll or scheduled job of its own runs, so every statement
    # counted below would be the login route's.
    client = TestClient(create_app(app_settings))
    account = make_user(Role.DISPATCHER)
    monkeypatch.setattr(flows, "REFUSAL_DELAY_SECONDS", 0.3)
    for _ in range(4):
        client.post("/api/auth/login", json={"username": account.username, "password": WRONG})
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    app = client.app
    started = time.monotonic()
    assert client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD}
                       ).status_code == 429  # read from the database (and recorded)
    assert time.monotonic() - started >= 0.3  # a guessing tool that waits for answers sends a few a second
    for engine in {app.state.engine, app.state.read_engine}:  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", count)
    again = client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
    assert again.status_code == 429 and int(again.headers["retry-after"]) >= 1
    assert statements == []  # this process knew the block already
    for engine in {app.state.engine, app.state.read_engine}:  # type: ignore[attr-defined]
        event.remove(engine, "before_cursor_execute", count)
    client.close()
    app.state.engine.dispose()  # type: ignore[attr-defined]
    app.state.read_engine.dispose()  # type: ignore[attr-defined]
