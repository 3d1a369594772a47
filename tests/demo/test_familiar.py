"""The demo's year of history gives a familiar-neighbor report near what Durham published for Dec 2022 – Dec 2023
(0.5% of neighbors account for 12% of responses; 74 neighbors seen 5+ times, 19 seen 10+, 8 seen 20+, 4 seen 40+) —
through the real pipeline: a record per encounter with responders' errors, the linkage, its review, the report."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from heart.auth.models import Role
from heart.auth.service import create_user
from heart.db import make_engine, make_sessionmaker, transaction
from heart.demo.care import build_care
from heart.demo.familiar import link_and_review
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration
from heart.navigation.resources.importer import import_directory
from heart.neighbors.familiar.models import FamiliarFlag, MatchProposal, ProposalStatus
from heart.neighbors.familiar.report import familiar_report
from tests.navigation.followups.care import DIRECTORY, rules_for

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
END = date(2025, 6, 2)
NOW = datetime.combine(END, time(14, 0), tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def test_a_demo_year_lands_near_durhams_published_familiar_neighbor_figures(database_url: str) -> None:
    rules = rules_for()
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_demo_configuration(session=session, now=NOW, rng=random.Random(7))
        build_history(session=session, seed=7, years=1, end=END)
        import_directory(session=session, paths=[DIRECTORY], now=NOW)
        care = build_care(session=session, seed=7, now=NOW, rules=rules)
        reviewer = create_user(session=session, username="demo-supervisor", password="x" * 12, role=Role.SUPERVISOR,
                               now=NOW - timedelta(days=400))
        session.flush()
        done = link_and_review(session=session, people=care.people, now=NOW, rules=rules, reviewer=reviewer, seed=7)
    with sessions() as session:
        report = familiar_report(session=session, since=NOW - timedelta(days=365), until=NOW, rules=rules)
        waiting = session.scalar(select(func.count()).select_from(MatchProposal).where(
            MatchProposal.status == ProposalStatus.OPEN))
        flagged = session.scalar(select(func.count()).select_from(FamiliarFlag))
    seen = {row.at_least: row.neighbors for row in report.seen}
    top = next(row for row in report.shares if row.share_of_neighbors == 0.005)
    assert abs(top.share_of_responses - 0.12) <= 0.02, top
    assert abs(seen[5] - 74) <= 8 and abs(seen[10] - 19) <= 4, seen
    assert abs(seen[20] - 8) <= 3 and abs(seen[40] - 4) <= 2, seen
    assert report.neighbors < done.records  # records of one person were linked into one neighbor
    assert done.merged > 0 and done.accepted > 0 and waiting
    assert flagged == seen[5]  # a flag for each neighbor seen 5+ times, reviewed or not
    engine.dispose()
