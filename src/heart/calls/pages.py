"""HTML pages for calls: the list and one call's full story (entering and triaging a call: heart.triage.pages)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from heart.auth.need_to_know import events_visible_to
from heart.auth.permissions import allowed
from heart.calls import service
from heart.calls.models import CallStatus
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.dispatch.service import responses_for_call
from heart.encounters.service import encounters_for_call
from heart.events import call_timeline
from heart.inputs import RowId
from heart.programs.models import Program, ProgramKind, Unit
from heart.templating import render
from heart.triage.pages import router as triage_pages
from heart.triage.service import PHONE_OUTCOMES, current_decision, decisions_for_call

router = APIRouter(include_in_schema=False)
# The call-taker's screen owns /calls/new and /calls/{id}/triage; included first so /calls/new wins over /calls/{id}.
router.include_router(triage_pages)


@router.get("/calls", dependencies=[allow("calls.read")])
def calls_page(request: Request, db: SessionDep, user: CurrentUser, status: str | None = None) -> HTMLResponse:
    chosen = CallStatus(status) if status in {s.value for s in CallStatus} else None
    calls = service.list_calls(session=db, viewer=user, status=chosen, limit=200)
    return render(request, "calls/list.html", {"calls": calls, "status": chosen,
                                               "statuses": [s.value for s in CallStatus]})


@router.get("/calls/{call_id}", dependencies=[allow("calls.read")])
def call_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """Everything about one call: decision and why, responses with their times, encounters, timeline."""
    call = service.get_call(session=db, call_id=call_id, viewer=user)
    responses = responses_for_call(session=db, call_id=call.id, viewer=user)
    units = {unit.id: unit for unit in db.scalars(select(Unit).where(Unit.id.in_([r.unit_id for r in responses])))}
    return render(request, "calls/detail.html", {
        "call": call, "decision": current_decision(session=db, call_id=call.id),
        "decisions": decisions_for_call(session=db, call_id=call.id), "responses": responses, "units": units,
        "encounters": encounters_for_call(session=db, call_id=call.id, viewer=user)
        if user.role.value != "call-taker" else [],
        "events": call_timeline(session=db, call_id=call.id, where=events_visible_to(user)), "now": now,
        "can_triage": allowed("triage.decide", user.role) and call.status in (CallStatus.OPEN, CallStatus.TRIAGED),
        "can_explain": allowed("audit.read", user.role), "phone_outcomes": PHONE_OUTCOMES,
        "can_hand_off": allowed("care.handoff", user.role) and call.status == CallStatus.RESOLVED
        and db.scalar(select(Program.kind).where(Program.code == call.pathway)) == ProgramKind.PHONE,
    })

