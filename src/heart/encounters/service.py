"""Encounters and their append-only narrative (entries are struck, never edited or deleted)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import encounters_visible_to
from heart.calls.models import Call
from heart.dispatch.models import Response
from heart.encounters.models import Encounter, NarrativeEntry
from heart.errors import Conflict, NotFound
from heart.events import reason_given, record_event

_OF_RESPONSE = select(Encounter).where(Encounter.response_id == bindparam("response_id"))


def open_encounter(
    *, session: Session, response: Response, needs: list[str], services: list[str], consent_to_follow_up: bool,
    narrative: str | None, at: datetime, actor_id: int | None,
) -> Encounter:
    """The encounter of a cleared response (one per response)."""
    encounter = session.scalar(_OF_RESPONSE, {"response_id": response.id})
    if encounter is not None:
        return encounter
    encounter = Encounter(call_id=response.call_id, response_id=response.id, program_id=response.program_id,
                          needs=needs, services=services, consent_to_follow_up=consent_to_follow_up,
                          created_at=at, created_by_id=actor_id)
    session.add(encounter)
    session.flush()
    record_event(session=session, kind="encounter.opened", subject_type="encounter", subject_id=encounter.id,
                 call_id=response.call_id, at=at, actor_id=actor_id,
                 after={"needs": needs, "services": services, "consent_to_follow_up": consent_to_follow_up})
    if narrative:
        append_narrative(session=session, encounter_id=encounter.id, text=narrative,
                         client_token=secrets.token_hex(16), at=at, actor_id=actor_id)
    return encounter


def get_encounter(*, session: Session, encounter_id: int, viewer: User | None = None) -> Encounter:
    """An encounter by id; one a viewer may not read (heart.auth.need_to_know) is said not to exist."""
    query = select(Encounter).where(Encounter.id == encounter_id)
    if viewer is not None:
        query = query.where(encounters_visible_to(viewer))
    encounter = session.scalar(query)
    if encounter is None:
        raise NotFound("encounter", encounter_id, field="encounter_id")
    return encounter


def encounters_for_call(*, session: Session, call_id: int, viewer: User | None = None) -> list[Encounter]:
    """A call's encounters (those ``viewer`` may read)."""
    query = select(Encounter).where(Encounter.call_id == call_id).order_by(Encounter.id)
    if viewer is not None:
        query = query.where(encounters_visible_to(viewer))
    return list(session.scalars(query))


def narrative_of(*, session: Session, encounter_id: int) -> list[NarrativeEntry]:
    return list(session.scalars(select(NarrativeEntry).where(NarrativeEntry.encounter_id == encounter_id)
                                .order_by(NarrativeEntry.created_at, NarrativeEntry.id)))


def append_narrative(
    *, session: Session, encounter_id: int, text: str, client_token: str, at: datetime, actor_id: int | None
) -> NarrativeEntry:
    """Add an entry; the same client token twice returns the first entry unchanged."""
    encounter = get_encounter(session=session, encounter_id=encounter_id)
    existing = session.scalar(select(NarrativeEntry).where(NarrativeEntry.encounter_id == encounter.id,
                                                           NarrativeEntry.client_token == client_token))
    if existing is not None:
        return existing
    entry = NarrativeEntry(encounter_id=encounter.id, author_id=actor_id, text=text, created_at=at,
                           client_token=client_token)
    session.add(entry)
    session.flush()
    # The event names the entry but never copies the narrative: personal detail stays in one guarded place.
    record_event(session=session, kind="narrative.appended", subject_type="narrative_entry", subject_id=entry.id,
                 call_id=encounter.call_id, at=at, actor_id=actor_id, after={"encounter_id": encounter.id})
    return entry


def strike_narrative(
    *, session: Session, entry_id: int, reason: str, at: datetime, actor_id: int | None
) -> NarrativeEntry:
    """Mark an entry struck (it stays readable, with who struck it and why)."""
    entry = session.get(NarrativeEntry, entry_id, with_for_update=True)
    if entry is None:
        raise NotFound("narrative entry", entry_id, field="entry_id")
    if entry.struck_at is not None:
        raise Conflict(f"narrative entry {entry_id} is already struck")
    entry.struck_at, entry.struck_by_id, entry.strike_reason = at, actor_id, reason
    encounter = session.get_one(Encounter, entry.encounter_id)
    record_event(session=session, kind="narrative.struck", subject_type="narrative_entry", subject_id=entry.id,
                 call_id=encounter.call_id, at=at, actor_id=actor_id, after={"reason": reason_given(reason)})
    return entry


def open_phone_encounter(
    *, session: Session, call: Call, program_id: int, needs: list[str], consent_to_follow_up: bool, at: datetime,
    actor_id: int | None,
) -> Encounter:
    """The encounter of a contact a phone clinician (CCD) had with a neighbor: one per call, no responder."""
    encounter = session.scalar(select(Encounter).where(Encounter.call_id == call.id, Encounter.response_id.is_(None))
                               .order_by(Encounter.id).limit(1))
    if encounter is not None:
        return encounter
    encounter = Encounter(call_id=call.id, response_id=None, program_id=program_id, needs=needs, services=[],
                          consent_to_follow_up=consent_to_follow_up, created_at=at, created_by_id=actor_id)
    session.add(encounter)
    session.flush()
    record_event(session=session, kind="encounter.opened", subject_type="encounter", subject_id=encounter.id,
                 call_id=call.id, at=at, actor_id=actor_id,
                 after={"needs": needs, "services": [], "consent_to_follow_up": consent_to_follow_up, "phone": True})
    return encounter
