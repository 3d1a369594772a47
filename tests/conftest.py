"""Shared test fixtures: real SQLite files, a real PostgreSQL database, the app, users, and a browser.

PostgreSQL and Chromium are mandatory under CI=true (a missing one fails the run); elsewhere their tests
are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

import heart.models  # noqa: F401  (every table registered, as the app and the command line do)
from heart.auth import service as auth_service
from heart.auth.models import Role, User
from heart.config import Settings
from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.main import create_app
from heart.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("HEART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"


def wait_until_blocked(engine: Engine, query_like: str = "%", seconds: float = 10) -> None:
    """Wait (up to ``seconds``) until a PostgreSQL backend whose statement is like ``query_like`` waits on a lock:
    how a race test knows its second writer is queued behind the first before letting the first commit."""
    deadline = time.monotonic() + seconds
    with engine.connect() as watcher:
        while time.monotonic() < deadline and not watcher.scalar(text(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query ilike :query"),
                {"query": query_like}):
            time.sleep(0.02)


def shared_data() -> Path:
    """The real data beside the checkout (../shared/data), or HEART_SHARED_DATA."""
    return Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 with small parameters: the same code path, a fraction of the time."""
    original = auth_service._hasher
    auth_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth_service._hasher = original


def _unavailable(what: str, why: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but {why}")
    pytest.skip(f"{what} unavailable: {why}")


# --- databases -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The admin URL of the PostgreSQL server, checked once."""
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # any connection failure means the same thing here
        _unavailable("PostgreSQL", f"{POSTGRES_URL} did not answer ({type(error).__name__})")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_database(postgres_server_url: str) -> Iterator[str]:
    """A database of our own for this test process (xdist workers each get one), migrated once."""
    name = f"heart_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_server_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    """Empty every table and restart every id sequence.

    DELETE, not TRUNCATE: TRUNCATE rewrites each table's files (about 30 ms a table here, over a second for the
    whole schema), DELETE on the few rows a test leaves costs milliseconds. Foreign keys are not checked while
    everything is being emptied (the replica role; the test server's postgres user is a superuser).
    """
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = [row[0] for row in connection.execute(text(
            "select tablename from pg_tables where schemaname = 'public' and tablename != 'alembic_version'"))]
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            connection.execute(text(f'DELETE FROM "{table}"'))
        sequences = connection.execute(text(
            "select sequencename from pg_sequences where schemaname = 'public' and last_value is not null")).all()
        for (sequence,) in sequences:
            connection.execute(text("select setval(:sequence, 1, false)"), {"sequence": sequence})
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs twice: on a fresh SQLite file and on an emptied PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "heart.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh SQLite file only (for tests that do not depend on the backend)."""
    path = tmp_path / "heart.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """An emptied PostgreSQL database only (for races and LISTEN/NOTIFY)."""
    _truncate_all(postgres_database)
    return postgres_database


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking; tests commit what the code under test must see."""
    with sessions() as session:
        yield session


@pytest.fixture
def all_day_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Durham policy with every HEART program open around the clock, so tests pass at any hour of the day."""
    from tests.factories import all_day_env, write_all_day_policy

    path = write_all_day_policy(tmp_path / "policies")
    for name, value in all_day_env(path).items():
        monkeypatch.setenv(name, value)
    return path


# --- the app -------------------------------------------------------------------------------------------------

def test_settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False)


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    app = create_app(app_settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()
    app.state.read_engine.dispose()


@dataclass
class Account:
    user_id: int
    username: str
    role: Role
    unit_id: int | None


@pytest.fixture
def make_user(sessions: sessionmaker[Session]) -> Callable[..., Account]:
    """Create an account (password PASSWORD) and return who it is."""
    counter = iter(range(1, 10_000))

    def make(role: Role, *, unit_id: int | None = None, username: str | None = None) -> Account:
        name = username or f"{role.value.replace('-', '')}{next(counter)}"
        with transaction(sessions) as session:
            user: User = auth_service.create_user(session=session, username=name, password=PASSWORD, role=role,
                                                  now=utcnow(), unit_id=unit_id)
            return Account(user.id, name, role, unit_id)

    return make


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Sign ``client`` in through the API and send the CSRF token on every later write."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def form_login(client: TestClient, username: str, password: str = PASSWORD, next: str = "/",
               headers: dict[str, str] | None = None) -> httpx.Response:
    """Sign in through the login page as a browser does: load the form (its token and cookie), then post it."""
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"username": username, "password": password, "next": next,
                                       "csrf_token": token}, headers=headers or {}, follow_redirects=False)


@pytest.fixture
def signed_in(client: TestClient, make_user: Callable[..., Account]) -> Callable[..., TestClient]:
    """``signed_in(Role.DISPATCHER)`` → the client, signed in as a new user of that role."""

    def sign_in(role: Role, *, unit_id: int | None = None) -> TestClient:
        account = make_user(role, unit_id=unit_id)
        client.cookies.clear()
        return login(client, account.username)

    return sign_in


# --- a live server and a browser -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture
def live_server(app_settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on a free port, in a thread."""
    import uvicorn

    port = free_port()
    app = create_app(app_settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", app_settings)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()
    app.state.read_engine.dispose()


CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright."""
    chromium = Path(os.environ.get("HEART_CHROMIUM_PATH", "/usr/bin/chromium"))
    if not chromium.exists():
        _unavailable("Chromium", f"{chromium} does not exist")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in_page(page: Any, base_url: str, account: Account, path: str = "/") -> None:
    """Sign ``page`` in through the login form and wait until ``path`` has loaded with its scripts started
    (a field filled before htmx starts changes without being read)."""
    page.goto(f"{base_url}/login?next={path}")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(f"{base_url}{path}"), wait_until="load")


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Say how many route × role answers the matrix checked (tests/auth/test_route_matrix.py) and how many script
    payloads were planted and run (tests/e2e/test_no_script_from_data.py), even under -q."""
    stats = getattr(terminalreporter, "stats", {})
    for report in stats.get("passed", []) + stats.get("failed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "route_role_checks":
                terminalreporter.write_line(f"route × role matrix: {value} checked")  # type: ignore[attr-defined]
            elif name == "planted_payloads":  # tests/e2e/test_no_script_from_data.py
                terminalreporter.write_line(f"script from data: {value}")  # type: ignore[attr-defined]
