"""How long an open event stream may go on: until its time is up, the server stops, or its sign-in ends.

A stream outlives the request that opened it; without a lease, a board left open after its user signed out (or
whose session expired or was revoked) would keep receiving calls and addresses. The stream asks its lease after
each message it sends and at each wake while idle; the lease asks ``still_valid`` (the session check) at most every
``check_seconds``: a sign-out is noticed within that, and a thousand open boards cost 200 indexed look-ups a
second.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from heart.realtime import sse
from heart.realtime.shutdown import stopping

STREAM_SECONDS = 600.0  # a stream ends after this and the browser reconnects (its sign-in checked afresh)
CHECK_SECONDS = 5.0  # how often a stream re-checks its sign-in (less than the 15 s between keep-alives)
SIGNED_OUT = "signed_out"  # the last event of a stream whose sign-in ended: the page stops reconnecting

StillValid = Callable[[], Awaitable[bool]]


class Lease:
    """A stream's permission to go on; ``revoked`` once ``still_valid`` has said no."""

    def __init__(self, max_seconds: float = STREAM_SECONDS, still_valid: StillValid | None = None,
                 check_seconds: float | None = None) -> None:
        self.ends_at = time.monotonic() + max_seconds
        self.still_valid = still_valid
        self.check_seconds = CHECK_SECONDS if check_seconds is None else check_seconds
        self.next_check = time.monotonic() + self.check_seconds
        self.revoked = False

    async def over(self) -> bool:
        """True once the stream must end (and stays true)."""
        if self.revoked or stopping() or time.monotonic() > self.ends_at:
            return True
        if self.still_valid is not None and time.monotonic() >= self.next_check:
            self.next_check = time.monotonic() + self.check_seconds
            if not await self.still_valid():
                self.revoked = True
        return self.revoked

    def farewell(self) -> bytes | None:
        """The last message to send: ``signed_out`` when the sign-in ended, nothing when time simply ran out."""
        return sse.message(SIGNED_OUT, "") if self.revoked else None
