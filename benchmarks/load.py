"""Many users at once: call-takers, dispatchers, responders and board viewers against `heart serve --workers 2`
on PostgreSQL for a fixed time. Prints throughput and p50/p95/p99 per operation and checks that nothing was
lost or doubled (``ledger.check``: every acknowledged write is in the database once, nothing half-written).

Who the simulated users are (each has its own account, session and connections):

- call-takers take a call (new call → triage; a person overrides to CRT when the policy says CRT is closed
  at this hour), then think;
- dispatchers each watch their share of the queue (calls split between them, as sectors are), ask for the
  recommended units and assign the first; a unit taken by another dispatcher first is a 409, retried;
- responders each hold their unit's phone stream (/responder/stream); when it shows a new call they tap en
  route, on scene and clear, then write a narrative entry, thinking between taps;
- board viewers hold a live dispatch board (/dispatch/stream) open and read every update;
- readers look at the call list now and then (supervisors, analysts, a wall screen).

Each user has an account and a session of their own, opened before the run as at the start of a shift (through
the same service the sign-in uses; accounts are hashed with light argon2 parameters so that a thousand are made in
seconds). What a sign-in costs is the login benchmark's business, not this one's.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--call-takers 20] [--dispatchers 6] [--responders 40]
                                        [--boards 300] [--readers 634] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from argon2 import PasswordHasher  # noqa: E402

import heart.models  # noqa: E402, F401  (every table registered before the first session)
from board import messages, open_stream  # noqa: E402
from heart.auth import service as auth_service  # noqa: E402
from heart.auth.models import Role  # noqa: E402
from heart.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from heart.deps import CSRF_HEADER, SESSION_COOKIE  # noqa: E402
from ledger import Findings, Ledger, check  # noqa: E402
from lifecycle import (  # noqa: E402
    CLEAR,
    SCREENING,
    RawClient,
    arrange,
    create_database,
    drop_database,
    free_port,
    percentile,
    start_server,
    stop_server,
)

PASSWORD = "load-password-1"
PREFIX = "LOAD-"
GOAL_P95_MS = 300.0
FLOOR = "healthz (floor)"
IDLE_RECONNECT_SECONDS = 4.0  # uvicorn closes idle keep-alive connections after 5 s


@dataclass
class Mix:
    """How many of each kind of user, and how long each thinks between actions (seconds, uniform range)."""

    call_takers: int = 20
    dispatchers: int = 6
    responders: int = 40
    boards: int = 300
    readers: int = 634
    call_taker_think: tuple[float, float] = (4.0, 12.0)
    dispatcher_think: tuple[float, float] = (0.5, 1.5)
    responder_think: tuple[float, float] = (1.0, 4.0)
    reader_think: tuple[float, float] = (10.0, 30.0)

    @property
    def users(self) -> int:
        return self.call_takers + self.dispatchers + self.responders + self.boards + self.readers


@dataclass
class Stats:
    """Every timed request (operation, seconds, finished at), errors, and what the streams delivered."""

    samples: list[tuple[str, float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    conflicts: Counter[str] = field(default_factory=Counter)
    stream_messages: int = 0
    streams_open: int = 0
    stream_errors: list[str] = field(default_factory=list)
    phone_lag: list[float] = field(default_factory=list)  # assign acknowledged → the unit's phone shows it
    load_average: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load at the start and the end


class User:
    """One person at one screen: an account, a keep-alive connection, timed requests."""

    def __init__(self, account: Account, port: int, stats: Stats, stop: asyncio.Event) -> None:
        self.name, self.port, self.stats, self.stop = account.name, port, stats, stop
        self.cookie = f"{SESSION_COOKIE}={account.token}"
        self.client = RawClient(port)
        self.client.headers = f"Cookie: {self.cookie}\r\n{CSRF_HEADER}: {account.csrf_token}\r\n"
        self.last_used = 0.0  # connect before the first request
        self.busy = False  # in the middle of work that must finish before the run stops

    async def call(self, operation: str, method: str, path: str, body: dict[str, object] | None = None,
                   expect: tuple[int, ...] = (200, 201)) -> tuple[int, Any]:
        if time.monotonic() - self.last_used > IDLE_RECONNECT_SECONDS:
            # The server closes a keep-alive connection idle for 5 s; like a browser, open a fresh one first.
            headers = self.client.headers
            await self.client.close()
            self.client = RawClient(self.port)
            self.client.headers = headers
            await self.client.connect()
        started = time.perf_counter()
        status, answer, _ = await self.client.request(method, path, body)
        self.last_used = time.monotonic()
        finished = time.perf_counter()
        self.stats.samples.append((operation, finished - started, finished))
        if status == 409 and 409 in expect:
            self.stats.conflicts[operation] += 1
        elif status not in expect:
            raise RuntimeError(f"{operation} ({self.name}): {status} {str(answer)[:160]}")
        return status, answer

    async def think(self, between: tuple[float, float]) -> bool:
        """Pause like a person; False once the run is over."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), random.uniform(*between))
        return not self.stop.is_set()

    async def close(self) -> None:
        await self.client.close()


