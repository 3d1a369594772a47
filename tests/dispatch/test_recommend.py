"""Recommendation: free units of the call's program, fastest first; the expected wait when none is free."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.models import Response
from heart.dispatch.queue import recommend_units
from heart.dispatch.recommend import (
    TYPICAL_ON_SCENE_MINUTES,
    BusyUnit,
    Point,
    StraightLineEstimator,
    expected_wait,
    haversine_km,
    typical_on_scene_minutes,
)
from heart.dispatch.schemas import ClearResponse
from heart.programs.models import Unit
from tests.dispatch.scenario import DOWNTOWN, NORTH, SOUTH, world

CITY_HALL, DURHAM_STATION = Point(35.9940, -78.8986), Point(35.9914, -78.9034)


def test_haversine_and_the_calibrated_estimate() -> None:
    assert haversine_km(CITY_HALL, CITY_HALL) == 0
    # One degree of latitude is 111.2 km on the mean-radius sphere.
    assert haversine_km(Point(35.0, -78.9), Point(36.0, -78.9)) == pytest.approx(111.2, abs=0.05)
    estimator = StraightLineEstimator()
    # 3.3 km (Durham's mean distance to the nearest CRT home) → about 10.7 minutes with turnout.
    three_km_north = Point(CITY_HALL.lat + 3.3 / 111.2, CITY_HALL.lon)
    assert estimator.minutes(CITY_HALL, three_km_north) == pytest.approx(10.66, abs=0.05)
    assert estimator.minutes(CITY_HALL, CITY_HALL) == estimator.turnout_minutes


def test_units_are_ranked_by_time_to_scene_and_only_free_units_of_the_program_on_shift_count(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-SOUTH", home=SOUTH)
    w.add_unit("CRT", "CRT-DOWNTOWN", home=DOWNTOWN)
    w.add_unit("CRT", "CRT-NORTH", home=NORTH)
    w.add_unit("CRT", "CRT-OFF", home=NORTH, on_duty=False)
    w.add_unit("COR", "COR-NORTH", home=NORTH)
    w.add_unit("CRT", "CRT-NOWHERE", home=NORTH)
    busy = w.add_unit("CRT", "CRT-BUSY", home=NORTH)
    first_call = w.add_call()
    with transaction(sessions) as session:
        unit = session.get_one(Unit, w.units["CRT-NOWHERE"])
        unit.lat = unit.lon = unit.home_lat = unit.home_lon = None
        service.assign_unit(session=session, call_id=first_call, unit_id=busy, at=w.now, now=w.now,
                            by=w.dispatcher)
    call_id = w.add_call(at=(NORTH[0] + 0.001, NORTH[1]))
    with sessions() as session:
        ranked = recommend_units(session=session, call_id=call_id, now=w.now)
    assert [r.call_sign for r in ranked] == ["CRT-NORTH", "CRT-DOWNTOWN", "CRT-SOUTH", "CRT-NOWHERE"]
    minutes = [r.minutes for r in ranked]
    assert minutes[0] is not None and minutes[1] is not None and minutes[2] is not None
    assert minutes[0] < minutes[1] < minutes[2] and minutes[3] is None
    # A shift that has ended frees nobody, even before the sweep takes the unit off duty.
    with sessions() as session:
        later = recommend_units(session=session, call_id=call_id, now=w.now + timedelta(hours=13))
    assert later == []


def test_a_unit_is_ranked_from_where_it_last_was_not_from_home(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1", home=SOUTH)
    w.add_unit("CRT", "CRT-2", home=DOWNTOWN)
    first_call = w.add_call(at=NORTH)
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=first_call, unit_id=w.units["CRT-1"],
                                       at=w.now, now=w.now, by=w.dispatcher)
        service.mark_on_scene(session=session, response_id=response.id, at=w.now, now=w.now, by=w.dispatcher)
        service.clear_response(session=session, response_id=response.id, at=w.now, now=w.now, by=w.dispatcher,
                               outcome=ClearResponse(pd_backup_for_safety=False, ems_support=False,
                                                     disposition="resolved on scene"))
    second_call = w.add_call(at=NORTH)
    with sessions() as session:
        assert session.get_one(Unit, w.units["CRT-1"]).lat == NORTH[0]  # it stayed where the call was
        ranked = recommend_units(session=session, call_id=second_call, now=w.now)
    assert [r.call_sign for r in ranked] == ["CRT-1", "CRT-2"]


def _busy(status: str, *, minutes_ago: float, now: object, call: Point | None) -> BusyUnit:
    from datetime import datetime

    assert isinstance(now, datetime)
    unit = Unit(id=1, call_sign=f"U-{status}", lat=call.lat if call else None, lon=call.lon if call else None)
    at = now - timedelta(minutes=minutes_ago)
    response = Response(dispatched_at=at - timedelta(minutes=10))
    if status in ("on_scene", "transporting"):
        response.on_scene_at = at
    if status == "transporting":
        response.transport_started_at = at
    return BusyUnit(unit, response, call)


def test_the_expected_wait_is_the_soonest_busy_unit_to_finish_and_drive_over() -> None:
    from heart.db import utcnow

    now, here = utcnow(), CITY_HALL
    estimator = StraightLineEstimator()
    long_on_scene = _busy("on_scene", minutes_ago=30, now=now, call=here)  # 35-min typical: 5 left
    just_arrived = _busy("on_scene", minutes_ago=1, now=now, call=here)
    waited = expected_wait(here, [just_arrived, long_on_scene], now=now, typical_on_scene=35.0, estimator=estimator)
    assert waited is not None and waited.call_sign == "U-on_scene"
    assert waited.minutes == pytest.approx(5.0 + estimator.turnout_minutes, abs=0.01)
    transporting = _busy("transporting", minutes_ago=5, now=now, call=DURHAM_STATION)
    alone = expected_wait(here, [transporting], now=now, typical_on_scene=35.0, estimator=estimator)
    assert alone is not None and alone.minutes == pytest.approx(
        15.0 + estimator.minutes(DURHAM_STATION, here), abs=0.01)
    assert expected_wait(here, [], now=now, typical_on_scene=35.0) is None


def test_the_typical_time_on_scene_comes_from_the_programs_own_history(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    with sessions() as session:
        assert typical_on_scene_minutes(session=session, program_id=w.programs["CRT"], now=w.now) == \
            TYPICAL_ON_SCENE_MINUTES
    start = w.now - timedelta(hours=10)
    for index, minutes in enumerate([20, 22, 24, 26, 28]):
        at = start + timedelta(hours=index)
        call_id = w.add_call(when=at)
        with transaction(sessions) as session:
            response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=at,
                                           now=w.now, by=w.dispatcher)
            service.mark_on_scene(session=session, response_id=response.id, at=at, now=w.now, by=w.dispatcher)
            service.clear_response(session=session, response_id=response.id, at=at + timedelta(minutes=minutes),
                                   now=w.now, by=w.dispatcher, outcome=ClearResponse(
                                       pd_backup_for_safety=False, ems_support=False, disposition="other"))
    with sessions() as session:
        assert typical_on_scene_minutes(session=session, program_id=w.programs["CRT"], now=w.now) == 24
