"""Full call lifecycles against the app on PostgreSQL under uvicorn.

N concurrent clients each sign in, then loop for a fixed time: create a call → triage → assign their own
unit → en route → on scene → clear with outcomes. Prints lifecycles per second and request latency
percentiles, then checks that the database holds exactly the lifecycles the clients completed.

    .venv/bin/python benchmarks/lifecycle.py [--clients 16] [--seconds 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heart.auth.models import Role  # noqa: E402
from heart.auth.service import create_user  # noqa: E402
from heart.calls.models import Call  # noqa: E402
from heart.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from heart.dispatch.models import Response  # noqa: E402
from heart.migrate import upgrade  # noqa: E402
from heart.programs.models import Staff  # noqa: E402
from heart.programs.schemas import ProgramConfig  # noqa: E402
from heart.programs.service import create_unit, go_on_duty, upsert_program  # noqa: E402

POSTGRES = os.environ.get("HEART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark-password-1"
SCREENING = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}
CLEAR = {"pd_backup_for_safety": False, "ems_support": False, "disposition": "resolved on scene"}


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


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HEART_ENV": "production", "HEART_SECRET_KEY": secrets.token_urlsafe(40),
           "HEART_DATABASE_URL": url, "HEART_COOKIE_SECURE": "false", "HEART_LOG_LEVEL": "WARNING"}
    heart = Path(sys.executable).parent / "heart"
    process = subprocess.Popen([str(heart), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                                str(workers)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


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
        assert self.reader is not None and self.writer is not None
        payload = json.dumps(body).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(payload)}\r\n{self.headers}\r\n".encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
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


async def client_loop(port: int, unit_id: int, stop_at: float, tally: Tally) -> None:
    client = RawClient(port)
    await client.connect()
    status, signed, cookie = await client.post("/api/auth/login", {"username": "bench", "password": PASSWORD})
    if status != 200:
        tally.errors.append(f"login: {status}")
        return
    client.headers = f"Cookie: {cookie}\r\nX-CSRF-Token: {signed['csrf_token']}\r\n"

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
            await post(f"/api/calls/{call['id']}/triage", {}, 201)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=3, help="server processes (3 on 2 cores overlap DB waits)")
    args = parser.parse_args()

    name, url = create_database()
    try:
        unit_ids = arrange(url, args.clients)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = start_server(url, port, args.workers)
        try:
            tally = Tally()
            started = time.monotonic()
            stop_at = started + args.seconds

            async def run_all() -> None:
                await asyncio.gather(*(client_loop(port, unit, stop_at, tally)
                                       for unit in unit_ids))

            asyncio.run(run_all())
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=20)

        engine = make_engine(url)
        with engine.connect() as connection:
            calls = connection.scalar(select(func.count()).select_from(Call))
            cleared = connection.scalar(select(func.count()).select_from(Response)
                                        .where(Response.cleared_at.is_not(None)))
            open_responses = connection.scalar(select(func.count()).select_from(Response)
                                               .where(Response.cleared_at.is_(None)))
        engine.dispose()
    finally:
        drop_database(name)

    ms = [latency * 1000 for latency in tally.latencies]
    print(f"clients {args.clients}, server workers {args.workers}, {elapsed:.1f} s on PostgreSQL")
    print(f"lifecycles completed   {tally.completed}  ({tally.completed / elapsed:.1f} per second; goal >= 50)")
    print(f"requests               {len(ms)}  ({len(ms) / elapsed:.0f} per second)")
    print(f"latency ms  p50 {percentile(ms, 0.50):.1f}  p95 {percentile(ms, 0.95):.1f}  p99 {percentile(ms, 0.99):.1f}"
          "  (goal p95 < 150)")
    print(f"database: {calls} calls, {cleared} cleared responses, {open_responses} still open "
          f"(clients stopped mid-lifecycle: {(calls or 0) - tally.completed})")
    lost_or_doubled = cleared != tally.completed
    print("check: " + ("FAILED — cleared responses differ from completed lifecycles" if lost_or_doubled
                       else "every completed lifecycle is in the database exactly once"))
    if tally.errors:
        print(f"errors: {len(tally.errors)}; first: {tally.errors[0]}")
    if lost_or_doubled or tally.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
