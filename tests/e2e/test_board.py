"""The live dispatch board in real browsers: two boards see each other's assignments within a second, in one
server process (SQLite) and across two uvicorn workers (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.dispatch import service
from heart.realtime.notify import enable_notifications
from tests.conftest import PASSWORD, Account, LiveServer, free_port
from tests.dispatch.scenario import DOWNTOWN, NORTH, SOUTH, World, world

pytestmark = pytest.mark.browser
WITHIN = 1.0  # seconds: the promise to dispatchers


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    """No map tiles from the internet in tests: the board draws its markers on a blank map."""
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


def open_board(browser: Browser, base_url: str, account: Account) -> tuple[BrowserContext, Page]:
    """A dispatcher's own browser (own cookies), signed in, with the board live."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url)
                  else route.abort())  # loopback only
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}/login?next=/dispatch")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dispatch board")).to_be_visible()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    return context, page


def seen_within(page: Page, selector: str, text: str, started: float) -> float:
    """Seconds from ``started`` until ``selector`` on ``page`` shows ``text``."""
    expect(page.locator(selector)).to_contain_text(text, timeout=5_000)
    return time.monotonic() - started


def _scene(sessions: sessionmaker[Session]) -> tuple[World, list[int]]:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1", home=DOWNTOWN)
    w.add_unit("CRT", "CRT-2", home=NORTH)
    w.add_unit("CRT", "CRT-3", home=SOUTH)
    return w, [w.add_call(at=NORTH, address="12 North St"), w.add_call(at=SOUTH, address="9 South St")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_boards_see_each_others_assignments_within_a_second(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    _, (north, south) = _scene(sessions)
    first, board_a = open_board(browser, live_server.url, make_user(Role.DISPATCHER))
    second, board_b = open_board(browser, live_server.url, make_user(Role.SUPERVISOR))
    try:
        expect(board_a.locator(f"#queue-call-{north}")).to_contain_text("12 North St")
        started = time.monotonic()
        board_a.locator(f"#queue-call-{north}").get_by_role("button", name="Assign CRT-2").click()
        elapsed = seen_within(board_b, "#unit-CRT-2", "dispatched", started)
        assert elapsed < WITHIN, f"board B saw A's assignment after {elapsed:.2f} s"
        expect(board_b.locator(f"#queue-call-{north}")).to_have_count(0)
        expect(board_a.locator("#board-message")).to_contain_text("CRT-2 sent to call")

        started = time.monotonic()
        board_b.locator(f"#queue-call-{south}").get_by_role("button", name="Assign CRT-3").click()
        elapsed = seen_within(board_a, f"#active-call-{south}", "CRT-3", started)
        assert elapsed < WITHIN, f"board A saw B's assignment after {elapsed:.2f} s"
        expect(board_a.locator("#queue")).to_contain_text("No call is waiting")
        expect(board_a.locator("#map .leaflet-interactive")).not_to_have_count(0)  # markers without tiles
    finally:
        first.close()
        second.close()


# --- two uvicorn workers on PostgreSQL ---------------------------------------------------------------------

@pytest.fixture
def two_workers(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    """`heart serve --workers 2` against the test database, as a separate process."""
    port = free_port()
    env = {**os.environ, "HEART_DATABASE_URL": postgres_url, "HEART_ENV": "test", "HEART_MAP_TILES_URL": "",
           "HEART_COOKIE_SECURE": "false", "HEART_LOG_LEVEL": "warning"}
    heart = Path(sys.executable).with_name("heart")
    log = (tmp_path / "serve.log").open("w")
    # Its own process group, so that no worker outlives the test (an orphan would keep writing to the database).
    server = subprocess.Popen([str(heart), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill_all() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # two workers import the whole app; slow on a busy 2-core machine
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            kill_all()
            pytest.fail(f"heart serve did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield url
    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=15)
    kill_all()
    log.close()


def test_boards_on_two_workers_stay_in_step_through_postgres(
    two_workers: str, browser: Browser, postgres_url: str,
) -> None:
    from heart.auth.service import create_user

    engine = make_engine(postgres_url)
    sessions = make_sessionmaker(engine)
    enable_notifications(sessions)  # this test process is a third process changing things
    w, (north, south) = _scene(sessions)
    accounts = []
    with transaction(sessions) as session:
        for name, role in (("pg-dispatcher", Role.DISPATCHER), ("pg-supervisor", Role.SUPERVISOR)):
            user = create_user(session=session, username=name, password=PASSWORD, role=role, now=utcnow())
            accounts.append(Account(user.id, name, role, None))
    contexts = []
    try:
        first, board_a = open_board(browser, two_workers, accounts[0])
        contexts.append(first)
        second, board_b = open_board(browser, two_workers, accounts[1])
        contexts.append(second)
        # Several requests, so both workers serve pages and streams (the kernel spreads connections).
        for _ in range(4):
            board_b.reload()
            expect(board_b.locator("#live")).to_have_attribute("data-state", "live")

        started = time.monotonic()
        board_a.locator(f"#queue-call-{north}").get_by_role("button", name="Assign CRT-2").click()
        elapsed = seen_within(board_b, "#unit-CRT-2", "dispatched", started)
        assert elapsed < WITHIN, f"board B saw A's assignment after {elapsed:.2f} s"

        # A change committed by another process entirely reaches both boards, whichever worker holds them.
        started = time.monotonic()
        with transaction(sessions) as session:
            service.assign_unit(session=session, call_id=south, unit_id=w.units["CRT-3"], at=utcnow(),
                                now=utcnow(), by=w.dispatcher)
        for board in (board_a, board_b):
            elapsed = seen_within(board, "#unit-CRT-3", "dispatched", started)
            assert elapsed < WITHIN, f"a board saw the other process's change after {elapsed:.2f} s"
    finally:
        for context in contexts:
            context.close()
        engine.dispose()
