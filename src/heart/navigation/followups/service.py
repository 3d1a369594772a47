"""The follow-up and its state machine: awaiting contact → in contact → closed, and nothing else.

- A follow-up opens only with the neighbor's consent to follow-up, due the city's hours later.
- An attempt that reaches the neighbor moves it to "in contact"; any attempt, note or referral "touches" it.
- It closes only through ``close_follow_up`` (an outcome the city allows for where it stands: "reached" outcomes
  once the neighbor was reached, "unreachable" once the configured attempts failed to reach them) or when the
  neighbor withdraws consent (``close_for_withdrawn_consent``). Each close is a conditional write on the status
  it was read in, and the database refuses a closed row without its outcome. Nothing deletes a follow-up.

Attempts, notes and referrals are appended (idempotent on the client's token); referrals move along their closed
loop (``REFERRAL_STEPS``), each step with its time. Every change appends an event naming no personal value.

Each case works by its own program's rules (``CareRules.of``): Care Navigation's, or another case program's
(the Office of Survivor Care, the Involuntary Commitment unit). Every function that works on a case for a person
(``by`` / ``reader``) first finds it through need to know: a case of a members-only program the person is not on
the staff of does not exist for them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import follow_ups_visible_to
from heart.calls.service import MAX_CLOCK_SKEW
from heart.encounters.models import Encounter
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import reason_given, record_event
from heart.navigation.followups.models import (
    OPEN_STATUSES,
    REFERRAL_STEPS,
    ContactAttempt,
    FollowUp,
    FollowUpNeed,
    FollowUpNote,
    FollowUpStatus,
    Referral,
    ReferralStatus,
)
from heart.navigation.followups.rules import FOLLOW_UP, SHARE, CareRules
from heart.navigation.resources.models import Organization, Service
from heart.neighbors.models import Consent, Neighbor
from heart.neighbors.service import active_consent, give_consent
from heart.programs.members import holds_role
from heart.programs.models import Program

Status = FollowUpStatus


class FollowUpClosed(Conflict):
    """The follow-up is closed; nothing more can be worked on it."""


def open_follow_up(*, session: Session, encounter: Encounter, neighbor: Neighbor, consent: Consent,
                   needs: list[str], at: datetime, actor_id: int | None, rules: CareRules) -> FollowUp:
    """Open the follow-up of an encounter (or CCD contact) for a neighbor who consented; due the city's hours later.

    Opening it again for the same encounter and neighbor returns the first one.
    """
    if consent.neighbor_id != neighbor.id or consent.purpose != FOLLOW_UP or not consent.active:
        raise Conflict(f"neighbor {neighbor.id} has no consent to follow-up in force; a follow-up needs it")
    existing = session.scalar(select(FollowUp).where(FollowUp.encounter_id == encounter.id,
                                                     FollowUp.neighbor_id == neighbor.id))
    if existing is not None:
        return existing
    program_id = session.scalar(select(Program.id).where(Program.code == rules.config.program))
    follow_up = FollowUp(neighbor_id=neighbor.id, encounter_id=encounter.id, program_id=program_id,
                         consent_id=consent.id, status=Status.AWAITING_CONTACT, opened_at=at, opened_by_id=actor_id,
                         due_at=at + rules.due_after)
    session.add(follow_up)
    session.flush()
    record_event(session=session, kind="follow_up.opened", subject_type="follow_up", subject_id=follow_up.id,
                 call_id=encounter.call_id, at=at, actor_id=actor_id,
                 after={"status": follow_up.status.value, "due_at": follow_up.due_at, "encounter_id": encounter.id})
    for need in dict.fromkeys(filter(None, (rules.needs.resolve(name) for name in needs))):
        _note_need(session, follow_up, need, "handoff", at, actor_id)
    return follow_up


def get_follow_up(*, session: Session, follow_up_id: int, for_update: bool = False,
                  reader: User | None = None) -> FollowUp:
    """A follow-up by id; with ``reader``, only one they may see (need to know), else it does not exist."""
    query = select(FollowUp).where(FollowUp.id == follow_up_id)
    if reader is not None:
        query = query.where(follow_ups_visible_to(reader))
    if for_update:
        query = query.with_for_update()
    follow_up = session.scalar(query.execution_options(populate_existing=for_update))
    if follow_up is None:
        raise NotFound("follow-up", follow_up_id, field="follow_up_id")
    return follow_up


def rules_of(*, session: Session, follow_up: FollowUp, rules: CareRules) -> CareRules:
    """The rules of the follow-up's program."""
    code = session.scalar(select(Program.code).where(Program.id == follow_up.program_id)) if follow_up.program_id \
        else None
    return rules.of(code)