async def call_taker(user: User, index: int, ledger: Ledger, think: tuple[float, float]) -> None:
    number = 0
    while await user.think(think):
        external_id = f"{PREFIX}{index}-{number}"
        number += 1
        _, call = await user.call("new call", "POST", "/api/calls", {
            "external_id": external_id, "nature_code": "CHECK WELFARE", "priority": "3", "screening": SCREENING,
            "address": f"{100 + number} Main St", "lat": 35.99 + random.uniform(-0.05, 0.05),
            "lon": -78.90 + random.uniform(-0.05, 0.05)})
        ledger.calls[external_id] = int(call["id"])
        _, decided = await user.call("triage", "POST", f"/api/calls/{call['id']}/triage", {})
        ledger.routed.add((int(call["id"]), decided["pathway"]))
        if decided["pathway"] != "CRT":  # CRT closed at this hour in the policy: the call-taker sends it anyway
            await user.call("override", "POST", f"/api/calls/{call['id']}/triage/override",
                            {"pathway": "CRT", "reason": "load benchmark"})
            ledger.routed.add((int(call["id"]), "CRT"))
        await user.call("hand off", "POST", f"/api/calls/{call['id']}/hand-off", {})  # only then on the board


async def dispatcher(user: User, index: int, share: int, ledger: Ledger, assigned_at: dict[int, float],
                     think: tuple[float, float]) -> None:
    while await user.think(think):
        _, waiting = await user.call("queue", "GET", "/api/dispatch/queue")
        mine = [q for q in waiting if q["pathway"] == "CRT" and q["call_id"] % share == index]
        if not mine:
            continue
        call_id = int(mine[0]["call_id"])  # longest waiting first
        _, units = await user.call("recommendations", "GET", f"/api/calls/{call_id}/recommendations")
        if not units:
            continue
        status, response = await user.call("assign", "POST", f"/api/calls/{call_id}/responses",
                                           {"unit_id": units[0]["unit_id"]}, expect=(201, 409))
        if status == 201:
            assigned_at[int(response["id"])] = time.perf_counter()
            ledger.responses[int(response["id"])] = (call_id, int(response["unit_id"]))


