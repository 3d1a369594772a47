"""Request dependencies shared by every route: the database session, the signed-in user, permissions.

Routes read like sentences: ``def assign(call_id: int, body: AssignUnit, db: SessionDep, user: CurrentUser)``
with ``dependencies=[allow("dispatch.assign")]`` on the route.
"""

from __future__ import annotations

import functools
import hmac
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import Response

from heart.auth.models import LoginSession, User
from heart.auth.permissions import PERMISSIONS
from heart.auth.service import resolve_session
from heart.auth.watch import SignInRoll
from heart.db import utcnow
from heart.inputs import NUL_MESSAGE, has_nul
from heart.realtime import lease

SESSION_COOKIE = "heart_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(Exception):
    """No live session: pages redirect to the login page, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but the role (or a missing CSRF token) does not allow this request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Reads (GET) use the read-only session factory so that they never queue behind writers on SQLite. A session
    touches no database until its first statement (in the route's worker thread), so it opens on the event loop;
    its end (commit or rollback, and the connection back to the pool) is one trip to a worker thread, or none when a
    ``OneTrip`` route committed it in its own.
    """
    state = request.app.state
    factory = state.read_sessionmaker if request.method in SAFE_METHODS else state.sessionmaker
    async with _transaction(factory()) as session:
        session.info[_REQUEST_TRANSACTION] = True
        yield session


_ENDINGS: list[anyio.CapacityLimiter] = []


def _endings() -> anyio.CapacityLimiter:
    """The threads that end transactions, counted apart from the routes' own: a commit never waits for a thread
    held by a route that is itself waiting for the connection this commit would give back (FastAPI ends
    dependencies outside the threadpool's limit for the same reason)."""
    if not _ENDINGS:
        _ENDINGS.append(anyio.CapacityLimiter(64))
    return _ENDINGS[0]


_REQUEST_TRANSACTION = "heart_request_transaction"
"""Marks the session of a request's transaction (``get_db``), which a ``OneTrip`` route commits itself."""
_ENDED_IN_ROUTE = "heart_ended_in_route"


@asynccontextmanager
async def _transaction(session: Session) -> AsyncIterator[Session]:
    try:
        yield session
        if session.info.pop(_ENDED_IN_ROUTE, False) and not session.in_transaction():
            session.close()  # committed in the route's own thread (``OneTrip``): nothing left to wait for
            return
        await anyio.to_thread.run_sync(_commit_and_close, session, limiter=_endings())
    except BaseException:
        with anyio.CancelScope(shield=True):  # a client that went away still gets its transaction rolled back
            await anyio.to_thread.run_sync(_rollback_and_close, session, limiter=_endings())
        raise


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


