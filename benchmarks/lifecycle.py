"""Full call lifecycles against the app on PostgreSQL under uvicorn, then on SQLite with NORMAL and FULL sync.

N concurrent clients each sign in, then loop for a fixed time: create a call → triage → assign their own
unit → en route → on scene → clear with outcomes. Prints lifecycles per second and request latency
percentiles, then checks that the database holds exactly the lifecycles the clients completed.

What a request costs the server: the server's processes' CPU time (user + system, from /proc, every worker and the
supervisor) over the measured window, divided by the requests answered in it (after a warm-up). The same clients
then drive the floor (``benchmarks/lifecycle_floor.py``: bare FastAPI routes doing the same writes and events in
plain SQLAlchemy Core, one transaction per request) on a copy of the same database, and — with
``--baseline-path`` — HEART from another checkout (e.g. main's commit in a second worktree), so that before, after
and floor are measured in one run under the same load. ``--per-route N`` adds each route's CPU milliseconds (N
lifecycles one request at a time against one worker, each request's server CPU read from every thread's
``schedstat``). ``--report [--short]`` ends with the JSON line of benchmarks/BENCH_CONTRACT (issue 16): per
database, product.cpu_seconds is the server CPU of one request and product.seconds its mean latency.

What a server spends with no request at all (its scheduled jobs, the SQLite realtime poll: a few milliseconds a
second) is measured for ``--idle`` seconds before each window, the same way for each target, and each line also
gives the CPU per request net of it (``net_cpu_seconds`` in the report): under load it changes the figures by well
under 1%. Every target is served alike: uvicorn with uvloop and httptools, the same worker count, log level
``warning`` and no access log.

The SQLite part prices durability: production runs SQLite with ``synchronous=FULL`` (the write-ahead log is
synced at every commit, so an acknowledged write survives a power cut); development uses NORMAL. Both run in
the same invocation, alternating rounds on fresh files, so that the other work on the machine weighs on both.

    .venv/bin/python benchmarks/lifecycle.py [--clients 16] [--seconds 20] [--workers 3]
                                             [--sqlite-seconds 8] [--sqlite-rounds 2] [--sqlite-clients 4]
                                             [--baseline-path ../wt-main] [--per-route 20] [--idle 2]
                                             [--report [--short]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
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
from heart.encounters.models import Encounter  # noqa: E402
from heart.events import Event  # noqa: E402
from heart.migrate import upgrade  # noqa: E402
from heart.programs.models import Staff  # noqa: E402
from heart.programs.schemas import ProgramConfig  # noqa: E402
from heart.programs.service import create_unit, go_on_duty, upsert_program  # noqa: E402
from heart.triage.models import TriageDecision  # noqa: E402

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


def start_server(url: str, port: int, workers: int, *, env: dict[str, str] | None = None,
                 app: str = "heart", app_path: Path | None = None) -> subprocess.Popen[bytes]:
    """`heart serve` in production mode on ``url``, in a process group of its own (see ``stop_server``).

    ``app="floor"`` serves the bare routes of ``lifecycle_floor.py`` instead, with uvicorn's same options;
    ``app_path`` serves HEART from another checkout (its ``src`` first on the path, e.g. main's commit)."""
    environment = {**os.environ, "HEART_ENV": "production", "HEART_SECRET_KEY": secrets.token_urlsafe(40),
                   "HEART_DATABASE_URL": url, "HEART_COOKIE_SECURE": "false", "HEART_LOG_LEVEL": "WARNING",
                   **(env or {})}
    # HEART from this checkout is served the way another checkout is (its src first on the path): served through
    # the editable install instead, the same code measured 18% more CPU per request than through PYTHONPATH.
    environment["PYTHONPATH"] = str((app_path or ROOT).resolve() / "src")
    if app == "floor":
        environment["HEART_FLOOR_DATABASE_URL"] = url
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "benchmarks"), "lifecycle_floor:app",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                   "--no-access-log"]
    else:
        command = [str(Path(sys.executable).parent / "heart"), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers)]
    return serve_when_healthy(subprocess.Popen(command, env=environment, start_new_session=True), port,
                              STARTUP_SECONDS, "the server")


