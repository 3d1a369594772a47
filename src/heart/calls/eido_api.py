"""JSON route for live CAD intake: ``POST /api/eido`` takes a NENA EIDO document."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from heart.calls.eido import EidoDocument, receive_eido
from heart.calls.schemas import CallPublic
from heart.deps import CurrentUser, Now, SessionDep, allow

router = APIRouter(prefix="/api/eido", tags=["calls"])


class EidoReceipt(BaseModel):
    """What the document did to its call."""

    created: bool
    changed: list[str]
    stale: bool
    call: CallPublic


@router.post("", status_code=201, dependencies=[allow("calls.write")],
             responses={200: {"description": "the incident's call already existed; it was updated (or unchanged)"}})
def post_eido(body: EidoDocument, response: Response, db: SessionDep, user: CurrentUser, now: Now) -> EidoReceipt:
    """Create or update the call of a NENA EIDO incident (idempotent on the incident id); 422 names a bad field."""
    outcome = receive_eido(session=db, document=body, now=now, actor_id=user.id)
    if not outcome.created:
        response.status_code = 200
    return EidoReceipt(created=outcome.created, changed=list(outcome.changed), stale=outcome.stale,
                       call=CallPublic.model_validate(outcome.call))
