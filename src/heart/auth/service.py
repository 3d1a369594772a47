"""Accounts, passwords (argon2) and server-side sessions."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from heart.auth.models import LoginSession, Role, User
from heart.errors import Conflict, DomainError, InvalidInput, NotFound
from heart.events import record_event
from heart.programs.models import Staff

_hasher = PasswordHasher()
_dummy_hashes: dict[tuple[int, int, int], str] = {}
# Password checks a server process runs at once, and how many may wait for one before sign-in says "busy".
CHECKERS = 2
MAX_WAITING = 64
CHECKER_NICENESS = 19  # the lowest; measured against 10 in benchmarks/login_flood.py: 19 keeps writes steadier
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str
    csrf_token: str
    user: User
    expires_at: datetime


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    display_name: str = "",
    unit_id: int | None = None,
    staff_id: int | None = None,
    actor_id: int | None = None,
) -> User:
    """Add an account; refuses a taken username or a short password."""
    username = username.strip()
    if not username:
        raise InvalidInput("a username is required", field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the username {username!r} is already taken")
    if staff_id is not None and session.get(Staff, staff_id) is None:
        raise NotFound("staff member", staff_id, field="staff_id")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_id,
        staff_id=staff_id,
        created_at=now,
        active=True,
    )
    session.add(user)
    session.flush()
    record_event(
        session=session, kind="user.created", subject_type="user", subject_id=user.id, at=now,
        actor_id=actor_id,
        after={"username": username, "role": role.value, "unit_id": unit_id, "staff_id": staff_id},
    )
    return user


def find_account(*, session: Session, username: str) -> User | None:
    """The account with this username, active or not (None when there is none)."""
    return session.scalar(select(User).where(User.username == username.strip()))


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is the active ``user``'s; the same hashing work when there is no such user.

    Call it outside any transaction: hashing takes tens of milliseconds by design.
    """
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return user is not None and user.active


class SignInBusy(DomainError):
    """More sign-ins are waiting for a password check than this process takes on (HTTP 503, retry shortly)."""

    def __init__(self) -> None:
        super().__init__("too many sign-ins at once; try again in a few seconds")
        self.retry_after = 2


def _lowest_priority() -> None:
    # A password checker runs at the lowest CPU priority (on Linux, nice is per thread, and the hashing
    # library's own lane threads inherit it): a flood of sign-ins cannot starve the dispatcher's requests.
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECKER_NICENESS)


_checkers: ThreadPoolExecutor | None = None
_waiting = 0
_checkers_lock = threading.Lock()


async def check_password_in_background(user: User | None, password: str) -> bool:
    """``password_matches`` on a low-priority checker thread; the caller's thread (and event loop) stay free."""
    global _checkers, _waiting
    with _checkers_lock:
        if _waiting >= MAX_WAITING:
            raise SignInBusy()
        if _checkers is None:
            _checkers = ThreadPoolExecutor(CHECKERS, thread_name_prefix="password-check", initializer=_lowest_priority)
        _waiting += 1
        future = _checkers.submit(password_matches, user, password)
    try:
        return await asyncio.wrap_future(future)
    finally:
        with _checkers_lock:
            _waiting -= 1


def _dummy_hash() -> str:
    """A real hash (with the current parameters) to check when the username is unknown: both take as long."""
    params = (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)
    if params not in _dummy_hashes:
        _dummy_hashes[params] = _hasher.hash("not-a-real-password")
    return _dummy_hashes[params]


def refresh_hash(*, session: Session, user_id: int, password: str) -> None:
    """Re-hash a correct password whose hash uses older parameters."""
    user = session.get_one(User, user_id)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(*, session: Session, user: User, now: datetime, hours: float) -> OpenedSession:
    """Start a login session; only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=hours)
    session.add(
        LoginSession(token_hash=token_digest(token), user_id=user.id, csrf_token=csrf_token, created_at=now,
                     expires_at=expires_at)
    )
    record_event(session=session, kind="user.logged_in", subject_type="user", subject_id=user.id, at=now,
                 actor_id=user.id)
    return OpenedSession(token=token, csrf_token=csrf_token, user=user, expires_at=expires_at)


# Every request signs in with this one statement: built once (with its cache key), so a request spends nothing
# on building the query again (a fifth of the sign-in's CPU, measured in benchmarks/lifecycle.py).
_SIGNED_IN = (select(User, LoginSession).join(LoginSession, LoginSession.user_id == User.id)
              .where(LoginSession.token_hash == bindparam("digest"), LoginSession.expires_at > bindparam("now"),
                     User.active.is_(True)))


def resolve_session(*, session: Session, token: str, now: datetime) -> tuple[User, LoginSession] | None:
    """The user behind a session cookie, if the session is live and the account active."""
    row = session.execute(_SIGNED_IN, {"digest": token_digest(token), "now": now}).first()
    return (row[0], row[1]) if row else None


def close_session(*, session: Session, token: str, now: datetime) -> None:
    """Log out: the session stops working at once."""
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == token_digest(token)))
    if row is None:
        return
    record_event(session=session, kind="user.logged_out", subject_type="user", subject_id=row.user_id, at=now,
                 actor_id=row.user_id)
    session.execute(delete(LoginSession).where(LoginSession.id == row.id))


def get_user_by_username(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user", username, field="username")
    return user


# --- accounts, for an administrator ---------------------------------------------------------------------------

ONE_TIME_PASSWORD_BYTES = 12  # 16 characters of URL-safe base64: well over MIN_PASSWORD_LENGTH


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("account", user_id, field="user_id")
    return user


def change_account(*, session: Session, user_id: int, role: Role, unit_id: int | None, by: User,
                   now: datetime) -> User:
    """Set an account's role and unit (a unit only for a responder: the phone shows that unit's call)."""
    user = get_user(session=session, user_id=user_id)
    if role != Role.RESPONDER:
        unit_id = None
    if user.id == by.id and role != user.role:
        raise Conflict("you cannot change your own role; ask another administrator")
    before = {"role": user.role.value, "unit_id": user.unit_id}
    after = {"role": role.value, "unit_id": unit_id}
    if before != after:
        user.role, user.unit_id = role, unit_id
        record_event(session=session, kind="user.changed", subject_type="user", subject_id=user.id, at=now,
                     actor_id=by.id, before=before, after=after)
        if before["role"] != after["role"]:  # what a session may see changed: sign in again
            _end_sessions(session, user.id)
    return user


def set_active(*, session: Session, user_id: int, active: bool, by: User, now: datetime) -> User:
    """Disable an account (its sessions end at once, its open screens are signed out) or enable it again."""
    user = get_user(session=session, user_id=user_id)
    if user.id == by.id and not active:
        raise Conflict("you cannot disable your own account")
    if user.active == active:
        return user
    user.active = active
    if not active:
        _end_sessions(session, user.id)
    record_event(session=session, kind="user.enabled" if active else "user.disabled", subject_type="user",
                 subject_id=user.id, at=now, actor_id=by.id, before={"active": not active}, after={"active": active})
    return user


def reset_password(*, session: Session, user_id: int, by: User, now: datetime, password: str | None = None
                   ) -> str | None:
    """Give an account a new password: the one given, or a one-time password returned to show once (never stored
    in clear, never logged, never in an event). The account's sessions end; a lock from wrong passwords stays."""
    user = get_user(session=session, user_id=user_id)
    made = None
    if password is None:
        made = password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user.password_hash = hash_password(password)
    _end_sessions(session, user.id)
    record_event(session=session, kind="user.password_reset", subject_type="user", subject_id=user.id, at=now,
                 actor_id=by.id, after={"one_time": made is not None})
    return made


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
