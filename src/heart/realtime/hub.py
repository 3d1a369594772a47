"""One ``Realtime`` per server process: it hears committed changes and wakes whoever waits for them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from heart.events import Event
from heart.realtime.changes import Changes
from heart.realtime.notify import CHANNEL

log = logging.getLogger("heart.realtime")
SQLITE_POLL_SECONDS = 1.0  # SQLite has no NOTIFY: other processes' commits are seen within this
RECONNECT_SECONDS = 1.0


@dataclass
class Periodic:
    """A blocking job run in a worker thread every ``seconds`` (safety timers, shift ends)."""

    seconds: float
    job: Callable[[], object]
    name: str


@dataclass
class Realtime:
    """Hears every committed change: LISTEN on PostgreSQL; in-process calls plus a light poll on SQLite."""

    database_url: str
    read_engine: Engine
    changes: Changes = field(default_factory=Changes)
    last_event_id: int = 0
    listening: asyncio.Event | None = None
    periodic: list[Periodic] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def on_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    def every(self, seconds: float, job: Callable[[], object], name: str) -> None:
        """Run ``job`` (blocking; it gets its own thread) every ``seconds`` while the server runs."""
        self.periodic.append(Periodic(seconds, job, name))

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """Begin hearing changes on the running loop (idempotent)."""
        if self._tasks:
            return
        self._loop = asyncio.get_running_loop()
        self.changes.reset()
        self.listening = asyncio.Event()
        source = self._listen_postgres() if self.on_postgres else self._poll_sqlite()
        self._tasks.append(asyncio.create_task(source, name="heart-realtime-source"))
        for periodic in self.periodic:
            self._tasks.append(asyncio.create_task(self._repeat(periodic), name=f"heart-{periodic.name}"))

    async def ready(self, timeout: float = 5.0) -> bool:
        """Wait until changes are being heard (LISTEN issued), so a page that subscribes misses nothing."""
        if self.listening is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout)
        return self.listening.is_set()

    async def stop(self) -> None:
        """Stop listening and polling."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loop = None

    def heard(self, payload: str | None) -> None:
        """A change was committed (call on the loop's thread)."""
        if payload:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self.last_event_id = max(self.last_event_id, int(json.loads(payload)["e"]))
        self.changes.bump()

    def heard_threadsafe(self, payload: str | None) -> None:
        """The same from any thread (SQLite's after-commit hook runs in the request's worker thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(self.heard, payload)

    async def _listen_postgres(self) -> None:
        import psycopg

        conninfo = make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        assert self.listening is not None
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self.heard(None)  # (re)connected: anything may have happened meanwhile
                    async for notice in connection.notifies():
                        self.heard(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the server restarted, the network dropped: listen again
                self.listening.clear()
                log.warning("lost the PostgreSQL LISTEN connection (%s); reconnecting", type(error).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _poll_sqlite(self) -> None:
        assert self.listening is not None
        self.last_event_id = await anyio.to_thread.run_sync(self._max_event_id)
        self.listening.set()
        while True:
            await asyncio.sleep(SQLITE_POLL_SECONDS)
            try:
                newest = await anyio.to_thread.run_sync(self._max_event_id)
            except Exception as error:  # a locked or missing file: try again next time
                log.warning("could not read the event log (%s)", type(error).__name__)
                continue
            if newest > self.last_event_id:
                self.last_event_id = newest
                self.changes.bump()

    def _max_event_id(self) -> int:
        with self.read_engine.connect() as connection:
            return int(connection.execute(select(func.coalesce(func.max(Event.id), 0))).scalar_one())

    async def _repeat(self, periodic: Periodic) -> None:
        while True:
            await asyncio.sleep(periodic.seconds)
            try:
                await anyio.to_thread.run_sync(periodic.job)
            except Exception:  # keep the timers running; the traceback names no personal data
                log.exception("periodic job %s failed", periodic.name)
