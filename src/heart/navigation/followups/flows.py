"""The warm handoff: a responder's clear or a CCD clinician's phone contact, with the neighbor's consent, becomes a
neighbor's record, their consent and a follow-up in the navigators' queue — in the transaction that records the
encounter, so a consented encounter is never left without its follow-up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.calls.models import CallStatus
from heart.calls.service import get_call
from heart.encounters.models import Encounter
from heart.encounters.service import open_phone_encounter
from heart.errors import Conflict, InvalidInput
from heart.navigation.followups import service
from heart.navigation.followups.models import FollowUp
from heart.navigation.followups.rules import FOLLOW_UP, CareRules
from heart.navigation.followups.schemas import Handoff, PhoneHandoff
from heart.neighbors import service as neighbors
from heart.neighbors.schemas import NeighborDetails
from heart.programs.models import Program, ProgramKind


def hand_off(*, session: Session, encounter: Encounter, handoff: Handoff | None, at: datetime,
             actor_id: int | None, rules: CareRules) -> FollowUp | None:
    """With consent, the encounter's neighbor gets a record and a follow-up (once); without it, nothing is kept."""
    if not encounter.consent_to_follow_up:
        if handoff is not None and handoff.given():
            raise InvalidInput("details for Care Navigation are kept only when the neighbor consents to follow-up",
                               field="consent_to_follow_up")
        return None
    existing = session.scalars(select(FollowUp).where(FollowUp.encounter_id == encounter.id)
                               .order_by(FollowUp.id)).first()
    if existing is not None:
        return existing  # the same handoff arriving twice
    handoff = handoff or Handoff()
    details = NeighborDetails.model_validate(handoff.model_dump(exclude={"note"}))
    neighbor = neighbors.create_neighbor(session=session, details=details, at=at, actor_id=actor_id, rules=rules)
    neighbors.link_to_call(session=session, neighbor_id=neighbor.id, call_id=encounter.call_id,
                           encounter_id=encounter.id, at=at, actor_id=actor_id)
    consent = neighbors.give_consent(session=session, neighbor_id=neighbor.id, purpose=FOLLOW_UP, at=at,
                                     actor_id=actor_id, rules=rules, encounter_id=encounter.id)
    follow_up = service.open_follow_up(session=session, encounter=encounter, neighbor=neighbor, consent=consent,
                                       needs=list(encounter.needs), at=at, actor_id=actor_id, rules=rules)
    if handoff.note:
        service.add_note(session=session, follow_up_id=follow_up.id, text=handoff.note, at=at, actor_id=actor_id,
                         client_token=f"handoff-{encounter.id}")
    return follow_up


def hand_off_phone_contact(*, session: Session, call_id: int, handoff: PhoneHandoff, at: datetime,
                           actor_id: int | None, rules: CareRules) -> FollowUp:
    """A call a CCD clinician resolved by phone: its contact becomes an encounter, and with consent a follow-up."""
    if not handoff.consent_to_follow_up:
        raise InvalidInput("a handoff to Care Navigation needs the neighbor's consent to follow-up",
                           field="consent_to_follow_up")
    call = get_call(session=session, call_id=call_id, for_update=True)
    program = session.scalar(select(Program).where(Program.code == call.pathway))
    if call.status != CallStatus.RESOLVED or program is None or program.kind != ProgramKind.PHONE:
        raise Conflict(f"call {call.id} was not resolved by phone; a field team's handoff comes with its clear")
    needs = [key for key in dict.fromkeys(rules.needs.resolve(name) for name in handoff.needs) if key]
    unknown = [name for name in handoff.needs if rules.needs.resolve(name) is None]
    if unknown:
        raise InvalidInput(f"unknown need; the needs are {', '.join(rules.needs.needs)}", field="needs")
    encounter = open_phone_encounter(session=session, call=call, program_id=program.id, needs=needs,
                                     consent_to_follow_up=True, at=at, actor_id=actor_id)
    if not encounter.consent_to_follow_up:
        raise Conflict(f"the phone contact of call {call.id} was recorded without consent to follow-up")
    follow_up = hand_off(session=session, encounter=encounter, handoff=handoff.handoff, at=at, actor_id=actor_id,
                         rules=rules)
    assert follow_up is not None  # consent was given
    return follow_up
