"""`heart backup` / `heart restore` as an operator uses them, on SQLite and PostgreSQL: a round trip keeps every
row, a backup taken while the server writes is one consistent moment, and mistakes are one clear line."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.backup import BackupError, backup, restore
from heart.calls.models import Call
from heart.cli import app
from heart.config import get_settings
from heart.db import Base, make_engine, make_sessionmaker, transaction, utcnow
from heart.dispatch import service as dispatch
from heart.dispatch.schemas import ClearResponse
from heart.events import Event
from heart.migrate import current_head
from heart.triage.service import override_decision, triage_call
from tests import factories
from tests.conftest import POSTGRES_URL

runner = CliRunner()


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind to restore into: a new SQLite file, or a new empty PostgreSQL database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"heart_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def heart(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> tuple[int, str]:
    """Run a `heart` command on ``database_url``; its exit code and everything it printed, on one line."""
    monkeypatch.setenv("HEART_ENV", "development")
    monkeypatch.setenv("HEART_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, list(args))
    finally:
        get_settings.cache_clear()
    return result.exit_code, " ".join(result.output.split())


def a_documented_call(sessions: sessionmaker[Session]) -> None:
    """One call through triage, dispatch, arrival and clearing, with outcomes and a narrative."""
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        unit = factories.unit(session, crt, "CRT-1", now=now)
        user: User = create_user(session=session, username="rosa", password="a long enough password", now=now,
                                 role=Role.DISPATCHER)
        call = factories.call(session, now=now, address="1 Main St", summary="caller worried about a neighbor")
        decision = triage_call(session=session, call_id=call.id, now=now, actor_id=user.id)
        if decision.pathway != "CRT":  # CRT closed at this hour: a person sends it anyway, as on the board
            override_decision(session=session, call_id=call.id, pathway="CRT", reason="test", now=now,
                              actor_id=user.id)
        response = dispatch.assign_unit(session=session, call_id=call.id, unit_id=unit.id, at=now, now=now, by=user)
        dispatch.mark_on_scene(session=session, response_id=response.id, at=now, now=now, by=user)
        dispatch.clear_response(session=session, response_id=response.id, at=now, now=now, by=user,
                                outcome=ClearResponse(pd_backup_for_safety=False, ems_support=False,
                                                      disposition="resolved on scene", needs=["housing"],
                                                      narrative="talked for an hour; agreed to a follow-up"))


def every_row(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = {}
            for table in Base.metadata.sorted_tables:
                rows[table.name] = [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
            rows["alembic_version"] = [tuple(r) for r in connection.execute(text("SELECT * FROM alembic_version"))]
            return rows
    finally:
        engine.dispose()


def test_a_backup_restores_every_row(
    database_url: str, empty_target: str, sessions: sessionmaker[Session], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    a_documented_call(sessions)
    file = tmp_path / "heart.backup"

    code, said = heart(monkeypatch, database_url, "backup", str(file))
    assert code == 0, said
    assert f"to {file}" in said and f"revision {current_head()}" in said
    code, said = heart(monkeypatch, empty_target, "restore", str(file))
    assert code == 0, said
    assert "run `heart db upgrade`" not in said  # the backup is at the code's revision

    original, restored = every_row(database_url), every_row(empty_target)
    assert restored == original
    assert len(restored["narrative_entries"]) == 1 and len(restored["events"]) >= 6


def test_mistakes_are_one_line_and_destroy_nothing(
    database_url: str, empty_target: str, sessions: sessionmaker[Session], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    a_documented_call(sessions)
    file = tmp_path / "heart.backup"
    file.write_bytes(b"last week's backup")

    code, said = heart(monkeypatch, database_url, "backup", str(file))
    assert (code, said) == (1, f"error: {file} already exists; a backup never overwrites a file, choose a new name")
    assert file.read_bytes() == b"last week's backup"

    code, said = heart(monkeypatch, empty_target, "restore", str(file))
    assert code == 1 and said.startswith(f"error: {file} is not a") and "Traceback" not in said

    fresh = tmp_path / "fresh.backup"
    assert heart(monkeypatch, database_url, "backup", str(fresh))[0] == 0
    before = every_row(database_url)
    code, said = heart(monkeypatch, database_url, "restore", str(fresh))  # onto the live database
    assert code == 1 and "already holds tables; restore into" in said
    assert every_row(database_url) == before
    assert not list(tmp_path.glob(".*partial*"))  # nothing half-written left behind


@pytest.mark.postgres
def test_a_missing_pg_dump_is_named(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without the PostgreSQL client programs
    code, said = heart(monkeypatch, postgres_url, "backup", str(tmp_path / "x.dump"))
    assert code == 1
    assert said.startswith("error: pg_dump was not found on PATH; install the PostgreSQL client programs")
    assert not (tmp_path / "x.dump").exists()


def test_a_backup_taken_while_the_server_writes_is_one_consistent_moment(
    database_url: str, empty_target: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Calls keep arriving (each with its event, in one transaction) during the backup: the copy holds whole
    transactions only, and the writer was not stopped by it."""
    writing, stop, written = threading.Event(), threading.Event(), [0]

    def keep_writing() -> None:
        while not stop.is_set():
            with transaction(sessions) as session:
                factories.call(session, now=utcnow())
            written[0] += 1
            writing.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert writing.wait(20)
        with transaction(sessions) as session:  # a bigger database, so that the copy takes a while
            for _ in range(300):
                factories.call(session, now=utcnow(), summary="x" * 2000)
        copied_at = written[0]
        summary = backup(database_url=database_url, target=tmp_path / "live.backup")
        copied_until = written[0]
    finally:
        stop.set()
        writer.join(timeout=30)
    assert written[0] > copied_until >= copied_at > 0  # the writer went on during and after the copy

    restore(database_url=empty_target, source=summary.path)
    engine = make_engine(empty_target)
    try:
        restored = make_sessionmaker(engine)
        with restored() as session:
            calls = session.scalar(select(func.count()).select_from(Call)) or 0
            received = session.scalar(select(func.count()).select_from(Event).where(Event.kind == "call.received"))
            orphans = session.scalar(select(func.count()).select_from(Call).where(
                ~select(Event.id).where(Event.call_id == Call.id, Event.kind == "call.received").exists()))
    finally:
        engine.dispose()
    assert calls >= 300 + copied_at and calls == received and orphans == 0


def test_a_backup_of_a_missing_database_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="does not exist"):
        backup(database_url=f"sqlite:///{tmp_path / 'nope.db'}", target=tmp_path / "x.backup")
    assert not (tmp_path / "nope.db").exists()  # and did not create it
