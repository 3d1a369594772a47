"""Opening a case from a referral or a petition: the person's record, their consent (when the program's cases stand
on it), the case and its first note, in one transaction — never from a 911 call (those reach Care Navigation through
the warm handoff).

A members-only program's case is opened by its own staff, and the person's record is kept for that program: no one
outside it sees the record or the case, and linkage never joins it with other records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.errors import InvalidInput, PermissionDenied
from heart.events import record_event
from heart.navigation.followups import service
from heart.navigation.followups.models import FollowUp, FollowUpStatus
from heart.navigation.followups.rules import FOLLOW_UP, CareRules
from heart.navigation.followups.schemas import CaseOpen
from heart.neighbors import service as neighbors
from heart.neighbors.schemas import NeighborDetails
from heart.programs.members import is_member
from heart.programs.models import ProgramAccess, ProgramKind
from heart.programs.service import get_program


def open_case(*, session: Session, program_code: str, case: CaseOpen, at: datetime, by: User,
              rules: CareRules) -> FollowUp:
    """Open a case of ``program_code`` (a case program whose cases begin from a referral or a petition); the same
    form sent twice (its client token) opens it once."""
    program = get_program(session=session, code=program_code)
    if program.kind != ProgramKind.CASE or program_code not in rules.case_programs():
        raise InvalidInput(f"{program.name} opens no cases from a referral or a petition", field="program_code")
    members_only = program.access == ProgramAccess.MEMBERS
    if members_only and not is_member(session=session, user=by, program_id=program.id):
        raise PermissionDenied(f"only the staff of {program.name} open its cases")
    existing = session.scalar(select(FollowUp).where(FollowUp.program_id == program.id,
                                                     FollowUp.intake_token == case.client_token))
    if existing is not None:
        return service.get_follow_up(session=session, follow_up_id=existing.id, reader=by)
    case_rules = rules.of(program_code)
    config = case_rules.config
    if case.intake not in config.intake_sources:
        raise InvalidInput(f"unknown intake source; {program.name}'s are {', '.join(config.intake_sources)}",
                           field="intake")
    if config.consent_needed and not case.consent_to_follow_up:
        raise InvalidInput(f"a case of {program.name} needs the person's consent to be contacted",
                           field="consent_to_follow_up")
    needs = [case_rules.needs.resolve(name) for name in case.needs]
    if None in needs:
        raise InvalidInput(f"unknown need; the needs are {', '.join(case_rules.needs.needs)}", field="needs")
    details = NeighborDetails.model_validate(case.neighbor.model_dump(exclude={"note"}))
    neighbor = neighbors.create_neighbor(session=session, details=details, at=at, actor_id=by.id, rules=case_rules,
                                         restricted_to_program_id=program.id if members_only else None)
    consent = neighbors.give_consent(session=session, neighbor_id=neighbor.id, purpose=FOLLOW_UP, at=at,
                                     actor_id=by.id, rules=case_rules) if case.consent_to_follow_up else None
    follow_up = FollowUp(neighbor_id=neighbor.id, encounter_id=None, program_id=program.id,
                         consent_id=consent.id if consent else None, intake=case.intake,
                         intake_reference=case.reference, intake_token=case.client_token,
                         status=FollowUpStatus.AWAITING_CONTACT, opened_at=at, opened_by_id=by.id,
                         due_at=at + case_rules.due_after)
    session.add(follow_up)
    session.flush()
    record_event(session=session, kind="follow_up.opened", subject_type="follow_up", subject_id=follow_up.id, at=at,
                 actor_id=by.id, after={"status": follow_up.status.value, "due_at": follow_up.due_at,
                                        "program": program.code, "intake": case.intake})
    for need in dict.fromkeys(key for key in needs if key):
        service.add_need(session=session, follow_up_id=follow_up.id, need=need, at=at, actor_id=by.id,
                         rules=case_rules, reader=by)
    if case.neighbor.note:
        service.add_note(session=session, follow_up_id=follow_up.id, text=case.neighbor.note, at=at, actor_id=by.id,
                         client_token=f"intake-{case.client_token}", reader=by)
    return follow_up
