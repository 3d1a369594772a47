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


@contextmanager
def database() -> Iterator[Session]:
    """A transaction on the configured database; domain errors become one-line failures."""
    engine = make_engine(settings().database_url, synchronous=settings().sqlite_sync)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except (DomainError, YamlFileError) as error:
        raise fail(str(error)) from None
    finally:
        engine.dispose()
