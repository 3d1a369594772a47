"""JSON routes for the navigators' work: the queue, a follow-up, attempts, notes, needs, referrals, closing, the
supervisors' alerts, and a CCD clinician's handoff. Reads that show a neighbor log the read (``LoggedReadDep``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from heart.auth.models import User
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.inputs import RowId
from heart.navigation.followups import flows, queue, service
from heart.navigation.followups.queue import Item
from heart.navigation.followups.schemas import (
    AttemptCreate,
    AttemptPublic,
    FollowUpClose,
    FollowUpDetail,
    FollowUpNeedPublic,
    FollowUpPublic,
    NeedCreate,
    NoteCreate,
    NotePublic,
    NoteStrike,
    PhoneHandoff,
    QueuePublic,
    ReferralCreate,
    ReferralMove,
    ReferralPublic,
)
from heart.neighbors.api import Rules, neighbor_public

router = APIRouter(tags=["follow-ups"])
READ, WRITE = [allow("followups.read")], [allow("followups.write")]


def item_public(item: Item, now: datetime) -> FollowUpPublic:
    follow_up = item.follow_up
    return FollowUpPublic(
        id=follow_up.id, status=follow_up.status.value, neighbor_id=item.neighbor.id,
        neighbor_name=item.neighbor.display_name, program=item.case_program, encounter_id=follow_up.encounter_id,
        call_id=item.call.id if item.call else None, intake=follow_up.intake,
        opened_at=follow_up.opened_at, due_at=follow_up.due_at, overdue=item.overdue(now), attempts=item.attempts,
        needs=item.needs, outcome=follow_up.outcome, outcome_facility=follow_up.outcome_facility,
        closed_at=follow_up.closed_at,
        supervisor_alerted_at=follow_up.supervisor_alerted_at, alert_acknowledged_at=follow_up.alert_acknowledged_at)


@router.get("/api/follow-ups", dependencies=READ)
def follow_up_queue(db: LoggedReadDep, user: CurrentUser, now: Now) -> QueuePublic:
    """The queue: awaiting first contact by due time (overdue first), in contact, the supervisors' alerts, and those
    closed in the last week. Each neighbor listed is logged as read."""
    found = queue.build_queue(session=db, reader=user, now=now, purpose="follow-up queue (API)")
    return QueuePublic(awaiting_contact=[item_public(i, now) for i in found.awaiting_contact],
                       in_contact=[item_public(i, now) for i in found.in_contact],
                       alerts=[item_public(i, now) for i in found.alerts],
                       recently_closed=[item_public(i, now) for i in found.recently_closed])


@router.get("/api/follow-ups/{follow_up_id}", dependencies=READ)
def get_follow_up(follow_up_id: RowId, db: LoggedReadDep, user: CurrentUser, now: Now) -> FollowUpDetail:
    """A follow-up with its neighbor's record (logged as read), attempts, notes and referrals."""
    detail = queue.follow_up_detail(session=db, follow_up_id=follow_up_id, reader=user, now=now,
                                    purpose="follow-up (API)")
    return FollowUpDetail(
        **item_public(detail.item, now).model_dump(), neighbor=neighbor_public(db, detail.item.neighbor, user),
        intake_reference=detail.item.follow_up.intake_reference, outcome_plan=detail.item.follow_up.outcome_plan,
        contact_attempts=[AttemptPublic.model_validate(a) for a in detail.attempts],
        notes=[NotePublic.model_validate(n) for n in detail.notes],
        referrals=[ReferralPublic.model_validate(r) for r in detail.referrals])


@router.post("/api/follow-ups/{follow_up_id}/attempts", status_code=201, dependencies=WRITE)
def record_attempt(follow_up_id: RowId, body: AttemptCreate, db: SessionDep, user: CurrentUser, now: Now,
                   rules: Rules) -> AttemptPublic:
    """A contact attempt (method, result); one that reaches the neighbor puts the follow-up in contact."""
    attempt = service.record_attempt(session=db, follow_up_id=follow_up_id, method=body.method, result=body.result,
                                     at=body.at or now, now=now, by=user, client_token=body.client_token, rules=rules)
    return AttemptPublic.model_validate(attempt)


@router.post("/api/follow-ups/{follow_up_id}/notes", status_code=201, dependencies=WRITE)
def add_note(follow_up_id: RowId, body: NoteCreate, db: SessionDep, user: CurrentUser, now: Now) -> NotePublic:
    """Append a note (notes are struck, never edited or deleted)."""
    note = service.add_note(session=db, follow_up_id=follow_up_id, text=body.text, at=now, actor_id=user.id,
                            client_token=body.client_token, reader=user)
    return NotePublic.model_validate(note)


