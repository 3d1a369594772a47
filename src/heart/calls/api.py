"""JSON routes for calls: intake, screening, and the call's timeline."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from heart.auth.need_to_know import events_visible_to
from heart.calls import notes, service
from heart.calls.models import CallStatus
from heart.calls.schemas import (
    CallCreate,
    CallFactsUpdate,
    CallMessageCreate,
    CallNoteCreate,
    CallNotePublic,
    CallPublic,
    CallTypeReading,
    EventPublic,
    ScreeningUpdate,
)
from heart.crosswalk.mapper import live_mapper
from heart.crosswalk.reading import suggest_types
from heart.deps import CurrentUser, Now, OneTrip, SessionDep, allow
from heart.events import call_timeline
from heart.inputs import Offset, RowId
from heart.triage.flows import change_call_facts, change_screening

router = APIRouter(prefix="/api/calls", tags=["calls"], route_class=OneTrip)


@router.post("", status_code=201, dependencies=[allow("calls.write")])
def create_call(body: CallCreate, request: Request, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Record a new call for service with whatever screening answers are known (an address is placed on the map
    when the city's address points match it surely; the caller is kept apart, readable at …/caller)."""
    call = service.create_call(session=db, data=body, now=now, actor_id=user.id, settings=request.app.state.settings)
    return CallPublic.model_validate(call)


@router.get("", dependencies=[allow("calls.read")])
def list_calls(
    db: SessionDep,
    user: CurrentUser,
    response: Response,
    status: CallStatus | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
    number: str | None = Query(default=None, max_length=64,
                               description="an incident number, CAD number or id, or its beginning"),
    address: str | None = Query(default=None, max_length=256, description="words of the address, any case"),
    received_from: AwareDatetime | None = Query(default=None, description="received at or after"),
    received_to: AwareDatetime | None = Query(default=None, description="received before"),
) -> list[CallPublic]:
    """Newest first, searched by number, address, time received and status; a responder sees only the calls their
    unit was sent to. ``X-Total-Count`` says how many match in all (page with ``limit`` and ``offset``)."""
    search = service.CallSearch(number=number or None, address=address or None, since=received_from,
                                until=received_to, status=status)
    calls, total = service.search_calls(session=db, viewer=user, search=search, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [CallPublic.model_validate(call) for call in calls]


@router.get("/{call_id}", dependencies=[allow("calls.read")])
def get_call(call_id: RowId, db: SessionDep, user: CurrentUser) -> CallPublic:
    return CallPublic.model_validate(service.get_call(session=db, call_id=call_id, viewer=user))


@router.patch("/{call_id}/screening", dependencies=[allow("calls.write")])
def answer_screening(call_id: RowId, body: ScreeningUpdate, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Record screening answers (yes / no / unknown); unknown is never treated as no.

    On a triaged call the policy decides again at once (a waiting call moves to its new queue); if an unarmed team
    is already out and an exclusion no longer clears, every board and the crew's phone get a safety alert.
    """
    call = change_screening(session=db, call_id=call_id, answers=dict(body.answers), now=now, actor_id=user.id)
    return CallPublic.model_validate(call)


@router.patch("/{call_id}", dependencies=[allow("calls.write")])
def change_facts(call_id: RowId, body: CallFactsUpdate, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Correct the call type, incident type or priority; decided again and alerted as for a changed answer."""
    call = change_call_facts(session=db, call_id=call_id, changes=body.model_dump(exclude_unset=True), now=now,
                             actor_id=user.id)
    return CallPublic.model_validate(call)


call_types = APIRouter(prefix="/api/call-types", tags=["calls"])


@call_types.get("/read", dependencies=[allow("calls.write")])
def read_call_type(text: str = Query(min_length=1, max_length=128)) -> CallTypeReading:
    """How HEART reads a call type: its incident type (or unknown), the danger its words name, and, when unknown,
    the closest incident types for a person to pick (never applied by themselves)."""
    mapping = live_mapper()(text)
    suggestions = [] if mapping.known else suggest_types(text)
    return CallTypeReading(incident_type=mapping.incident_type, category=mapping.category, source=mapping.source,
                           danger={kind: list(words) for kind, words in mapping.danger.items()},
                           suggestions=[{"incident_type": s.incident_type, "label": s.label,
                                         "confidence": s.confidence} for s in suggestions])


@router.get("/{call_id}/events", dependencies=[allow("calls.read")])
def get_call_events(call_id: RowId, db: SessionDep, user: CurrentUser) -> list[EventPublic]:
    """The call's timeline: every state change, oldest first."""
    service.get_call(session=db, call_id=call_id, viewer=user)
    return [EventPublic.model_validate(event)
            for event in call_timeline(session=db, call_id=call_id, where=events_visible_to(user))]


@router.get("/{call_id}/notes", dependencies=[allow("calls.read")])
def list_call_notes(call_id: RowId, db: SessionDep, user: CurrentUser) -> list[CallNotePublic]:
    """The call's notes and messages, oldest first (a responder: only on their own calls)."""
    return [CallNotePublic.model_validate(n) for n in notes.notes_for_call(session=db, call_id=call_id, viewer=user)]


@router.post("/{call_id}/notes", status_code=201, dependencies=[allow("calls.write")])
def add_call_note(call_id: RowId, body: CallNoteCreate, db: SessionDep, user: CurrentUser, now: Now
                  ) -> CallNotePublic:
    """Append a note to the call (never edited); the crew of every unit on it sees it. The same ``client_token``
    again returns the note already written."""
    note = notes.add_note(session=db, call_id=call_id, text=body.text, by=user, now=now, token=body.client_token)
    return CallNotePublic.model_validate(note)


@router.post("/{call_id}/messages", status_code=201, dependencies=[allow("dispatch.status")])
def send_call_message(call_id: RowId, body: CallMessageCreate, db: SessionDep, user: CurrentUser, now: Now
                      ) -> CallNotePublic:
    """A short message on the call: a responder's goes from their unit to dispatch; dispatch names the unit."""
    note = notes.send_message(session=db, call_id=call_id, text=body.text, by=user, now=now, unit_id=body.unit_id,
                              token=body.client_token)
    return CallNotePublic.model_validate(note)
