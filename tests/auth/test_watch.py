"""Open event streams' sign-ins are checked together: one query a period for every stream of the process, and a
sign-out, an expiry or a deactivated account is still noticed within that period."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, delete, event, update
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import LoginSession, Role, User
from heart.auth.service import close_session, create_user, open_session
from heart.auth.watch import SignInRoll
from heart.db import transaction, utcnow

PERIOD = 0.3


def _run(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: a browser test earlier in this process leaves its event loop running
    in the main thread (Playwright's sync API), where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _sign_ins(sessions: sessionmaker[Session], count: int) -> list[str]:
    now = utcnow()
    with transaction(sessions) as session:
        users = [create_user(session=session, username=f"board{n}", password="correct horse battery staple",
                             role=Role.DISPATCHER, now=now) for n in range(count)]
        session.flush()
        return [open_session(session=session, user=user, now=now, hours=8).token for user in users]


def _count_lookups(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def remember(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("SELECT login_sessions.token_hash"):  # the roll's look-up
            seen.append(statement)

    return seen


def test_many_streams_cost_one_query_a_period_and_a_sign_out_is_noticed_within_it(
    sessions: sessionmaker[Session], engine: Engine,
) -> None:
    tokens = _sign_ins(sessions, 40)
    roll = SignInRoll(sessions)
    lookups = _count_lookups(engine)

    async def every_stream_asks() -> list[bool]:
        return list(await asyncio.gather(*(roll.is_live(token, period=PERIOD) for token in tokens)))

    async def streams() -> None:  # one event loop, as in a server process
        assert await every_stream_asks() == [True] * 40
        assert len(lookups) == 1  # forty streams asking at once: one query
        assert await every_stream_asks() == [True] * 40
        assert len(lookups) == 1  # asked again within the period: answered from the last check
        with transaction(sessions) as session:
            close_session(session=session, token=tokens[0], now=utcnow())  # signed out in another tab
            session.execute(update(LoginSession).where(LoginSession.id == 2).values(expires_at=utcnow()))
            session.execute(update(User).where(User.username == "board2").values(active=False))
        await asyncio.sleep(PERIOD)
        answers = await every_stream_asks()
        assert answers[:3] == [False, False, False] and all(answers[3:])
        assert len(lookups) == 2

    _run(streams())


def test_a_stream_that_opened_after_the_last_check_is_looked_up_at_once(sessions: sessionmaker[Session]) -> None:
    first, second = _sign_ins(sessions, 2)
    roll = SignInRoll(sessions)

    async def streams() -> None:
        assert await roll.is_live(first, period=60)
        assert await roll.is_live(second, period=60)  # not covered by the first check: looked up, never a stale "no"
        with transaction(sessions) as session:
            session.execute(delete(LoginSession).where(LoginSession.id == 1))
        assert await roll.is_live(first, period=60)  # within the period the last verdict stands
        assert not await roll.is_live("never-issued", period=60)  # a new token: a fresh check, of every token
        assert not await roll.is_live(first, period=60) and await roll.is_live(second, period=60)

    _run(streams())
