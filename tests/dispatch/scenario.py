"""A small dispatch world for tests: a program, units at known places, a dispatcher and triaged calls."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.db import transaction, utcnow
from heart.programs.models import Program
from heart.triage.policy import Policy
from heart.triage.service import hand_to_dispatch, policy_named, triage_call
from tests import factories


@cache
def always_open() -> Policy:
    """The default policy with every program open around the clock, so tests pass at any hour."""
    policy = policy_named(None)
    programs = {code: program if program.always_open else dataclasses.replace(program, hours=((0, 24 * 60),))
                for code, program in policy.programs.items()}
    return dataclasses.replace(policy, programs=programs)


DOWNTOWN = (35.9940, -78.8986)
NORTH = (36.0335, -78.9051)
SOUTH = (35.9350, -78.8810)


@dataclass
class World:
    sessions: sessionmaker[Session]
    now: datetime
    dispatcher: User
    programs: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)

    def session(self) -> Session:
        return self.sessions()

    def add_unit(self, program: str, call_sign: str, *, home: tuple[float, float] = DOWNTOWN,
                 on_duty: bool = True) -> int:
        with transaction(self.sessions) as session:
            made = factories.unit(session, session.get_one(Program, self.programs[program]), call_sign,
                                  now=self.now, on_duty=on_duty, home=home)
            self.units[call_sign] = made.id
            return made.id

    def add_call(self, *, at: tuple[float, float] | None = NORTH, when: datetime | None = None,
                 hand_off: bool = True, **fields: object) -> int:
        """A call triaged by the policy (CRT for the default welfare check, answered safe) and, when its pathway
        is a field team, handed to dispatch by the call-taker (``hand_off=False`` leaves it with them)."""
        when = when or self.now
        with transaction(self.sessions) as session:
            lat, lon = at if at else (None, None)
            made = factories.call(session, now=when, lat=lat, lon=lon, **fields)
            decision = triage_call(session=session, call_id=made.id, now=when, actor_id=None, policy=always_open())
            if hand_off and always_open().programs[decision.pathway].kind == "field":
                hand_to_dispatch(session=session, call_id=made.id, now=when, actor_id=None, policy=always_open())
            return made.id


def world(sessions: sessionmaker[Session], *programs: str, now: datetime | None = None) -> World:
    """Programs open around the clock and a dispatcher."""
    now = now or utcnow()
    with transaction(sessions) as session:
        codes = {code: factories.program(session, code, now=now).id for code in programs}
        dispatcher = create_user(session=session, username="dispatch-1", password="x" * 12, role=Role.DISPATCHER,
                                 now=now)
        session.expunge(dispatcher)
    return World(sessions, now, dispatcher, codes)
