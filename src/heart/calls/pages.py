"""HTML pages for calls: entering a new call (the call-taker's intake screen), the list, and one call's full story.

A new call is saved with its screening answers and decided by the policy at once; the call-taker then works it on
its triage screen (``heart.triage.pages``, whose form helpers the intake shares). Saving never sends a call anywhere.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import events_visible_to
from heart.auth.permissions import allowed, may_read_reasons
from heart.calls import service
from heart.calls.desk import desk_rules
from heart.calls.models import CallStatus
from heart.calls.notes import add_note, notes_for_call
from heart.calls.schemas import CallCreate
from heart.calls.story import timeline
from heart.crosswalk.reading import read_call_type
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.dispatch.service import responses_for_call
from heart.encounters.service import encounters_for_call, narrative_of
from heart.errors import DomainError, NotFound, http_status
from heart.events import call_timeline
from heart.inputs import RowId
from heart.places.pages import intake_fields, record_intake_decisions
from heart.programs.models import Program, ProgramKind, Unit
from heart.programs.service import unit_availability
from heart.templating import render
from heart.triage.engine import FALLBACK_REASONS
from heart.triage.pages import answers_from, facts_from, form_values, recommend, screen_context
from heart.triage.service import PHONE_OUTCOMES, current_decision, decisions_for_call, policy_named, triage_call

router = APIRouter(include_in_schema=False)
CALL_FIELDS = ("nature_code", "incident_type", "priority", "address", "summary", "external_id")


# /calls/new before /calls/{call_id}: the first route that matches answers.
@router.get("/calls/new", dependencies=[allow("calls.write")])
def new_call_page(request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    """The call-taker's screen for a new call."""
    return _intake(request, db, {}, now)


def _intake(request: Request, db: Session, values: dict[str, str], now: datetime, errors: list[str] | None = None,
            status_code: int = 200) -> HTMLResponse:
    policy = policy_named(None)
    facts = facts_from(values, policy)
    return render(request, "triage/intake.html", {
        **screen_context(policy), "values": values, "answers": answers_from(values, policy), "errors": errors or [],
        "rec": recommend(db, policy, facts, now), "reading": read_call_type(facts.nature_code, facts.incident_type),
        "at": now}, status_code=status_code)


@router.post("/calls/new", dependencies=[allow("calls.write")])
async def new_call_submit(request: Request, db: SessionDep, user: CurrentUser, now: Now) -> Response:
    """Save the call with its answers, record the policy's decision, and open the call's triage screen (where the
    call waits for the call-taker's next step, whatever the decision)."""
    return await run_in_threadpool(_create_and_triage, request, db, user, await form_values(request), now)


def _create_and_triage(request: Request, db: Session, user: User, values: dict[str, str], now: datetime) -> Response:
    policy = policy_named(None)
    data = {key: (values.get(key, "").strip() or None) for key in CALL_FIELDS}
    data.update(intake_fields(values))  # the pin, beat and caller (heart.places)
    try:
        create = CallCreate.model_validate({**data, "screening": answers_from(values, policy)})
    except ValidationError as error:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return _intake(request, db, values, now, errors, status_code=422)
    if create.incident_type is not None and create.incident_type not in INCIDENT_TYPES:
        return _intake(request, db, values, now, ["incident_type: not a known incident type"], status_code=422)
    try:
        call = service.create_call(session=db, data=create, now=now, actor_id=user.id,
                                   settings=request.app.state.settings)
        record_intake_decisions(session=db, call=call, values=values, user=user, now=now)
        triage_call(session=db, call_id=call.id, now=now, actor_id=user.id, policy=policy,
                            availability=unit_availability(session=db, now=now))
    except DomainError as error:
        db.rollback()
        return _intake(request, db, values, now, [str(error)], status_code=http_status(error))
    return RedirectResponse(f"/calls/{call.id}/triage", status_code=303)


@router.post("/triage/preview", dependencies=[allow("triage.decide")])
async def preview_new(request: Request, db: SessionDep, now: Now) -> HTMLResponse:
    """The recommendation for the answers so far; nothing is saved."""
    values = await form_values(request)
    policy = policy_named(None)
    facts = facts_from(values, policy)
    recommendation = await run_in_threadpool(recommend, db, policy, facts, now)
    reading = await run_in_threadpool(read_call_type, facts.nature_code, facts.incident_type)
    return render(request, "triage/_recommendation.html", {"policy": policy, "rec": recommendation, "at": now,
                                                            "reading": reading, "pickable": True})