def serve_when_healthy(process: subprocess.Popen[bytes], port: int, seconds: float, what: str
                       ) -> subprocess.Popen[bytes]:
    """``process`` once its ``/healthz`` answers 200; stopped, and the run ended, if that takes over ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_server(process, grace=0)
    raise SystemExit(f"{what} did not start")


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
    """One measured run: what the clients did, what the server's CPU spent, and what the database holds afterwards."""

    label: str
    clients: int
    workers: int
    elapsed: float
    tally: Tally
    calls: int
    cleared: int
    open_responses: int
    cpu_seconds: float = float("nan")
    """The server's CPU time (user + system, every process) over the measured window, after the warm-up."""
    warmed_up: int = 0
    """Lifecycles completed in the warm-up (in the database, not in ``tally``)."""
    shapes: dict[tuple[tuple[str, int], ...], int] = field(default_factory=dict)
    """Each resolved call's rows and events (kind → count), and how many resolved calls have that shape."""
    peak_mb: float = float("nan")
    """The server's peak memory: the largest resident size of each of its processes, summed."""
    idle_cpu_per_second: float = 0.0
    """The server's CPU seconds per second with no request (its scheduled jobs and realtime polls), measured just
    before the window: what the window would have cost with no request at all."""

    @property
    def ms(self) -> list[float]:
        return [latency * 1000 for latency in self.tally.latencies]

    @property
    def per_second(self) -> float:
        return self.tally.completed / self.elapsed

    @property
    def requests(self) -> int:
        return len(self.tally.latencies)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.requests if self.requests else float("nan")

    @property
    def net_cpu_ms_per_request(self) -> float:
        """CPU per request less what the server spends idle over the same window (its background work)."""
        idle = self.idle_cpu_per_second * self.elapsed
        return 1000 * (self.cpu_seconds - idle) / self.requests if self.requests else float("nan")

    @property
    def lost_or_doubled(self) -> bool:
        return self.cleared != self.tally.completed + self.warmed_up


