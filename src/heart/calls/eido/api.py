"""JSON route for live intake from a PSAP or a CAD: ``POST /api/eido`` takes a NENA EIDO document."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from heart.calls.eido.flows import receive_eido
from heart.calls.eido.schemas import EidoNotice, EidoReceipt
from heart.calls.eido.standard import SchemaUnavailable, eido_schema
from heart.calls.schemas import CallPublic
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import Unavailable

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/eido", tags=["calls"])

# No example in the OpenAPI document: an EIDO's references are "$ref" keys, which OpenAPI tools would follow.
DOCUMENT = Body(
    description="A NENA-STA-021 EIDO 1.0 document (`EmergencyIncidentDataObjectType` of the NENA911/EIDO-JSON "
                "schema). A call transfer without `incidentComponent` is accepted; the incident is the document's "
                "`$id`.",
)


@router.post("", status_code=201, dependencies=[allow("calls.write")],
             responses={200: {"description": "the incident's call already existed; it was updated (or unchanged)",
                              "model": EidoReceipt},
                        503: {"description": "the published EIDO schema is not where HEART_SHARED_DATA says"}})
def post_eido(document: Annotated[dict[str, Any], DOCUMENT], request: Request, response: Response, db: SessionDep,
              user: CurrentUser, now: Now) -> EidoReceipt:
    """Create or update the call of a NENA EIDO incident (idempotent on the document's `$id`).

    A document that breaks the published schema is a 422 listing each place (`pointer`, as a JSON Pointer) with
    the schema's rule and why; nothing is written.
    """
    try:
        schema = eido_schema(request.app.state.settings.shared_data)
    except SchemaUnavailable as missing:
        log.error("EIDO documents are refused: %s", missing)
        raise Unavailable("HEART cannot check EIDO documents: the published NENA EIDO schema is missing "
                          "on this server") from missing
    outcome = receive_eido(session=db, document=document, schema=schema, now=now, actor_id=user.id)
    if not outcome.created:
        response.status_code = 200
    return EidoReceipt(created=outcome.created, changed=list(outcome.changed), stale=outcome.stale,
                       notices=[EidoNotice(pointer=n.pointer, reason=n.reason) for n in outcome.notices],
                       not_kept=list(outcome.not_kept), call=CallPublic.model_validate(outcome.call))