def record_attempt(*, session: Session, follow_up_id: int, method: str, result: str, at: datetime, now: datetime,
                   by: User, client_token: str, rules: CareRules) -> ContactAttempt:
    """One attempt to reach the neighbor; one that reaches them moves the follow-up to "in contact". A method that
    needs a crew role (a first examination) is recorded only by a member of the program holding it."""
    follow_up = _open(session, follow_up_id, by)
    existing = session.scalar(select(ContactAttempt).where(ContactAttempt.follow_up_id == follow_up.id,
                                                           ContactAttempt.client_token == client_token))
    if existing is not None:
        return existing
    rules = rules_of(session=session, follow_up=follow_up, rules=rules)
    config = rules.config
    if method not in config.contact_methods:
        raise InvalidInput(f"unknown contact method; the methods are {', '.join(config.contact_methods)}",
                           field="method")
    if result not in config.attempt_results:
        raise InvalidInput(f"unknown result; the results are {', '.join(config.attempt_results)}", field="result")
    if config.contact_methods[method].needs_phone:
        phone = session.scalar(select(Neighbor.phone).where(Neighbor.id == follow_up.neighbor_id))
        if not phone:
            raise InvalidInput(f"the neighbor's record has no phone number; add one before recording a "
                               f"{config.contact_methods[method].label.lower()}", field="method")
    role = config.contact_methods[method].by_role
    if role is not None and not holds_role(session=session, user=by, program_id=follow_up.program_id, role=role):
        raise Conflict(f"{config.contact_methods[method].label} is recorded by a {role} of the program; you are not "
                       "one on its staff")
    _check_time(at, now, follow_up)
    attempt = ContactAttempt(follow_up_id=follow_up.id, at=at, method=method, result=result,
                             reached=rules.reached(result), by_id=by.id, recorded_at=now, client_token=client_token)
    session.add(attempt)
    session.flush()
    record_event(session=session, kind="follow_up.attempted", subject_type="follow_up", subject_id=follow_up.id,
                 at=now, actor_id=by.id, after={"attempt_id": attempt.id, "method": method, "result": result,
                                                "reached": attempt.reached})
    if attempt.reached and follow_up.status == Status.AWAITING_CONTACT:
        _move(session, follow_up, Status.AWAITING_CONTACT, Status.IN_CONTACT, now, by.id)
    return attempt


def add_note(*, session: Session, follow_up_id: int, text: str, at: datetime, actor_id: int | None,
             client_token: str, reader: User | None = None) -> FollowUpNote:
    """Append a note (also after closing); the same client token twice writes it once. ``reader``: the person
    writing it (need to know applies); None only inside a flow that opened the follow-up."""
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, reader=reader)
    existing = session.scalar(select(FollowUpNote).where(FollowUpNote.follow_up_id == follow_up.id,
                                                         FollowUpNote.client_token == client_token))
    if existing is not None:
        return existing
    if not text.strip():
        raise InvalidInput("the note is empty", field="text")
    note = FollowUpNote(follow_up_id=follow_up.id, author_id=actor_id, text=text.strip(), created_at=at,
                        client_token=client_token)
    session.add(note)
    session.flush()
    # The event names the note; its words stay in the note.
    record_event(session=session, kind="follow_up.noted", subject_type="follow_up", subject_id=follow_up.id, at=at,
                 actor_id=actor_id, after={"note_id": note.id})
    return note


def strike_note(*, session: Session, follow_up_id: int, note_id: int, reason: str, at: datetime,
                actor_id: int | None, reader: User | None = None) -> FollowUpNote:
    """Strike a note: it stays, marked, with who and why."""
    get_follow_up(session=session, follow_up_id=follow_up_id, reader=reader)
    note = session.get(FollowUpNote, note_id, with_for_update=True, populate_existing=True)
    if note is None or note.follow_up_id != follow_up_id:
        raise NotFound("note", note_id, field="note_id")
    if note.struck_at is not None:
        raise Conflict(f"note {note_id} is already struck")
    if not reason.strip():
        raise InvalidInput("say why the note is struck", field="reason")
    note.struck_at, note.struck_by_id, note.strike_reason = at, actor_id, reason.strip()
    record_event(session=session, kind="follow_up.note_struck", subject_type="follow_up", subject_id=follow_up_id,
                 at=at, actor_id=actor_id, after={"note_id": note.id, "reason": reason_given(reason)})
    return note


