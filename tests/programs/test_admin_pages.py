"""The admin screen for units, staff, shifts and safety timers, through its HTML forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.programs.models import Program, Shift, Staff, Unit, UnitStatus
from tests import factories

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _local(minutes: int) -> str:
    return (utcnow() + timedelta(minutes=minutes)).astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M")


def test_an_administrator_adds_a_unit_and_its_crew_and_a_dispatcher_puts_it_on_and_off_duty(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        factories.program(session, "COR", now=utcnow())
    admin = signed_in(Role.ADMIN)
    csrf = {"csrf_token": admin.headers.pop("X-CSRF-Token")}  # plain HTML forms carry the token in the body
    assert admin.post("/admin/units", data={**csrf, "call_sign": "COR-9", "program_code": "COR",
                                            "home_lat": "35.99", "home_lon": "-78.9"},
                      follow_redirects=False).status_code == 303
    for name, role in (("Avery Alston", "clinician"), ("Jordan Barnes", "CIT-trained police officer")):
        admin.post("/admin/staff", data={**csrf, "name": name, "role": role, "program_code": "COR"})
    duplicate = admin.post("/admin/units", data={**csrf, "call_sign": "COR-9", "program_code": "COR"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    timers = admin.post("/admin/programs/COR/timers", data={**csrf, "on_scene": "60", "en_route": ""},
                        follow_redirects=False)
    assert timers.status_code == 303
    with sessions() as session:
        unit = session.scalars(select(Unit).where(Unit.call_sign == "COR-9")).one()
        staff = {s.role: s.id for s in session.scalars(select(Staff))}
        assert session.scalars(select(Program.safety_timers)).one() == {"on_scene": 60}

    dispatcher = signed_in(Role.DISPATCHER)
    csrf = {"csrf_token": dispatcher.headers.pop("X-CSRF-Token")}
    page = dispatcher.get("/admin/units")
    assert page.status_code == 200 and "COR-9" in page.text and "Add a unit" not in page.text
    incomplete = dispatcher.post(f"/admin/units/{unit.id}/shifts", data={
        **csrf, "crew": [f"{staff['clinician']}|clinician"], "starts_at": _local(0), "ends_at": _local(600)})
    assert incomplete.status_code == 409 and "needs a full crew; missing: CIT-trained police officer" in \
        incomplete.text
    crew = [f"{staff['clinician']}|clinician", f"{staff['CIT-trained police officer']}|CIT-trained police officer"]
    later = dispatcher.post(f"/admin/units/{unit.id}/shifts", data={
        **csrf, "crew": crew, "starts_at": _local(120), "ends_at": _local(600)}, follow_redirects=False)
    assert later.status_code == 303
    now = dispatcher.post(f"/admin/units/{unit.id}/shifts", data={
        **csrf, "crew": crew, "starts_at": _local(0), "ends_at": _local(60)}, follow_redirects=False)
    assert now.status_code == 303
    with sessions() as session:
        assert session.get_one(Unit, unit.id).status == UnitStatus.AVAILABLE
        assert len(session.scalars(select(Shift).where(Shift.unit_id == unit.id)).all()) == 2
    assert dispatcher.post(f"/admin/units/{unit.id}/off-duty", data=csrf, follow_redirects=False).status_code == 303
    with sessions() as session:
        assert session.get_one(Unit, unit.id).status == UnitStatus.OFF_DUTY
        future = session.scalars(select(Shift).where(Shift.unit_id == unit.id).order_by(Shift.starts_at)).all()[-1]
        assert future.ends_at - future.starts_at > timedelta(hours=7)  # the booked shift is untouched
    refused = dispatcher.post("/admin/units", data={**csrf, "call_sign": "X-1", "program_code": "COR"})
    assert refused.status_code == 403
