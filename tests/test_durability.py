"""Durability: SQLite syncs every commit in production, and a server killed with SIGKILL in the middle of
acknowledged writes loses none of them and leaves nothing half-written, on SQLite and PostgreSQL.

The kill test is the reduced form of benchmarks/durability.py (two kills per database instead of a dozen);
`make bench` runs the full one and prints kills survived and writes lost.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from benchmarks.durability import kill_and_check
from sqlalchemy import text

from heart.config import Settings
from heart.db import make_engine


@pytest.mark.parametrize(("env", "setting", "expected", "pragma"), [
    ("production", None, "FULL", 2),
    ("development", None, "NORMAL", 1),
    ("test", None, "NORMAL", 1),
    ("development", "FULL", "FULL", 2),
])
def test_sqlite_syncs_every_commit_in_production(
    sqlite_url: str, env: str, setting: str | None, expected: str, pragma: int
) -> None:
    settings = Settings(env=env, secret_key="k" * 40, database_url=sqlite_url, sqlite_synchronous=setting)
    assert settings.sqlite_sync == expected
    engine = make_engine(sqlite_url, synchronous=settings.sqlite_sync)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == pragma
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_a_killed_server_keeps_every_acknowledged_write(database_url: str) -> None:
    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        outcome = thread.submit(asyncio.run, kill_and_check(
            database_url, backend=database_url.split(":")[0], kills=2, writers=3, workers=1, between=(0.2, 0.6),
            log=lambda _: None)).result()
    assert outcome.problems == []
    assert (outcome.kills, outcome.survived) == (2, 2)
    assert outcome.lost == outcome.doubled == outcome.half_written == 0
    assert outcome.lifecycles >= 3 and outcome.acknowledged >= 20
    assert outcome.resent >= 1  # the kills did land in the middle of requests
