"""The app factory wires the live machinery: each domain's scheduled jobs run, each pass in its own transaction."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction, utcnow
from heart.live import run_job
from heart.programs import scheduled as programs_scheduled
from heart.programs.models import Staff, Unit, UnitStatus
from heart.programs.shifts import schedule_shift
from tests import factories


def test_the_app_runs_every_domains_scheduled_jobs(client: TestClient) -> None:
    jobs = {job.name: job.seconds for job in client.app.state.realtime.periodic}  # type: ignore[attr-defined]
    assert jobs == {"shift-schedule": 5.0, "dispatch-timers": 5.0, "follow-up-sweep": 60.0,
                    "familiar-flag-sweep": 3600.0, "engagement-purge": 3600.0}


def test_a_pass_of_the_shift_schedule_puts_a_unit_on_duty_when_its_shift_starts(
    client: TestClient, sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        unit = factories.unit(session, crt, "CRT-9", now=now, on_duty=False)
        crew = []
        for role in crt.crew_roles:
            staff = Staff(name=f"CRT-9 {role}", role=role, program_id=crt.id)
            session.add(staff)
            session.flush()
            crew.append((staff.id, role))
        schedule_shift(session=session, unit_id=unit.id, crew=crew, starts_at=now + timedelta(minutes=1),
                       ends_at=now + timedelta(hours=8), now=now, actor_id=None)
    periodic = {job.name: job.job for job in client.app.state.realtime.periodic}  # type: ignore[attr-defined]
    periodic["shift-schedule"]()  # what the running server does every few seconds: the shift has not started
    with sessions() as session:
        assert session.get_one(Unit, unit.id).status == UnitStatus.OFF_DUTY
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    (schedule,) = programs_scheduled.jobs(client.app.state.settings)  # type: ignore[attr-defined]
    run_job(factory, schedule, now=lambda: now + timedelta(minutes=2))
    with sessions() as session:
        assert session.get_one(Unit, unit.id).status == UnitStatus.AVAILABLE
