"""Full call lifecycles against the app on PostgreSQL under uvicorn, then on SQLite with NORMAL and FULL sync.

N concurrent clients each sign in, then loop for a fixed time: create a call → triage → assign their own
unit → en route → on scene → clear with outcomes. Prints lifecycles per second and request latency
percentiles, then checks that the database holds exactly the lifecycles the clients completed.

The SQLite part prices durability: production runs SQLite with ``synchronous=FULL`` (the write-ahead log is
synced at every commit, so an acknowledged write survives a power cut); development uses NORMAL. Both run in
the same invocation, alternating rounds on fresh files, so that the other work on the machine weighs on both.

    .venv/bin/python benchmarks/lifecycle.py [--clients 16] [--seconds 20] [--workers 3]
                                             [--sqlite-seconds 8] [--sqlite-rounds 2] [--sqlite-clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import heart.models  # noqa: E402, F401  (every table registered before the first session)
from heart.auth.models import Role  # noqa: E402
from heart.auth.service import create_user, get_user_by_username, open_session  # noqa: E402
from heart.calls.models import Call  # noqa: E402
from heart.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from heart.deps import CSRF_HEADER, SESSION_COOKIE  # noqa: E402
from heart.dispatch.models import Response  # noqa: E402
from heart.migrate import upgrade  # noqa: E402
from heart.programs.models import Staff  # noqa: E402
from heart.programs.schemas import ProgramConfig  # noqa: E402
from heart.programs.service import create_unit, go_on_duty, upsert_program  # noqa: E402

POSTGRES = os.environ.get("HEART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark-password-1"
SCREENING = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}
CLEAR = {"pd_backup_for_safety": False, "ems_support": False, "disposition": "resolved on scene"}
STARTUP_SECONDS = 120  # workers import the whole app; on a 2-core machine shared with test suites that is slow


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    errors: list[str] = field(default_factory=list)


def create_database() -> tuple[str, str]:
    name = f"heart_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def arrange(url: str, units: int, *, spread: float = 0.0) -> list[int]:
    """A CRT program open all day, ``units`` units on duty (``spread`` degrees apart), and a dispatcher account."""
    upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    roles = ["licensed clinician", "peer support specialist", "EMT"]
    with transaction(make_sessionmaker(engine)) as session:
        program, _ = upsert_program(session=session, config=ProgramConfig(
            code="CRT", name="CRT", kind="field", hours={"daily": [("00:00", "24:00")]}, crew_roles=roles),
            now=now, actor_id=None)
        unit_ids = []
        for index in range(units):
            unit = create_unit(session=session, call_sign=f"CRT-{index + 1}", program=program,
                               home_lat=35.95 + spread * index, home_lon=-78.95 + spread * index, now=now,
                               actor_id=None)
            crew = []
            for role in roles:
                staff = Staff(name=f"{role} {index}", role=role, program_id=program.id)
                session.add(staff)
                session.flush()
                crew.append((staff.id, role))
            go_on_duty(session=session, unit_id=unit.id, crew=crew, ends_at=now + timedelta(hours=4), now=now,
                       actor_id=None)
            unit_ids.append(unit.id)
        create_user(session=session, username="bench", password=PASSWORD, role=Role.DISPATCHER, now=now)
    engine.dispose()
    return unit_ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int, *, env: dict[str, str] | None = None
                 ) -> subprocess.Popen[bytes]:
    """`heart serve` in production mode on ``url``, in a process group of its own (see ``stop_server``)."""
    environment = {**os.environ, "HEART_ENV": "production", "HEART_SECRET_KEY": secrets.token_urlsafe(40),
                   "HEART_DATABASE_URL": url, "HEART_COOKIE_SECURE": "false", "HEART_LOG_LEVEL": "WARNING",
                   **(env or {})}
    heart = Path(sys.executable).parent / "heart"
    process = subprocess.Popen([str(heart), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                                str(workers)], env=environment, start_new_session=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_server(process, grace=0)
    raise SystemExit("the server did not start")


def stop_server(process: subprocess.Popen[bytes], *, grace: float = 20) -> None:
    """Ask the server to stop (SIGTERM), then kill whatever of its process group is left after ``grace``
    seconds: a worker stuck on a stream, or one the supervisor was replacing, must not outlive the run."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process of the server's group (the supervisor and each worker) and reap the supervisor."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class RawClient:
    """A minimal keep-alive HTTP/1.1 JSON client on asyncio streams.

    The load generator shares the machine's two cores with the server; a full-featured client spends more
    CPU per request than the server does, which would measure the client instead of HEART.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.headers = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, path: str, body: dict[str, object]) -> tuple[int, dict[str, object], str]:
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: dict[str, object] | None = None
                      ) -> tuple[int, Any, str]:
        """Send one request and read its JSON answer: (status, parsed body, session cookie if one was set)."""
        assert self.reader is not None and self.writer is not None
        payload = json.dumps(body).encode() if body is not None else b""
        kind = "Content-Type: application/json\r\n" if body is not None else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{kind}"
                          f"Content-Length: {len(payload)}\r\n{self.headers}\r\n".encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        length, cookie = 0, ""
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "set-cookie":
                cookie = value.strip().split(";", 1)[0]
        raw = await self.reader.readexactly(length) if length else b"{}"
        return status, json.loads(raw or b"{}"), cookie

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def open_sessions(url: str, username: str, count: int) -> list[str]:
    """``count`` signed-in sessions of ``username``, opened in the database before a run (as at the start of a
    shift, through the service the sign-in uses), as the request headers that carry them. A sign-in costs a
    password hash, and on SQLite holds the write lock meanwhile: it belongs to the login benchmark, not to one
    that measures calls."""
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            user = get_user_by_username(session=session, username=username)
            opened = [open_session(session=session, user=user, now=utcnow(), hours=4) for _ in range(count)]
    finally:
        engine.dispose()
    return [f"Cookie: {SESSION_COOKIE}={o.token}\r\n{CSRF_HEADER}: {o.csrf_token}\r\n" for o in opened]


async def client_loop(port: int, unit_id: int, stop_at: float, tally: Tally, headers: str) -> None:
    client = RawClient(port)
    client.headers = headers

    async def post(path: str, body: dict[str, object], expect: int) -> dict[str, object]:
        started = time.perf_counter()
        status, answer, _ = await client.post(path, body)
        tally.latencies.append(time.perf_counter() - started)
        if status != expect:
            raise RuntimeError(f"{path}: {status} {str(answer)[:200]}")
        return answer

    try:
        while time.monotonic() < stop_at:
            # A fresh connection per lifecycle, as separate dispatch consoles would make: the kernel hands each
            # new connection to one server worker, so long-lived connections could pile onto one worker.
            await client.close()
            await client.connect()
            call = await post("/api/calls", {"nature_code": "CHECK WELFARE", "priority": "3",
                                             "screening": SCREENING}, 201)
            decided = await post(f"/api/calls/{call['id']}/triage", {}, 201)
            if decided["pathway"] != "CRT":  # CRT closed at this hour in the policy: a person sends it anyway
                await post(f"/api/calls/{call['id']}/triage/override", {"pathway": "CRT", "reason": "benchmark"}, 201)
            response = await post(f"/api/calls/{call['id']}/responses", {"unit_id": unit_id}, 201)
            for step in ("en-route", "on-scene"):
                await post(f"/api/responses/{response['id']}/{step}", {}, 200)
            await post(f"/api/responses/{response['id']}/clear", CLEAR, 200)
            tally.completed += 1
    except RuntimeError as error:
        tally.errors.append(str(error))
    finally:
        await client.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Run:
    """One measured run: what the clients did and what the database holds afterwards."""

    label: str
    clients: int
    workers: int
    elapsed: float
    tally: Tally
    calls: int
    cleared: int
    open_responses: int

    @property
    def ms(self) -> list[float]:
        return [latency * 1000 for latency in self.tally.latencies]

    @property
    def per_second(self) -> float:
        return self.tally.completed / self.elapsed

    @property
    def lost_or_doubled(self) -> bool:
        return self.cleared != self.tally.completed


def measure(url: str, *, label: str, clients: int, seconds: float, workers: int,
            env: dict[str, str] | None = None) -> Run:
    """Arrange ``clients`` units on a fresh, migrated ``url``, serve it, and run the lifecycle loop."""
    unit_ids = arrange(url, clients)
    headers = open_sessions(url, "bench", clients)
    port = free_port()
    server = start_server(url, port, workers, env=env)
    try:
        tally = Tally()
        started = time.monotonic()
        stop_at = started + seconds

        async def run_all() -> None:
            await asyncio.gather(*(client_loop(port, unit, stop_at, tally, header)
                                   for unit, header in zip(unit_ids, headers, strict=True)))

        asyncio.run(run_all())
        elapsed = time.monotonic() - started
    finally:
        stop_server(server)
    engine = make_engine(url)
    with engine.connect() as connection:
        calls = connection.scalar(select(func.count()).select_from(Call)) or 0
        cleared = connection.scalar(select(func.count()).select_from(Response)
                                    .where(Response.cleared_at.is_not(None))) or 0
        open_responses = connection.scalar(select(func.count()).select_from(Response)
                                           .where(Response.cleared_at.is_(None))) or 0
    engine.dispose()
    return Run(label, clients, workers, elapsed, tally, calls, cleared, open_responses)


def sqlite_runs(*, clients: int, seconds: float, workers: int, rounds: int) -> dict[str, list[Run]]:
    """Alternate NORMAL and FULL on fresh SQLite files, ``rounds`` times each."""
    runs: dict[str, list[Run]] = {"NORMAL": [], "FULL": []}
    with tempfile.TemporaryDirectory(prefix="heart-bench-") as folder:
        for index in range(rounds):
            for mode in runs:
                url = f"sqlite:///{Path(folder) / f'{mode.lower()}-{index}.db'}"
                runs[mode].append(measure(url, label=f"SQLite {mode}", clients=clients, seconds=seconds,
                                          workers=workers, env={"HEART_SQLITE_SYNCHRONOUS": mode}))
    return runs


def report(run: Run) -> None:
    ms = run.ms
    print(f"{run.label}: clients {run.clients}, server workers {run.workers}, {run.elapsed:.1f} s")
    print(f"  lifecycles completed   {run.tally.completed}  ({run.per_second:.1f} per second; goal >= 50)")
    print(f"  requests               {len(ms)}  ({len(ms) / run.elapsed:.0f} per second)")
    print(f"  latency ms  p50 {percentile(ms, 0.50):.1f}  p95 {percentile(ms, 0.95):.1f}  "
          f"p99 {percentile(ms, 0.99):.1f}  (goal p95 < 150)")
    print(f"  database: {run.calls} calls, {run.cleared} cleared responses, {run.open_responses} still open "
          f"(clients stopped mid-lifecycle: {run.calls - run.tally.completed})")
    print("  check: " + ("FAILED — cleared responses differ from completed lifecycles" if run.lost_or_doubled
                         else "every completed lifecycle is in the database exactly once"))
    if run.tally.errors:
        print(f"  errors: {len(run.tally.errors)}; first: {run.tally.errors[0]}")


def report_sync_cost(runs: dict[str, list[Run]]) -> None:
    """Lifecycles per second and p95 per mode, pooled over the rounds, and what FULL costs against NORMAL."""
    pooled = {}
    for mode, mode_runs in runs.items():
        completed = sum(r.tally.completed for r in mode_runs)
        elapsed = sum(r.elapsed for r in mode_runs)
        ms = [m for r in mode_runs for m in r.ms]
        pooled[mode] = (completed / elapsed, percentile(ms, 0.95), percentile(ms, 0.99))
    print(f"SQLite durability cost, {len(runs['FULL'])} alternating rounds each (same run, same machine load):")
    for mode, (rate, p95, p99) in pooled.items():
        print(f"  synchronous={mode:<6}  {rate:6.1f} lifecycles/s  request p95 {p95:6.1f} ms  p99 {p99:6.1f} ms")
    (normal_rate, normal_p95, _), (full_rate, full_p95, _) = pooled["NORMAL"], pooled["FULL"]
    print(f"  FULL vs NORMAL: {100 * (full_rate / normal_rate - 1):+.0f}% lifecycles/s, "
          f"{full_p95 - normal_p95:+.1f} ms p95 (FULL is the production default: an acknowledged write "
          "survives a power cut)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=3, help="server processes (3 on 2 cores overlap DB waits)")
    parser.add_argument("--sqlite-seconds", type=float, default=8, help="seconds of each SQLite round (0: skip)")
    parser.add_argument("--sqlite-rounds", type=int, default=2, help="rounds of NORMAL then FULL on SQLite")
    parser.add_argument("--sqlite-clients", type=int, default=4,
                        help="SQLite has one writer at a time: a small program's few consoles")
    parser.add_argument("--sqlite-workers", type=int, default=1)
    args = parser.parse_args()

    failed = False
    if args.seconds > 0:
        name, url = create_database()
        try:
            postgres = measure(url, label="PostgreSQL", clients=args.clients, seconds=args.seconds,
                               workers=args.workers)
        finally:
            drop_database(name)
        report(postgres)
        failed = postgres.lost_or_doubled or bool(postgres.tally.errors)
    if args.sqlite_seconds > 0:
        runs = sqlite_runs(clients=args.sqlite_clients, seconds=args.sqlite_seconds, workers=args.sqlite_workers,
                           rounds=args.sqlite_rounds)
        for run in (r for mode_runs in runs.values() for r in mode_runs):
            failed = failed or run.lost_or_doubled or bool(run.tally.errors)
            if run.lost_or_doubled or run.tally.errors:
                report(run)
        report_sync_cost(runs)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