def add_need(*, session: Session, follow_up_id: int, need: str, at: datetime, actor_id: int | None,
             rules: CareRules, reader: User | None = None) -> FollowUpNeed:
    """Record a need the navigator found (a need of the city's vocabulary, or another name for one)."""
    follow_up = _open(session, follow_up_id, reader)
    return _note_need(session, follow_up, _need(rules, need), "navigator", at, actor_id)


def make_referral(*, session: Session, follow_up_id: int, need: str, service_id: str, at: datetime,
                  now: datetime, by: User, client_token: str, rules: CareRules,
                  consent_to_share: bool = False) -> Referral:
    """Refer the neighbor to a service of the directory for one need.

    Only once the neighbor was reached, and only to an active service; sharing their details with the service's
    organization needs their consent — given now (``consent_to_share``) or earlier, and still in force.
    """
    follow_up = _open(session, follow_up_id, by)
    existing = session.scalar(select(Referral).where(Referral.follow_up_id == follow_up.id,
                                                     Referral.client_token == client_token))
    if existing is not None:
        return existing
    if follow_up.status != Status.IN_CONTACT:
        raise Conflict(f"follow-up {follow_up.id} has not reached the neighbor yet; a referral comes after talking "
                       "with them")
    key = _need(rules, need)
    service = session.get(Service, service_id) if service_id else None
    if service is None:
        raise NotFound("service", "named in the request", field="service_id")
    if service.status != "active":
        raise Conflict(f"the service {service.name!r} is {service.status}; refer to an active service")
    organization = session.get(Organization, service.organization_id)
    organization_name = organization.name if organization else service.name
    _check_time(at, now, follow_up)
    consent = active_consent(session=session, neighbor_id=follow_up.neighbor_id, purpose=SHARE,
                             organization_id=service.organization_id)
    if consent is None and consent_to_share:
        consent = give_consent(session=session, neighbor_id=follow_up.neighbor_id, purpose=SHARE, at=at,
                               actor_id=by.id, rules=rules, provider_name=organization_name,
                               provider_organization_id=service.organization_id)
    if consent is None:
        raise Conflict(f"the neighbor has not consented to share their details with {organization_name}; record "
                       "their consent with the referral")
    _note_need(session, follow_up, key, "navigator", at, by.id)
    referral = Referral(follow_up_id=follow_up.id, need=key, service_id=service.id, service_name=service.name,
                        organization_id=service.organization_id, organization_name=organization_name,
                        consent_id=consent.id, status=ReferralStatus.MADE, made_at=at, made_by_id=by.id,
                        client_token=client_token)
    session.add(referral)
    session.flush()
    record_event(session=session, kind="referral.made", subject_type="referral", subject_id=referral.id, at=at,
                 actor_id=by.id, after={"follow_up_id": follow_up.id, "service_id": service.id, "status": "made"})
    return referral


def move_referral(*, session: Session, referral_id: int, status: ReferralStatus, at: datetime, now: datetime,
                  by: User) -> Referral:
    """Move a referral along its loop (made → accepted → completed, or declined / no response), with its time.

    Asking for the status it already has changes nothing; a loop that has closed stays closed.
    """
    referral = session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFound("referral", referral_id, field="referral_id")
    try:
        get_follow_up(session=session, follow_up_id=referral.follow_up_id, reader=by)
    except NotFound:
        raise NotFound("referral", referral_id, field="referral_id") from None
    if referral.status == status:
        return referral
    allowed = REFERRAL_STEPS[referral.status]
    if status not in allowed:
        then = " or ".join(step.value.replace("_", " ") for step in allowed) or "nothing more (its loop is closed)"
        raise Conflict(f"referral {referral.id} is {referral.status.value.replace('_', ' ')}; it can become {then}")
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput("the time given is in the future", field="at")
    if at < referral.made_at:
        raise InvalidInput("the time given is before the referral was made", field="at")
    moved = session.execute(update(Referral).where(Referral.id == referral.id, Referral.status == referral.status)
                            .values({"status": status, f"{status.value}_at": at})).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        raise Conflict(f"referral {referral.id} changed meanwhile; reload and try again")
    before = referral.status
    session.refresh(referral)
    record_event(session=session, kind=f"referral.{status.value}", subject_type="referral", subject_id=referral.id,
                 at=at, actor_id=by.id, before={"status": before.value},
                 after={"status": status.value, "follow_up_id": referral.follow_up_id})
    return referral


