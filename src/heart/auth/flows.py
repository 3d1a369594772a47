"""Signing in: throttle check and account lookup (a read), the password check (no transaction), one short write.

On SQLite a writing transaction holds the database's only write lock; checking an argon2 hash inside one let
a flood of wrong passwords stall every write of the service. Here the hashing happens with no transaction
open at all, and each outcome is recorded by a write of a few statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from heart.auth import service, throttle
from heart.auth.models import User
from heart.auth.service import OpenedSession
from heart.db import transaction
from heart.errors import DomainError
from heart.events import record_event


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

    def __init__(self, retry_after: int) -> None:
        self.wait = _wait_words(retry_after)
        super().__init__(f"too many failed sign-ins; try again in {self.wait}")
        self.retry_after = retry_after


def sign_in(
    *, reads: sessionmaker[Session], writes: sessionmaker[Session], attempt: LoginAttempt, secret: str,
    now: datetime, hours: float,
) -> OpenedSession:
    """Open a session for a correct password; raise LoginThrottled or LoginRefused otherwise."""
    keys = throttle.keys_for(username=attempt.username, address=attempt.address, secret=secret)
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
        raise LoginThrottled(block.retry_after(now))
    if not attempt.username.strip() or not service.password_matches(user, attempt.password):
        with transaction(writes) as session:
            counts = throttle.record_failure(session=session, keys=keys, now=now)
            failures, until = counts["account"]
            address_until = counts["address"][1]
            blocked = max((t for t in (until, address_until) if t is not None), default=None)
            _record(session, "user.login_failed", user, now, attempt,
                    {"reason": _why(user), "failures_in_a_row": failures, "blocked_until": blocked})
        raise LoginRefused(max(1, int((blocked - now).total_seconds() + 0.999)) if blocked else None)
    assert user is not None  # password_matches is only true for an active account
    with transaction(writes) as session:
        throttle.forget(session=session, key=keys[0], now=now)
        service.refresh_hash(session=session, user_id=user.id, password=attempt.password)
        return service.open_session(session=session, user=user, now=now, hours=hours)


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
