"""Throttling wrong passwords per account and per client address, in the database so every process agrees.

Checking is a read made before any password is hashed; a refused attempt costs no hashing and, after the first
refusal of a block, no write. Each wrong password is one short write: its counters and its event.

An unknown username is throttled exactly like a known one (its key is the keyed hash of what was typed), so
neither the answers nor the delays tell an attacker which accounts exist.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from heart.auth.models import LoginThrottle, User
from heart.events import record_event


@dataclass(frozen=True, slots=True)
class Limits:
    """How many wrong passwords a key gets free, how the delay then grows, and when it locks."""

    free: int
    lock_at: int
    lock: timedelta
    max_delay: timedelta

    def delay_after(self, failures: int) -> timedelta | None:
        """The wait imposed after the ``failures``-th wrong password in a row (None: no wait)."""
        if failures >= self.lock_at:
            return self.lock
        if failures <= self.free:
            return None
        return min(timedelta(seconds=2 ** (failures - self.free - 1)), self.max_delay)


# A person mistypes a few times; a guesser gets ten tries in about a minute, then fifteen minutes per try.
ACCOUNT = Limits(free=3, lock_at=10, lock=timedelta(minutes=15), max_delay=timedelta(seconds=60))
# A 911 center's consoles share one address: more room before its delays start, and a lock only for a flood.
ADDRESS = Limits(free=10, lock_at=30, lock=timedelta(minutes=15), max_delay=timedelta(seconds=60))
# Wrong passwords older than this no longer count; rows this stale are deleted.
FORGET_AFTER = timedelta(hours=1)
STALE_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Key:
    """One throttle: its row key, its scope ("account" or "address") and its limits."""

    key: str
    scope: str
    limits: Limits


@dataclass(frozen=True, slots=True)
class Block:
    """A key that may not be tried before ``until``."""

    key: str
    scope: str
    until: datetime
    recorded: bool  # whether a refusal during this block has already been recorded as an event

    def retry_after(self, now: datetime) -> int:
        """Whole seconds to wait (at least one), for the Retry-After header."""
        return max(1, int((self.until - now).total_seconds() + 0.999))


def keys_for(*, username: str, address: str, secret: str) -> tuple[Key, Key]:
    """The account throttle (a keyed hash of the normalised username) and the client address throttle."""
    digest = hmac.new(secret.encode(), username.strip().casefold().encode(), hashlib.sha256).hexdigest()[:40]
    return Key(f"account:{digest}", "account", ACCOUNT), Key(f"address:{address[:80]}", "address", ADDRESS)


def current_block(*, session: Session, keys: tuple[Key, ...], now: datetime) -> Block | None:
    """The longest block on any of ``keys`` now, if there is one (a read)."""
    scopes = {key.key: key.scope for key in keys}
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.blocked_until, LoginThrottle.refusal_recorded_for)
        .where(LoginThrottle.key.in_(scopes), LoginThrottle.blocked_until > now)
        .order_by(LoginThrottle.blocked_until.desc())
    ).all()
    if not rows:
        return None
    key, until, recorded_for = rows[0]
    assert until is not None  # the query asked for blocked_until > now
    return Block(key=key, scope=scopes[key], until=until, recorded=recorded_for == until)


def claim_refusal_record(*, session: Session, block: Block) -> bool:
    """Whether this refusal is the first of its block to be recorded (exactly one process wins)."""
    claimed = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == block.key, LoginThrottle.blocked_until == block.until,
               or_(LoginThrottle.refusal_recorded_for.is_(None), LoginThrottle.refusal_recorded_for != block.until))
        .values(refusal_recorded_for=block.until)
    ).rowcount  # type: ignore[attr-defined]
    return bool(claimed == 1)


def record_failure(*, session: Session, keys: tuple[Key, ...], now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Count one wrong password on every key; returns each scope's failures in a row and its block, if any."""
    result: dict[str, tuple[int, datetime | None]] = {}
    for key in keys:
        failures = _count(session, key.key, now)
        delay = key.limits.delay_after(failures)
        until = now + delay if delay is not None else None
        if until is not None:
            session.execute(update(LoginThrottle).where(
                LoginThrottle.key == key.key,
                or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < until),
            ).values(blocked_until=until))
        result[key.scope] = (failures, until)
    return result


def _count(session: Session, key: str, now: datetime) -> int:
    """Add one failure to ``key`` in one statement (concurrent processes cannot lose a count)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = LoginThrottle.__table__
    stale = and_(table.c.last_failure_at < now - FORGET_AFTER,
                 or_(table.c.blocked_until.is_(None), table.c.blocked_until <= now))
    upsert = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": case((stale, 1), else_=table.c.failures + 1), "last_failure_at": now},
    )
    return int(session.execute(upsert.returning(table.c.failures)).scalar_one())


def forget(*, session: Session, key: Key, now: datetime) -> None:
    """A correct password clears its account's count (never the address's); stale rows go too."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key.key))
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - STALE_AFTER,
        or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < now),
    ))


def unlock(*, session: Session, username: str, secret: str, now: datetime, actor_id: int | None) -> bool:
    """An administrator lifts an account's lock at once (the person proved who they are another way)."""
    account, _ = keys_for(username=username, address="", secret=secret)
    lifted = bool(session.execute(delete(LoginThrottle).where(LoginThrottle.key == account.key)
                                  ).rowcount)  # type: ignore[attr-defined]
    user_id = session.scalar(select(User.id).where(User.username == username.strip()))
    if lifted and user_id is not None:
        record_event(session=session, kind="user.sign_in_unlocked", subject_type="user", subject_id=user_id, at=now,
                     actor_id=actor_id)
    return lifted