@router.get("/calls", dependencies=[allow("calls.read")])
def calls_page(request: Request, db: SessionDep, user: CurrentUser, status: str | None = None,
               number: Annotated[str | None, Query(max_length=64)] = None,
               address: Annotated[str | None, Query(max_length=256)] = None,
               since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
               until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """Search calls by number, address, dates and status, a page at a time (newest first)."""
    chosen = CallStatus(status) if status in {s.value for s in CallStatus} else None
    zone = ZoneInfo(request.app.state.settings.timezone)
    errors = []
    window = []
    for label, text, days in (("from", since, 0), ("to", until, 1)):
        try:
            day = date.fromisoformat(text) if text else None
        except ValueError:
            errors.append(f"{label}: not a date (use the date picker, or YYYY-MM-DD)")
            day = None
        window.append(datetime.combine(day + timedelta(days=days), time(), zone) if day else None)
    search = service.CallSearch(number=(number or "").strip() or None, address=(address or "").strip() or None,
                                since=window[0], until=window[1], status=chosen)
    size = desk_rules(request.app.state.settings).search.page_size
    calls, total = service.search_calls(session=db, viewer=user, search=search, limit=size, offset=(page - 1) * size)
    values = {"number": number or "", "address": address or "", "from": since or "", "to": until or "",
              "status": chosen.value if chosen else ""}
    kept = {key: value for key, value in values.items() if value}

    def page_url(n: int) -> str:
        return "/calls?" + urlencode({**kept, "page": n})

    pages = max(1, -(-total // size))
    return render(request, "calls/list.html", {
        "calls": calls, "status": chosen, "statuses": [s.value for s in CallStatus], "values": values,
        "total": total, "page": page, "pages": pages, "page_url": page_url, "errors": errors, "searched": bool(kept)},
        status_code=422 if errors else 200)


@router.get("/calls/{call_id}", dependencies=[allow("calls.read")])
def call_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """Everything about one call in plain words: summary, screening, decisions and why, responses with their times,
    narrative (to the roles that read it), notes and messages, and the timeline."""
    return _call_page(request, db, user, now, call_id)


def _call_page(request: Request, db: Session, user: User, now: datetime, call_id: int, *,
               note_error: str | None = None, note_text: str = "", status_code: int = 200) -> HTMLResponse:
    call = service.get_call(session=db, call_id=call_id, viewer=user)
    responses = responses_for_call(session=db, call_id=call.id, viewer=user)
    notes = notes_for_call(session=db, call_id=call.id, viewer=user)
    unit_ids = {r.unit_id for r in responses} | {n.unit_id for n in notes if n.unit_id is not None}
    units = {unit.id: unit for unit in db.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    encounters = encounters_for_call(session=db, call_id=call.id, viewer=user) \
        if user.role.value != "call-taker" else []
    narrative = {e.id: narrative_of(session=db, encounter_id=e.id) for e in encounters} \
        if may_read_reasons(user.role) else {}
    authors = {n.author_id for n in notes if n.author_id is not None}
    names = dict(db.execute(select(User.id, User.display_name).where(User.id.in_(authors))).all()) if authors else {}
    policy = policy_named(None)
    events = call_timeline(session=db, call_id=call.id, where=events_visible_to(user))
    return render(request, "calls/detail.html", {
        "call": call, "decision": current_decision(session=db, call_id=call.id),
        "decisions": decisions_for_call(session=db, call_id=call.id), "responses": responses, "units": units,
        "encounters": encounters, "narrative": narrative, "names": names,
        "questions": {q.id: q.prompt for q in policy.questions}, "fallback_words": FALLBACK_REASONS,
        "timeline": timeline(events, notes), "now": now, "note_error": note_error, "note_text": note_text,
        "can_note": allowed("calls.write", user.role) and call.status != CallStatus.CANCELLED,
        "note_limit": desk_rules(request.app.state.settings).notes.max_length,
        "can_triage": allowed("triage.decide", user.role) and call.status in (CallStatus.OPEN, CallStatus.TRIAGED),
        "can_explain": allowed("audit.read", user.role), "phone_outcomes": PHONE_OUTCOMES,
        "can_hand_off": allowed("care.handoff", user.role) and call.status == CallStatus.RESOLVED
        and db.scalar(select(Program.kind).where(Program.code == call.pathway)) == ProgramKind.PHONE,
    }, status_code=status_code)


@router.post("/calls/{call_id}/notes", dependencies=[allow("calls.write")])
def add_note_page(call_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
                  text: Annotated[str, Form(max_length=20000)] = "",
                  token: Annotated[str | None, Form(max_length=64)] = None) -> Response:
    """A note from the call's page; a refused note shows the page again with what was typed."""
    try:
        add_note(session=db, call_id=call_id, text=text, by=user, now=now, token=token)
    except DomainError as error:
        db.rollback()
        if isinstance(error, NotFound):
            raise
        return _call_page(request, db, user, now, call_id, note_error=str(error), note_text=text,
                          status_code=http_status(error))
    return RedirectResponse(f"/calls/{call_id}#notes", status_code=303)
