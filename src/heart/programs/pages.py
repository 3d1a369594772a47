"""HTML page for programs and their units."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from heart.deps import Now, SessionDep, allow
from heart.programs import service
from heart.programs.schemas import DAYS
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