def group_processes(leader: int) -> list[int]:
    """Every process of the server's process group (the supervisor and its workers)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                raw = Path(entry.path, "stat").read_text()
                if int(raw[raw.rindex(")") + 2:].split()[2]) == leader:
                    found.append(int(entry.name))
    return found


def cpu_seconds(leader: int) -> float:
    """User + system CPU time of the server's processes so far (threads that ended included), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in group_processes(leader):
        with contextlib.suppress(OSError, IndexError, ValueError):
            raw = Path(f"/proc/{pid}/stat").read_text()
            fields = raw[raw.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def peak_mb(leader: int) -> float:
    """The largest resident size each process of the server's group reached (VmHWM), summed, in MB."""
    total = 0
    for pid in group_processes(leader):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def thread_cpu_ns(pids: list[int]) -> int:
    """CPU nanoseconds of every live thread of ``pids`` (``schedstat``: exact, unlike /proc's clock ticks)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in os.scandir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError, ValueError):
                    total += int(Path(task.path, "schedstat").read_text().split()[0])
    return total


def database_shapes(url: str) -> dict[tuple[tuple[str, int], ...], int]:
    """For each resolved call: its events by kind, its triage decisions, cleared responses and encounters."""
    engine = make_engine(url)
    per_call: dict[int, dict[str, int]] = {}
    with engine.connect() as connection:
        resolved = select(Call.id).where(Call.status == "resolved")
        for call_id, kind, count in connection.execute(
                select(Event.call_id, Event.kind, func.count()).where(Event.call_id.in_(resolved))
                .group_by(Event.call_id, Event.kind)):
            per_call.setdefault(call_id, {})[f"event {kind}"] = count
        for table, name in ((TriageDecision, "row triage_decisions"), (Response, "row responses"),
                            (Encounter, "row encounters")):
            for call_id, count in connection.execute(select(table.call_id, func.count())
                                                     .where(table.call_id.in_(resolved)).group_by(table.call_id)):
                per_call.setdefault(call_id, {})[name] = count
    engine.dispose()
    shapes: dict[tuple[tuple[str, int], ...], int] = {}
    for counts in per_call.values():
        shape = tuple(sorted(counts.items()))
        shapes[shape] = shapes.get(shape, 0) + 1
    return shapes


@dataclass(frozen=True)
class Target:
    """What serves the lifecycle: HEART from this checkout, HEART from another one, or the floor's bare routes."""

    label: str
    app: str = "heart"
    app_path: Path | None = None


def measure(url: str, *, label: str, clients: int, seconds: float, workers: int,
            env: dict[str, str] | None = None, target: Target | None = None, warmup: float = 0.0,
            arranged: tuple[list[int], list[str]] | None = None, idle: float = 0.0) -> Run:
    """Arrange ``clients`` units on a fresh, migrated ``url`` (unless ``arranged`` says they are: unit ids and
    session headers), serve it, run the lifecycle loop for ``warmup`` seconds, measure the server's CPU with no
    request for ``idle`` seconds, then measure ``seconds`` of the loop."""
    target = target or Target(label)
    unit_ids, headers = arranged or (arrange(url, clients), [])
    headers = headers or open_sessions(url, "bench", clients)
    port = free_port()
    server = start_server(url, port, workers, env=env, app=target.app, app_path=target.app_path)
    try:
        def run_for(duration: float, tally: Tally) -> float:
            started = time.monotonic()

            async def run_all() -> None:
                await asyncio.gather(*(client_loop(port, unit, started + duration, tally, header)
                                       for unit, header in zip(unit_ids, headers, strict=True)))

            asyncio.run(run_all())
            return time.monotonic() - started

        warm = Tally()
        if warmup > 0:
            run_for(warmup, warm)
        idle_rate = idle_cpu_per_second(server.pid, idle) if idle > 0 else 0.0
        cpu_before = cpu_seconds(server.pid)
        tally = Tally(errors=warm.errors)
        elapsed = run_for(seconds, tally)
        cpu = cpu_seconds(server.pid) - cpu_before
        peak = peak_mb(server.pid)
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
    return Run(label, clients, workers, elapsed, tally, calls, cleared, open_responses, cpu_seconds=cpu,
               warmed_up=warm.completed, shapes=database_shapes(url), peak_mb=peak, idle_cpu_per_second=idle_rate)


def idle_cpu_per_second(leader: int, seconds: float) -> float:
    """The server's CPU seconds per second while no request comes (every thread's ``schedstat``: /proc's clock
    ticks are too coarse for the few milliseconds a second its background work takes)."""
    pids = group_processes(leader)
    before, started = thread_cpu_ns(pids), time.monotonic()
    time.sleep(seconds)
    return max(0, thread_cpu_ns(pids) - before) / 1e9 / (time.monotonic() - started)


STEPS = ("create", "triage", "assign", "en route", "on scene", "clear")


async def route_loop(port: int, unit_id: int, headers: str, lifecycles: int, pids: list[int]
                     ) -> dict[str, list[float]]:
    """``lifecycles`` lifecycles one request at a time; each route's server CPU milliseconds per request."""
    client = RawClient(port)
    client.headers = headers
    costs: dict[str, list[float]] = {step: [] for step in STEPS}

    async def post(step: str, path: str, body: dict[str, object], expect: int) -> dict[str, object]:
        before = thread_cpu_ns(pids)
        status, answer, _ = await client.post(path, body)
        costs[step].append((thread_cpu_ns(pids) - before) / 1e6)
        if status != expect:
            raise RuntimeError(f"{path}: {status} {str(answer)[:200]}")
        return answer

    await client.connect()
    try:
        for _ in range(lifecycles):
            call = await post("create", "/api/calls", {"nature_code": "CHECK WELFARE", "priority": "3",
                                                       "screening": SCREENING}, 201)
            decided = await post("triage", f"/api/calls/{call['id']}/triage", {}, 201)
            if decided["pathway"] != "CRT":
                raise RuntimeError(f"the policy sent the benchmark's call to {decided['pathway']}, not CRT")
            response = await post("assign", f"/api/calls/{call['id']}/responses", {"unit_id": unit_id}, 201)
            await post("en route", f"/api/responses/{response['id']}/en-route", {}, 200)
            await post("on scene", f"/api/responses/{response['id']}/on-scene", {}, 200)
            await post("clear", f"/api/responses/{response['id']}/clear", CLEAR, 200)
    finally:
        await client.close()
    return costs


def route_costs(url: str, target: Target, lifecycles: int, *, env: dict[str, str] | None = None,
                arranged: tuple[list[int], list[str]]) -> dict[str, float]:
    """Mean server CPU milliseconds of each route over ``lifecycles`` sequential lifecycles (one worker, warmed up
    by three lifecycles first)."""
    unit_ids, headers = arranged
    port = free_port()
    server = start_server(url, port, 1, env=env, app=target.app, app_path=target.app_path)
    try:
        pids = group_processes(server.pid)
        asyncio.run(route_loop(port, unit_ids[0], headers[0], 3, pids))
        costs = asyncio.run(route_loop(port, unit_ids[0], headers[0], lifecycles, pids))
    finally:
        stop_server(server)
    return {step: sum(values) / len(values) for step, values in costs.items()}


@dataclass
class Database:
    """One database arranged once (migrated, units on duty, sessions open), copied afresh for each measurement."""

    name: str
    clients: int
    workers: int
    env: dict[str, str]
    template: str
    arranged: tuple[list[int], list[str]]
    folder: Path | None = None
    copies: list[str] = field(default_factory=list)

    def copy(self) -> str:
        """A fresh copy of the arranged database: its URL."""
        if self.folder is not None:
            path = self.folder / f"copy-{len(self.copies)}.db"
            source = self.template.removeprefix("sqlite:///")
            shutil.copyfile(source, path)
            if Path(source + "-wal").exists():  # normally checkpointed away when the last connection closed
                shutil.copyfile(source + "-wal", str(path) + "-wal")
            url = f"sqlite:///{path}"
        else:
            name = f"heart_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1),
                                  isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template.rsplit("/", 1)[1]}"'))
            admin.dispose()
            url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        self.copies.append(url)
        return url

    def drop(self) -> None:
        if self.folder is None:
            for url in [*self.copies, self.template]:
                drop_database(url.rsplit("/", 1)[1])


