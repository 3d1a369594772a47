"""How fast a responder's list of calls answers on a demo year, on SQLite and PostgreSQL.

Builds `heart demo --years 1` (about 22,000 calls; CRT-1 alone was sent to about 2,850), then times the first
page (200 calls, newest first) of what a CRT-1 responder may read:

  before     the old rule, every call CRT-1 was ever sent to (a correlated EXISTS), measured as the baseline
  unit phone the need-to-know rule for CRT-1's shared phone: the current call and the shift in progress
  crew member the need-to-know rule for a staff member who rode CRT-1 (the demo's crews never rotate, so their
             own shifts cover the whole year: the largest list the rule can give)

    .venv/bin/python benchmarks/responder_calls.py [--repeat 20] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import ColumnElement, exists, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import heart.models  # noqa: E402, F401  (every table registered before the first session)
from heart.auth.models import Role, User  # noqa: E402
from heart.auth.need_to_know import calls_visible_to  # noqa: E402
from heart.calls.models import Call  # noqa: E402
from heart.db import make_engine, make_sessionmaker  # noqa: E402
from heart.dispatch.models import Response  # noqa: E402
from heart.programs.models import Shift, ShiftMember, Unit  # noqa: E402
from lifecycle import create_database, drop_database  # noqa: E402

PAGE = 200


def build_demo(url: str) -> None:
    env = {**os.environ, "HEART_ENV": "development", "HEART_DATABASE_URL": url}
    heart = str(Path(sys.executable).parent / "heart")
    for args in (["db", "upgrade"], ["demo", "--years", "1", "--seed", "7"]):
        subprocess.run([heart, *args], env=env, check=True, capture_output=True, cwd=tempfile.gettempdir())


def measure(url: str, repeat: int) -> list[tuple[str, int, float, float]]:
    """(rule, calls it admits, median ms, p95 ms) for the first page of the list."""
    engine = make_engine(url, read_only=url.startswith("sqlite"))
    sessions = make_sessionmaker(engine)
    rows = []
    with sessions() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.call_sign == "CRT-1"))
        staff_id = session.scalar(select(ShiftMember.staff_id).join(Shift, Shift.id == ShiftMember.shift_id)
                                  .where(Shift.unit_id == unit_id).order_by(ShiftMember.id).limit(1))
        before = exists().where(Response.call_id == Call.id, Response.unit_id == unit_id)
        phone = User(username="phone", password_hash="-", role=Role.RESPONDER, active=True, unit_id=unit_id)
        crew = User(username="crew", password_hash="-", role=Role.RESPONDER, active=True, unit_id=unit_id,
                    staff_id=staff_id)
        rules: list[tuple[str, Callable[[], ColumnElement[bool]]]] = [
            ("before: the unit's whole history", lambda: before),
            ("unit phone: current call and shift", lambda: calls_visible_to(phone)),
            ("crew member: own shifts (all year)", lambda: calls_visible_to(crew)),
        ]
        for name, rule in rules:
            admitted = session.scalar(select(func.count()).select_from(Call).where(rule())) or 0
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                list(session.scalars(select(Call).where(rule()).order_by(Call.received_at.desc(), Call.id.desc())
                                     .limit(PAGE)))
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            rows.append((name, admitted, statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]))
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    for database in args.databases.split(","):
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{folder}/heart.db"
                build_demo(url)
                rows = measure(url, args.repeat)
        else:
            name, url = create_database()
            try:
                build_demo(url)
                rows = measure(url, args.repeat)
            finally:
                drop_database(name)
        print(f"\n{database}: a CRT-1 responder's first {PAGE} calls, {args.repeat} runs each")
        print(f"  {'rule':<38} {'calls':>6} {'median ms':>10} {'p95 ms':>8}")
        for rule, admitted, median, p95 in rows:
            print(f"  {rule:<38} {admitted:>6} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
