"""Kill -9 `heart serve` during a stream of acknowledged writes, restart it, and prove nothing was lost.

Writers walk calls through their whole life over the JSON API — new call, triage (a person overrides to CRT
when the policy says CRT is closed at this hour), assign the writer's own unit, en route, on scene, clear,
then two narrative entries — and note every answer the server gave (``ledger.Ledger``). At random moments
the whole server (supervisor and workers) gets SIGKILL, mid-request. With the server down, the database is
checked against what the writers were told (``ledger.check``): every acknowledged write is there and
nothing is half-written. Then the server restarts and each writer resends the request that was cut off,
exactly as a client on a flaky network would: the same call number, the same narrative token, the same
tap. At the end every writer finishes its lifecycle and the database must hold each write exactly once.

SQLite runs with the production default (``synchronous=FULL``, WAL); PostgreSQL with two server workers.

    .venv/bin/python benchmarks/durability.py [--kills 12] [--writers 6] [--backend both|sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import heart.models  # noqa: E402, F401  (every table registered before the first session)
from heart.auth.models import Role  # noqa: E402
from heart.auth.service import create_user  # noqa: E402
from heart.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from ledger import Ledger, check  # noqa: E402
from lifecycle import (  # noqa: E402
    CLEAR,
    SCREENING,
    RawClient,
    arrange,
    create_database,
    drop_database,
    free_port,
    kill_group,
    open_sessions,
    start_server,
    stop_server,
)

WRITER = "durability-writer"
WRITER_PASSWORD = "durability-password-1"
PREFIX = "KILL-"
NARRATIVE = ("Met the neighbor at the bus shelter; talked through the night's events.",
             "Agreed to a call from Care Navigation tomorrow morning.")


@dataclass
class Outcome:
    backend: str
    kills: int = 0
    survived: int = 0  # kills after which every acknowledged write was there and nothing was half-written
    acknowledged: int = 0
    lost: int = 0
    doubled: int = 0
    half_written: int = 0
    resent: int = 0  # requests cut off by a kill and sent again after the restart
    committed_unanswered: int = 0  # of those, ones the server had committed before it died (found on resend)
    lifecycles: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass
class Server:
    """Whether the server is up, and which start of it is running (a connection belongs to one start)."""

    up: asyncio.Event = field(default_factory=asyncio.Event)
    incarnation: int = 0


class Writer:
    """One client: a signed-in supervisor console with its own unit, resending whatever a kill cut off."""

    def __init__(self, index: int, port: int, unit_id: int, headers: str, server: Server, ledger: Ledger,
                 outcome: Outcome) -> None:
        self.index, self.port, self.unit_id = index, port, unit_id
        self.server, self.up, self.ledger, self.outcome = server, server.up, ledger, outcome
        self.client: RawClient | None = None
        self.connected_to = -1  # the incarnation of the server this client's connection was opened to
        self.headers = headers  # a session opened before the run: it must survive every kill

    async def send(self, method: str, path: str, body: dict[str, object] | None = None, *, resend: bool = True
                   ) -> tuple[int, Any, bool]:
        """The server's answer, after as many resends as kills took; and whether it had to be resent.

        A request that is not safe to repeat (``resend=False``) is not sent again: once the server is back the
        answer is (0, None, True), "cut off, outcome unknown", and the caller looks before it tries again.
        """
        resent = False
        while True:
            if resent and not resend:
                await self.up.wait()
                return 0, None, True
            await self.up.wait()
            if self.connected_to != self.server.incarnation:  # a connection to a server that was killed since
                await self._drop()
            try:
                if self.client is None:
                    await self._connect()
                assert self.client is not None
                status, answer, _ = await self.client.request(method, path, body)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                if self.up.is_set() and self.connected_to == self.server.incarnation:
                    raise  # the server is up and this connection is to it: a real failure, not a kill
                # The server died under this request (or before it). Wait for it to come back and resend.
                await self._drop()
                if not resent:
                    self.outcome.resent += 1
                resent = True
                await asyncio.sleep(0.05)
                continue
            if status >= 500 or status == 401:  # a server error, or a committed session that was lost
                raise RuntimeError(f"{method} {path}: {status} {str(answer)[:200]}")
            return status, answer, resent

    async def _drop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
        self.client = None

    async def _connect(self) -> None:
        incarnation = self.server.incarnation
        client = RawClient(self.port)
        await client.connect()
        client.headers = self.headers
        self.client, self.connected_to = client, incarnation

    async def lifecycle(self, number: int) -> None:
        """One call from intake to its narrative; every acknowledged step goes into the ledger."""
        external_id = f"{PREFIX}{self.index}-{number}"
        status, call, resent = await self.send("POST", "/api/calls", {
            "external_id": external_id, "nature_code": "CHECK WELFARE", "priority": "3", "screening": SCREENING})
        if status == 409 and resent:  # committed before the kill, answer lost: find it by its number
            self.outcome.committed_unanswered += 1
            call = await self._find_call(external_id)
        elif status != 201:
            raise RuntimeError(f"new call: {status} {call}")
        call_id = int(call["id"])
        self.ledger.calls[external_id] = call_id

        await self._route_to_crt(call_id)
        response_id = await self._assign(call_id)
        for step, column in (("en-route", "en_route_at"), ("on-scene", "on_scene_at"), ("clear", "cleared_at")):
            status, answer, _ = await self.send("POST", f"/api/responses/{response_id}/{step}",
                                                CLEAR if step == "clear" else {})
            if status != 200:
                raise RuntimeError(f"{step}: {status} {answer}")
            self.ledger.steps.add((response_id, column))
        encounter_id = await self._encounter_of(call_id)
        for text in NARRATIVE:
            token = secrets.token_hex(16)
            status, entry, _ = await self.send("POST", f"/api/encounters/{encounter_id}/narrative",
                                               {"text": text, "client_token": token})
            if status != 201:
                raise RuntimeError(f"narrative: {status} {entry}")
            self.ledger.narrative[token] = (encounter_id, int(entry["id"]), text)
        self.outcome.lifecycles += 1

    async def _route_to_crt(self, call_id: int) -> None:
        """Triage, then override to CRT if the policy chose otherwise; neither is repeated blindly after a kill
        (each would record a second decision), so after a cut-off request the writer looks at the call first."""
        cut_from: object = ...
        while True:
            status, call, _ = await self.send("GET", f"/api/calls/{call_id}")
            if cut_from is not ... and call["pathway"] != cut_from:
                self.outcome.committed_unanswered += 1  # the cut-off decision had been committed
            if call["pathway"] == "CRT":
                return
            path, body = ((f"/api/calls/{call_id}/triage", {}) if call["pathway"] is None else
                          (f"/api/calls/{call_id}/triage/override", {"pathway": "CRT", "reason": "durability check"}))
            status, decided, cut = await self.send("POST", path, body, resend=False)
            if cut:
                cut_from = call["pathway"]
                continue
            if status != 201:
                raise RuntimeError(f"{path}: {status} {decided}")
            self.ledger.routed.add((call_id, decided["pathway"]))
            cut_from = ...
            if decided["pathway"] == "CRT":  # else CRT is closed at this hour: a person sends it anyway
                return

    async def _assign(self, call_id: int) -> int:
        status, response, resent = await self.send("POST", f"/api/calls/{call_id}/responses",
                                                   {"unit_id": self.unit_id})
        if status == 409 and resent:  # the unit was sent before the kill: it is this call's response
            self.outcome.committed_unanswered += 1
            status, responses, _ = await self.send("GET", f"/api/calls/{call_id}/responses")
            response = next(r for r in responses if r["unit_id"] == self.unit_id)
        elif status != 201:
            raise RuntimeError(f"assign: {status} {response}")
        response_id = int(response["id"])
        self.ledger.responses[response_id] = (call_id, self.unit_id)
        return response_id

    async def _find_call(self, external_id: str) -> dict[str, Any]:
        _, calls, _ = await self.send("GET", "/api/calls?limit=200")
        return next(c for c in calls if c["external_id"] == external_id)

    async def _encounter_of(self, call_id: int) -> int:
        _, events, _ = await self.send("GET", f"/api/calls/{call_id}/events")
        return next(int(e["subject_id"]) for e in events if e["kind"] == "encounter.opened")

    async def run(self, stop: asyncio.Event) -> None:
        number = 0
        while not stop.is_set():
            await self.lifecycle(number)
            number += 1


def prepare(url: str, writers: int) -> tuple[list[int], list[str]]:
    """The lifecycle benchmark's program and units, and a supervisor account with a session per writer."""
    unit_ids = arrange(url, writers)
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        create_user(session=session, username=WRITER, password=WRITER_PASSWORD, role=Role.SUPERVISOR, now=utcnow())
    engine.dispose()
    return unit_ids, open_sessions(url, WRITER, writers)


