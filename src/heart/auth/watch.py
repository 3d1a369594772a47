"""The sign-ins of this process's open event streams, checked together.

A stream re-checks its sign-in every few seconds (``heart.realtime.lease``) so that a board left open after its
user signed out stops at once. Checked one by one, three hundred open boards cost sixty queries a second and as many
thread hops and pooled connections, which under load starved the requests that matter. The roll answers every
stream from one query per period: the tokens asked about recently, looked up together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from datetime import datetime

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import LoginSession, User
from heart.auth.service import token_digest
from heart.db import utcnow

FORGET_AFTER_PERIODS = 3  # a token nobody asked about for this many periods has no open stream left


def live_tokens(*, session: Session, tokens: Collection[str], now: datetime) -> set[str]:
    """Which of ``tokens`` belong to a live session of an active account (one query)."""
    by_digest = {token_digest(token): token for token in tokens}
    if not by_digest:
        return set()
    found = session.scalars(
        select(LoginSession.token_hash).join(User, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash.in_(by_digest), LoginSession.expires_at > now, User.active.is_(True)))
    return {by_digest[digest] for digest in found}


class SignInRoll:
    """One process's answer to "is this stream's sign-in still live?", refreshed at most once a period."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.asked: dict[str, float] = {}  # token → when a stream last asked about it (monotonic)
        self.checked: set[str] = set()  # the tokens the last check covered
        self.live: set[str] = set()
        self.checked_at = float("-inf")
        self._lock: asyncio.Lock | None = None

    async def is_live(self, token: str, *, period: float) -> bool:
        """Whether ``token``'s sign-in holds, as of a check at most ``period`` seconds old."""
        now = time.monotonic()
        self.asked[token] = now
        if token not in self.checked or now - self.checked_at >= period:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:  # streams that ask together share one check
                if token not in self.checked or time.monotonic() - self.checked_at >= period:
                    await asyncio.sleep(0)  # let the streams asking at this moment put their tokens in first
                    await self._check(period)
        return token in self.live

    async def _check(self, period: float) -> None:
        started = time.monotonic()
        horizon = started - FORGET_AFTER_PERIODS * period
        self.asked = {token: at for token, at in self.asked.items() if at >= horizon}
        tokens = set(self.asked)
        self.live = await anyio.to_thread.run_sync(self._look_up, tokens)
        self.checked, self.checked_at = tokens, started

    def _look_up(self, tokens: set[str]) -> set[str]:
        with self.factory() as session:
            return live_tokens(session=session, tokens=tokens, now=utcnow())