def all_day_programs(folder: Path) -> dict[str, str]:
    """The settings that serve Durham's programs open all day (a copy of its programs file in ``folder``), so that
    the policy sends the benchmark's calls to CRT at any hour: each lifecycle is the same six requests."""
    text_ = (ROOT / "cities" / "durham" / "programs.yaml").read_text(encoding="utf-8")
    text_ = re.sub(r'hours: \{daily: \[\["\d\d:\d\d", "\d\d:\d\d"\]\]\}', 'hours: {daily: [["00:00", "24:00"]]}',
                   text_)
    path = folder / "programs.yaml"
    path.write_text(text_, encoding="utf-8")
    return {"HEART_PROGRAMS_FILE": str(path)}


def arrange_database(kind: str, *, clients: int, workers: int, folder: Path) -> Database:
    """PostgreSQL or SQLite (FULL sync, the production default), arranged once for ``clients`` units."""
    env = all_day_programs(folder)
    if kind == "PostgreSQL":
        _, url = create_database()
    else:
        url = f"sqlite:///{folder / 'template.db'}"
        env["HEART_SQLITE_SYNCHRONOUS"] = "FULL"
    unit_ids = arrange(url, clients)
    headers = open_sessions(url, "bench", clients)
    return Database(kind, clients, workers, env, url, (unit_ids, headers),
                    folder=None if kind == "PostgreSQL" else folder)


@dataclass
class Comparison:
    """One database: the floor, HEART (and HEART before, when asked), each a run and optionally route costs."""

    database: str
    runs: dict[str, Run] = field(default_factory=dict)
    routes: dict[str, dict[str, float]] = field(default_factory=dict)


def compare(database: Database, targets: list[Target], *, seconds: float, warmup: float, rounds: int,
            per_route: int, idle: float = 0.0) -> Comparison:
    """Each target in turn on a fresh copy of the database, ``rounds`` times (pooled), then the route costs."""
    result = Comparison(database.name)
    pooled: dict[str, list[Run]] = {target.label: [] for target in targets}
    for _ in range(rounds):
        for target in targets:
            pooled[target.label].append(measure(
                database.copy(), label=f"{target.label} ({database.name})", clients=database.clients,
                seconds=seconds, workers=database.workers, env=database.env, target=target, warmup=warmup,
                arranged=database.arranged, idle=idle))
    for label, runs in pooled.items():
        first = runs[0]
        tally = Tally([x for r in runs for x in r.tally.latencies], sum(r.tally.completed for r in runs),
                      [e for r in runs for e in r.tally.errors])
        shapes: dict[tuple[tuple[str, int], ...], int] = {}
        for run in runs:
            for shape, count in run.shapes.items():
                shapes[shape] = shapes.get(shape, 0) + count
        elapsed = sum(r.elapsed for r in runs)
        result.runs[label] = Run(first.label, first.clients, first.workers, elapsed, tally,
                                 sum(r.calls for r in runs), sum(r.cleared for r in runs),
                                 sum(r.open_responses for r in runs), sum(r.cpu_seconds for r in runs),
                                 sum(r.warmed_up for r in runs), shapes, max(r.peak_mb for r in runs),
                                 sum(r.idle_cpu_per_second * r.elapsed for r in runs) / elapsed)
    if per_route > 0:
        for target in targets:
            result.routes[target.label] = route_costs(database.copy(), target, per_route, env=database.env,
                                                      arranged=database.arranged)
    return result


