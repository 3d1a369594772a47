"""JSON routes of the FHIR exchange: a referral as a Bundle, and a partner's Task status update."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel

from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.inputs import RowId
from heart.navigation.fhir import service
from heart.navigation.followups.schemas import ReferralPublic
from heart.neighbors.api import Rules

router = APIRouter(tags=["fhir"])
FHIR_JSON = "application/fhir+json"


class TaskUpdateResult(BaseModel):
    """What a partner's update did: moved the referral, or nothing (a repeat, a stale update, a "not yet" status)."""

    result: service.Result
    referral: ReferralPublic
    notices: list[str]


@router.get("/api/referrals/{referral_id}/fhir", dependencies=[allow("followups.write")],
            responses={200: {"content": {FHIR_JSON: {}}}})
def export_referral(referral_id: RowId, db: LoggedReadDep, user: CurrentUser, now: Now, rules: Rules) -> Response:
    """The referral as an HL7 FHIR R4 Bundle (ServiceRequest, Task, the Patient as the neighbor consented to share
    with this provider, the Organization) — what a partner agency's system reads. The read of the neighbor is logged."""
    bundle = service.export_referral(session=db, referral_id=referral_id, reader=user, at=now, rules=rules)
    return Response(json.dumps(bundle, ensure_ascii=False), media_type=FHIR_JSON)


@router.post("/api/fhir/Task", dependencies=[allow("followups.write")])
def import_task(db: SessionDep, user: CurrentUser, now: Now,
                document: dict[str, Any] = Body(description="a FHIR R4 Task (or a Bundle holding one)")
                ) -> TaskUpdateResult:
    """A partner's Task status update: accepted / in-progress → accepted, completed → completed, rejected → declined.
    A repeat, or an update older than one already applied, changes nothing; a bad document is refused (422) with the
    FHIR path of each problem."""
    done = service.import_task_update(session=db, document=document, by=user, now=now)
    return TaskUpdateResult(result=done.result, referral=ReferralPublic.model_validate(done.referral),
                            notices=done.notices)
