"""The response status machine, transition by transition: what each tap does from every status.

MOVES to a status, is the SAME (a repeated or already-taken step: nothing written), or is REFUSED with a
reason (nothing written). The unit's status always follows the response's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.models import Response
from heart.dispatch.schemas import CancelResponse, ClearResponse
from heart.errors import Conflict
from heart.events import Event
from heart.programs.models import Unit, UnitStatus
from heart.programs.service import go_off_duty
from tests.dispatch.scenario import World, world

SAME, REFUSED = "same", "refused"
PATHS = {  # how each starting status is reached from "dispatched"
    "dispatched": [],
    "en_route": ["en_route"],
    "on_scene": ["en_route", "on_scene"],
    "on_scene_without_en_route": ["on_scene"],
    "transporting": ["en_route", "on_scene", "transport"],
    "cleared": ["en_route", "on_scene", "clear"],
    "cancelled": ["cancel"],
    "cancelled_en_route": ["en_route", "cancel"],
}
EXPECTED = {
    "dispatched": {"en_route": "en_route", "on_scene": "on_scene", "transport": REFUSED, "clear": REFUSED,
                   "cancel": "cancelled"},
    "en_route": {"en_route": SAME, "on_scene": "on_scene", "transport": REFUSED, "clear": REFUSED,
                 "cancel": "cancelled"},
    "on_scene": {"en_route": SAME, "on_scene": SAME, "transport": "transporting", "clear": "cleared",
                 "cancel": REFUSED},
    "on_scene_without_en_route": {"en_route": REFUSED, "on_scene": SAME, "transport": "transporting",
                                  "clear": "cleared", "cancel": REFUSED},
    "transporting": {"en_route": SAME, "on_scene": SAME, "transport": SAME, "clear": "cleared", "cancel": REFUSED},
    "cleared": {"en_route": SAME, "on_scene": SAME, "transport": REFUSED, "clear": SAME, "cancel": REFUSED},
    "cancelled": {"en_route": REFUSED, "on_scene": REFUSED, "transport": REFUSED, "clear": REFUSED, "cancel": SAME},
    "cancelled_en_route": {"en_route": SAME, "on_scene": REFUSED, "transport": REFUSED, "clear": REFUSED,
                           "cancel": SAME},
}
UNIT_AFTER = {"dispatched": UnitStatus.DISPATCHED, "en_route": UnitStatus.EN_ROUTE, "on_scene": UnitStatus.ON_SCENE,
              "transporting": UnitStatus.TRANSPORTING, "cleared": UnitStatus.AVAILABLE,
              "cancelled": UnitStatus.AVAILABLE}
OUTCOME = ClearResponse(pd_backup_for_safety=False, ems_support=False, disposition="resolved on scene")


def _do(w: World, session: Session, response_id: int, action: str, minute: int) -> None:
    at = w.now + timedelta(minutes=minute)
    now = at + timedelta(seconds=1)
    steps: dict[str, Callable[[], object]] = {
        "en_route": lambda: service.mark_en_route(session=session, response_id=response_id, at=at, now=now,
                                                  by=w.dispatcher),
        "on_scene": lambda: service.mark_on_scene(session=session, response_id=response_id, at=at, now=now,
                                                  by=w.dispatcher),
        "transport": lambda: service.start_transport(session=session, response_id=response_id, at=at, now=now,
                                                     by=w.dispatcher, destination=None),
        "clear": lambda: service.clear_response(session=session, response_id=response_id, outcome=OUTCOME, at=at,
                                                now=now, by=w.dispatcher),
        "cancel": lambda: service.cancel_response(session=session, response_id=response_id,
                                                  data=CancelResponse(reason="caller withdrew"), at=at, now=now,
                                                  by=w.dispatcher),
    }
    steps[action]()


def _snapshot(session: Session, response_id: int) -> tuple[object, ...]:
    response = session.get_one(Response, response_id, populate_existing=True)
    unit = session.get_one(Unit, response.unit_id, populate_existing=True)
    events = session.scalar(select(func.count()).select_from(Event))
    return (response.status, response.en_route_at, response.on_scene_at, response.transport_started_at,
            response.cleared_at, response.cancelled_at, unit.status, events)


@pytest.mark.parametrize("start", list(PATHS))
def test_every_tap_from_every_status(start: str, sessions: sessionmaker[Session]) -> None:
    for action, expected in EXPECTED[start].items():
        w = world(sessions, "CRT")
        w.add_unit("CRT", f"CRT-{start[:3]}-{action[:4]}")
        call_id = w.add_call()
        with transaction(sessions) as session:
            response_id = service.assign_unit(session=session, call_id=call_id, unit_id=list(w.units.values())[-1],
                                              at=w.now, now=w.now, by=w.dispatcher).id
        with transaction(sessions) as session:
            for minute, step in enumerate(PATHS[start], start=1):
                _do(w, session, response_id, step, minute)
        with sessions() as session:
            before = _snapshot(session, response_id)
        try:
            with transaction(sessions) as session:
                _do(w, session, response_id, action, 30)
            outcome = "moved"
        except Conflict:
            outcome = REFUSED
        with sessions() as session:
            after = _snapshot(session, response_id)
        label = f"{action} from {start}"
        if expected in (SAME, REFUSED):
            assert outcome == ("moved" if expected == SAME else REFUSED), label
            assert after == before, f"{label} changed something"
        else:
            assert outcome == "moved", label
            assert after[0] == expected, label
            assert after[6] == UNIT_AFTER[expected], f"{label}: the unit did not follow"
            assert after[7] > before[7], f"{label} wrote no event"
        _reset(sessions)


def _reset(sessions: sessionmaker[Session]) -> None:
    """Empty the tables between sub-cases (the parametrized database is shared by them)."""
    import heart.models  # noqa: F401
    from heart.db import Base

    with transaction(sessions) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())


def test_a_unit_goes_on_duty_is_sent_clears_and_goes_off_duty_and_off_duty_is_refused_on_a_call(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    unit_id = w.add_unit("CRT", "CRT-1")
    call_id = w.add_call()
    with transaction(sessions) as session:
        response_id = service.assign_unit(session=session, call_id=call_id, unit_id=unit_id, at=w.now, now=w.now,
                                          by=w.dispatcher).id
    with pytest.raises(Conflict, match="cannot go off duty until it clears"), transaction(sessions) as session:
        go_off_duty(session=session, unit_id=unit_id, now=w.now, actor_id=None)
    with transaction(sessions) as session:
        _do(w, session, response_id, "on_scene", 1)
        _do(w, session, response_id, "clear", 2)
    with transaction(sessions) as session:
        assert go_off_duty(session=session, unit_id=unit_id, now=w.now + timedelta(minutes=3),
                           actor_id=None).status == UnitStatus.OFF_DUTY
    with sessions() as session:
        kinds = session.scalars(select(Event.kind).where(Event.subject_type == "unit", Event.subject_id == unit_id)
                                .order_by(Event.id)).all()
        assert kinds == ["unit.created", "unit.on_duty", "unit.off_duty"]