def print_comparison(comparison: Comparison) -> None:
    print(f"\nServer CPU per request, {comparison.database} (same run, same load):")
    floor = comparison.runs["floor"]
    for label, run in comparison.runs.items():
        ms = run.ms
        ratio = run.cpu_ms_per_request / floor.cpu_ms_per_request
        print(f"  {label:<12} {run.cpu_ms_per_request:6.2f} ms CPU/request  ({ratio:4.1f}× floor; "
              f"{run.net_cpu_ms_per_request:.2f} net of {1000 * run.idle_cpu_per_second:.1f} ms/s idle)  "
              f"{run.requests} requests, {run.per_second:5.1f} lifecycles/s, latency mean "
              f"{sum(ms) / len(ms) if ms else float('nan'):.1f} p95 {percentile(ms, 0.95):.1f} ms")
        if run.lost_or_doubled or run.tally.errors:
            report(run)
    if comparison.routes:
        labels = list(comparison.routes)
        print("  CPU ms per route (one request at a time, one worker):"
              + "  ".join(f"{label:>10}" for label in labels))
        for step in STEPS:
            print(f"    {step:<51}" + "  ".join(f"{comparison.routes[label][step]:10.2f}" for label in labels))
        print(f"    {'whole lifecycle':<51}" + "  ".join(f"{sum(comparison.routes[label].values()):10.2f}"
                                                      for label in labels))


def answers_match(comparison: Comparison) -> tuple[bool, str]:
    """Every lifecycle completed, each resolved call holding the same rows and events as the floor wrote for its."""
    floor = comparison.runs["floor"]
    notes, ok = [], True
    for label, run in comparison.runs.items():
        complete = not run.lost_or_doubled and not run.tally.errors
        same = list(run.shapes) == list(floor.shapes) and len(run.shapes) == 1
        ok = ok and complete and same
        notes.append(f"{label}: {run.tally.completed + run.warmed_up} lifecycles, {run.cleared} cleared"
                     f"{'' if complete else ' (LOST, DOUBLED OR FAILED)'}"
                     f"{'' if same else ' (ROWS OR EVENTS DIFFER FROM THE FLOOR: ' + shapes_words(run) + ')'}")
    if floor.shapes:
        shape = next(iter(floor.shapes))
        notes.append("each: " + ", ".join(f"{count} {name}" for name, count in shape))
    return ok, "; ".join(notes)


def shapes_words(run: Run) -> str:
    return " | ".join(f"{calls} calls with " + ", ".join(f"{count} {name}" for name, count in shape)
                      for shape, calls in run.shapes.items())


def path_entry(comparison: Comparison) -> dict[str, Any]:
    heart, floor = comparison.runs["HEART"], comparison.runs["floor"]
    ok, note = answers_match(comparison)

    def numbers(run: Run) -> dict[str, Any]:
        ms = run.ms
        return {"seconds": round(sum(ms) / len(ms) / 1000, 5) if ms else None,
                "cpu_seconds": round(run.cpu_ms_per_request / 1000, 6), "peak_mb": round(run.peak_mb, 1),
                "net_cpu_seconds": round(run.net_cpu_ms_per_request / 1000, 6),
                "idle_cpu_per_second": round(run.idle_cpu_per_second, 5),
                "p95_seconds": round(percentile(ms, 0.95) / 1000, 5), "requests": run.requests}

    entry: dict[str, Any] = {
        "path": f"call lifecycle ({comparison.database})",
        "size": f"{heart.requests:,} requests ({heart.clients} clients, {heart.workers} workers)",
        "scale": 1,
        "product": numbers(heart),
        "floor": {"what": "bare FastAPI routes, the same rows and events in plain SQLAlchemy Core, one transaction",
                  **numbers(floor)},
        "peer": None,
        "answers_match": ok,
        "answer_note": note,
    }
    if "before" in comparison.runs:
        entry["before"] = {"what": "HEART at the baseline checkout", **numbers(comparison.runs["before"])}
    if comparison.routes:
        entry["route_cpu_ms"] = {label: {step: round(ms, 3) for step, ms in routes.items()}
                                 for label, routes in comparison.routes.items()}
    return entry


