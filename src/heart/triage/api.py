"""JSON routes for triage decisions."""

from __future__ import annotations

from fastapi import APIRouter

from heart.auth.permissions import reason_for
from heart.calls.schemas import CallPublic
from heart.calls.service import get_call
from heart.deps import CurrentUser, Now, OneTrip, SessionDep, allow
from heart.inputs import RowId
from heart.triage import service
from heart.triage.schemas import DecisionPublic, OverrideRequest, TriageRequest

router = APIRouter(prefix="/api/calls/{call_id}", tags=["triage"], route_class=OneTrip)


@router.post("/triage", status_code=201, dependencies=[allow("triage.decide")])
def triage(call_id: RowId, body: TriageRequest, db: SessionDep, user: CurrentUser, now: Now) -> DecisionPublic:
    """Run the policy on the call as it stands and record the decision with its reasons."""
    policy = service.policy_named(body.policy)
    decision = service.triage_call(session=db, call_id=call_id, now=now, actor_id=user.id, policy=policy)
    return DecisionPublic.model_validate(decision)


@router.post("/triage/override", status_code=201, dependencies=[allow("triage.override")])
def override(call_id: RowId, body: OverrideRequest, db: SessionDep, user: CurrentUser, now: Now) -> DecisionPublic:
    """Send the call to another pathway; the reason is required and shown on the call."""
    decision = service.override_decision(session=db, call_id=call_id, pathway=body.pathway, reason=body.reason,
                                         now=now, actor_id=user.id)
    return DecisionPublic.model_validate(decision)


@router.post("/hand-off", dependencies=[allow("triage.decide")])
def hand_off(call_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Accept the field pathway: the call joins the dispatch board's queue (only handed-off calls are there)."""
    return CallPublic.model_validate(service.hand_to_dispatch(session=db, call_id=call_id, now=now, actor_id=user.id))


@router.post("/send-to-agency", dependencies=[allow("triage.decide")])
def send_to_agency(call_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> CallPublic:
    """Send a call routed to an outside agency (police, EMS, fire) there; nothing else closes a call that way."""
    return CallPublic.model_validate(service.send_to_agency(session=db, call_id=call_id, now=now, actor_id=user.id))


@router.get("/decisions", dependencies=[allow("calls.read")])
def decisions(call_id: RowId, db: SessionDep, user: CurrentUser) -> list[DecisionPublic]:
    """Every decision on the call, oldest first; a person's reason is shown to the roles that may read it."""
    get_call(session=db, call_id=call_id, viewer=user)
    return [DecisionPublic.model_validate(d).model_copy(update={
                "override_reason": d.override_reason if d.fallback else reason_for(user.role, d.override_reason)})
            for d in service.decisions_for_call(session=db, call_id=call_id)]
