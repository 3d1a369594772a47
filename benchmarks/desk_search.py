"""The board's call search: milliseconds per search over a large call history, beside the unfiltered newest page.

    .venv/bin/python benchmarks/desk_search.py [--calls 300000] [--repeat 20] [--postgres URL]

A migrated database (an SQLite file, or the PostgreSQL database given) gets ``--calls`` calls spread over three
years (incident numbers, CAD numbers, addresses on 400 streets, statuses), inserted in bulk. Each search runs
``heart.calls.service.search_calls`` as a supervisor (no need-to-know filter) for one 25-call page with its total;
the baseline is the same function with no filter at all (the newest 25 and the count of everything). Prints the
median and the slowest of ``--repeat`` runs of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

import heart.models  # noqa: F401
from heart.auth.models import Role, User
from heart.calls.models import Call, CallSource, CallStatus
from heart.calls.service import CallSearch, search_calls
from heart.db import make_engine, make_sessionmaker
from heart.migrate import upgrade

STREETS = [f"{name} {kind}" for name in ("Main", "Elm", "Oak", "Fayetteville", "Roxboro", "Alston", "Holloway",
                                         "Chapel Hill", "Club", "Hillandale", "Guess", "Duke", "Mangum", "Pettigrew",
                                         "Lakewood", "Cornwallis", "Garrett", "Hope Valley", "University", "Angier")
           for kind in ("St", "Rd", "Ave", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl", "Cir", "Pkwy", "Ter", "Trl", "Loop",
                        "Run", "Row", "Sq", "Hwy", "Xing", "Walk")]


def fill(url: str, calls: int) -> datetime:
    engine = make_engine(url)
    rng = random.Random(15)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    statuses = [CallStatus.RESOLVED] * 90 + [CallStatus.CANCELLED] * 5 + [CallStatus.TRIAGED] * 5
    with engine.begin() as connection:
        batch = []
        for n in range(calls):
            received = end - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
            batch.append({"external_id": f"D-{n:08d}", "incident_number": f"{received.year}-{n:07d}",
                          "source": CallSource.E911, "received_at": received, "nature_code": "CHECK WELFARE",
                          "address": f"{rng.randint(1, 4999)} {rng.choice(STREETS)}", "screening": {},
                          "status": rng.choice(statuses)})
            if len(batch) == 10_000:
                connection.execute(insert(Call), batch)
                batch = []
        if batch:
            connection.execute(insert(Call), batch)
    engine.dispose()
    return end


def timed(sessions: object, search: CallSearch, repeat: int) -> tuple[float, float, int]:
    viewer = User(id=0, username="bench", role=Role.SUPERVISOR)
    times, total = [], 0
    for _ in range(repeat):
        with sessions() as session:  # type: ignore[operator]
            started = time.perf_counter()
            rows, total = search_calls(session=session, viewer=viewer, search=search, limit=25)
            times.append((time.perf_counter() - started) * 1000)
            assert len(rows) <= 25
    return statistics.median(times), max(times), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", help="an empty PostgreSQL database's URL (default: an SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{Path(folder) / 'search.db'}"
        upgrade(url)
        started = time.perf_counter()
        end = fill(url, args.calls)
        print(f"{args.calls} calls written in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        day = end - timedelta(days=200)
        cases = {
            "baseline: newest page, no filter": CallSearch(),
            "incident number (whole)": CallSearch(number=f"{(end - timedelta(days=1)).year}-0123456"),
            "incident number (prefix 2026-00012)": CallSearch(number="2026-00012"),
            "CAD number": CallSearch(number="D-00123456"),
            "address words 'main st'": CallSearch(address="main st"),
            "one day": CallSearch(since=day, until=day + timedelta(days=1)),
            "status triaged, one month": CallSearch(status=CallStatus.TRIAGED, since=day - timedelta(days=30),
                                                    until=day),
            "address + one month": CallSearch(address="oak", since=day - timedelta(days=30), until=day),
        }
        print(f"{'search':40} {'median ms':>10} {'max ms':>10} {'matches':>9}")
        for label, search in cases.items():
            median, slowest, total = timed(sessions, search, args.repeat)
            print(f"{label:40} {median:10.1f} {slowest:10.1f} {total:9d}")
        engine.dispose()


if __name__ == "__main__":
    main()
