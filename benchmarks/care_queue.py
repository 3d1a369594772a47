"""Care navigation benchmark: the demo's year of follow-ups, then what a navigator's screens and the dashboard cost.

    .venv/bin/python benchmarks/care_queue.py [--years 1] [--database-url URL] [--repeat 20]

Builds the demo program (configuration, a simulated history, the demo HSDS directory and every consented
encounter's follow-up) in a new SQLite file (or an empty database named by ``--database-url``), then times:
building the follow-ups, reading the queue (every open follow-up and those closed this week, with their neighbors,
needs and attempts, each read logged), one follow-up's page data, one neighbor's timeline, and the care figures
of the dashboard (``heart.metrics.care``). Prints the medians.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from heart.auth.models import Role
from heart.auth.service import create_user
from heart.config import Settings
from heart.db import make_engine, make_sessionmaker, transaction
from heart.demo.care import build_care
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration
from heart.metrics.backends import open_database
from heart.metrics.definitions import Period
from heart.metrics.service import care_metrics
from heart.migrate import upgrade
from heart.navigation.followups.models import FollowUp, FollowUpStatus
from heart.navigation.followups.queue import build_queue, follow_up_detail, neighbor_timeline
from heart.navigation.followups.rules import care_rules
from heart.navigation.resources.importer import import_demo_directory


def timed(work: Callable[[], object], repeat: int) -> float:
    """The median milliseconds of ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'care.db'}"
    upgrade(url)
    settings = Settings(env="test", database_url=url)
    rules = care_rules(settings)
    sessions = make_sessionmaker(make_engine(url))
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        load_demo_configuration(session=session, now=now, rng=random.Random(7))
        build_history(session=session, seed=7, years=args.years)
        import_demo_directory(session=session, resources_dir=settings.resources_dir, now=now)
        navigator = create_user(session=session, username="bench-navigator", password="x" * 12,
                                role=Role.NAVIGATOR, now=now)
        session.flush()
        session.expunge(navigator)
    with transaction(sessions) as session:
        started = time.perf_counter()
        summary = build_care(session=session, seed=7, now=now, rules=rules)
        build_seconds = time.perf_counter() - started
    with sessions() as session:
        one = session.scalars(select(FollowUp).where(FollowUp.status == FollowUpStatus.IN_CONTACT)).first()
        assert one is not None

    def in_transaction(work: Callable[..., object]) -> Callable[[], object]:
        def run() -> object:
            with transaction(sessions) as session:
                return work(session)
        return run

    queue_ms = timed(in_transaction(lambda s: build_queue(session=s, reader=navigator, now=now)), args.repeat)
    with transaction(sessions) as session:
        shown = build_queue(session=session, reader=navigator, now=now)
    detail_ms = timed(in_transaction(lambda s: follow_up_detail(session=s, follow_up_id=one.id, reader=navigator,
                                                                now=now)), args.repeat)
    timeline_ms = timed(in_transaction(lambda s: neighbor_timeline(session=s, neighbor_id=one.neighbor_id,
                                                                   reader=navigator, now=now)), args.repeat)

    def figures() -> object:
        with open_database(url) as source:
            return care_metrics(source=source, period=Period())

    metrics_ms = timed(figures, max(3, args.repeat // 5))
    listed = len(shown.awaiting_contact) + len(shown.in_contact) + len(shown.recently_closed)
    print(f"follow-ups built: {summary.follow_ups:,} ({summary.open:,} open, {summary.referrals:,} referrals) "
          f"in {build_seconds:.1f} s")
    print(f"queue ({listed} follow-ups listed, each neighbor's read logged): {queue_ms:.1f} ms")
    print(f"one follow-up's page data: {detail_ms:.1f} ms · one neighbor's timeline: {timeline_ms:.1f} ms")
    print(f"care figures over {summary.follow_ups:,} follow-ups: {metrics_ms:.0f} ms")


if __name__ == "__main__":
    main()
