"""Recording triage decisions: the policy engine's recommendation, and a person's override with a reason."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from heart.calls.models import Call, CallStatus
from heart.calls.service import get_call
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import REASON_GIVEN, Event, reason_given, record_event
from heart.triage.engine import NO_UNIT_AVAILABLE, PROGRAM_CLOSED, CallFacts, decide
from heart.triage.models import PolicyVersion, TriageDecision
from heart.triage.policy import Policy, PolicyError, UnknownPolicy, load_policy_by_name
from heart.triage.taxonomy import INCIDENT_TYPES

DEFAULT_POLICY = "durham"
# Policy versions this process has already stored, per database: saves two statements per decision.
_STORED: WeakKeyDictionary[Engine, set[tuple[str, int]]] = WeakKeyDictionary()
HANDED_OFF = frozenset({"PD", "EMS", "FIRE"})


def policy_named(name: str | None) -> Policy:
    """The policy to decide with (the default when no name is given); an unknown name is NotFound."""
    try:
        return load_policy_by_name(name or DEFAULT_POLICY)
    except UnknownPolicy as error:
        # The name sent is not echoed back: an error answer never repeats what a request carried.
        raise NotFound("the policy", "named in the request", field="policy", known=error.known) from None


def facts_of(call: Call) -> CallFacts:
    """What the engine needs to know about a call."""
    return CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                     screening=dict(call.screening))


def triage_call(
    *,
    session: Session,
    call_id: int,
    now: datetime,
    actor_id: int | None,
    policy: Policy | None = None,
    availability: Mapping[str, bool] | None = None,
) -> TriageDecision:
    """Decide the call's pathway with the policy and record the decision, its version and its reasons.

    ``availability`` (program code -> a unit is free; see ``unit_availability``) lets the decision fall back
    with "no_unit_available"; None assumes every open program has a unit.
    """
    call = get_call(session=session, call_id=call_id)
    if call.status not in (CallStatus.OPEN, CallStatus.TRIAGED):
        raise Conflict(f"call {call.id} is {call.status.value}; it can no longer be triaged")
    policy = policy or policy_named(None)
    _remember_version(session, policy, now)
    if call.incident_type is None and call.nature_code:
        call.incident_type = policy.resolve_nature_code(call.nature_code)
    if call.incident_type in INCIDENT_TYPES:
        call.category = INCIDENT_TYPES[call.incident_type].category
    result = decide(facts_of(call), policy, now, availability)
    decision = TriageDecision(
        call_id=call.id, policy_id=policy.id, policy_version=policy.version, pathway=result.pathway,
        recommended_pathway=result.pathway, reasons=[{"rule": r.rule, "text": r.text} for r in result.reasons],
        unanswered=list(result.unanswered), fallback=result.fallback_reason, decided_at=now, decided_by_id=None,
    )
    _apply(session, call, decision, now, actor_id, kind="triage.decided")
    return decision


def override_decision(
    *,
    session: Session,
    call_id: int,
    pathway: str,
    reason: str,
    now: datetime,
    actor_id: int,
    policy: Policy | None = None,
) -> TriageDecision:
    """A person sends the call elsewhere, with a reason; an unarmed team still needs every exclusion answered no."""
    call = get_call(session=session, call_id=call_id)
    if call.status not in (CallStatus.OPEN, CallStatus.TRIAGED, CallStatus.RESOLVED) or (
        call.status == CallStatus.RESOLVED and call.pathway not in HANDED_OFF
    ):
        raise Conflict(f"call {call.id} is {call.status.value}; its pathway can no longer change")
    if not reason.strip():
        raise InvalidInput("an override needs a reason", field="reason")
    current = current_decision(session=session, call_id=call.id)
    if current is None:
        raise Conflict(f"call {call.id} has no triage decision to override yet")
    policy = policy or policy_named(None)
    program = policy.programs.get(pathway)
    if program is not None and program.unarmed:
        blocking = [q for q in policy.exclusion_questions if call.screening.get(q, "unknown") != "no"]
        if blocking:
            raise Conflict(f"{pathway} is an unarmed team: answer 'no' to {', '.join(blocking)} before sending it")
        if call.priority in policy.excluded_priorities:
            raise Conflict(f"{pathway} is an unarmed team and this call is priority {call.priority}")
    decision = TriageDecision(
        call_id=call.id, policy_id=current.policy_id, policy_version=current.policy_version, pathway=pathway,
        recommended_pathway=current.recommended_pathway, reasons=current.reasons, unanswered=current.unanswered,
        fallback=current.fallback, decided_at=now, decided_by_id=actor_id, override_reason=reason.strip(),
    )
    _apply(session, call, decision, now, actor_id, kind="triage.overridden")
    return decision


def current_decision(*, session: Session, call_id: int) -> TriageDecision | None:
    """The decision in force: the latest one."""
    return session.scalar(select(TriageDecision).where(TriageDecision.call_id == call_id)
                          .order_by(TriageDecision.decided_at.desc(), TriageDecision.id.desc()).limit(1))


def decisions_for_call(*, session: Session, call_id: int) -> list[TriageDecision]:
    return list(session.scalars(select(TriageDecision).where(TriageDecision.call_id == call_id)
                                .order_by(TriageDecision.decided_at, TriageDecision.id)))


def _apply(session: Session, call: Call, decision: TriageDecision, now: datetime, actor_id: int | None,
           *, kind: str) -> None:
    session.add(decision)
    session.flush()
    before = {"pathway": call.pathway, "status": call.status.value}
    call.pathway = decision.pathway
    if decision.pathway in HANDED_OFF:
        call.status, call.closed_at = CallStatus.RESOLVED, now
    else:
        call.status, call.closed_at = CallStatus.TRIAGED, None
    record_event(session=session, kind=kind, subject_type="triage_decision", subject_id=decision.id,
                 call_id=call.id, at=now, actor_id=actor_id, before=before,
                 after={"pathway": decision.pathway, "status": call.status.value,
                        "policy": f"{decision.policy_id} v{decision.policy_version}",
                        "override_reason": reason_given(decision.override_reason)})


def _remember_version(session: Session, policy: Policy, now: datetime) -> None:
    """Keep the exact text of every policy version that decides a call."""
    engine = session.get_bind().engine
    key = (policy.id, policy.version)
    if key in _STORED.setdefault(engine, set()):
        return
    digest = hashlib.sha256(policy.text.encode()).hexdigest()
    values = {"policy_id": policy.id, "version": policy.version, "sha256": digest, "document": policy.text,
              "loaded_at": now}
    # Two first decisions at once must not collide: insert if absent, in one statement.
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    session.execute(insert(PolicyVersion).values(**values).on_conflict_do_nothing(
        index_elements=["policy_id", "version"]))
    stored = session.scalar(select(PolicyVersion.sha256).where(PolicyVersion.policy_id == policy.id,
                                                               PolicyVersion.version == policy.version))
    if stored != digest:
        raise Conflict(f"policy {policy.id} version {policy.version} has changed since it was first used; "
                       "give the edited policy a new version number")
    _STORED[engine].add(key)



# --- the call-taker's next steps: hand to dispatch, resolve by phone ------------------------------------------

PHONE_OUTCOMES: dict[str, str] = {
    "resolved": "Resolved by phone: the caller's need was met",
    "referred": "Referred to a community service",
    "safety_plan": "A safety plan was made with the caller",
    "declined": "The caller declined further help",
    "lost_contact": "Contact with the caller was lost",
}
"""Outcomes of a call a clinician (CCD) resolves by phone: id -> words shown to people."""


def hand_to_dispatch(
    *, session: Session, call_id: int, now: datetime, actor_id: int | None, policy: Policy | None = None
) -> Call:
    """The call-taker accepts a field pathway (CRT, COR): the call waits on the dispatch board for a unit.

    Handing the same decision over twice records it once (a double submit is harmless).
    """
    call = get_call(session=session, call_id=call_id)
    policy = policy or policy_named(None)
    program = policy.programs.get(call.pathway or "")
    if call.status != CallStatus.TRIAGED or program is None or program.kind != "field":
        raise Conflict(f"call {call.id} is not routed to a field team (pathway {call.pathway or 'none'}, "
                       f"status {call.status.value}); there is nothing to hand to dispatch")
    current = current_decision(session=session, call_id=call.id)
    if current is not None and session.scalar(select(Event.id).where(
            Event.call_id == call.id, Event.kind == "triage.handed_to_dispatch", Event.at >= current.decided_at,
            Event.subject_id == current.id).limit(1)):
        return call
    record_event(session=session, kind="triage.handed_to_dispatch", subject_type="triage_decision",
                 subject_id=current.id if current else call.id, call_id=call.id, at=now, actor_id=actor_id,
                 after={"pathway": call.pathway, "status": call.status.value})
    return call


def resolve_by_phone(
    *,
    session: Session,
    call_id: int,
    outcome: str,
    now: datetime,
    actor_id: int | None,
    note: str | None = None,
    policy: Policy | None = None,
) -> Call:
    """A clinician in the 911 center resolved the call by phone: record the outcome and close the call.

    Only a call routed to a phone program (CCD) and still open can be resolved this way; resolving it again
    with the same outcome changes nothing.
    """
    if outcome not in PHONE_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(PHONE_OUTCOMES)}", field="outcome")
    call = get_call(session=session, call_id=call_id)
    policy = policy or policy_named(None)
    program = policy.programs.get(call.pathway or "")
    if program is None or program.kind != "phone":
        raise Conflict(f"call {call.id} is routed to {call.pathway or 'nobody yet'}, not to a phone clinician")
    if call.status == CallStatus.RESOLVED:
        last = session.scalar(select(Event).where(Event.call_id == call.id, Event.kind == "call.resolved_by_phone")
                              .order_by(Event.id.desc()).limit(1))
        if last is not None and (last.after or {}).get("outcome") == outcome:
            return call
    if call.status != CallStatus.TRIAGED:
        raise Conflict(f"call {call.id} is {call.status.value}; it can no longer be resolved by phone")
    before = {"status": call.status.value, "pathway": call.pathway}
    call.status, call.closed_at = CallStatus.RESOLVED, now
    call.resolution_note = (note or "").strip() or None
    record_event(session=session, kind="call.resolved_by_phone", subject_type="call", subject_id=call.id,
                 call_id=call.id, at=now, actor_id=actor_id, before=before,
                 after={"status": call.status.value, "pathway": call.pathway, "outcome": outcome,
                        "note": reason_given(note)})
    return call


def unit_availability(*, session: Session, now: datetime) -> dict[str, bool]:
    """For each field program in the database, whether a unit is free now (available and on shift).

    Programs not in the database (and phone programs, whose clinicians are not units) are left out: the
    engine then counts them as available, and only their hours apply.
    """
    from heart.dispatch.queue import available_units  # imported here: the dispatch queue imports this module
    from heart.programs.models import Program, ProgramKind

    free = {unit.program_id for unit in available_units(session=session, now=now)}
    programs = session.scalars(select(Program).where(Program.kind == ProgramKind.FIELD))
    return {program.code: program.id in free for program in programs}


def screening_at(*, session: Session, call_id: int, at: datetime) -> dict[str, str] | None:
    """The call's screening answers as they stood at ``at``, read back from the event log (None if unknown)."""
    event = session.scalar(select(Event).where(
        Event.call_id == call_id, Event.at <= at, Event.kind.in_(("call.received", "call.screening_answered")))
        .order_by(Event.at.desc(), Event.id.desc()).limit(1))
    if event is None or event.after is None:
        return None
    answers = event.after.get("screening") if event.kind == "call.received" else event.after
    return {str(q): str(a) for q, a in (answers or {}).items()}


