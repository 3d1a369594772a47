"""Fixtures for the resource directory: the official HSDS 3.0 example package, the demo directory, packages to spoil."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.config import SOURCE_ROOT
from heart.db import transaction
from heart.navigation.resources.importer import ImportSummary, import_directory
from tests.conftest import shared_data

HSDS = shared_data() / "standards" / "hsds-3.0"
EXAMPLE = HSDS / "examples" / "csv"
DEMO = SOURCE_ROOT / "cities" / "durham" / "resources" / "directory"
DURHAM = ZoneInfo("America/New_York")
MONDAY_10AM = datetime(2025, 12, 1, 10, 0, tzinfo=DURHAM)  # a Monday morning in the demo city
HAYTI = (35.9855, -78.8975)  # the Hayti pantry's door


@pytest.fixture(autouse=True)
def _reference_copy() -> None:
    if not (EXAMPLE / "services.csv").is_file():
        pytest.skip(f"the HSDS 3.0 reference copy is not in {HSDS} (set HEART_SHARED_DATA)")


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A writable copy of the official example package."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "example"))


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_table(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def with_cell(header: list[str], row: list[str], **cells: str) -> list[str]:
    """A copy of ``row`` with some cells changed by column name."""
    changed = list(row)
    for name, value in cells.items():
        changed[header.index(name)] = value
    return changed


@pytest.fixture
def run_import(sessions: sessionmaker[Session]) -> Callable[..., ImportSummary]:
    def run(*paths: Path, at: datetime = MONDAY_10AM) -> ImportSummary:
        with transaction(sessions) as session:
            return import_directory(session=session, paths=list(paths), now=at)

    return run
