"""The floor of the board fan-out benchmark (benchmarks/board.py --report): the least a server can do to push a
committed change to every connected board, on the same PostgreSQL and as many uvicorn workers as HEART.

``POST /change`` writes one row and ``NOTIFY``s its id in the same transaction; every worker ``LISTEN``s and writes
``id: <n>`` to each of its open ``GET /stream`` responses (server-sent events). No sign-in, no permission, no
rendering of the board: what is left is the write, the notification and the fan-out.

    BOARD_FLOOR_DATABASE_URL=postgresql://… .venv/bin/python -m uvicorn board_floor:app --app-dir benchmarks
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CHANNEL = "board_floor"
TABLE = "board_floor_events"  # created by the benchmark before the server starts
subscribers: set[asyncio.Queue[int]] = set()


async def listen(url: str, ready: asyncio.Event) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute(f"LISTEN {CHANNEL}")
        ready.set()
        async for notice in connection.notifies():
            ident = int(notice.payload)
            for queue in list(subscribers):
                queue.put_nowait(ident)


async def stream(request: Request) -> Response:
    queue: asyncio.Queue[int] = asyncio.Queue()
    subscribers.add(queue)

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b"id: 0\ndata: board\n\n"  # the board as it is on connecting
            while True:
                yield f"id: {await queue.get()}\ndata: changed\n\n".encode()
        finally:
            subscribers.discard(queue)

    return StreamingResponse(events(), media_type="text/event-stream")


async def change(request: Request) -> Response:
    state = request.app.state
    async with state.lock, state.writer.transaction():
        cursor = await state.writer.execute(f"INSERT INTO {TABLE} DEFAULT VALUES RETURNING id")
        row = await cursor.fetchone()
        assert row is not None
        await state.writer.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(row[0])))
    return JSONResponse({"id": row[0]}, status_code=201)


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ["BOARD_FLOOR_DATABASE_URL"]
    ready = asyncio.Event()
    listener = asyncio.create_task(listen(url, ready))
    await asyncio.wait_for(ready.wait(), 60)  # serving starts once changes are heard
    app.state.lock = asyncio.Lock()
    app.state.writer = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:
        yield
    finally:
        listener.cancel()
        await app.state.writer.close()


app = Starlette(routes=[Route("/stream", stream), Route("/change", change, methods=["POST"]),
                        Route("/healthz", healthz)], lifespan=lifespan)