async def kill_and_check(url: str, *, backend: str, kills: int, writers: int, workers: int,
                         between: tuple[float, float], log: Callable[[str], None] = print) -> Outcome:
    """The whole run on a migrated, empty database at ``url``."""
    outcome = Outcome(backend)
    started = time.monotonic()
    unit_ids, headers = prepare(url, writers)
    port = free_port()
    ledger = Ledger()
    state, stop = Server(), asyncio.Event()
    up = state.up
    env = {"HEART_SQLITE_SYNCHRONOUS": "FULL"}  # what production runs (and the default there)
    server = await asyncio.to_thread(start_server, url, port, workers, env=env)
    up.set()
    clients = [Writer(i, port, unit, header, state, ledger, outcome)
               for i, (unit, header) in enumerate(zip(unit_ids, headers, strict=True))]
    tasks = [asyncio.create_task(client.run(stop)) for client in clients]
    try:
        for kill in range(1, kills + 1):
            acknowledged = ledger.writes
            while ledger.writes < acknowledged + 3 * writers:  # writes are flowing again since the restart
                await _wait_or_raise(tasks, 0.02)
            await _wait_or_raise(tasks, random.uniform(*between))
            up.clear()
            kill_group(server)  # SIGKILL, mid-request, to every process of the server
            outcome.kills += 1
            snapshot = ledger.copy()
            findings = await asyncio.to_thread(check, url, snapshot, prefix=PREFIX, complete=False)
            outcome.lost += len(findings.lost)
            outcome.half_written += len(findings.half_written)
            outcome.problems += [f"after kill {kill}: {p}" for p in findings.problems]
            if not findings.problems:
                outcome.survived += 1
            log(f"  {backend}: kill {kill}: {snapshot.writes} acknowledged writes so far, "
                f"{len(findings.problems)} problems")
            server = await asyncio.to_thread(start_server, url, port, workers, env=env)
            state.incarnation += 1
            up.set()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)  # each writer finishes its lifecycle
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(stop_server, server)
    final = check(url, ledger, prefix=PREFIX, complete=True)
    outcome.lost += len(final.lost)
    outcome.doubled += len(final.doubled)
    outcome.half_written += len(final.half_written)
    outcome.problems += [f"at the end: {p}" for p in final.problems]
    outcome.acknowledged = ledger.writes
    outcome.seconds = time.monotonic() - started
    return outcome


