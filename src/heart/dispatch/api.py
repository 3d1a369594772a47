"""JSON routes for sending units and moving a response through its statuses."""

from __future__ import annotations

from fastapi import APIRouter

from heart.calls.service import get_call
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.dispatch import service
from heart.dispatch.schemas import (
    AssignUnit,
    CancelResponse,
    ClearResponse,
    ResponsePublic,
    StatusUpdate,
    TransportStart,
)

router = APIRouter(tags=["dispatch"])


@router.post("/api/calls/{call_id}/responses", status_code=201, dependencies=[allow("dispatch.assign")])
def assign_unit(call_id: int, body: AssignUnit, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    """Send a unit: refused (409) if the unit is off duty or already taken, or the call is routed elsewhere."""
    response = service.assign_unit(session=db, call_id=call_id, unit_id=body.unit_id, at=body.at or now, now=now,
                                   by=user)
    return ResponsePublic.model_validate(response)


@router.get("/api/calls/{call_id}/responses", dependencies=[allow("calls.read")])
def list_responses(call_id: int, db: SessionDep, user: CurrentUser) -> list[ResponsePublic]:
    get_call(session=db, call_id=call_id, viewer=user)
    return [ResponsePublic.model_validate(r) for r in service.responses_for_call(session=db, call_id=call_id)]


@router.get("/api/responses/{response_id}", dependencies=[allow("dispatch.status")])
def get_response(response_id: int, db: SessionDep, user: CurrentUser) -> ResponsePublic:
    return ResponsePublic.model_validate(service.get_response(session=db, response_id=response_id, viewer=user))


@router.post("/api/responses/{response_id}/en-route", dependencies=[allow("dispatch.status")])
def en_route(response_id: int, body: StatusUpdate, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    response = service.mark_en_route(session=db, response_id=response_id, at=body.at or now, now=now, by=user)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/on-scene", dependencies=[allow("dispatch.status")])
def on_scene(response_id: int, body: StatusUpdate, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    response = service.mark_on_scene(session=db, response_id=response_id, at=body.at or now, now=now, by=user)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/transport", dependencies=[allow("dispatch.status")])
def transport(response_id: int, body: TransportStart, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    response = service.start_transport(session=db, response_id=response_id, at=body.at or now, now=now, by=user,
                                       destination=body.destination)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/clear", dependencies=[allow("dispatch.status")])
def clear(response_id: int, body: ClearResponse, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    """Clear with outcomes (transport, PD backup for team safety, EMS support, disposition)."""
    response = service.clear_response(session=db, response_id=response_id, outcome=body, at=body.at or now,
                                      now=now, by=user)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/cancel", dependencies=[allow("dispatch.status")])
def cancel(response_id: int, body: CancelResponse, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    """Call the unit off before it arrives; recorded with the reason."""
    response = service.cancel_response(session=db, response_id=response_id, data=body, at=body.at or now, now=now,
                                       by=user)
    return ResponsePublic.model_validate(response)
