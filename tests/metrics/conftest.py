"""A small history whose figures are worked out by hand in test_definitions.py.

Rows are written straight to the tables (not through the services), because the services refuse the
broken timelines — missing arrivals, negative durations — that the metrics must survive.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from heart.calls.models import Call, CallSource, CallStatus
from heart.db import make_engine, make_sessionmaker, transaction
from heart.dispatch.models import Response
from heart.programs.models import Program, ProgramKind, Unit

NY, DENVER = "America/New_York", "America/Denver"


def utc(text: str) -> datetime:
    """'2024-03-05 15:00' or '2024-03-05 15:00:00.25' as an aware UTC time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (program, incident type, received, dispatched, on scene, cleared, cancelled, transported, pd backup, ems)
ROWS: list[tuple[str, str, str, str, str | None, str | None, str | None, bool, bool, bool]] = [
    # CRT, counted in March 2024 (New York time)
    ("CRT", "trespass_unwanted", "2024-03-05 14:58", "2024-03-05 15:00", "2024-03-05 15:10", "2024-03-05 15:40",
     None, True, False, False),  # 1: 10 + 30 min, received→scene 12, EST hour 10
    ("CRT", "mental_health_crisis", "2024-03-12 17:55:30", "2024-03-12 18:00", "2024-03-12 18:12:30",
     "2024-03-12 18:52:30", None, False, True, False),  # 2: 12.5 + 40, r→s 17, EDT hour 14
    ("CRT", "welfare_check", "2024-03-20 00:59", "2024-03-20 01:00:00.25", "2024-03-20 01:20:00.75",
     "2024-03-20 01:50:00.75", None, False, False, True),  # 3: 20 min 0.5 s + 30, r→s 21 min 0.75 s, hour 21
    ("CRT", "trespass_unwanted", "2024-04-01 02:29", "2024-04-01 02:30", "2024-04-01 02:45", "2024-04-01 03:30",
     None, True, False, False),  # 4: cleared 23:30 on March 31 in New York: in the period; 15 + 45, r→s 16
    ("CRT", "welfare_check", "2024-03-22 16:30", "2024-03-22 16:00", "2024-03-22 16:20", "2024-03-22 16:50",
     None, False, False, False),  # 12: arrival before the call: counted, but not in received→scene
    ("CRT", "assist_person", "2024-03-25 13:58", "2024-03-25 14:00", "2024-03-25 14:00", "2024-03-25 14:00",
     None, False, False, False),  # 13: zero minutes is allowed; r→s 2
    # CRT, outside March in New York
    ("CRT", "welfare_check", "2024-03-01 03:55", "2024-03-01 04:00", "2024-03-01 04:10", "2024-03-01 04:30",
     None, False, False, False),  # 5: February 29 in New York
    ("CRT", "welfare_check", "2024-04-01 03:35", "2024-04-01 03:40", "2024-04-01 03:50", "2024-04-01 04:00",
     None, False, False, False),  # 6: midnight of April 1 in New York
    # CRT, data-quality exceptions and cancellations in March
    ("CRT", "welfare_check", "2024-03-15 15:55", "2024-03-15 16:00", None, "2024-03-15 16:30",
     None, False, False, False),  # 7: missing arrival
    ("CRT", "welfare_check", "2024-03-16 15:50", "2024-03-16 16:00", "2024-03-16 15:55", "2024-03-16 16:30",
     None, False, False, False),  # 8: arrival before dispatch
    ("CRT", "welfare_check", "2024-03-17 15:55", "2024-03-17 16:00", "2024-03-17 16:10", "2024-03-17 16:05",
     None, False, False, False),  # 9: cleared before arrival
    ("CRT", "welfare_check", "2024-03-18 15:55", "2024-03-18 16:00", None, None, "2024-03-18 16:05",
     False, False, False),  # 10: cancelled in March
    ("CRT", "welfare_check", "2024-02-10 15:55", "2024-02-10 16:00", None, None, "2024-02-10 16:05",
     False, False, False),  # 11: cancelled in February
    ("CRT", "welfare_check", "2024-03-19 15:55", "2024-03-19 16:00", "2024-03-19 16:10", "2024-03-19 16:40",
     "2024-03-19 16:05", False, False, False),  # 15: cleared and cancelled
    ("CRT", "welfare_check", "2024-03-28 15:55", "2024-03-28 16:00", "2024-03-28 16:10", None,
     None, False, False, False),  # 14: still on scene: in no figure
    # COR across the change to daylight time (2024-03-10 07:00 UTC)
    ("COR", "mental_health_crisis", "2024-03-10 06:20", "2024-03-10 06:30", "2024-03-10 06:42", "2024-03-10 07:30",
     None, False, False, False),  # 12 + 48, r→s 22, EST hour 1
    ("COR", "ivc_order", "2024-03-10 07:25", "2024-03-10 07:30", "2024-03-10 07:45", "2024-03-10 08:45",
     None, True, False, False),  # 15 + 60, r→s 20, EDT hour 3
    # DEN, a program in another time zone
    ("DEN", "welfare_check", "2024-03-15 02:55", "2024-03-15 03:00", "2024-03-15 03:10", "2024-03-15 04:00",
     None, False, False, False),  # 10 + 50, MDT hour 21 on March 14
    ("DEN", "welfare_check", "2024-04-01 04:58", "2024-04-01 05:00", "2024-04-01 05:05", "2024-04-01 05:30",
     None, False, False, False),  # 5 + 25: 23:30 on March 31 in Denver (in the period), hour 23
]


