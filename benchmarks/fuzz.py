"""The long Schemathesis pass: every operation of the OpenAPI document, as each role, on SQLite and PostgreSQL.

The same harness as the CI test (tests/api_fuzz.py) with a bigger budget and several seeds. Prints, per
database, the operations covered, the cases sent, the answers by status, and every class of server error
found (operation and place in the code, with a reproducer). Exits 1 when any server error was found.

    .venv/bin/python benchmarks/fuzz.py [--examples 200] [--seeds 3] [--databases sqlite postgres]
                                        [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from heart.auth import service as auth_service  # noqa: E402
from heart.config import Settings  # noqa: E402
from heart.main import create_app  # noqa: E402
from heart.migrate import upgrade  # noqa: E402
from tests.api_fuzz import FuzzReport, fuzz, seed_world  # noqa: E402
from tests.dispatch.scenario import always_open  # noqa: E402


def one_pass(url: str, examples: int, seed: int) -> FuzzReport:
    upgrade(url)
    app = create_app(Settings(env="test", database_url=url, cookie_secure=False))
    try:
        signed = seed_world(app.state.sessionmaker, always_open())
        return fuzz(app, signed, examples=examples, random_seed=seed)
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()


def fresh_postgres(server: str) -> tuple[str, object]:
    name = f"heart_fuzz_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60, help="cases per operation and generation mode")
    parser.add_argument("--seeds", type=int, default=1, help="passes, each with its own seed and a fresh database")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    # The argon2 parameters of the tests: the fuzz measures the API, not password hashing.
    auth_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    logging.getLogger("heart").setLevel(logging.CRITICAL)  # each server error is reported below instead
    figures: dict[str, dict[str, object]] = {}
    failed = False
    for database in args.databases:
        total = FuzzReport()
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as folder:
                if database == "sqlite":
                    url, drop = f"sqlite:///{folder}/fuzz.db", None
                else:
                    url, drop = fresh_postgres(args.postgres)
                try:
                    started = time.perf_counter()
                    report = one_pass(url, args.examples, seed)
                    print(f"{database} seed {seed}: {report.summary()} ({time.perf_counter() - started:.0f} s)",
                          flush=True)
                finally:
                    if drop is not None:
                        drop()  # type: ignore[operator]
            total.operations = sorted(set(total.operations) | set(report.operations))
            total.cases += report.cases
            total.statuses.update(report.statuses)
            total.errors.extend(report.errors)
            total.seconds += report.seconds
            total.cpu_seconds += report.cpu_seconds
        print(f"\n== {database}: {total.summary()}\n", flush=True)
        figures[database] = {"operations": len(total.operations), "cases": total.cases,
                             "server_errors": len(total.errors), "classes": len(total.classes()),
                             "seconds": round(total.seconds, 1), "cpu_seconds": round(total.cpu_seconds, 1),
                             "statuses": dict(total.statuses)}
        failed = failed or bool(total.errors)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
