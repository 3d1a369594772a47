"""Change notifications: announced only when a transaction with events commits, and rendered once per change
for every subscriber of a feed."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.events import record_event
from heart.realtime import sse
from heart.realtime.feed import Feed, Rendered
from heart.realtime.hub import Realtime
from heart.realtime.notify import CHANNEL, enable_notifications


def _run(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: a browser test earlier in this process leaves its event loop running
    in the main thread (Playwright's sync API), where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _append(session: Session, kind: str = "unit.created", call_id: int | None = None) -> None:
    record_event(session=session, kind=kind, subject_type="unit", subject_id=1, at=utcnow(), actor_id=None,
                 call_id=call_id)
    session.flush()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_commit_with_events_is_announced_once_and_a_rollback_never(sessions: sessionmaker[Session]) -> None:
    heard: list[dict[str, object]] = []
    enable_notifications(sessions, on_commit=lambda payload: heard.append(json.loads(payload)))
    enable_notifications(sessions, on_commit=lambda payload: heard.append({"twice": True}))  # ignored
    with transaction(sessions) as session:
        _append(session, "unit.created")
        _append(session, "unit.on_duty")
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        _append(session)
        raise RuntimeError("rolled back")
    with transaction(sessions) as session:
        session.info["nothing"] = True  # a commit without events says nothing
    assert heard == [{"e": 2, "k": ["unit.created", "unit.on_duty"], "c": []}]


def test_postgres_listeners_hear_of_each_commit_with_events_once_and_of_rollbacks_never(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    sessions = make_sessionmaker(engine)
    enable_notifications(sessions)
    with psycopg.connect(postgres_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        with pytest.raises(RuntimeError), transaction(sessions) as session:
            _append(session)
            raise RuntimeError("rolled back")
        with transaction(sessions) as session:
            _append(session, "call.received")
            _append(session, "call.screening_answered")  # a second flush: still one NOTIFY for the commit
        notices = list(listener.notifies(timeout=1.0, stop_after=2))
    engine.dispose()
    assert len(notices) == 1
    payload = json.loads(notices[0].payload)
    assert payload["k"] == ["call.received"] and payload["e"] >= 1


class _FakeRealtime(Realtime):
    def __init__(self) -> None:
        super().__init__(database_url="sqlite://", read_engine=None)  # type: ignore[arg-type]


def test_a_feed_renders_once_per_change_however_many_watch_and_sends_only_what_changed() -> None:
    renders: list[int] = []

    def render() -> Rendered:
        renders.append(1)
        return Rendered(len(renders), {"queue": f"queue v{len(renders)}", "units": "units (unchanged)"})

    async def scenario() -> list[list[bytes]]:
        realtime = _FakeRealtime()
        realtime.changes.reset()
        feed = Feed(realtime, render)
        feed.start()
        streams = [feed.stream() for _ in range(50)]
        received: list[list[bytes]] = [[] for _ in streams]
        for index, stream in enumerate(streams):  # retry line, then the two fragments
            for _ in range(3):
                received[index].append(await anext(stream))
        realtime.heard('{"e": 7}')
        for index, stream in enumerate(streams):
            received[index].append(await asyncio.wait_for(anext(stream), 2))
        for stream in streams:
            await stream.aclose()
        await feed.stop()
        return received

    received = _run(scenario())
    assert len(renders) == 2  # the first subscriber's render, then one for the change
    for messages in received:
        assert messages[0] == sse.retry(1000)
        assert messages[1:3] == [sse.message("queue", "queue v1", ident=1),
                                 sse.message("units", "units (unchanged)", ident=1)]
        assert messages[3] == sse.message("queue", "queue v2", ident=2)  # units did not change: not resent


def test_server_sent_event_lines() -> None:
    assert sse.message("units", "<tr>\n<td>CRT-1</td>\n</tr>", ident=12) == (
        b"event: units\nid: 12\ndata: <tr>\ndata: <td>CRT-1</td>\ndata: </tr>\n\n")
    assert sse.message("state", "") == b"event: state\ndata: \n\n"


def test_a_render_that_changes_nothing_still_tells_the_board_which_event_it_is_current_with() -> None:
    renders: list[int] = []

    def render() -> Rendered:
        renders.append(1)
        return Rendered(10 + len(renders), {"queue": "the same queue"})

    async def scenario() -> list[bytes]:
        realtime = _FakeRealtime()
        realtime.changes.reset()
        feed = Feed(realtime, render)
        feed.start()
        stream = feed.stream()
        received = [await anext(stream), await anext(stream)]
        realtime.heard('{"e": 12}')
        received.append(await asyncio.wait_for(anext(stream), 2))
        await stream.aclose()
        await feed.stop()
        return received

    received = _run(scenario())
    assert received[1] == sse.message("queue", "the same queue", ident=11)
    assert received[2] == b"event: seen\nid: 12\ndata: \n\n"


def test_a_stream_ends_after_its_lifetime_so_the_browser_signs_in_again() -> None:
    async def scenario() -> list[bytes]:
        realtime = _FakeRealtime()
        realtime.changes.reset()
        feed = Feed(realtime, lambda: Rendered(1, {"queue": "q"}))
        feed.start()
        received = [message async for message in feed.stream(max_seconds=0.0)]
        await feed.stop()
        return received

    received = _run(asyncio.wait_for(scenario(), 5))
    assert received == [sse.retry(1000), sse.message("queue", "q", ident=1)]