def close_follow_up(*, session: Session, follow_up_id: int, outcome: str, at: datetime, now: datetime, by: User,
                    rules: CareRules, facility: str | None = None, plan: str | None = None) -> FollowUp:
    """Close with an outcome the city allows where the follow-up stands (see the module's rules); an outcome that
    requires a facility names one of the program's, one that requires a plan carries its words."""
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, for_update=True, reader=by)
    rules = rules_of(session=session, follow_up=follow_up, rules=rules)
    config = rules.config
    if outcome not in config.outcomes:
        raise InvalidInput(f"unknown outcome; the outcomes are {', '.join(config.outcomes)}", field="outcome")
    if follow_up.status == Status.CLOSED:
        if follow_up.outcome == outcome:
            return follow_up  # the same close sent twice
        raise FollowUpClosed(f"follow-up {follow_up.id} is already closed "
                             f"({rules.label('outcomes', follow_up.outcome).lower()})")
    rule = rules.outcome_rule(outcome)
    if rule == "consent_withdrawn":
        raise Conflict("this outcome is recorded when the neighbor withdraws their consent (on their record)")
    if rule == "reached" and follow_up.status != Status.IN_CONTACT:
        raise Conflict(f"follow-up {follow_up.id} has not reached the neighbor; after "
                       f"{rules.attempts_before_unreachable} attempts it can close as "
                       f"{rules.label('outcomes', rules.outcome_for('unreachable')).lower()}")
    if rule == "unreachable":
        if follow_up.status != Status.AWAITING_CONTACT:
            raise Conflict(f"follow-up {follow_up.id} reached the neighbor; close it with what came of it")
        made = attempts_made(session=session, follow_up_id=follow_up.id)
        if made < rules.attempts_before_unreachable:
            raise Conflict(f"follow-up {follow_up.id} has {made} contact attempt{'s' if made != 1 else ''}; it can "
                           f"close as unreachable after {rules.attempts_before_unreachable}")
    detail = rules.outcome_detail(outcome, facility=facility, plan=plan)
    _check_time(at, now, follow_up)
    _close(session, follow_up, outcome, at, by.id, detail)
    return follow_up


def close_for_withdrawn_consent(*, session: Session, consent: Consent, at: datetime, actor_id: int | None,
                                rules: CareRules) -> list[FollowUp]:
    """The neighbor withdrew the consent these follow-ups stand on: each open one closes with that outcome."""
    if consent.active:
        raise Conflict(f"consent {consent.id} is still in force")
    closed = []
    for follow_up in session.scalars(select(FollowUp).where(FollowUp.consent_id == consent.id,
                                                            FollowUp.status.in_(OPEN_STATUSES))
                                     .with_for_update()):
        outcome = rules_of(session=session, follow_up=follow_up, rules=rules).outcome_for("consent_withdrawn")
        _close(session, follow_up, outcome, at, actor_id)
        closed.append(follow_up)
    return closed


def acknowledge_alert(*, session: Session, follow_up_id: int, by: User, now: datetime) -> FollowUp:
    """A supervisor has seen the alert for an untouched follow-up; acknowledging twice changes nothing."""
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, reader=by)
    if follow_up.supervisor_alerted_at is None:
        raise Conflict(f"follow-up {follow_up.id} has raised no alert")
    done = session.execute(update(FollowUp).where(FollowUp.id == follow_up.id,
                                                  FollowUp.alert_acknowledged_at.is_(None))
                           .values(alert_acknowledged_at=now, alert_acknowledged_by_id=by.id)).rowcount  # type: ignore[attr-defined]
    session.refresh(follow_up)
    if done == 1:
        record_event(session=session, kind="follow_up.alert_acknowledged", subject_type="follow_up",
                     subject_id=follow_up.id, at=now, actor_id=by.id)
    return follow_up


def touched() -> ColumnElement[bool]:
    """A condition on FollowUp: someone has worked on it since it opened — an attempt, a referral, or a note
    written after the handoff (the handoff's own note is the responder's words, not a navigator's work)."""
    return or_(exists().where(ContactAttempt.follow_up_id == FollowUp.id),
               exists().where(Referral.follow_up_id == FollowUp.id),
               exists().where(FollowUpNote.follow_up_id == FollowUp.id, FollowUpNote.created_at > FollowUp.opened_at))


