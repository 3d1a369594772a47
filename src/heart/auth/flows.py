"""Signing in: throttle check and account lookup (a read), the password check (no transaction), one short write.

On SQLite a writing transaction holds the database's only write lock; checking an argon2 hash inside one let
a flood of wrong passwords stall every write of the service. Here the hashing happens with no transaction
open at all, and each outcome is recorded by a write of a few statements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from heart.auth import service, throttle
from heart.auth.models import User
from heart.auth.service import OpenedSession
from heart.db import transaction, utcnow
from heart.errors import DomainError
from heart.events import record_event

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    username: str
    password: str
    address: str  # the client's address, as the server sees it


class LoginRefused(DomainError):
    """Wrong username or password (the same answer for an unknown username)."""

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__("wrong username or password")
        self.retry_after = retry_after  # seconds until the next attempt will be checked, when throttled


class LoginThrottled(DomainError):
    """Too many wrong passwords for this account or from this address: not checked at all (HTTP 429)."""

    def __init__(self, retry_after: int, block: throttle.Block | None = None) -> None:
        self.wait = _wait_words(retry_after)
        super().__init__(f"too many failed sign-ins; try again in {self.wait}")
        self.retry_after = retry_after
        self.block = block


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the first step found: the account (if any) and the throttles the attempt counts on."""

    attempt: LoginAttempt
    keys: tuple[throttle.Key, throttle.Key]
    user: User | None

    @property
    def checkable(self) -> bool:
        return bool(self.attempt.username.strip())


def prepare(*, reads: sessionmaker[Session], writes: sessionmaker[Session], attempt: LoginAttempt, secret: str,
            clock: Clock) -> Prepared:
    """Step one, before any hashing: the account and the throttles (a read); LoginThrottled if blocked.

    Only the first refusal of a block writes (its event); every other refused attempt is a read alone.
    """
    keys = throttle.keys_for(username=attempt.username, address=attempt.address, secret=secret)
    now = clock()
    with reads() as session:  # on SQLite a deferred, read-only transaction: it never takes the write lock
        user = service.find_account(session=session, username=attempt.username) if attempt.username.strip() else None
        block = throttle.current_block(session=session, keys=keys, now=now)
        if user is not None:
            session.expunge(user)
    if block is not None:
        if not block.recorded:
            with transaction(writes) as session:
                if throttle.claim_refusal_record(session=session, block=block):
                    _record(session, "user.login_throttled", user, now, attempt,
                            {"scope": block.scope, "until": block.until})
        raise LoginThrottled(block.retry_after(now), block)
    return Prepared(attempt, keys, user)


def conclude(*, writes: sessionmaker[Session], prepared: Prepared, matches: bool, hours: float, clock: Clock
             ) -> OpenedSession:
    """Step three, after the password was checked with no transaction open: one short write either way.

    Its time is read after the check (which may have waited its turn): a delay counts from the failure.
    """
    user, now, attempt = prepared.user, clock(), prepared.attempt
    if not matches or user is None:
        with transaction(writes) as session:
            counts = throttle.record_failure(session=session, keys=prepared.keys, now=now)
            failures, until = counts["account"]
            blocked = max((t for t in (until, counts["address"][1]) if t is not None), default=None)
            _record(session, "user.login_failed", user, now, attempt,
                    {"reason": _why(user), "failures_in_a_row": failures, "blocked_until": blocked})
        raise LoginRefused(max(1, int((blocked - now).total_seconds() + 0.999)) if blocked else None)
    with transaction(writes) as session:
        throttle.forget(session=session, key=prepared.keys[0], now=now)
        service.refresh_hash(session=session, user_id=user.id, password=attempt.password)
        return service.open_session(session=session, user=user, now=now, hours=hours)


