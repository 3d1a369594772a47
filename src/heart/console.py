"""What every `heart` command shares: where output and errors go, how a failure is said, the output formats, the
settings and a transaction on the configured database.

The top-level command (``heart.cli``) and every domain's sub-commands (``heart.<domain>.cli``) import from here, so
no domain command needs the top-level one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import heart.models  # noqa: F401  (every command registers every table before its first session)
from heart.config import InsecureSettings, Settings, get_settings
from heart.db import make_engine, make_sessionmaker, transaction
from heart.errors import DomainError
from heart.yamlfile import YamlFileError

console = Console()
err = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear line to stderr and return the Exit to raise (no traceback for a person's mistake)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings() -> Settings:
    """The settings from the environment; a mistake in them is one line and exit 1."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in error.errors())
        raise fail(problems.replace("Value error, ", "")) from None
    except InsecureSettings as error:
        raise fail(str(error)) from None


MIGRATE_WHEN_NEEDED = {"on": False}
"""Set by ``heart --migrate``: a database behind the code is brought up to date instead of refused."""
UPGRADE_HINT = "run `heart db upgrade` first (or add --migrate: `heart --migrate COMMAND`)"


def ensure_migrated(database_url: str) -> None:
    """Refuse, in one line, a database whose schema is not the code's (never migrated, or behind); with
    ``--migrate`` bring it up to date instead. A database newer than the code is always refused."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from heart.migrate import alembic_config, current_head, upgrade

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        raise fail(f"cannot open the database ({type(error).__name__}); check HEART_DATABASE_URL") from None
    finally:
        engine.dispose()
    head = current_head()
    if current == head:
        return
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(database_url)).walk_revisions()}
    if current is not None and current not in known:
        raise fail(f"the database is at revision {current}, which this HEART does not know (a newer release?)")
    if MIGRATE_WHEN_NEEDED["on"]:
        upgrade(database_url)
        err.print(f"database migrated from {current or 'empty'} to {head}", highlight=False)
        return
    state = "has never been migrated" if current is None else f"is at revision {current}, behind {head}"
    raise fail(f"the database {state}: {UPGRADE_HINT}")


def migrated_database_url() -> str:
    """The configured database's URL, once its schema is checked (``ensure_migrated``)."""
    url = settings().database_url
    ensure_migrated(url)
    return url


@contextmanager
def database() -> Iterator[Session]:
    """A transaction on the configured, migrated database; domain errors become one-line failures."""
    engine = make_engine(migrated_database_url(), synchronous=settings().sqlite_sync)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except (DomainError, YamlFileError) as error:
        raise fail(str(error)) from None
    finally:
        engine.dispose()
