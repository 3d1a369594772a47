"""Server-rendered pages: one Jinja2 environment, local time at the edge.

Domain `pages.py` modules render through this; the templates themselves live in `web/templates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from heart.auth.models import User
from heart.auth.permissions import allowed, reason_for
from heart.city.programs import city_programs
from heart.events import REASON_GIVEN
from heart.navigation.followups.rules import care_rules

TEMPLATES_DIR = Path(__file__).resolve().parent / "web" / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)


def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware UTC time shown in the program's local time zone."""
    if value is None:
        return "—"
    zone = ZoneInfo(templates.env.globals.get("timezone", "UTC"))  # type: ignore[arg-type]
    return value.astimezone(zone).strftime(fmt)


def _minutes(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    return f"{(end - start).total_seconds() / 60:.1f} min"


# (permission family, path, label, description): the screens, in the order each role uses them most.
SCREENS: list[tuple[str, str, str, str]] = [
    ("responder.view", "/responder", "My call", "Your unit's current call: one tap per status, backup, outcomes"),
    ("dispatch.board", "/dispatch", "Dispatch board", "Waiting calls, units, map and alerts, live"),
    ("calls.write", "/calls/new", "New call", "Enter a call, answer the screening questions, see the pathway"),
    ("calls.read", "/calls", "Calls", "Open and recent calls with their decisions and timelines"),
    ("programs.read", "/programs", "Programs & units", "Programs, their hours, and units with their status"),
    ("units.duty", "/admin/units", "Units & shifts", "Units, crews by role, shift schedules and safety timers"),
    ("users.admin", "/admin/accounts", "Accounts", "Create accounts, set roles and units, disable, reset passwords"),
    ("metrics.read", "/metrics", "Dashboard", "The published figures per program, by month and hour, data quality"),
    ("simulation.run", "/simulation", "Capacity planner", "What if: more teams, other hours; reach by hour"),
    ("followups.read", "/follow-ups", "Follow-ups",
     "The follow-up queue: overdue first with time left; attempts, needs, referrals, outcomes"),
    ("resources.read", "/resources", "Resources", "Community services by need, language, hours and distance"),
    ("familiar.review", "/familiar-neighbors", "Familiar neighbors",
     "Linked records to review, flags waiting for approach notes, the report"),
    ("engagement.work", "/engagement", "Community requests",
     "Residents' requests for an event and volunteer sign-ups, worked by status"),
]


def screens_for(user: User) -> list[tuple[str, str, str, str]]:
    """The screens ``user``'s role may open."""
    return [screen for screen in SCREENS if allowed(screen[0], user.role)]


@pass_context
def _reason(context: Mapping[str, Any], text: str | None) -> str | None:
    """A free-text reason as the signed-in user may see it (the text, or "(reason given)")."""
    user = context.get("user")
    return reason_for(user.role, text) if user is not None else (None if text is None else REASON_GIVEN)


def follow_up_team() -> str:
    """The name of the program follow-ups after an encounter belong to (Durham: Care Navigation)."""
    code = care_rules().follow_up_program
    program = city_programs().programs.get(code)
    return program.name if program is not None else code


def program_codes(*kinds: str) -> list[str]:
    """The city's program codes of these kinds (Durham's phone programs: CCD)."""
    return list(city_programs().codes(*kinds))


templates.env.globals["follow_up_team"] = follow_up_team
templates.env.globals["program_codes"] = program_codes
templates.env.globals["nav_screens"] = screens_for
templates.env.globals["reason"] = _reason
templates.env.filters["local"] = _local
templates.env.filters["minutes_between"] = _minutes


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the signed-in user and their CSRF token available to every template."""
    settings = request.app.state.settings
    templates.env.globals["timezone"] = settings.timezone
    full = {
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, full, status_code=status_code)
