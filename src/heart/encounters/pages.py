"""HTML routes for the append-only narrative on the responder's phone (append once per token; strike, never
delete)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from heart.db import utcnow
from heart.deps import CurrentUser, SessionDep, allow
from heart.dispatch.taps import new_token
from heart.encounters import service
from heart.encounters.models import Encounter
from heart.errors import NotFound
from heart.inputs import RowId
from heart.templating import render

router = APIRouter(include_in_schema=False)


def _narrative(request: Request, db: SessionDep, encounter: Encounter) -> HTMLResponse:
    entries = service.narrative_of(session=db, encounter_id=encounter.id)
    return render(request, "responder/_narrative.html", {"encounter": encounter, "entries": entries,
                                                         "new_token": new_token})


@router.post("/responder/encounters/{encounter_id}/narrative", dependencies=[allow("encounters.write")])
def append(encounter_id: RowId, request: Request, db: SessionDep, user: CurrentUser,
           text: Annotated[str, Form(min_length=1, max_length=20000)],
           client_token: Annotated[str, Form(min_length=8, max_length=64)]) -> HTMLResponse:
    """Add an entry; the same form sent twice adds it once."""
    encounter = service.get_encounter(session=db, encounter_id=encounter_id, viewer=user)
    service.append_narrative(session=db, encounter_id=encounter.id, text=text.strip(), client_token=client_token,
                             at=utcnow(), actor_id=user.id)
    return _narrative(request, db, encounter)


@router.post("/responder/encounters/{encounter_id}/narrative/{entry_id}/strike",
             dependencies=[allow("encounters.write")])
def strike(encounter_id: RowId, entry_id: RowId, request: Request, db: SessionDep, user: CurrentUser,
           reason: Annotated[str, Form(min_length=1, max_length=256)]) -> HTMLResponse:
    """Strike an entry: it stays, marked, with who and why."""
    encounter = service.get_encounter(session=db, encounter_id=encounter_id, viewer=user)
    entries = {entry.id for entry in service.narrative_of(session=db, encounter_id=encounter.id)}
    if entry_id not in entries:
        raise NotFound("narrative entry", entry_id, field="entry_id")
    service.strike_narrative(session=db, entry_id=entry_id, reason=reason, at=utcnow(), actor_id=user.id)
    return _narrative(request, db, encounter)
