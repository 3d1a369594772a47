"""JSON routes for calls: intake, screening, and the call's timeline."""

from __future__ import annotations

from fastapi import APIRouter, Query

from heart.auth.need_to_know import events_visible_to
from heart.calls import service
from heart.calls.models import CallStatus
from heart.calls.schemas import CallCreate, CallPublic, EventPublic, ScreeningUpdate
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.events import call_timeline

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.post("", status_code=201, dependencies=[allow("calls.write")])
def create_call(body: CallCreate, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Record a new call for service with whatever screening answers are known."""
    call = service.create_call(session=db, data=body, now=now, actor_id=user.id)
    return CallPublic.model_validate(call)


@router.get("", dependencies=[allow("calls.read")])
def list_calls(
    db: SessionDep,
    user: CurrentUser,
    status: CallStatus | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[CallPublic]:
    """Newest first; a responder sees only the calls their unit was sent to."""
    calls = service.list_calls(session=db, viewer=user, status=status, limit=limit, offset=offset)
    return [CallPublic.model_validate(call) for call in calls]


@router.get("/{call_id}", dependencies=[allow("calls.read")])
def get_call(call_id: int, db: SessionDep, user: CurrentUser) -> CallPublic:
    return CallPublic.model_validate(service.get_call(session=db, call_id=call_id, viewer=user))


@router.patch("/{call_id}/screening", dependencies=[allow("calls.write")])
def answer_screening(call_id: int, body: ScreeningUpdate, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Record screening answers (yes / no / unknown); unknown is never treated as no."""
    call = service.record_screening(session=db, call_id=call_id, answers=dict(body.answers), now=now,
                                    actor_id=user.id)
    return CallPublic.model_validate(call)


@router.get("/{call_id}/events", dependencies=[allow("calls.read")])
def get_call_events(call_id: int, db: SessionDep, user: CurrentUser) -> list[EventPublic]:
    """The call's timeline: every state change, oldest first."""
    service.get_call(session=db, call_id=call_id, viewer=user)
    return [EventPublic.model_validate(event)
            for event in call_timeline(session=db, call_id=call_id, where=events_visible_to(user))]
