"""Live board fan-out: 200 dispatch boards connected by server-sent events to two uvicorn workers on
PostgreSQL while status changes stream in; how long each change takes to reach every board.

One driver walks calls through triage → assign → en route → on scene → clear over the JSON API, one change
every --interval seconds. Each board is a raw HTTP/1.1 client reading /dispatch/stream; a change has arrived
on a board when the board receives a fragment whose event id is at least the change's. Latency is measured
from the moment the driver sends the request (so it includes the request itself). Loopback only; bounded
by --seconds.

    .venv/bin/python benchmarks/board.py [--boards 200] [--changes 80] [--interval 0.25] [--workers 2]
    .venv/bin/python benchmarks/board.py --report [--short]

``--report`` (benchmarks/report.py) measures the same boards and changes against a floor in the same run: a bare
server (``board_floor.py``, as many uvicorn workers, the same PostgreSQL) whose change is one row written and
NOTIFYed in a transaction and pushed as ``id: <n>`` to every open stream — no sign-in, permission or rendering.
Its time is the p95 of change → every board; CPU and memory are the server processes'.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import Measurement, TreeSampler, emit_report, tree_cpu_seconds  # noqa: E402
from lifecycle import (  # noqa: E402
    PASSWORD,
    SCREENING,
    RawClient,
    arrange,
    create_database,
    drop_database,
    free_port,
    percentile,
    serve_when_healthy,
    start_server,
    stop_server,
)

CLEAR = {"pd_backup_for_safety": False, "ems_support": False, "disposition": "resolved on scene"}
UNITS = 8
WAIT_FOR_BOARDS = 3.0  # seconds a change may take before it counts as missed (the server's keep-alive is 5)


@dataclass
class Board:
    """One connected board: the event ids it received, in order, with their arrival times."""

    arrivals: list[tuple[int, float]] = field(default_factory=list)
    error: str | None = None

    def arrival_of(self, event_id: int) -> float | None:
        for ident, at in self.arrivals:
            if ident >= event_id:
                return at
        return None


async def open_stream(port: int, path: str, cookie: str
                      ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str | None]:
    """GET a server-sent event stream; the reader is past the headers, or the third value says what failed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                 f"Cookie: {cookie}\r\n\r\n".encode())
    await writer.drain()
    status = (await reader.readline()).split()
    if len(status) < 2 or status[1] != b"200":
        return reader, writer, f"status {status[1:2]}"
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer, None


async def messages(reader: asyncio.StreamReader) -> AsyncIterator[tuple[float, bytes]]:
    """Each server-sent event of a chunked HTTP/1.1 stream, with the moment its chunk arrived."""
    buffer = b""
    while True:
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            return
        buffer += (await reader.readexactly(size + 2))[:-2]
        arrived = time.perf_counter()
        while b"\n\n" in buffer:
            message, buffer = buffer.split(b"\n\n", 1)
            yield arrived, message


async def watch(port: int, cookie: str, board: Board, stop: asyncio.Event, path: str = "/dispatch/stream") -> None:
    """Read the board's stream and note when each event id arrives."""
    reader, writer, error = await open_stream(port, path, cookie)
    try:
        if error:
            board.error = error
            return
        async for arrived, message in messages(reader):
            if stop.is_set():
                break
            for line in message.split(b"\n"):
                if line.startswith(b"id: "):
                    board.arrivals.append((int(line[4:]), arrived))
    except (ConnectionError, asyncio.IncompleteReadError) as error:
        board.error = type(error).__name__
    finally:
        writer.close()


async def every_board(boards: list[Board], event_id: int, started: float) -> tuple[list[float], int]:
    """Wait until the change ``event_id`` reached every connected board (at most ``WAIT_FOR_BOARDS``): the
    milliseconds from ``started`` to each arrival, and how many boards it did not reach."""
    waited_until = time.monotonic() + WAIT_FOR_BOARDS
    while True:
        arrivals = [board.arrival_of(event_id) for board in boards if not board.error]
        if all(at is not None for at in arrivals) or time.monotonic() > waited_until:
            break
        await asyncio.sleep(0.005)
    latencies = [(at - started) * 1000 for at in arrivals if at is not None]
    return latencies, len(arrivals) - len(latencies)


async def connect_boards(port: int, cookie: str, count: int, stop: asyncio.Event, path: str = "/dispatch/stream"
                         ) -> tuple[list[Board], list[asyncio.Task[None]]]:
    """``count`` boards reading the stream, once each has received the board or failed (at most 30 s)."""
    boards = [Board() for _ in range(count)]
    tasks = [asyncio.create_task(watch(port, cookie, board, stop, path)) for board in boards]
    deadline = time.monotonic() + 30
    while sum(1 for b in boards if b.arrivals or b.error) < len(boards):
        if time.monotonic() > deadline:
            raise SystemExit("not every board connected within 30 s")
        await asyncio.sleep(0.05)
    return boards, tasks


