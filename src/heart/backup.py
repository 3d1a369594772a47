"""Backups of HEART's database, taken while the server keeps writing, and their restore.

SQLite: SQLite's online backup API copies the file in one step under a read transaction, so the copy is one
consistent moment even while the server commits (WAL lets writers go on); the copy is checked
(``PRAGMA integrity_check``) and written as one self-contained file. PostgreSQL: ``pg_dump`` in its custom
format (one snapshot by design) and ``pg_restore`` in a single transaction, so a failed restore leaves
nothing half-restored.

A backup never overwrites a file, and a restore only goes into a database that holds no tables yet: both
mistakes would destroy the very data a backup exists to keep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from heart.db import make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line a person can act on."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What a backup or a restore did."""

    backend: str  # "SQLite" or "PostgreSQL"
    path: Path
    size_bytes: int
    tables: int
    revision: str | None  # the schema revision the data is at
    seconds: float


def backup(*, database_url: str, target: Path) -> Summary:
    """Copy the database at ``database_url`` to the new file ``target``."""
    started = time.monotonic()
    if target.exists():
        raise BackupError(f"{target} already exists; a backup never overwrites a file, choose a new name")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        tables, revision = _sqlite_backup(_sqlite_path(url), target)
        backend = "SQLite"
    elif url.get_backend_name() == "postgresql":
        tables, revision = _pg_backup(url, target)
        backend = "PostgreSQL"
    else:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {url.get_backend_name()}")
    return Summary(backend, target, target.stat().st_size, tables, revision, time.monotonic() - started)


def restore(*, database_url: str, source: Path) -> Summary:
    """Restore the backup ``source`` into the database at ``database_url``, which must hold no tables yet."""
    started = time.monotonic()
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file")
    with source.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not magic.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not an SQLite backup"
                              + (" (it is a PostgreSQL dump)" if magic.startswith(PG_DUMP_MAGIC) else ""))
        path = _sqlite_path(url)
        tables, revision = _sqlite_restore(source, path)
        return Summary("SQLite", path, path.stat().st_size, tables, revision, time.monotonic() - started)
    if backend == "postgresql":
        if not magic.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump custom-format archive"
                              + (" (it is an SQLite backup)" if magic.startswith(SQLITE_MAGIC) else ""))
        tables, revision = _pg_restore(url, source)
        return Summary("PostgreSQL", source, source.stat().st_size, tables, revision, time.monotonic() - started)
    raise BackupError(f"restores support SQLite and PostgreSQL, not {backend}")


# --- SQLite --------------------------------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is no file to back up or restore into")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> tuple[int, str | None]:
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    partial = _partial_name(target)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=30)) as origin, \
                contextlib.closing(sqlite3.connect(partial)) as copy:
            origin.execute("PRAGMA busy_timeout=30000")
            origin.backup(copy, pages=-1)  # one step: one read transaction, one consistent moment
            _check_sqlite(copy, partial)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            tables, revision = _sqlite_contents(copy)
        _publish(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"could not copy {source}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return tables, revision


def _sqlite_restore(source: Path, target: Path) -> tuple[int, str | None]:
    if target.exists() and target.stat().st_size > 0:
        with contextlib.closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as existing:
            if _sqlite_contents(existing)[0]:
                raise BackupError(f"the database {target} already holds tables; restore into a new file "
                                  "(point HEART_DATABASE_URL at it) or move this one aside first")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    partial = _partial_name(target)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as origin, \
                contextlib.closing(sqlite3.connect(partial)) as copy:
            _check_sqlite(origin, source)
            tables, revision = _sqlite_contents(origin)
            if revision is None:
                raise BackupError(f"{source} is an SQLite file but not a HEART backup (no schema revision)")
            origin.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=WAL")
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)  # of the empty file being replaced; they would be replayed into it
        os.replace(partial, target)
        _sync_folder(target.parent)
    except sqlite3.Error as error:
        raise BackupError(f"could not restore {source}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return tables, revision


def _check_sqlite(connection: sqlite3.Connection, path: Path) -> None:
    verdict = connection.execute("PRAGMA integrity_check").fetchone()
    if not verdict or verdict[0] != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {verdict[0] if verdict else 'no answer'}")


def _sqlite_contents(connection: sqlite3.Connection) -> tuple[int, str | None]:
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    revision = None
    if "alembic_version" in names:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return len(names - {"alembic_version", "sqlite_sequence"}), revision


def _partial_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def _publish(partial: Path, target: Path) -> None:
    """Make ``partial`` durable, then give it its name, refusing if the name was taken meanwhile."""
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    try:
        os.link(partial, target)
    except FileExistsError:
        raise BackupError(f"{target} already exists; a backup never overwrites a file, choose a new name") from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise BackupError(f"{target} already exists; a backup never overwrites a file") from None
        os.replace(partial, target)
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a folder be opened
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# --- PostgreSQL ----------------------------------------------------------------------------------------------

def _tool(name: str, url: URL) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found on PATH; install the PostgreSQL client programs "
                          f"(e.g. Debian's postgresql-client-{_server_major(url)})")
    return found


def _server_major(url: URL) -> str:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version_num")).scalar_one())[:-4]
    except Exception:  # the hint is a courtesy; an unreachable server is reported by the tool itself
        return "N"
    finally:
        engine.dispose()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection URI for libpq without its password, and the environment that carries the password
    (a password in the arguments would show in every process listing)."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str], what: str) -> str:
    try:
        finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"{what} could not be started: {error.strerror}") from None
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.strip()]
        first = lines[0] if lines else f"exit status {finished.returncode}"
        raise BackupError(f"{what} failed: {first.removeprefix(f'{Path(command[0]).name}: ').strip()}")
    return finished.stdout


def _pg_backup(url: URL, target: Path) -> tuple[int, str | None]:
    pg_dump = _tool("pg_dump", url)
    pg_restore = _tool("pg_restore", url)
    uri, environment = _libpq(url)
    partial = _partial_name(target)
    try:
        _run([pg_dump, "--format=custom", "--file", str(partial), "--dbname", uri], environment, "pg_dump")
        listing = _run([pg_restore, "--list", str(partial)], environment, "pg_restore --list")  # readable?
        _publish(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    tables = sum(1 for line in listing.splitlines() if " TABLE public " in line and "alembic_version" not in line)
    return tables, _pg_revision(url)


def _pg_restore(url: URL, source: Path) -> tuple[int, str | None]:
    pg_restore = _tool("pg_restore", url)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        existing = inspect(engine).get_table_names()
    except Exception as error:
        raise BackupError(f"cannot reach the database {url.database} ({type(error).__name__}); create it "
                          "first (e.g. createdb) and check HEART_DATABASE_URL") from None
    finally:
        engine.dispose()
    if existing:
        raise BackupError(f"the database {url.database} already holds tables; restore into an "
                          "empty database (create a new one and point HEART_DATABASE_URL at it)")
    uri, environment = _libpq(url)
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", uri,
          str(source)], environment, "pg_restore")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        tables = len([name for name in inspect(engine).get_table_names() if name != "alembic_version"])
    finally:
        engine.dispose()
    return tables, _pg_revision(url)


def _pg_revision(url: URL) -> str | None:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
