"""Fixtures: the town of records, with Durham's rules (or changed ones)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.navigation.followups.care import rules_for
from tests.neighbors.familiar.town import Town, town

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def place(sessions: sessionmaker[Session]) -> Town:
    return town(sessions, NOW, rules_for())
