"""JSON routes for sending units and moving a response through its statuses."""

from __future__ import annotations

from fastapi import APIRouter

from heart.auth.models import User
from heart.auth.permissions import reason_for
from heart.calls.service import get_call
from heart.deps import CurrentUser, Now, OneTrip, SessionDep, allow
from heart.dispatch import alerts, flows, queue, service, timers
from heart.dispatch.models import Response
from heart.dispatch.schemas import (
    AlertPublic,
    AssignUnit,
    BackupRequest,
    CancelResponse,
    ClearResponse,
    Escalate,
    FallbackRequest,
    OutOfServiceRequest,
    QueuedCallPublic,
    RecommendationPublic,
    ResponsePublic,
    ServiceStatusPublic,
    StatusUpdate,
    TransportStart,
)
from heart.inputs import RowId
from heart.neighbors.api import Rules
from heart.programs.service import return_to_service
from heart.triage.schemas import DecisionPublic

router = APIRouter(tags=["dispatch"], route_class=OneTrip)


@router.post("/api/calls/{call_id}/responses", status_code=201, dependencies=[allow("dispatch.assign")])
def assign_unit(call_id: RowId, body: AssignUnit, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    """Send a unit: refused (409) if the unit is off duty or already taken, the call is routed elsewhere, the unit
    is an unarmed team and the call's facts do not clear every exclusion, or the call already has a unit and
    ``additional`` is not set."""
    response = service.assign_unit(session=db, call_id=call_id, unit_id=body.unit_id, at=body.at or now, now=now,
                                   by=user, additional=body.additional)
    return ResponsePublic.model_validate(response)


@router.get("/api/calls/{call_id}/responses", dependencies=[allow("calls.read")])
def list_responses(call_id: RowId, db: SessionDep, user: CurrentUser) -> list[ResponsePublic]:
    get_call(session=db, call_id=call_id, viewer=user)
    return [_shown(r, user) for r in service.responses_for_call(session=db, call_id=call_id, viewer=user)]


@router.get("/api/responses/{response_id}", dependencies=[allow("dispatch.status")])
def get_response(response_id: RowId, db: SessionDep, user: CurrentUser) -> ResponsePublic:
    return _shown(service.get_response(session=db, response_id=response_id, viewer=user), user)


def _shown(response: Response, user: User) -> ResponsePublic:
    """A response as ``user`` may read it: a cancel reason only for the roles that read reasons."""
    public = ResponsePublic.model_validate(response)
    return public.model_copy(update={"cancel_reason": reason_for(user.role, response.cancel_reason)})


@router.post("/api/responses/{response_id}/en-route", dependencies=[allow("dispatch.status")])
def en_route(response_id: RowId, body: StatusUpdate, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    response = service.mark_en_route(session=db, response_id=response_id, at=body.at or now, now=now, by=user)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/on-scene", dependencies=[allow("dispatch.status")])
def on_scene(response_id: RowId, body: StatusUpdate, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    response = service.mark_on_scene(session=db, response_id=response_id, at=body.at or now, now=now, by=user)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/transport", dependencies=[allow("dispatch.status")])
def transport(response_id: RowId, body: TransportStart, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    response = service.start_transport(session=db, response_id=response_id, at=body.at or now, now=now, by=user,
                                       destination=body.destination)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/clear", dependencies=[allow("dispatch.status")])
def clear(response_id: RowId, body: ClearResponse, db: SessionDep, user: CurrentUser, now: Now,
          care: Rules) -> ResponsePublic:
    """Clear with outcomes (transport, PD backup for team safety, EMS support, disposition); with consent to
    follow-up, the ``handoff`` opens the neighbor's follow-up in the navigators' queue."""
    response = service.clear_response(session=db, response_id=response_id, outcome=body, at=body.at or now,
                                      now=now, by=user, care=care)
    return ResponsePublic.model_validate(response)


@router.post("/api/responses/{response_id}/cancel", dependencies=[allow("dispatch.status")])
def cancel(response_id: RowId, body: CancelResponse, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    """Call the unit off before it arrives; recorded with the reason."""
    response = service.cancel_response(session=db, response_id=response_id, data=body, at=body.at or now, now=now,
                                       by=user)
    return ResponsePublic.model_validate(response)


@router.get("/api/dispatch/queue", dependencies=[allow("dispatch.board")])
def dispatch_queue(db: SessionDep, now: Now) -> list[QueuedCallPublic]:
    """Calls waiting for a field unit, longest waiting first, with their program's maximum wait."""
    return [QueuedCallPublic(call_id=q.call.id, pathway=q.program.code, waiting_since=q.waiting_since,
                             waited_minutes=round(q.waited_minutes(now), 2),
                             max_wait_minutes=q.program.max_wait_minutes, over_max_wait=q.over_max_wait(now))
            for q in queue.queued_calls(session=db)]


@router.get("/api/calls/{call_id}/recommendations", dependencies=[allow("dispatch.assign")])
def recommendations(call_id: RowId, db: SessionDep, now: Now) -> list[RecommendationPublic]:
    """The call's program's free units, fastest to the scene first."""
    return [RecommendationPublic.model_validate(r)
            for r in queue.recommend_units(session=db, call_id=call_id, now=now)]


@router.post("/api/calls/{call_id}/fallback", status_code=201, dependencies=[allow("dispatch.assign")])
def fall_back(call_id: RowId, db: SessionDep, user: CurrentUser, now: Now,
              body: FallbackRequest | None = None) -> DecisionPublic:
    """No unit in time: the call goes where the policy sends it next, recorded with the reason that held (program
    closed, no unit on duty and free, no free unit in time, or not dispatched within the maximum wait while units
    were free — which must be confirmed). Refused (409) while a free unit can still arrive in time."""
    decision = flows.fall_back(session=db, call_id=call_id, now=now, by=user, confirm=body.confirm if body else None)
    return DecisionPublic.model_validate(decision)


@router.post("/api/calls/{call_id}/escalate", status_code=201, dependencies=[allow("triage.override")])
def escalate(call_id: RowId, body: Escalate, db: SessionDep, user: CurrentUser, now: Now) -> DecisionPublic:
    """A phone (CCD) call becomes a field call without re-entering anything."""
    decision = flows.escalate_to_field(session=db, call_id=call_id, reason=body.reason, now=now, by=user)
    return DecisionPublic.model_validate(decision)


@router.post("/api/responses/{response_id}/check-in", dependencies=[allow("dispatch.status")])
def check_in(response_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> ResponsePublic:
    """The crew is OK: the safety timer starts again."""
    return ResponsePublic.model_validate(timers.check_in(session=db, response_id=response_id, by=user, now=now))


@router.post("/api/responses/{response_id}/backup", status_code=201, dependencies=[allow("dispatch.status")])
def request_backup(response_id: RowId, body: BackupRequest, db: SessionDep, user: CurrentUser, now: Now
                   ) -> AlertPublic:
    """One tap for PD (team safety) or EMS: alerts the board and records the outcome; asking twice is once."""
    alert = alerts.request_backup(session=db, response_id=response_id, kind=body.kind, by=user, now=now)
    return AlertPublic.model_validate(alert)


@router.get("/api/alerts", dependencies=[allow("dispatch.board")])
def open_alerts(db: SessionDep) -> list[AlertPublic]:
    """Alerts nobody has acknowledged yet."""
    return [AlertPublic.model_validate(a) for a in alerts.open_alerts(session=db)]


@router.post("/api/alerts/{alert_id}/acknowledge", dependencies=[allow("dispatch.board")])
def acknowledge(alert_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> AlertPublic:
    """Someone on the board has seen the alert (a safety timer acknowledged counts as a check-in); twice is once.
    An exclusion alert stays until the crew acknowledges it too."""
    return AlertPublic.model_validate(alerts.acknowledge(session=db, alert_id=alert_id, by=user, now=now))


@router.post("/api/alerts/{alert_id}/acknowledge-crew", dependencies=[allow("responder.view")])
def acknowledge_as_crew(alert_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> AlertPublic:
    """The crew of the alert's unit has seen an exclusion alert; twice is once."""
    return AlertPublic.model_validate(alerts.acknowledge_as_crew(session=db, alert_id=alert_id, by=user, now=now))


@router.post("/api/units/{unit_id}/out-of-service", dependencies=[allow("dispatch.assign")])
def out_of_service(unit_id: RowId, body: OutOfServiceRequest, db: SessionDep, user: CurrentUser, now: Now
                   ) -> ServiceStatusPublic:
    """A free unit is not to be sent until it is back in service (409 for a unit on a call, unless the city's rules
    allow it: then it is called off its call first and the call goes back to the queue)."""
    unit = flows.take_out_of_service(session=db, unit_id=unit_id, reason=body.reason, now=now, by=user)
    return ServiceStatusPublic.model_validate(unit)


@router.post("/api/units/{unit_id}/in-service", dependencies=[allow("dispatch.assign")])
def in_service(unit_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> ServiceStatusPublic:
    """An out-of-service unit is free to send again (409 if it is not out of service)."""
    return ServiceStatusPublic.model_validate(return_to_service(session=db, unit_id=unit_id, now=now,
                                                                actor_id=user.id))