async def _wait_or_raise(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    """Sleep, but stop at once if a writer failed (its exception says why)."""
    done, _ = await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        task.result()


def on_sqlite(folder: Path, **options: Any) -> Outcome:
    from heart.migrate import upgrade

    url = f"sqlite:///{folder / 'durability.db'}"
    upgrade(url)
    return asyncio.run(kill_and_check(url, backend="SQLite", workers=1, **options))


def on_postgres(**options: Any) -> Outcome:
    name, url = create_database()
    try:
        return asyncio.run(kill_and_check(url, backend="PostgreSQL", workers=2, **options))
    finally:
        drop_database(name)


def report(outcome: Outcome) -> None:
    print(f"{outcome.backend}: {outcome.kills} kills, {outcome.survived} survived; "
          f"{outcome.acknowledged} acknowledged writes in {outcome.lifecycles} lifecycles, "
          f"{outcome.lost} lost, {outcome.doubled} doubled, {outcome.half_written} half-written "
          f"({outcome.seconds:.0f} s)")
    print(f"  requests cut off by a kill and resent: {outcome.resent}; of them already committed when the server "
          f"died: {outcome.committed_unanswered} (found on resend, kept once)")
    for problem in outcome.problems[:10]:
        print(f"  {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=12, help="kills per database")
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgres"), default="both")
    args = parser.parse_args()
    options = {"kills": args.kills, "writers": args.writers, "between": (0.2, 1.5)}
    print(f"durability: SIGKILL of `heart serve` during writes, {args.kills} kills per database, "
          f"{args.writers} writers, started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    outcomes = []
    if args.backend in ("both", "sqlite"):
        with tempfile.TemporaryDirectory(prefix="heart-durability-") as folder:
            outcomes.append(on_sqlite(Path(folder), **options))
    if args.backend in ("both", "postgres"):
        outcomes.append(on_postgres(**options))
    for outcome in outcomes:
        report(outcome)
    total_kills = sum(o.kills for o in outcomes)
    print(f"kills survived {sum(o.survived for o in outcomes)} of {total_kills}; writes lost "
          f"{sum(o.lost for o in outcomes)}; doubled {sum(o.doubled for o in outcomes)}; half-written "
          f"{sum(o.half_written for o in outcomes)}")
    if any(o.problems for o in outcomes):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