def report(run: Run) -> None:
    ms = run.ms
    print(f"{run.label}: clients {run.clients}, server workers {run.workers}, {run.elapsed:.1f} s")
    print(f"  lifecycles completed   {run.tally.completed}  ({run.per_second:.1f} per second; goal >= 50)")
    print(f"  requests               {len(ms)}  ({len(ms) / run.elapsed:.0f} per second)")
    print(f"  latency ms  p50 {percentile(ms, 0.50):.1f}  p95 {percentile(ms, 0.95):.1f}  "
          f"p99 {percentile(ms, 0.99):.1f}  (goal p95 < 150)")
    if run.cpu_seconds == run.cpu_seconds:
        print(f"  server CPU             {run.cpu_ms_per_request:.2f} ms per request")
    print(f"  database: {run.calls} calls, {run.cleared} cleared responses, {run.open_responses} still open "
          f"(clients stopped mid-lifecycle: {run.calls - run.tally.completed - run.warmed_up})")
    print("  check: " + ("FAILED — cleared responses differ from completed lifecycles" if run.lost_or_doubled
                         else "every completed lifecycle is in the database exactly once"))
    if run.tally.errors:
        print(f"  errors: {len(run.tally.errors)}; first: {run.tally.errors[0]}")


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
    parser.add_argument("--baseline-path", type=Path, default=None,
                        help="another checkout of HEART (e.g. main's commit in a second worktree) measured as "
                             "'before' in the same run")
    parser.add_argument("--per-route", type=int, default=None,
                        help="lifecycles run one request at a time for each route's CPU (default 20; 0 skips)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of lifecycles before measuring CPU")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each target per database (pooled)")
    parser.add_argument("--idle", type=float, default=None,
                        help="seconds of server CPU measured with no request before each window (default 2)")
    parser.add_argument("--report", action="store_true", help="end with the JSON line of the benchmark report")
    parser.add_argument("--short", action="store_true", help="small sizes (CI): a few seconds per database")
    args = parser.parse_args()
    if args.short:
        seconds, sqlite_seconds, warmup, rounds, per_route, idle = 1.5, 1.5, 0.5, 1, 0, 0.0
        clients, workers, sqlite_clients = 4, 1, 2
    else:
        seconds, sqlite_seconds = args.seconds, args.sqlite_seconds
        warmup = 2.0 if args.warmup is None else args.warmup
        rounds = 2 if args.rounds is None else args.rounds
        per_route = 20 if args.per_route is None else args.per_route
        idle = 2.0 if args.idle is None else args.idle
        clients, workers, sqlite_clients = args.clients, args.workers, args.sqlite_clients
    print(f"load average {os.getloadavg()}")
    targets = [Target("HEART"), Target("floor", app="floor")]
    if args.baseline_path is not None:
        targets.insert(0, Target("before", app_path=args.baseline_path))

    failed, paths = False, []
    with tempfile.TemporaryDirectory(prefix="heart-bench-") as folder:
        for kind, kind_seconds, kind_clients, kind_workers in (
                ("PostgreSQL", seconds, clients, workers),
                ("SQLite", sqlite_seconds, sqlite_clients, args.sqlite_workers)):
            if kind_seconds <= 0:
                continue
            database = arrange_database(kind, clients=kind_clients, workers=kind_workers, folder=Path(folder))
            try:
                comparison = compare(database, targets, seconds=kind_seconds, warmup=warmup, rounds=rounds,
                                     per_route=per_route, idle=idle)
            finally:
                database.drop()
            print_comparison(comparison)
            ok, note = answers_match(comparison)
            print(f"  check: {note}")
            failed = failed or not ok
            paths.append(path_entry(comparison))
    if not args.report and not args.short and args.sqlite_seconds > 0 and args.sqlite_rounds > 0:
        runs = sqlite_runs(clients=args.sqlite_clients, seconds=args.sqlite_seconds, workers=args.sqlite_workers,
                           rounds=args.sqlite_rounds)
        for run in (r for mode_runs in runs.values() for r in mode_runs):
            failed = failed or run.lost_or_doubled or bool(run.tally.errors)
            if run.lost_or_doubled or run.tally.errors:
                report(run)
        report_sync_cost(runs)
    print(f"load average {os.getloadavg()}")
    if args.report:
        print(json.dumps({"paths": paths, "load_average": list(os.getloadavg())}))
    if failed:
        print("FAILED: a lifecycle was lost, doubled or refused, or its rows and events differ from the floor's")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
