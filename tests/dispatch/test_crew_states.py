"""The phones' shared reading (``heart.dispatch.crew_states``): one reading per change serves every watched unit,
and a stream never gets a reading older than the change that woke it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.crew_states import CrewStates
from heart.triage.flows import change_screening
from tests.dispatch.scenario import world

pytestmark = pytest.mark.usefixtures("all_day_policy")


class CountingFactory:
    """The read sessionmaker, counting the sessions opened through it (each reading opens one)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.opened = 0

    def __call__(self) -> Session:
        self.opened += 1
        return self.sessions()


def test_one_reading_per_change_serves_every_phone_and_a_newer_change_reads_again(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    first, second = w.add_unit("CRT", "CRT-1"), w.add_unit("CRT", "CRT-2")
    factory = CountingFactory(sessions)
    crews = CrewStates(factory)  # type: ignore[arg-type]
    crews.watch(first)
    crews.watch(second)
    assert crews.state(first, 1).response == "none" and crews.state(second, 1).response == "none"
    assert factory.opened == 1  # the second phone took its line from the first one's reading
    assert crews.cached(second, 1) == crews.state(second, 1) and crews.cached(second, 2) is None

    call_id = w.add_call()
    with transaction(sessions) as session:
        sent = service.assign_unit(session=session, call_id=call_id, unit_id=first, at=w.now, now=w.now,
                                   by=w.dispatcher)
        sent_id = sent.id
    assert crews.state(first, 1).response == "none"  # no change heard yet: the reading stands
    assert crews.state(first, 2).response == f"{sent_id}:dispatched"
    assert crews.state(second, 2).response == "none" and factory.opened == 2

    with transaction(sessions) as session:
        change_screening(session=session, call_id=call_id, answers={"weapon": "yes"}, now=w.now,
                         actor_id=w.dispatcher.id)
    state = crews.state(second, 3)
    assert state.banner.strip() == "" and "Weapon reported" in crews.state(first, 3).banner
    assert factory.opened == 3

    crews.unwatch(second)
    third = w.add_unit("CRT", "CRT-3")
    assert crews.state(third, 3).response == "none"  # a phone that opens later is read at once
    assert factory.opened == 4