# --- "Why didn't HEART come?" --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer to "Why didn't HEART come?" for one call: the decision, its policy version and why."""

    call: Call
    decisions: list[TriageDecision]
    headline: str
    heart_came: bool = False
    passed_over: str | None = None
    """The HEART program that would have gone but was closed or had no unit free."""
    screening: dict[str, str] | None = None
    """The answers the decision was made on, from the event log."""
    questions: dict[str, str] = field(default_factory=dict)
    stored: PolicyVersion | None = None

    @property
    def decision(self) -> TriageDecision | None:
        """The decision in force (the latest)."""
        return self.decisions[-1] if self.decisions else None


def explain_decision(*, session: Session, call_id: int, show_reasons: bool = True) -> Explanation:
    """Explain the call's pathway in plain words, naming a closed or busy program when that was the reason.

    ``show_reasons=False`` (a reader who may not read free-text reasons) puts "(reason given)" for a person's.
    """
    call = get_call(session=session, call_id=call_id)
    decisions = decisions_for_call(session=session, call_id=call.id)
    if not decisions:
        return Explanation(call, decisions, "The call has not been triaged yet.")
    decision = decisions[-1]
    stored = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == decision.policy_id,
                                                        PolicyVersion.version == decision.policy_version))
    policy = _policy_version(decision, stored)
    screening = screening_at(session=session, call_id=call.id, at=decision.decided_at)
    passed_over = _passed_over(call, decision, policy, screening)
    heart = {code for code, p in policy.programs.items() if not p.always_open} if policy else {"CCD", "CRT", "COR"}
    questions = {q.id: q.prompt for q in policy.questions} if policy else {}
    return Explanation(call, decisions, _headline(decision, policy, passed_over, heart, show_reasons),
                       heart_came=decision.pathway in heart, passed_over=passed_over, screening=screening,
                       questions=questions, stored=stored)


