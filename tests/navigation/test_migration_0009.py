"""Migration 0009 rebuilds follow_ups and neighbors on SQLite (batch mode) while other tables' rows point at them:
a database holding a program's care navigation goes down to 0008 and up again with every row and every foreign key
intact."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction, utcnow
from heart.migrate import downgrade, upgrade
from heart.navigation.followups import service
from tests.navigation.followups.care import care_world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
COUNTED = ("neighbors", "follow_ups", "contact_attempts", "follow_up_notes", "follow_up_needs", "neighbor_consents",
           "neighbor_links", "programs", "units")


def counts(path: str) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0] for table in COUNTED}


def test_a_database_with_follow_ups_goes_down_and_up_again_whole(database_url: str,
                                                                  sessions: sessionmaker[Session]) -> None:
    care = care_world(sessions, now=utcnow() - timedelta(hours=2))
    follow_up = care.clear_with()
    assert follow_up is not None
    with transaction(sessions) as session:
        service.record_attempt(session=session, follow_up_id=follow_up.id, method="phone", result="no_answer",
                               at=care.now, now=care.now, by=care.navigator, client_token="t" * 12, rules=care.rules)
    sessions.kw["bind"].dispose()
    path = database_url.removeprefix("sqlite:///")
    before = counts(path)
    assert before["follow_ups"] == 1 and before["contact_attempts"] == 1
    downgrade(database_url, "0008")
    assert counts(path) == before
    upgrade(database_url)
    assert counts(path) == before
