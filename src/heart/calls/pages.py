"""HTML pages for calls: the list, a new call with its screening answers, and one call's full story."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls import service
from heart.calls.models import CallStatus
from heart.calls.schemas import CallCreate
from heart.db import utcnow
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.dispatch.service import responses_for_call
from heart.encounters.service import encounters_for_call
from heart.events import call_timeline
from heart.programs.models import Unit
from heart.templating import render
from heart.triage.service import current_decision, decisions_for_call, policy_named, triage_call

router = APIRouter(include_in_schema=False)


@router.get("/calls", dependencies=[allow("calls.read")])
def calls_page(request: Request, db: SessionDep, user: CurrentUser, status: str | None = None) -> HTMLResponse:
    chosen = CallStatus(status) if status in {s.value for s in CallStatus} else None
    calls = service.list_calls(session=db, viewer=user, status=chosen, limit=200)
    return render(request, "calls/list.html", {"calls": calls, "status": chosen,
                                               "statuses": [s.value for s in CallStatus]})


@router.get("/calls/new", dependencies=[allow("calls.write")])
def new_call_page(request: Request) -> HTMLResponse:
    return render(request, "calls/new.html", {"policy": policy_named(None), "errors": [], "values": {}})


@router.post("/calls/new", dependencies=[allow("calls.write")])
async def new_call_submit(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    form = await request.form()
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    return await run_in_threadpool(_create_and_triage, request, db, user, values)


def _create_and_triage(request: Request, db: Session, user: User, values: dict[str, str]) -> Response:
    policy = policy_named(None)
    screening = {q.id: values.get(f"screening_{q.id}", "unknown") for q in policy.questions}
    data = {key: (value or None) for key, value in values.items()
            if key in {"nature_code", "priority", "address", "summary", "external_id"}}
    try:
        create = CallCreate.model_validate({**data, "screening": screening})
    except ValidationError as error:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return render(request, "calls/new.html", {"policy": policy, "errors": errors, "values": values},
                      status_code=422)
    now = utcnow()
    call = service.create_call(session=db, data=create, now=now, actor_id=user.id)
    triage_call(session=db, call_id=call.id, now=now, actor_id=user.id, policy=policy)
    return RedirectResponse(f"/calls/{call.id}", status_code=303)


@router.get("/calls/{call_id}", dependencies=[allow("calls.read")])
def call_page(call_id: int, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """Everything about one call: decision and why, responses with their times, encounters, timeline."""
    call = service.get_call(session=db, call_id=call_id, viewer=user)
    responses = responses_for_call(session=db, call_id=call.id)
    units = {unit.id: unit for unit in db.scalars(select(Unit).where(Unit.id.in_([r.unit_id for r in responses])))}
    return render(request, "calls/detail.html", {
        "call": call, "decision": current_decision(session=db, call_id=call.id),
        "decisions": decisions_for_call(session=db, call_id=call.id), "responses": responses, "units": units,
        "encounters": encounters_for_call(session=db, call_id=call.id) if user.role.value != "call-taker" else [],
        "events": call_timeline(session=db, call_id=call.id), "now": now,
    })