async def run(port: int, url: str, unit_ids: list[int], args: argparse.Namespace
              ) -> tuple[list[float], list[float], int, list[Board]]:
    driver = RawClient(port)
    await driver.connect()
    status, signed, cookie = await driver.post("/api/auth/login", {"username": "bench", "password": PASSWORD})
    if status != 200:
        raise SystemExit(f"login failed: {status}")
    driver.headers = f"Cookie: {cookie}\r\nX-CSRF-Token: {signed['csrf_token']}\r\n"

    stop = asyncio.Event()
    boards, tasks = await connect_boards(port, cookie, args.boards, stop)
    connected = sum(1 for b in boards if b.arrivals)
    print(f"{connected} of {len(boards)} boards connected and received the board")
    await driver.close()  # idle while the boards connected: longer than the server keeps a connection alive
    await driver.connect()

    events = await psycopg.AsyncConnection.connect(url, autocommit=True)
    per_board: list[float] = []
    per_change: list[float] = []
    missed = 0
    measured = 0
    stop_at = time.monotonic() + args.seconds

    async def change(path: str, body: dict[str, object], expect: int) -> dict[str, object]:
        """Send one change and wait until it reaches every board (or counts as missed)."""
        nonlocal missed, measured
        started = time.perf_counter()
        status, answer, _ = await driver.post(path, body)
        if status != expect:
            raise SystemExit(f"{path}: {status} {str(answer)[:200]}")
        cursor = await events.execute("select max(id) from events")
        row = await cursor.fetchone()
        event_id = int(row[0]) if row and row[0] is not None else 0
        latencies, not_arrived = await every_board(boards, event_id, started)
        measured += 1
        missed += not_arrived
        per_board.extend(latencies)
        if latencies:
            per_change.append(max(latencies))
        await asyncio.sleep(max(args.interval - (time.perf_counter() - started), 0))
        return answer

    unit_index = 0
    while measured < args.changes and time.monotonic() < stop_at:
        unit_id = unit_ids[unit_index % len(unit_ids)]
        unit_index += 1
        status, call, _ = await driver.post("/api/calls", {"nature_code": "CHECK WELFARE", "priority": "3",
                                                           "screening": SCREENING})
        status, decided, _ = await driver.post(f"/api/calls/{call['id']}/triage", {})
        if decided.get("pathway") != "CRT":  # CRT closed at this hour in the policy: a person sends it anyway
            await change(f"/api/calls/{call['id']}/triage/override", {"pathway": "CRT", "reason": "benchmark"}, 201)
        response = await change(f"/api/calls/{call['id']}/responses", {"unit_id": unit_id}, 201)
        for step in ("en-route", "on-scene"):
            await change(f"/api/responses/{response['id']}/{step}", {}, 200)
        await change(f"/api/responses/{response['id']}/clear", CLEAR, 200)

    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await events.close()
    await driver.close()
    return per_board, per_change, missed, boards


# --- the benchmark report (benchmarks/report.py): HEART's fan-out beside a bare one -----------------------------

SHORT = {"boards": 20, "changes": 10, "interval": 0.1, "workers": 1}  # one worker: half the start-up
FLOOR_STARTUP_SECONDS = 120


async def run_floor(port: int, boards_count: int, changes: int, interval: float
                    ) -> tuple[list[float], list[float], int, list[Board]]:
    """The floor's boards and changes: ``changes`` POST /change, each waited for on every board."""
    driver = RawClient(port)
    await driver.connect()
    stop = asyncio.Event()
    boards, tasks = await connect_boards(port, "", boards_count, stop, path="/stream")
    await driver.close()  # as in ``run``: a fresh connection once the boards are connected
    await driver.connect()
    per_board: list[float] = []
    per_change: list[float] = []
    missed = 0
    for _ in range(changes):
        started = time.perf_counter()
        status, answer, _ = await driver.post("/change", {})
        if status != 201:
            raise SystemExit(f"floor /change: {status} {str(answer)[:200]}")
        latencies, not_arrived = await every_board(boards, int(str(answer["id"])), started)
        missed += not_arrived
        per_board.extend(latencies)
        if latencies:
            per_change.append(max(latencies))
        await asyncio.sleep(max(interval - (time.perf_counter() - started), 0))
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await driver.close()
    return per_board, per_change, missed, boards