async def responder(user: User, ledger: Ledger, assigned_at: dict[int, float], think: tuple[float, float]) -> None:
    """Follow the unit's phone stream; work each new response through to its narrative."""
    reader, writer, error = await open_stream(user.port, "/responder/stream", user.cookie)
    if error:
        user.stats.stream_errors.append(f"responder stream: {error}")
        return
    user.stats.streams_open += 1
    worked: set[int] = set()
    try:
        async for arrived, message in messages(reader):
            user.stats.stream_messages += 1
            if user.stop.is_set():
                return
            state = next((line[6:].decode() for line in message.split(b"\n") if line.startswith(b"data: ")), "")
            if not state.endswith(":dispatched"):
                continue
            response_id = int(state.split(":")[0])
            if response_id in worked:
                continue
            worked.add(response_id)
            if response_id in assigned_at:
                user.stats.phone_lag.append(max(arrived - assigned_at[response_id], 0.0))
            user.busy = True
            try:
                await work_response(user, response_id, ledger, think)
            finally:
                user.busy = False
    finally:
        writer.close()


async def work_response(user: User, response_id: int, ledger: Ledger, think: tuple[float, float]) -> None:
    for step, column in (("en-route", "en_route_at"), ("on-scene", "on_scene_at"), ("clear", "cleared_at")):
        if not await user.think(think):
            return  # the run is over; a half-worked response is a unit still out, not a lost write
        _, answer = await user.call(step.replace("-", " "), "POST", f"/api/responses/{response_id}/{step}",
                                    CLEAR if step == "clear" else {})
        ledger.steps.add((response_id, column))
    _, events = await user.call("call timeline", "GET", f"/api/calls/{answer['call_id']}/events")
    encounter_id = next(int(e["subject_id"]) for e in events if e["kind"] == "encounter.opened")
    token = secrets.token_hex(16)
    text = "Met the neighbor; de-escalated; agreed to a follow-up call tomorrow."
    _, entry = await user.call("narrative", "POST", f"/api/encounters/{encounter_id}/narrative",
                               {"text": text, "client_token": token})
    ledger.narrative[token] = (encounter_id, int(entry["id"]), text)


async def board_viewer(user: User) -> None:
    """Hold the live board open and read everything it sends (bytes only: the client must stay cheap)."""
    reader, writer, error = await open_stream(user.port, "/dispatch/stream", user.cookie)
    if error:
        user.stats.stream_errors.append(f"board stream: {error}")
        return
    user.stats.streams_open += 1
    try:
        while not user.stop.is_set():
            chunk = await reader.read(65536)
            if not chunk:
                user.stats.stream_errors.append("board stream ended early")
                return
            user.stats.stream_messages += chunk.count(b"\n\n")
    finally:
        writer.close()


async def reader_user(user: User, think: tuple[float, float]) -> None:
    while await user.think(think):
        await user.call("list calls", "GET", "/api/calls?limit=25")


async def floor_probe(user: User) -> None:
    """The health check (no database, no session) once a second: what any request costs on this machine at this
    moment — the floor under every other figure, taken in the same run."""
    while await user.think((0.9, 1.1)):
        await user.call(FLOOR, "GET", "/healthz")


@dataclass(frozen=True)
class Account:
    name: str
    token: str
    csrf_token: str


def prepare(url: str, mix: Mix) -> dict[str, list[Account]]:
    """Units and their crews (the lifecycle benchmark's setup), then an account and a session per user."""
    unit_ids = arrange(url, mix.responders, spread=0.005)
    wanted: dict[str, list[tuple[str, int | None]]] = {
        "call-taker": [(f"ct{i}", None) for i in range(mix.call_takers)],
        "dispatcher": [(f"disp{i}", None) for i in range(mix.dispatchers)],
        "responder": [(f"resp{i}", unit) for i, unit in enumerate(unit_ids)],
        "board": [(f"board{i}", None) for i in range(mix.boards)],
        "reader": [(f"read{i}", None) for i in range(mix.readers)],
    }
    roles = {"call-taker": Role.CALL_TAKER, "dispatcher": Role.DISPATCHER, "responder": Role.RESPONDER,
             "board": Role.DISPATCHER, "reader": Role.SUPERVISOR}
    accounts: dict[str, list[Account]] = {kind: [] for kind in wanted}
    original, auth_service._hasher = auth_service._hasher, PasswordHasher(time_cost=1, memory_cost=1024,
                                                                          parallelism=1)
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            now = utcnow()
            for kind, names in wanted.items():
                for name, unit_id in names:
                    user = auth_service.create_user(session=session, username=name, password=PASSWORD,
                                                    role=roles[kind], now=now, unit_id=unit_id)
                    opened = auth_service.open_session(session=session, user=user, now=now, hours=2)
                    accounts[kind].append(Account(name, opened.token, opened.csrf_token))
    finally:
        auth_service._hasher = original
        engine.dispose()
    return accounts


