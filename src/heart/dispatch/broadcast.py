"""Wiring of the live board into the app: change notifications, the shared board feed, the timer sweep.

``install(app)`` is called once by the app factory. Each server process then has one ``Realtime`` (hearing
committed changes through LISTEN/NOTIFY on PostgreSQL, in-process on SQLite), one board ``Feed`` (one
render per change, shared by every open board) and one sweep every few seconds (safety timers, the
maximum-wait prompt, shift starts and ends).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction, utcnow
from heart.dispatch.board import build_board
from heart.dispatch.timers import sweep
from heart.programs.shifts import apply_schedule
from heart.realtime.feed import Feed, Rendered
from heart.realtime.hub import Realtime
from heart.realtime.notify import enable_notifications
from heart.realtime.shutdown import hook_uvicorn
from heart.templating import templates
from heart.triage.service import policy_named

SWEEP_SECONDS = 5.0


def install(app: FastAPI) -> None:
    """Give ``app`` its realtime hub, board feed and sweep, started and stopped with the app."""
    settings = app.state.settings
    hook_uvicorn()
    realtime = Realtime(database_url=settings.database_url, read_engine=app.state.read_engine)
    enable_notifications(app.state.sessionmaker,
                         on_commit=None if realtime.on_postgres else realtime.heard_threadsafe)
    realtime.every(SWEEP_SECONDS, partial(run_sweep, app.state.sessionmaker), "dispatch-sweep")
    templates.env.globals["timezone"] = settings.timezone
    feed = Feed(realtime, partial(render_board, app.state.read_sessionmaker))
    app.state.realtime, app.state.board_feed = realtime, feed
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started_app: Any) -> AsyncIterator[Any]:
        async with original(started_app) as state:
            await start(app)
            try:
                yield state
            finally:
                await feed.stop()
                await realtime.stop()

    app.router.lifespan_context = lifespan


async def start(app: FastAPI) -> None:
    """Start hearing changes (idempotent; pages call it too, for apps served without a lifespan)."""
    await app.state.realtime.start()
    app.state.board_feed.start()
    await app.state.realtime.ready()


def run_sweep(factory: sessionmaker[Session]) -> None:
    """One pass of the timers and the shift schedule, in its own transaction."""
    with transaction(factory) as session:
        now = utcnow()
        apply_schedule(session=session, now=now)
        sweep(session=session, now=now)


def render_board(factory: sessionmaker[Session]) -> Rendered:
    """The board's live fragments as of now (runs in a worker thread)."""
    from heart.dispatch.pages import board_parts

    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":  # one snapshot for every query of the render
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        board = build_board(session=session, now=utcnow(), policy=policy_named(None))
        return Rendered(board.last_event_id, board_parts(board))
