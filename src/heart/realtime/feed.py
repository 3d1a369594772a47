"""Live fragments of a page, rendered once per change per process and streamed to every open copy.

Two hundred open boards cost one render per change, not two hundred: subscribers share the rendered
text, and each is sent only the fragments that changed since its last message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio

from heart.realtime import sse
from heart.realtime.changes import Changes
from heart.realtime.hub import Realtime
from heart.realtime.lease import STREAM_SECONDS, Lease, StillValid

log = logging.getLogger("heart.realtime")
KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 1000
WAKE_SECONDS = 1.0  # how often an idle stream checks whether the server is stopping or its sign-in ended


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a render returns: the newest event id it saw and its named HTML fragments."""

    last_event_id: int
    parts: dict[str, str]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One rendering of the parts, numbered, with each part ready to send."""
    version: int
    last_event_id: int
    parts: dict[str, str]
    messages: dict[str, bytes]  # each part already encoded as a server-sent event
    seen: bytes  # "nothing you see changed, but you are now up to date with this event id"


class Feed:
    """Keeps the newest rendering of a page's live parts while anyone watches it."""

    def __init__(self, realtime: Realtime, render: Callable[[], Rendered]) -> None:
        self.realtime = realtime
        self.render = render
        self.current: Snapshot | None = None
        self.subscribers = 0
        self.renders = Changes()
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self._rendered_at = -1  # the change generation the current rendering reflects

    def start(self) -> None:
        """Follow the realtime changes on the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self.renders.reset()
            self._lock = asyncio.Lock()
            self.current = None
            self._task = asyncio.create_task(self._follow(), name="heart-feed")

    async def stop(self) -> None:
        """Stop following changes."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def snapshot(self) -> Snapshot:
        """The newest rendering, made now if nobody has asked since the last change."""
        if self.current is None:
            await self._refresh()
        assert self.current is not None
        return self.current

    async def _follow(self) -> None:
        seen = self.realtime.changes.generation
        while True:
            seen = await self.realtime.changes.wait(seen)
            if not self.subscribers:
                self.current = None  # nobody is watching: render on the next connection instead
                continue
            try:
                await self._refresh()
            except Exception:  # the database went away for a moment: the next change renders again
                log.exception("could not render the live fragments")
                await asyncio.sleep(1.0)

    async def _refresh(self) -> None:
        assert self._lock is not None
        generation = self.realtime.changes.generation
        async with self._lock:
            if self.current is not None and self._rendered_at == generation:
                return  # someone rendered this very generation while we waited for the lock
            rendered = await anyio.to_thread.run_sync(self.render)
            self._publish(rendered, generation)

    def _publish(self, rendered: Rendered, generation: int) -> None:
        previous = self.current
        parts, messages = {}, {}
        for name, html in rendered.parts.items():
            if previous is not None and previous.parts.get(name) == html:
                # Same text: keep the same objects, so each subscriber compares by identity.
                parts[name], messages[name] = previous.parts[name], previous.messages[name]
            else:
                parts[name], messages[name] = html, sse.message(name, html, ident=rendered.last_event_id)
        version = (previous.version if previous else 0) + 1
        seen = sse.message("seen", "", ident=rendered.last_event_id)
        self.current = Snapshot(version, rendered.last_event_id, parts, messages, seen)
        self._rendered_at = generation
        self.renders.bump()

    async def stream(self, max_seconds: float = STREAM_SECONDS, *,
                     still_valid: StillValid | None = None) -> AsyncIterator[bytes]:
        """Every fragment now, then each fragment again whenever it changes; a comment every 15 s. The stream ends
        after ``max_seconds``, or with a ``signed_out`` event as soon as ``still_valid`` (the viewer's sign-in,
        asked every few seconds) says no."""
        self.subscribers += 1
        lease = Lease(max_seconds, still_valid)
        try:
            yield sse.retry(RETRY_MILLISECONDS)
            snapshot = await self.snapshot()
            sent: dict[str, bytes] = {}
            sent_id = -1
            seen = self.renders.generation
            while True:
                for name, data in snapshot.messages.items():
                    if sent.get(name) is not data:
                        sent[name], sent_id = data, snapshot.last_event_id
                        yield data
                if snapshot.last_event_id > sent_id:
                    # A render can already show a change that it labels with an older event id (the change
                    # committed while it ran); the next render then looks the same. Say the id anyway, so the
                    # browser's Last-Event-ID (and anyone measuring) knows the board is current.
                    sent_id = snapshot.last_event_id
                    yield snapshot.seen
                # Asked after sending (a change reaches the board without waiting for the check) and on every change,
                # so a board too busy to idle still has its sign-in checked.
                if await lease.over():
                    break
                async for keepalive in keep_alive_until_change(self.renders, seen, lease):
                    yield keepalive
                if self.renders.generation == seen:
                    break  # the server is stopping, the stream has run its time, or its sign-in ended
                seen = self.renders.generation
                snapshot = self.current or await self.snapshot()
            farewell = lease.farewell()
            if farewell is not None:
                yield farewell
        finally:
            self.subscribers -= 1


async def keep_alive_until_change(changes: Changes, seen: int, lease: Lease) -> AsyncIterator[bytes]:
    """Keep-alive comments while nothing changes; ends once ``changes`` moves past ``seen``, or earlier when
    ``lease`` is over (then the generation is still ``seen``)."""
    idle = 0.0
    while await changes.wait(seen, WAKE_SECONDS) == seen:
        if await lease.over():
            return
        idle += WAKE_SECONDS
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield sse.KEEPALIVE
