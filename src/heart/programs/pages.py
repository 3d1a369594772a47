"""HTML pages for programs and units: the overview, and the admin screen for units, staff, shifts and
safety timers (dispatchers and supervisors book shifts; administrators add units and staff)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.permissions import allowed
from heart.city.programs import DAYS, TIMED_STATUSES
from heart.db import utcnow
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import DomainError, InvalidInput, http_status
from heart.inputs import RowId
from heart.programs import service
from heart.programs.models import Staff
from heart.programs.shifts import schedule_shift, set_safety_timers, shifts_of
from heart.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/programs", dependencies=[allow("programs.read")])
def programs_page(request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    programs = service.list_programs(session=db)
    units = service.list_units(session=db)
    return render(request, "programs/list.html", {
        "programs": programs, "units_by_program": {p.id: [u for u in units if u.program_id == p.id] for p in programs},
        "open_now": {p.id: service.is_open(p, now) for p in programs}, "days": DAYS, "now": now,
    })


@router.get("/admin/units", dependencies=[allow("units.duty")])
def units_admin(request: Request, db: SessionDep, user: CurrentUser) -> HTMLResponse:
    """Units per program with their shifts and crews; forms to book shifts (and, for admins, add units)."""
    return _admin_page(request, db, user)


@router.post("/admin/units", dependencies=[allow("programs.admin")])
def add_unit(request: Request, db: SessionDep, user: CurrentUser, call_sign: Annotated[str, Form(max_length=32)],
             program_code: Annotated[str, Form()], home_lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
             home_lon: Annotated[float | None, Form(ge=-180, le=180)] = None) -> Response:
    """A new unit, off duty, at its home position."""
    return _act(request, db, user, lambda now: service.create_unit(
        session=db, call_sign=call_sign.strip(), program=service.get_program(session=db, code=program_code),
        home_lat=home_lat, home_lon=home_lon, now=now, actor_id=user.id))


@router.post("/admin/staff", dependencies=[allow("programs.admin")])
def add_staff(request: Request, db: SessionDep, user: CurrentUser, name: Annotated[str, Form(max_length=128)],
              role: Annotated[str, Form(max_length=64)], program_code: Annotated[str, Form()] = "") -> Response:
    """A staff member with the role they can fill on a crew."""
    def add(now: datetime) -> None:
        program = service.get_program(session=db, code=program_code) if program_code else None
        db.add(Staff(name=name.strip(), role=role.strip(), program_id=program.id if program else None))

    return _act(request, db, user, add)


@router.post("/admin/units/{unit_id}/shifts", dependencies=[allow("units.duty")])
def book_shift(unit_id: RowId, request: Request, db: SessionDep, user: CurrentUser,
               starts_at: Annotated[str, Form()], ends_at: Annotated[str, Form()],
               crew: Annotated[list[str] | None, Form()] = None) -> Response:
    """Book a crew on a unit (each choice is "staff id|role"); a shift starting now puts the unit on duty."""
    zone = ZoneInfo(request.app.state.settings.timezone)

    def book(now: datetime) -> None:
        members = [_crew_member(value) for value in crew or [] if value]
        schedule_shift(session=db, unit_id=unit_id, crew=members, starts_at=max(_local(starts_at, zone), now),
                       ends_at=_local(ends_at, zone), now=now, actor_id=user.id)

    return _act(request, db, user, book)


@router.post("/admin/units/{unit_id}/off-duty", dependencies=[allow("units.duty")])
def end_shift(unit_id: RowId, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Take an available unit off duty now (its shift ends)."""
    return _act(request, db, user, lambda now: service.go_off_duty(session=db, unit_id=unit_id, now=now,
                                                                   actor_id=user.id))


@router.post("/admin/programs/{code}/timers", dependencies=[allow("programs.admin")])
async def program_timers(code: str, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Minutes per status before the board raises a safety alert."""
    form = await request.form()
    timers: dict[str, int] = {}
    for status in TIMED_STATUSES:
        value = str(form.get(status) or "").strip()
        if value:
            if not value.isdigit() or not 1 <= int(value) <= 24 * 60:
                return _admin_page(request, db, user, error=f"the {status.replace('_', ' ')} timer must be a "
                                   "number of minutes between 1 and 1440", status=422)
            timers[status] = int(value)
    return _act(request, db, user, lambda now: set_safety_timers(session=db, code=code, timers=timers, now=now,
                                                                 actor_id=user.id))


def _act(request: Request, db: Session, user: User, act: Callable[[datetime], object]) -> Response:
    try:
        act(utcnow())
        db.flush()
    except DomainError as error:
        db.rollback()
        return _admin_page(request, db, user, error=str(error), status=http_status(error))
    return RedirectResponse("/admin/units", status_code=303)


def _crew_member(value: str) -> tuple[int, str]:
    staff_id, _, role = value.partition("|")
    if not staff_id.isdigit() or not role:
        raise InvalidInput("choose a staff member for every crew role", field="crew")
    return int(staff_id), role


def _local(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local field (the program's wall clock) as an aware time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date and time", field="starts_at") from None


def _admin_page(request: Request, db: Session, user: User, *, error: str | None = None, status: int = 200
                ) -> HTMLResponse:
    now = utcnow()
    zone = ZoneInfo(request.app.state.settings.timezone)
    programs = service.list_programs(session=db)
    units = service.list_units(session=db)
    staff = list(db.scalars(select(Staff).order_by(Staff.role, Staff.name)))
    return render(request, "admin/units.html", {
        "programs": programs, "units_by_program": {p.id: [u for u in units if u.program_id == p.id] for p in programs},
        "staff": staff, "shifts": shifts_of(session=db, now=now), "error": error, "now": now,
        "default_start": now.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "default_end": (now + timedelta(hours=12)).astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "may_admin": allowed("programs.admin", user.role), "statuses": TIMED_STATUSES,
    }, status_code=status)
