"""Every command on a database that was never migrated says in one line to run `heart db upgrade` (no traceback),
or migrates first when asked (`heart --migrate COMMAND`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.test_cli import run

COMMANDS = [
    ("demo", "--years", "0"),
    ("users", "list"),
    ("config", "load", str(REPO_ROOT / "cities" / "durham" / "programs.yaml")),
    ("metrics",),
    ("cad", "import", "--profile", "alexandria-decc", str(REPO_ROOT / "README.md")),
    ("triage", "replay", "--batch", "none"),
    ("export", "public-figures", "--year", "2025"),
    ("simulate", "fit", "--output", "model.yaml"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_command_on_an_unmigrated_database_says_to_upgrade_in_one_line(tmp_path: Path,
                                                                          command: tuple[str, ...]) -> None:
    result = run(*command, db=tmp_path / "never-migrated.db")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    if "No such command" in result.stderr or "Missing option" in result.stderr or "No such option" in result.stderr:
        pytest.fail(f"the test names a command this HEART does not have: {result.stderr[-300:]}")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "run `heart db upgrade` first" in lines[0], result.stderr


def test_migrate_when_asked(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    listed = run("--migrate", "users", "list", db=db)
    assert listed.returncode == 0, listed.stderr
    assert "database migrated from empty to" in listed.stderr
    assert run("users", "list", db=db).returncode == 0  # up to date now: nothing more to say