def alert_untouched(*, session: Session, now: datetime, rules: CareRules) -> int:
    """Alert the supervisors, once each, to follow-ups due (plus the city's grace) that nobody has touched.

    Each is claimed with a conditional write (``supervisor_alerted_at`` still empty, still untouched), so two
    server processes sweeping at once alert once.
    """
    cutoff = now - rules.alert_after_due
    due = session.scalars(select(FollowUp.id).where(
        FollowUp.status == Status.AWAITING_CONTACT, FollowUp.supervisor_alerted_at.is_(None),
        FollowUp.due_at <= cutoff, ~touched()).order_by(FollowUp.due_at))
    raised = 0
    for follow_up_id in list(due):
        claimed = session.execute(update(FollowUp).where(
            FollowUp.id == follow_up_id, FollowUp.supervisor_alerted_at.is_(None),
            FollowUp.status == Status.AWAITING_CONTACT, ~touched())
            .values(supervisor_alerted_at=now)).rowcount  # type: ignore[attr-defined]
        if claimed == 1:
            raised += 1
            record_event(session=session, kind="follow_up.supervisor_alerted", subject_type="follow_up",
                         subject_id=follow_up_id, at=now, actor_id=None, after={"untouched": True})
    return raised


def attempts_made(*, session: Session, follow_up_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(ContactAttempt)
                              .where(ContactAttempt.follow_up_id == follow_up_id)) or 0)


def _open(session: Session, follow_up_id: int, reader: User | None) -> FollowUp:
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, for_update=True, reader=reader)
    if follow_up.status == Status.CLOSED:
        raise FollowUpClosed(f"follow-up {follow_up.id} is closed; add a note, or open a new one from a new "
                             "encounter")
    return follow_up


def _move(session: Session, follow_up: FollowUp, before: Status, after: Status, at: datetime,
          actor_id: int | None) -> None:
    moved = session.execute(update(FollowUp).where(FollowUp.id == follow_up.id, FollowUp.status == before)
                            .values(status=after)).rowcount  # type: ignore[attr-defined]
    session.refresh(follow_up)
    if moved == 1:
        record_event(session=session, kind=f"follow_up.{after.value}", subject_type="follow_up",
                     subject_id=follow_up.id, at=at, actor_id=actor_id, before={"status": before.value},
                     after={"status": after.value})


def _close(session: Session, follow_up: FollowUp, outcome: str, at: datetime, actor_id: int | None,
           detail: dict[str, str | None] | None = None) -> None:
    before = follow_up.status
    closed = session.execute(update(FollowUp).where(FollowUp.id == follow_up.id, FollowUp.status == before)
                             .values(status=Status.CLOSED, outcome=outcome, closed_at=at, closed_by_id=actor_id,
                                     **(detail or {}))).rowcount  # type: ignore[attr-defined]
    if closed != 1:
        raise Conflict(f"follow-up {follow_up.id} changed meanwhile; reload and try again")
    session.refresh(follow_up)
    facility = (detail or {}).get("outcome_facility")
    record_event(session=session, kind="follow_up.closed", subject_type="follow_up", subject_id=follow_up.id, at=at,
                 actor_id=actor_id, before={"status": before.value},
                 after={"status": "closed", "outcome": outcome, **({"facility": facility} if facility else {})})


def _note_need(session: Session, follow_up: FollowUp, need: str, source: str, at: datetime,
               actor_id: int | None) -> FollowUpNeed:
    found = session.scalar(select(FollowUpNeed).where(FollowUpNeed.follow_up_id == follow_up.id,
                                                      FollowUpNeed.need == need))
    if found is not None:
        return found
    row = FollowUpNeed(follow_up_id=follow_up.id, need=need, source=source, noted_at=at, noted_by_id=actor_id)
    session.add(row)
    session.flush()
    record_event(session=session, kind="follow_up.need_noted", subject_type="follow_up", subject_id=follow_up.id,
                 at=at, actor_id=actor_id, after={"need_id": row.id, "source": source})
    return row


def _need(rules: CareRules, name: str) -> str:
    key = rules.needs.resolve(name)
    if key is None:
        raise InvalidInput(f"unknown need; the needs are {', '.join(rules.needs.needs)}", field="need")
    return key


def _check_time(at: datetime, now: datetime, follow_up: FollowUp) -> None:
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput("the time given is in the future", field="at")
    if at < follow_up.opened_at:
        raise InvalidInput("the time given is before the follow-up was opened", field="at")