class OneTrip(APIRoute):
    """A JSON route whose work ends in the worker thread that runs it: the answer validated and serialized, then the
    request's transaction committed, in the same trip (FastAPI would take two more: one to validate the answer of a
    sync endpoint, one for ``get_db`` to commit). The order is FastAPI's own — endpoint, answer, commit, then the
    answer sent — so a commit that fails still answers with its error, never with the answer.

    Routes that set their own headers or status (a ``Response`` parameter), choose their response class, or answer
    nothing are served as FastAPI serves them.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.answers_in_thread = False
        if not inspect.iscoroutinefunction(endpoint) and not inspect.isgeneratorfunction(endpoint):
            endpoint = _answered_in_thread(self, endpoint)
        super().__init__(path, endpoint, **kwargs)
        self.answers_in_thread = (
            self.response_field is not None and isinstance(self.response_class, DefaultPlaceholder)
            and self.dependant.response_param_name is None and (self.status_code or 200) not in (204, 304))


def _answered_in_thread(route: OneTrip, endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def answered(**values: Any) -> Any:
        result = endpoint(**values)
        field = route.response_field
        if not route.answers_in_thread or field is None or isinstance(result, Response):
            return result  # served as FastAPI serves it (a Response of the route's own goes out as it is)
        value, errors = field.validate(result, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=result)
        content = field.serialize_json(
            value, include=route.response_model_include, exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias, exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults, exclude_none=route.response_model_exclude_none)
        for session in values.values():
            if isinstance(session, Session) and session.info.get(_REQUEST_TRANSACTION):
                session.commit()
                session.info[_ENDED_IN_ROUTE] = True
        return Response(content=content, media_type="application/json", status_code=route.status_code or 200)

    return answered


async def get_logging_db(request: Request) -> AsyncIterator[Session]:
    """A writing transaction for a read that must be logged (a neighbor's record): the page is served only if its
    access-log rows commit with it."""
    async with _transaction(request.app.state.sessionmaker()) as session:
        yield session


LoggedReadDep = Annotated[Session, Depends(get_logging_db, scope="function")]


async def get_now() -> datetime:
    # async: trivial dependencies run on the event loop instead of costing a thread hop each.
    return utcnow()


Now = Annotated[datetime, Depends(get_now)]


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    login: LoginSession


def get_signed_in(request: Request, db: SessionDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    found = resolve_session(session=db, token=token, now=utcnow()) if token else None
    if found is None:
        raise NotSignedIn()
    # Detached, so the page that reports an error can still show who is signed in after a rollback.
    db.expunge(found[0])
    db.expunge(found[1])
    request.state.user = found[0]
    request.state.csrf_token = found[1].csrf_token
    return SignedIn(user=found[0], login=found[1])


async def get_current_user(signed_in: Annotated[SignedIn, Depends(get_signed_in)]) -> User:
    return signed_in.user


CurrentUser = Annotated[User, Depends(get_current_user)]


@dataclass(frozen=True, slots=True)
class SessionWatch:
    """Whether the sign-in that opened a long response (an event stream) still holds: not expired, not signed
    out, the account still active. Streams ask it every few seconds, after their request is long over; the
    process's roll answers them all from one query per period (``heart.auth.watch``)."""

    roll: SignInRoll
    token: str
    expires_at: datetime

    async def still_signed_in(self) -> bool:
        if utcnow() >= self.expires_at:
            return False
        return await self.roll.is_live(self.token, period=lease.CHECK_SECONDS)


async def get_session_watch(request: Request, signed_in: Annotated[SignedIn, Depends(get_signed_in)]) -> SessionWatch:
    # async: no worker thread to wait for while the request's database session is still open (sync dependencies
    # queue for threads; 200 boards connecting at once would hold every connection while they wait).
    state = request.app.state
    if getattr(state, "sign_in_roll", None) is None:
        state.sign_in_roll = SignInRoll(state.read_sessionmaker)
    return SessionWatch(state.sign_in_roll, request.cookies[SESSION_COOKIE], signed_in.login.expires_at)


WatchedSession = Annotated[SessionWatch, Depends(get_session_watch)]


class RoleGuard:
    """The dependency behind ``allow``: checks the role and, on writes, the CSRF token."""

    def __init__(self, family: str) -> None:
        if family not in PERMISSIONS:
            raise KeyError(f"unknown permission family {family!r}")
        self.family = family

    async def __call__(self, request: Request, signed_in: Annotated[SignedIn, Depends(get_signed_in)]) -> None:
        if signed_in.user.role not in PERMISSIONS[self.family]:
            raise Forbidden(f"the {signed_in.user.role.value} role may not use {self.family.replace('.', ' ')}")
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get("csrf_token")
                sent = value if isinstance(value, str) else None
            if not sent or not hmac.compare_digest(sent, signed_in.login.csrf_token):
                raise Forbidden("the request is missing its CSRF token; reload the page and try again")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_nul_in_request(request: Request) -> None:
    """App-wide dependency: a NUL character in the path, the query or a submitted form is a 422 naming it.

    JSON bodies are checked by ``Input`` (naming the field inside the body); this covers what pages read.
    """
    found = [("path", name) for name, value in request.path_params.items() if has_nul(value)]
    found += [("query", name) for name, value in request.query_params.multi_items() if has_nul(name) or has_nul(value)]
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        found += [("body", name) for name, value in form.multi_items()
                  if has_nul(name) or (isinstance(value, str) and has_nul(value))]
    if found:
        raise RequestValidationError([{"loc": where, "msg": NUL_MESSAGE, "type": "value_error"} for where in found])


class PublicMarker:
    """Marks a route that anyone may use (login page, health check, API docs)."""

    def __call__(self) -> None:
        return None


def allow(family: str) -> DependsParam:
    """Route dependency: only roles in ``family`` may use this route."""
    result: DependsParam = Depends(RoleGuard(family))
    return result


PUBLIC: DependsParam = Depends(PublicMarker())