def sign_in(
    *, reads: sessionmaker[Session], writes: sessionmaker[Session], attempt: LoginAttempt, secret: str,
    hours: float, clock: Clock = utcnow,
) -> OpenedSession:
    """Open a session for a correct password; raise LoginThrottled or LoginRefused otherwise (all in this thread)."""
    prepared = prepare(reads=reads, writes=writes, attempt=attempt, secret=secret, clock=clock)
    matches = prepared.checkable and service.password_matches(prepared.user, attempt.password)
    return conclude(writes=writes, prepared=prepared, matches=matches, hours=hours, clock=clock)


# A refused attempt is answered this much later: a client that waits for each answer (most guessing tools) then
# sends a handful of attempts a second instead of hundreds, and the wait costs the server no thread.
REFUSAL_DELAY_SECONDS = 1.0
# How long a process trusts a block it has read (an administrator's unlock reaches every process within this).
BLOCK_CACHE_SECONDS = 5.0


class KnownBlocks:
    """The blocks one server process has read and seen recorded, so that it can refuse again without the database."""

    def __init__(self) -> None:
        self._blocks: dict[str, tuple[datetime, datetime]] = {}  # key → (until, when it was read)

    def refusal(self, keys: tuple[throttle.Key, throttle.Key], now: datetime) -> int | None:
        """Seconds to wait if a block on one of ``keys`` is known (and recent enough to trust)."""
        waits = [until for key in keys if (known := self._blocks.get(key.key)) is not None
                 for until, read_at in [known] if until > now and (now - read_at).total_seconds() < BLOCK_CACHE_SECONDS]
        return max(1, int((max(waits) - now).total_seconds() + 0.999)) if waits else None

    def remember(self, block: throttle.Block, now: datetime) -> None:
        if len(self._blocks) > 10_000:  # forget what has expired before growing further
            for key in [k for k, (until, _) in self._blocks.items() if until <= now]:
                del self._blocks[key]
        self._blocks[block.key] = (block.until, now)


async def sign_in_served(
    *, reads: sessionmaker[Session], writes: sessionmaker[Session], attempt: LoginAttempt, secret: str,
    hours: float, known: KnownBlocks, clock: Clock = utcnow,
) -> OpenedSession:
    """``sign_in`` for a server: the database steps on the request thread pool, the hashing on the low-priority
    password checkers, so that a flood of sign-ins neither holds request threads nor takes CPU from other work.

    A blocked attempt this process has already seen refused is refused again without the database, and every
    refusal is answered after REFUSAL_DELAY_SECONDS.
    """
    keys = throttle.keys_for(username=attempt.username, address=attempt.address, secret=secret)
    wait = known.refusal(keys, clock())
    if wait is not None:
        await anyio.sleep(REFUSAL_DELAY_SECONDS)
        raise LoginThrottled(wait)
    try:
        prepared = await run_in_threadpool(partial(prepare, reads=reads, writes=writes, attempt=attempt,
                                                   secret=secret, clock=clock))
    except LoginThrottled as throttled:
        if throttled.block is not None:
            known.remember(throttled.block, clock())
        await anyio.sleep(REFUSAL_DELAY_SECONDS)
        raise
    matches = prepared.checkable and await service.check_password_in_background(prepared.user, attempt.password)
    return await run_in_threadpool(partial(conclude, writes=writes, prepared=prepared, matches=matches, hours=hours,
                                           clock=clock))


def _why(user: User | None) -> str:
    # Said in the event log only; the person signing in always reads "wrong username or password".
    if user is None:
        return "unknown username"
    return "inactive account" if not user.active else "wrong password"


def _record(session: Session, kind: str, user: User | None, now: datetime, attempt: LoginAttempt,
            after: dict[str, Any]) -> None:
    """A failed or throttled sign-in as an event: who (if the account exists) and from where, never what was typed.

    An unknown username is not recorded at all: what people type there is often their password.
    """
    record_event(session=session, kind=kind, subject_type="user" if user else "login",
                 subject_id=user.id if user else 0, at=now, actor_id=None, after={"address": attempt.address, **after})


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"