def load_history(engine: Engine) -> None:
    """Write the rows above: three programs, one unit per response, one call per response."""
    with transaction(make_sessionmaker(engine)) as session:
        _load(session)


def _load(session: Session) -> None:
    programs = {}
    for code, zone in (("CRT", NY), ("COR", NY), ("DEN", DENVER), ("CCD", NY)):
        program = Program(code=code, name=code, kind=ProgramKind.PHONE if code == "CCD" else ProgramKind.FIELD,
                          timezone=zone, hours={}, crew_roles=[])
        session.add(program)
        programs[code] = program
    session.flush()
    for number, (code, kind, received, dispatched, on_scene, cleared, cancelled, transported, backup,
                 ems) in enumerate(ROWS, start=1):
        unit = Unit(call_sign=f"{code}-{number}", program_id=programs[code].id)
        call = Call(source=CallSource.E911, received_at=utc(received), incident_type=kind, screening={},
                    status=CallStatus.RESOLVED, pathway=code)
        session.add_all([unit, call])
        session.flush()
        session.add(Response(
            call_id=call.id, unit_id=unit.id, program_id=programs[code].id, dispatched_at=utc(dispatched),
            on_scene_at=utc(on_scene) if on_scene else None, cleared_at=utc(cleared) if cleared else None,
            cancelled_at=utc(cancelled) if cancelled else None,
            transported=transported if cleared else None, pd_backup_for_safety=backup if cleared else None,
            ems_support=ems if cleared else None))


@pytest.fixture
def history_url(database_url: str) -> str:
    """The hand-checked history on a fresh SQLite file or an emptied PostgreSQL database."""
    engine = make_engine(database_url)
    try:
        load_history(engine)
    finally:
        engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session per test process (it takes half a minute to start); tests that use it are in the
    xdist group "spark", so they share one process."""
    from heart.metrics.backends.spark import spark_session

    # Tiny data, many small queries: the JVM's first compiler tier only, no whole-stage code generation and no
    # adaptive re-planning (each costs more than it saves on a few hundred rows) — measured 16-22 s of Spark per
    # engine test before, 6.5-10.5 s after. Tests only: a cluster's long queries want the optimising compiler.
    session = spark_session("local[2]", app_name="heart-tests", **{
        "spark.sql.shuffle.partitions": "1", "spark.sql.codegen.wholeStage": "false",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"})
    yield session
    session.stop()