async def drive(port: int, accounts: dict[str, list[Account]], mix: Mix, seconds: float,
                ledger: Ledger, log: Callable[[str], None]) -> tuple[Stats, float]:
    stats, stop = Stats(), asyncio.Event()
    users = {kind: [User(account, port, stats, stop) for account in group] for kind, group in accounts.items()}
    every = [u for group in users.values() for u in group]
    log(f"  {len(every)} users, each with an account and a session of their own")
    assigned_at: dict[int, float] = {}
    active = [asyncio.create_task(job) for job in (
        *(call_taker(u, i, ledger, mix.call_taker_think) for i, u in enumerate(users["call-taker"])),
        *(dispatcher(u, i, len(users["dispatcher"]), ledger, assigned_at, mix.dispatcher_think)
          for i, u in enumerate(users["dispatcher"])),
        *(reader_user(u, mix.reader_think) for u in users["reader"]),
        floor_probe(User(accounts["reader"][0], port, stats, stop)))]
    watching = [asyncio.create_task(job) for job in (
        *(responder(u, ledger, assigned_at, mix.responder_think) for u in users["responder"]),
        *(board_viewer(u) for u in users["board"]))]
    tasks = active + watching
    names = [u.name for kind in ("call-taker", "dispatcher", "reader") for u in users[kind]] + ["floor probe"] + [
        u.name for kind in ("responder", "board") for u in users[kind]]
    window_start, load_at_start = time.perf_counter(), os.getloadavg()[0]
    await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    elapsed = time.perf_counter() - window_start
    stats.load_average = (load_at_start, os.getloadavg()[0])
    stop.set()  # every user finishes the request it is in (so each write is acknowledged or never sent)
    if unfinished := [t for t in active if not t.done()]:
        await asyncio.wait(unfinished, timeout=60)
    deadline = time.monotonic() + 60
    while any(u.busy for u in users["responder"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in watching:  # streams waiting for their next message, with no request in flight
        task.cancel()
    await asyncio.gather(*watching, return_exceptions=True)
    stuck = [name for name, task in zip(names, tasks, strict=True) if not task.done()]
    if stuck:  # still waiting for an answer a minute after the end: a request the server never answered
        stats.errors.append(f"{len(stuck)} users still waiting for an answer 60 s after the end: "
                            f"{', '.join(stuck[:8])}")
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            stats.errors.append(str(task.exception()))
    for task in tasks:
        task.cancel()
    for user in every:
        await user.close()
    stats.samples = [s for s in stats.samples if s[2] <= window_start + elapsed]
    return stats, elapsed


def run_load(url: str, *, mix: Mix, seconds: float, workers: int, log: Callable[[str], None] = print
             ) -> tuple[Stats, float, Findings, Ledger]:
    """The whole run on a migrated, empty PostgreSQL database at ``url``."""
    accounts = prepare(url, mix)
    port = free_port()
    server = start_server(url, port, workers)
    ledger = Ledger()
    try:
        stats, elapsed = asyncio.run(drive(port, accounts, mix, seconds, ledger, log))
    finally:
        stop_server(server)
    findings = check(url, ledger, prefix=PREFIX, complete=True)
    return stats, elapsed, findings, ledger


def report(mix: Mix, workers: int, stats: Stats, elapsed: float, findings: Findings, ledger: Ledger) -> None:
    by_operation: dict[str, list[float]] = defaultdict(list)
    for operation, seconds, _ in stats.samples:
        by_operation[operation].append(seconds * 1000)
    floor = by_operation.pop(FLOOR, [])
    every = [ms for values in by_operation.values() for ms in values]
    print(f"{mix.users} simulated users on {workers} server workers (PostgreSQL), {elapsed:.0f} s measured:")
    print(f"  {mix.call_takers} call-takers (a call every {mix.call_taker_think[0]:.0f}–{mix.call_taker_think[1]:.0f} s"
          f" each), {mix.dispatchers} dispatchers, {mix.responders} responders with their phone streams, "
          f"{mix.boards} open dispatch boards (idle viewers), {mix.readers} readers (a look every "
          f"{mix.reader_think[0]:.0f}–{mix.reader_think[1]:.0f} s)")
    print(f"  machine: {os.cpu_count()} cores shared by the server and this load generator; 1-minute load average "
          f"{stats.load_average[0]:.1f} at the start, {stats.load_average[1]:.1f} at the end")
    print(f"  {'operation':<16}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'409s':>6}")
    for operation in sorted(by_operation, key=lambda o: -len(by_operation[o])):
        values = by_operation[operation]
        print(f"  {operation:<16}{len(values):>7}{len(values) / elapsed:>8.1f}{percentile(values, 0.5):>9.1f}"
              f"{percentile(values, 0.95):>9.1f}{percentile(values, 0.99):>9.1f}"
              f"{stats.conflicts.get(operation, 0):>6}")
    p95 = percentile(every, 0.95)
    print(f"  {'all requests':<16}{len(every):>7}{len(every) / elapsed:>8.1f}{percentile(every, 0.5):>9.1f}"
          f"{p95:>9.1f}{percentile(every, 0.99):>9.1f}   (goal p95 < {GOAL_P95_MS:.0f} ms: "
          f"{'met' if p95 < GOAL_P95_MS else 'NOT met'})")
    if floor:
        print(f"  {FLOOR:<16}{len(floor):>7}{len(floor) / elapsed:>8.1f}{percentile(floor, 0.5):>9.1f}"
              f"{percentile(floor, 0.95):>9.1f}{percentile(floor, 0.99):>9.1f}   (no database: the machine's own "
              "delay at this load, in the same run)")
    if stats.phone_lag:
        lag = [s * 1000 for s in stats.phone_lag]
        print(f"  assign → the unit's phone shows it: p50 {percentile(lag, 0.5):.0f} ms, p95 "
              f"{percentile(lag, 0.95):.0f} ms ({len(lag)} assignments)")
    print(f"  streams open {stats.streams_open} of {mix.boards + mix.responders}, {stats.stream_messages} stream "
          f"messages read, stream errors {len(stats.stream_errors)}")
    print(f"  acknowledged writes {ledger.writes}: {len(ledger.calls)} calls, {len(ledger.responses)} assignments, "
          f"{len(ledger.steps)} status taps, {len(ledger.narrative)} narrative entries; lost {len(findings.lost)}, "
          f"doubled {len(findings.doubled)}, half-written {len(findings.half_written)}")
    for problem in (findings.problems + stats.errors + stats.stream_errors)[:10]:
        print(f"  problem: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    defaults = Mix()
    for name in ("call_takers", "dispatchers", "responders", "boards", "readers"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    args = parser.parse_args()
    mix = Mix(call_takers=args.call_takers, dispatchers=args.dispatchers, responders=args.responders,
              boards=args.boards, readers=args.readers)
    name, url = create_database()
    try:
        stats, elapsed, findings, ledger = run_load(url, mix=mix, seconds=args.seconds, workers=args.workers)
    finally:
        drop_database(name)
    report(mix, args.workers, stats, elapsed, findings, ledger)
    if findings.problems or stats.errors or stats.stream_errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
