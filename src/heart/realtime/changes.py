"""A generation counter that async waiters can sleep on: many readers, one writer, no queues to overflow."""

from __future__ import annotations

import asyncio
import contextlib


class Changes:
    """Something happened ``generation`` times; ``wait`` sleeps until it happens again.

    A slow reader never builds a backlog: it simply wakes to the newest generation.
    """

    def __init__(self) -> None:
        self.generation = 0
        self._event = asyncio.Event()

    def reset(self) -> None:
        """Start afresh on the running loop (an asyncio.Event belongs to the first loop that waits on it)."""
        self._event = asyncio.Event()

    def bump(self) -> None:
        """Record one more change and wake every waiter (call on the event loop's thread)."""
        self.generation += 1
        woken, self._event = self._event, asyncio.Event()
        woken.set()

    async def wait(self, seen: int, timeout: float | None = None) -> int:
        """The generation once it differs from ``seen``, or ``seen`` itself after ``timeout`` seconds."""
        if self.generation != seen:
            return self.generation
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return self.generation