def start_floor(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """board_floor.py on uvicorn with ``workers`` workers, in a process group of its own."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS board_floor_events (id bigserial PRIMARY KEY)")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "board_floor:app", "--app-dir", str(ROOT / "benchmarks"), "--host",
         "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env={**os.environ, "BOARD_FLOOR_DATABASE_URL": url}, start_new_session=True)
    return serve_when_healthy(process, port, FLOOR_STARTUP_SECONDS, "the floor's server")


def served(server: subprocess.Popen[bytes], work: Any) -> tuple[Any, float, float]:
    """Run ``work`` (a coroutine) against a started server: its result, the server processes' CPU seconds during
    it, and their largest summed resident memory (MB). Stops the server."""
    sampler = TreeSampler(server.pid)
    sampler.start()
    try:
        before = tree_cpu_seconds(server.pid) or 0.0
        result = asyncio.run(work)
        cpu = (tree_cpu_seconds(server.pid) or 0.0) - before
    finally:
        sampler.stop()
        stop_server(server)
    return result, cpu, sampler.peak_mb


def run_report(args: argparse.Namespace) -> int:
    """``--report``: HEART's fan-out, then the floor's with as many boards and changes, on one database."""
    if args.short:
        args.boards, args.changes, args.interval, args.workers = (SHORT["boards"], SHORT["changes"],
                                                                  SHORT["interval"], SHORT["workers"])
    name, url = create_database()
    try:
        unit_ids = arrange(url, UNITS, spread=0.01)
        port = free_port()
        (per_board, per_change, missed, boards), cpu, peak = served(
            start_server(url, port, args.workers), run(port, url, unit_ids, args))
        errors = sum(1 for board in boards if board.error)
        port = free_port()
        (floor_board, floor_change, floor_missed, floor_boards), floor_cpu, floor_peak = served(
            start_floor(url, port, args.workers), run_floor(port, args.boards, len(per_change), args.interval))
        floor_errors = sum(1 for board in floor_boards if board.error)
    finally:
        drop_database(name)
    for label, board_ms, change_ms, server_cpu, server_mb in (("HEART", per_board, per_change, cpu, peak),
                                                              ("floor", floor_board, floor_change, floor_cpu,
                                                               floor_peak)):
        print(f"{label:<6} change → a board p50 {percentile(board_ms, 0.5):6.1f} ms p95 "
              f"{percentile(board_ms, 0.95):6.1f} ms; → every board p95 {percentile(change_ms, 0.95):6.1f} ms; "
              f"server {server_cpu:.2f} CPU s, {server_mb:,.0f} MB ({len(change_ms)} changes)", flush=True)
    product = Measurement(percentile(per_change, 0.95) / 1000, cpu, peak)
    floor = Measurement(percentile(floor_change, 0.95) / 1000, floor_cpu, floor_peak)
    agree = (missed == errors == floor_missed == floor_errors == 0 and len(per_change) == len(floor_change) > 0)
    return emit_report([{
        "path": "board fan-out", "size": f"{args.boards} boards, {len(per_change)} changes, {args.workers} worker(s)",
        "scale": 1,
        "product": {**product.figures("HEART's /dispatch/stream: the p95 of change → every board; the server "
                                      "processes' CPU and memory"), "p50_seconds": percentile(per_change, 0.5) / 1000},
        "floor": {**floor.figures("board_floor.py: the change written and NOTIFYed in one transaction and pushed as "
                                  "an event id to every stream, no sign-in, permission or rendering"),
                  "p50_seconds": percentile(floor_change, 0.5) / 1000},
        "peer": None, "answers_match": agree,
        "answer_note": f"every change reached every board: HEART {len(per_change)} changes × {args.boards} boards, "
                       f"{missed} missed, {errors} board errors; floor {len(floor_change)} changes, {floor_missed} "
                       f"missed, {floor_errors} board errors",
    }])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boards", type=int, default=200)
    parser.add_argument("--changes", type=int, default=80, help="status changes to measure")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between changes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=90, help="stop measuring after this long")
    parser.add_argument("--report", action="store_true", help="beside the floor (board_floor.py), for report.py")
    parser.add_argument("--short", action="store_true", help=f"with --report: {SHORT['boards']} boards, "
                        f"{SHORT['changes']} changes, {SHORT['workers']} worker")
    args = parser.parse_args()
    if args.report:
        raise SystemExit(run_report(args))

    name, url = create_database()
    try:
        unit_ids = arrange(url, UNITS, spread=0.01)
        port = free_port()
        server = start_server(url, port, args.workers)
        try:
            started = time.monotonic()
            per_board, per_change, missed, boards = asyncio.run(run(port, url, unit_ids, args))
            elapsed = time.monotonic() - started
        finally:
            stop_server(server)
    finally:
        drop_database(name)

    errors = [b.error for b in boards if b.error]
    print(f"{args.boards} boards, {args.workers} server workers on PostgreSQL, {len(per_change)} status changes "
          f"in {elapsed:.1f} s (one every {args.interval:.2f} s)")
    print(f"change → a board        p50 {percentile(per_board, 0.5):6.1f} ms  p95 {percentile(per_board, 0.95):6.1f} ms"
          f"  p99 {percentile(per_board, 0.99):6.1f} ms  ({len(per_board)} arrivals; goal p95 < 500 ms)")
    print(f"change → every board    p50 {percentile(per_change, 0.5):6.1f} ms  p95 "
          f"{percentile(per_change, 0.95):6.1f} ms  p99 {percentile(per_change, 0.99):6.1f} ms")
    print(f"missed (not within {WAIT_FOR_BOARDS:.0f} s): {missed}; board connection errors: {len(errors)}")
    if errors:
        print(f"first error: {errors[0]}")
    print(json.dumps({"p50_ms": round(percentile(per_board, 0.5), 1), "p95_ms": round(percentile(per_board, 0.95), 1),
                      "p99_ms": round(percentile(per_board, 0.99), 1),
                      "every_board_p95_ms": round(percentile(per_change, 0.95), 1), "missed": missed}))
    if missed or errors or percentile(per_board, 0.95) >= 500:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
