"""The `heart` command as an operator uses it: help, migrations, accounts, configuration, one-line errors."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heart.auth import flows
from heart.config import DEVELOPMENT_SECRET_KEY
from heart.db import make_engine, make_sessionmaker
from heart.programs.models import Staff
from tests.conftest import REPO_ROOT

HEART = [str(Path(sys.executable).parent / "heart")]


def run(
    *args: str, db: Path | None = None, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HEART_ENV": "development", **(env or {})}
    if db is not None:
        environment["HEART_DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run([*HEART, *args], input=stdin, capture_output=True, text=True, env=environment,
                          cwd=REPO_ROOT, timeout=120)


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "db", "users", "config", "demo"):
        assert command in result.stdout


def test_an_operator_migrates_loads_programs_and_creates_an_account(tmp_path: Path) -> None:
    db = tmp_path / "ops.db"
    assert run("db", "upgrade", db=db).returncode == 0
    loaded = run("config", "load", str(REPO_ROOT / "cities" / "durham" / "programs.yaml"), db=db)
    assert loaded.returncode == 0 and "programs 6 added" in loaded.stdout
    created = run("users", "create", "--username", "rosa", "--role", "responder", "--unit", "CRT-2", db=db,
                  stdin="a long enough password\n")
    assert created.returncode == 0, created.stderr
    assert "created rosa (responder)" in created.stdout
    listed = run("users", "list", db=db)
    assert "rosa" in listed.stdout and "responder" in listed.stdout
    again = run("users", "create", "--username", "rosa", "--role", "admin", db=db, stdin="another password!\n")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: the username 'rosa' is already taken"
    assert run("db", "downgrade", "base", db=db).returncode == 0


def test_an_account_names_its_staff_member_and_an_operator_lifts_a_sign_in_lock(tmp_path: Path) -> None:
    db = tmp_path / "ops.db"
    run("db", "upgrade", db=db)
    run("config", "load", str(REPO_ROOT / "cities" / "durham" / "programs.yaml"), db=db)
    unknown = run("users", "create", "--username", "rosa", "--role", "responder", "--unit", "CRT-2", "--staff",
                  "Nobody Here", db=db, stdin="a long enough password\n")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "error: no staff member named Nobody Here"
    engine = make_engine(f"sqlite:///{db}")
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        session.add(Staff(name="Rosa Parks-Lee", role="EMT"))
    created = run("users", "create", "--username", "rosa", "--role", "responder", "--unit", "CRT-2", "--staff",
                  "Rosa Parks-Lee", db=db, stdin="a long enough password\n")
    assert created.returncode == 0, created.stderr

    def sign_in(password: str) -> flows.OpenedSession:
        return flows.sign_in(reads=sessions, writes=sessions, secret=DEVELOPMENT_SECRET_KEY, hours=1,
                             attempt=flows.LoginAttempt("rosa", password, "10.0.0.1"))

    for _ in range(4):  # the fourth wrong password makes the account wait
        with contextlib.suppress(flows.LoginRefused):
            sign_in("wrong password")
    with pytest.raises(flows.LoginThrottled):
        sign_in("a long enough password")
    unlocked = run("users", "unlock", "rosa", db=db)
    assert unlocked.returncode == 0 and "sign-in lock lifted" in unlocked.stdout
    opened = sign_in("a long enough password")
    assert opened.user.username == "rosa" and opened.user.staff_id is not None
    engine.dispose()


def test_mistakes_are_one_line_without_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "ops.db"
    run("db", "upgrade", db=db)
    short = run("users", "create", "--username", "x", "--role", "admin", db=db, stdin="short\n")
    assert short.returncode == 1 and "Traceback" not in short.stderr
    assert "at least 10 characters" in short.stderr
    missing = run("config", "load", str(tmp_path / "nope.yaml"), db=db)
    assert missing.returncode == 1 and "cannot be read" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize("env", [{"HEART_ENV": "production"}])
def test_the_development_secret_is_refused_in_production(env: dict[str, str], tmp_path: Path) -> None:
    result = run("db", "upgrade", db=tmp_path / "x.db", env=env)
    assert result.returncode == 1
    assert "HEART_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
