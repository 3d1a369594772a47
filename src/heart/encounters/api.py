"""JSON routes for encounters and their append-only narrative."""

from __future__ import annotations

from fastapi import APIRouter

from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.encounters import service
from heart.encounters.models import Encounter
from heart.encounters.schemas import (
    EncounterPublic,
    NarrativeAppend,
    NarrativeEntryPublic,
    NarrativeStrike,
)
from heart.errors import NotFound
from heart.inputs import RowId

router = APIRouter(prefix="/api/encounters", tags=["encounters"])


def _public(db: SessionDep, encounter: Encounter) -> EncounterPublic:
    public = EncounterPublic.model_validate(encounter)
    public.narrative = [NarrativeEntryPublic.model_validate(e)
                        for e in service.narrative_of(session=db, encounter_id=encounter.id)]
    return public


@router.get("/{encounter_id}", dependencies=[allow("encounters.read")])
def get_encounter(encounter_id: RowId, db: SessionDep, user: CurrentUser) -> EncounterPublic:
    return _public(db, service.get_encounter(session=db, encounter_id=encounter_id, viewer=user))


@router.post("/{encounter_id}/narrative", status_code=201, dependencies=[allow("encounters.write")])
def append_narrative(
    encounter_id: RowId, body: NarrativeAppend, db: SessionDep, user: CurrentUser, now: Now
) -> NarrativeEntryPublic:
    """Append an entry; resending the same client_token writes nothing new."""
    service.get_encounter(session=db, encounter_id=encounter_id, viewer=user)
    entry = service.append_narrative(session=db, encounter_id=encounter_id, text=body.text,
                                     client_token=body.client_token, at=now, actor_id=user.id)
    return NarrativeEntryPublic.model_validate(entry)


@router.post("/{encounter_id}/narrative/{entry_id}/strike", dependencies=[allow("encounters.write")])
def strike_narrative(
    encounter_id: RowId, entry_id: RowId, body: NarrativeStrike, db: SessionDep, user: CurrentUser, now: Now
) -> NarrativeEntryPublic:
    """Strike an entry: it stays on the record, marked, with who and why."""
    service.get_encounter(session=db, encounter_id=encounter_id, viewer=user)
    entry = service.strike_narrative(session=db, entry_id=entry_id, reason=body.reason, at=now, actor_id=user.id)
    if entry.encounter_id != encounter_id:
        raise NotFound("narrative entry", entry_id, field="entry_id")
    return NarrativeEntryPublic.model_validate(entry)