def _policy_version(decision: TriageDecision, stored: PolicyVersion | None) -> Policy | None:
    """The policy version that decided, if its file is still here and unchanged."""
    try:
        policy = load_policy_by_name(decision.policy_id, version=decision.policy_version)
    except PolicyError:
        return None
    if stored is not None and hashlib.sha256(policy.text.encode()).hexdigest() != stored.sha256:
        return None
    return policy


def _passed_over(call: Call, decision: TriageDecision, policy: Policy | None,
                 screening: dict[str, str] | None) -> str | None:
    """Which program was closed or busy: decided again on the same facts, hours only."""
    if decision.fallback is None:
        return None
    if decision.fallback == NO_UNIT_AVAILABLE and decision.recommended_pathway != decision.pathway:
        return decision.recommended_pathway
    if policy is None:
        return None
    facts = CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                      screening=screening if screening is not None else dict(call.screening))
    again = decide(facts, policy, decision.decided_at)
    if decision.fallback == PROGRAM_CLOSED:
        return again.fallback_program
    return again.pathway if again.pathway != decision.pathway else None


def _headline(decision: TriageDecision, policy: Policy | None, passed_over: str | None, heart: set[str],
              show_reasons: bool) -> str:
    pathway = decision.pathway
    if pathway in heart:
        return f"HEART was sent: the call went to {pathway}."
    if decision.fallback == PROGRAM_CLOSED:
        if passed_over and policy is not None:
            clock = decision.decided_at.astimezone(policy.timezone).strftime("%H:%M")
            hours = policy.programs[passed_over].hours_text
            return f"{passed_over} was closed at {clock} (its hours: {hours}), so the call went to {pathway}."
        return f"The HEART program for this call was closed at that hour, so the call went to {pathway}."
    if decision.fallback == NO_UNIT_AVAILABLE:
        return f"No {passed_over or 'HEART'} unit was free, so the call went to {pathway}."
    if decision.override_reason:
        reason = decision.override_reason if show_reasons else REASON_GIVEN
        return f"A person sent the call to {pathway} instead of {decision.recommended_pathway}: {reason}"
    exclusions = set(policy.exclusion_questions) if policy else set()
    unknown = [q.replace("_", " ") for q in decision.unanswered if q in exclusions]
    if unknown:
        return (f"Not every safety question was answered no ({', '.join(unknown)}); an unknown answer never "
                f"counts as no, so no unarmed team could go and the call went to {pathway}.")
    last = decision.reasons[-1]["text"] if decision.reasons else ""
    return f"The policy sends this call to {pathway}: {last}"
