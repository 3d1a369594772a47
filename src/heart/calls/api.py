"""JSON routes for calls: intake, screening, and the call's timeline."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from heart.auth.need_to_know import events_visible_to
from heart.calls import service
from heart.calls.models import CallStatus
from heart.calls.schemas import CallCreate, CallFactsUpdate, CallPublic, CallTypeReading, EventPublic, ScreeningUpdate
from heart.crosswalk.mapper import live_mapper
from heart.crosswalk.reading import suggest_types
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.events import call_timeline
from heart.inputs import Offset, RowId
from heart.triage.flows import change_call_facts, change_screening

router = APIRouter(prefix="/api/calls", tags=["calls"])


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
    status: CallStatus | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
) -> list[CallPublic]:
    """Newest first; a responder sees only the calls their unit was sent to."""
    calls = service.list_calls(session=db, viewer=user, status=status, limit=limit, offset=offset)
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