@router.post("/api/follow-ups/{follow_up_id}/notes/{note_id}/strike", dependencies=WRITE)
def strike_note(follow_up_id: RowId, note_id: RowId, body: NoteStrike, db: SessionDep, user: CurrentUser,
                now: Now) -> NotePublic:
    note = service.strike_note(session=db, follow_up_id=follow_up_id, note_id=note_id, reason=body.reason, at=now,
                               actor_id=user.id, reader=user)
    return NotePublic.model_validate(note)


@router.post("/api/follow-ups/{follow_up_id}/needs", status_code=201, dependencies=WRITE)
def add_need(follow_up_id: RowId, body: NeedCreate, db: SessionDep, user: CurrentUser, now: Now,
             rules: Rules) -> FollowUpNeedPublic:
    need = service.add_need(session=db, follow_up_id=follow_up_id, need=body.need, at=now, actor_id=user.id,
                            rules=rules, reader=user)
    return FollowUpNeedPublic.model_validate(need)


@router.post("/api/follow-ups/{follow_up_id}/referrals", status_code=201, dependencies=WRITE)
def make_referral(follow_up_id: RowId, body: ReferralCreate, db: SessionDep, user: CurrentUser, now: Now,
                  rules: Rules) -> ReferralPublic:
    """Refer the neighbor to a directory service for a need (they must have been reached, and consent to sharing
    their details with its organization: now, with ``consent_to_share``, or earlier)."""
    referral = service.make_referral(session=db, follow_up_id=follow_up_id, need=body.need,
                                     service_id=body.service_id, at=body.at or now, now=now, by=user,
                                     client_token=body.client_token, rules=rules,
                                     consent_to_share=body.consent_to_share)
    return ReferralPublic.model_validate(referral)


@router.post("/api/referrals/{referral_id}/status", dependencies=WRITE)
def move_referral(referral_id: RowId, body: ReferralMove, db: SessionDep, user: CurrentUser,
                  now: Now) -> ReferralPublic:
    """Close the loop: made → accepted → completed, or declined / no response, each with its time."""
    referral = service.move_referral(session=db, referral_id=referral_id, status=body.status, at=body.at or now,
                                     now=now, by=user)
    return ReferralPublic.model_validate(referral)


@router.post("/api/follow-ups/{follow_up_id}/close", dependencies=WRITE)
def close(follow_up_id: RowId, body: FollowUpClose, db: SessionDep, user: CurrentUser, now: Now,
          rules: Rules) -> FollowUpPublic:
    """Close with an outcome: a "reached" outcome once the neighbor was reached; "unreachable" after the city's
    number of attempts; consent withdrawn only from the neighbor's record."""
    service.close_follow_up(session=db, follow_up_id=follow_up_id, outcome=body.outcome, at=body.at or now, now=now,
                            by=user, rules=rules, facility=body.facility, plan=body.plan)
    return _one(db, follow_up_id, user, now)


@router.post("/api/follow-ups/{follow_up_id}/alert/acknowledge", dependencies=[allow("followups.supervise")])
def acknowledge_alert(follow_up_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> FollowUpPublic:
    """A supervisor has seen the alert for a due follow-up nobody touched."""
    service.acknowledge_alert(session=db, follow_up_id=follow_up_id, by=user, now=now)
    return _one(db, follow_up_id, user, now)


@router.post("/api/calls/{call_id}/handoff", status_code=201, dependencies=[allow("care.handoff")])
def phone_handoff(call_id: RowId, body: PhoneHandoff, db: SessionDep, user: CurrentUser, now: Now,
                  rules: Rules) -> FollowUpPublic:
    """A CCD clinician's warm handoff after resolving a call by phone, with the neighbor's consent: the follow-up
    is in the navigators' queue at once. Sending it again returns the same follow-up."""
    follow_up = flows.hand_off_phone_contact(session=db, call_id=call_id, handoff=body, at=now, actor_id=user.id,
                                             rules=rules)
    return _one(db, follow_up.id, user, now)


def _one(db: SessionDep, follow_up_id: int, user: User, now: datetime) -> FollowUpPublic:
    """The follow-up as the queue lists it (its neighbor's name: logged as read)."""
    return item_public(queue.list_item(session=db, follow_up_id=follow_up_id, reader=user, now=now,
                                       purpose="follow-up (API)"), now)
