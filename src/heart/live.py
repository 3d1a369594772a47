"""The app's live machinery, wired by the app factory (``heart.main``): one realtime hub per server process, the
change notifications that wake it, the live feeds of pages, and the scheduled jobs each domain declares.

Each process has one ``Realtime`` (hearing committed changes through LISTEN/NOTIFY on PostgreSQL, in-process on
SQLite), one ``Feed`` per live page (one render per change, shared by every open copy; ``add_feed``) and runs every
``ScheduledJob`` the domains declare in their ``scheduled.py`` (``jobs(settings)``: ``heart.programs.scheduled``,
``heart.dispatch.scheduled``), each pass in its own transaction. All of it starts and stops with the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction, utcnow
from heart.realtime.feed import Feed, Rendered
from heart.realtime.hub import Realtime
from heart.realtime.notify import enable_notifications
from heart.realtime.shutdown import hook_uvicorn
from heart.templating import templates


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """Periodic work a domain declares: ``run(session=…, now=…)`` every ``seconds``, in its own transaction.

    Every server process runs it; a job must be safe to run in several at once (claim, then act). A job that needs
    the settings gets them when its domain's ``jobs(settings)`` builds it (e.g. ``functools.partial``).
    """

    name: str
    seconds: float
    run: Callable[..., object]


def install(app: FastAPI, *, jobs: Sequence[ScheduledJob]) -> None:
    """Give ``app`` its realtime hub and run ``jobs``, started and stopped with the app."""
    settings = app.state.settings
    hook_uvicorn()
    realtime = Realtime(database_url=settings.database_url, read_engine=app.state.read_engine)
    enable_notifications(app.state.sessionmaker,
                         on_commit=None if realtime.on_postgres else realtime.heard_threadsafe)
    for job in jobs:
        realtime.every(job.seconds, partial(run_job, app.state.sessionmaker, job), job.name)
    templates.env.globals["timezone"] = settings.timezone  # feeds render outside a request
    app.state.realtime, app.state.live_feeds = realtime, []
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started_app: Any) -> AsyncIterator[Any]:
        async with original(started_app) as state:
            await start(app)
            try:
                yield state
            finally:
                for feed in app.state.live_feeds:
                    await feed.stop()
                await realtime.stop()

    app.router.lifespan_context = lifespan


def add_feed(app: FastAPI, render: Callable[[], Rendered]) -> Feed:
    """A live feed of a page's fragments (``render`` runs in a worker thread), started with the others."""
    feed = Feed(app.state.realtime, render)
    app.state.live_feeds.append(feed)
    return feed


async def start(app: FastAPI) -> None:
    """Start hearing changes (idempotent; streams call it too, for apps served without a lifespan)."""
    await app.state.realtime.start()
    for feed in app.state.live_feeds:
        feed.start()
    await app.state.realtime.ready()


def run_job(factory: sessionmaker[Session], job: ScheduledJob, now: Callable[[], datetime] = utcnow) -> None:
    """One pass of ``job``, in its own transaction."""
    with transaction(factory) as session:
        job.run(session=session, now=now())
