"""JSON routes for a neighbor's record: read it (need to know; logged), correct it, consent and withdraw, and the
access log of who read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import calls_visible_to, follow_ups_visible_to, is_limited
from heart.calls.models import Call
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.errors import NotFound
from heart.inputs import Input, RowId
from heart.navigation.followups.models import FollowUp
from heart.navigation.followups.rules import CareRules, care_rules
from heart.neighbors import flows, service
from heart.neighbors.models import Neighbor, NeighborLink
from heart.neighbors.schemas import (
    ConsentGive,
    ConsentPublic,
    NeighborPublic,
    NeighborReadPublic,
    NeighborUpdate,
)

router = APIRouter(prefix="/api/neighbors", tags=["neighbors"])


async def rules_of(request: Request) -> CareRules:
    """The city's care-navigation rules for this app's settings."""
    return care_rules(request.app.state.settings)


Rules = Annotated[CareRules, Depends(rules_of)]


def neighbor_public(db: Session, neighbor: Neighbor, viewer: User) -> NeighborPublic:
    """A record as ``viewer`` may see it: a responder sees the calls they may read, and no follow-up; nobody sees a
    follow-up of a members-only program they are not on the staff of."""
    public = NeighborPublic.model_validate(neighbor)
    public.consents = [ConsentPublic.model_validate(c) for c in service.consents_of(session=db,
                                                                                    neighbor_id=neighbor.id)]
    calls = select(NeighborLink.call_id).where(NeighborLink.neighbor_id == neighbor.id).order_by(NeighborLink.id)
    if is_limited(viewer):
        public.call_ids = list(db.scalars(select(Call.id).where(Call.id.in_(calls), calls_visible_to(viewer))))
        return public
    public.call_ids = list(db.scalars(calls))
    public.follow_up_ids = list(db.scalars(select(FollowUp.id).where(FollowUp.neighbor_id == neighbor.id,
                                                                     follow_ups_visible_to(viewer))
                                           .order_by(FollowUp.id)))
    return public


@router.get("/{neighbor_id}", dependencies=[allow("neighbors.read")])
def get_neighbor(neighbor_id: RowId, db: LoggedReadDep, user: CurrentUser, now: Now) -> NeighborPublic:
    """A neighbor's record (a responder: only a neighbor of their unit's current call). Each read is logged."""
    neighbor = service.read_neighbor(session=db, neighbor_id=neighbor_id, reader=user, purpose="neighbor (API)",
                                     at=now)
    return neighbor_public(db, neighbor, user)


@router.patch("/{neighbor_id}", dependencies=[allow("neighbors.write")])
def update_neighbor(neighbor_id: RowId, body: NeighborUpdate, db: SessionDep, user: CurrentUser, now: Now,
                    rules: Rules) -> NeighborPublic:
    """Correct or complete the record; fields left out stay, ``clear`` empties fields."""
    service.update_neighbor(session=db, neighbor_id=neighbor_id, changes=body, at=now, by=user, rules=rules)
    neighbor = service.read_neighbor(session=db, neighbor_id=neighbor_id, reader=user, purpose="neighbor (API)",
                                     at=now)
    return neighbor_public(db, neighbor, user)


@router.post("/{neighbor_id}/consents", status_code=201, dependencies=[allow("neighbors.write")])
def give_consent(neighbor_id: RowId, body: ConsentGive, db: SessionDep, user: CurrentUser, now: Now,
                 rules: Rules) -> ConsentPublic:
    """Record a consent (a purpose of the city's; sharing names its provider)."""
    service.read_neighbor(session=db, neighbor_id=neighbor_id, reader=user, purpose="consent recorded", at=now)
    consent = service.give_consent(session=db, neighbor_id=neighbor_id, purpose=body.purpose, at=now,
                                   actor_id=user.id, rules=rules, provider_name=body.provider_name,
                                   provider_organization_id=body.provider_organization_id)
    return ConsentPublic.model_validate(consent)


@router.post("/{neighbor_id}/consents/{consent_id}/withdraw", dependencies=[allow("neighbors.write")])
def withdraw_consent(neighbor_id: RowId, consent_id: RowId, db: SessionDep, user: CurrentUser, now: Now,
                     rules: Rules) -> ConsentPublic:
    """The neighbor takes a consent back; follow-ups that stood on it close ("consent withdrawn")."""
    consent, _ = flows.withdraw_consent(session=db, neighbor_id=neighbor_id, consent_id=consent_id, at=now, by=user,
                                        rules=rules)
    return ConsentPublic.model_validate(consent)


class NameOnCall(Input):
    call: str = Field(min_length=1, max_length=64, description="the call's number (as its CAD wrote it) or id")


@router.post("/{neighbor_id}/calls", status_code=201, dependencies=[allow("neighbors.write")])
def name_on_call(neighbor_id: RowId, body: NameOnCall, db: SessionDep, user: CurrentUser, now: Now) -> dict[str, int]:
    """Name the neighbor on a call being answered: its crew sees the approach notes of their active flag."""
    link = service.name_on_call(session=db, neighbor_id=neighbor_id, call=body.call, at=now, by=user)
    return {"neighbor_id": link.neighbor_id, "call_id": link.call_id}


@router.get("/{neighbor_id}/reads", dependencies=[allow("audit.read")])
def access_log(neighbor_id: RowId, db: SessionDep) -> list[NeighborReadPublic]:
    """Who read the record, when and why, newest first (never what they saw)."""
    if db.get(Neighbor, neighbor_id) is None:
        raise NotFound("neighbor", neighbor_id, field="neighbor_id")
    return [NeighborReadPublic.model_validate(r) for r in service.reads_of(session=db, neighbor_id=neighbor_id)]
