"""Recording triage decisions: the policy's recommendation, a decision taken again when the facts change, and a
person's override with a reason; and the call-taker's next steps (hand to dispatch, send to an outside agency,
resolve by phone). No decision closes a call: a person sends it on, with a confirmation on the screen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from heart.calls.models import Call, CallStatus
from heart.calls.service import get_call
from heart.crosswalk.mapper import live_mapper
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.db import insert_if_absent
from heart.dispatch.models import Response
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import Event, reason_given, record_event
from heart.programs.models import Program
from heart.programs.service import unit_availability
from heart.triage.engine import CallFacts, Decision, decide
from heart.triage.models import PolicyVersion, TriageDecision
from heart.triage.policy import Policy, UnknownPolicy, default_policy_name, load_policy_by_name
from heart.triage.safety import call_blockers, describe

# Policy versions this process has already stored, per database: saves two statements per decision.
_STORED: WeakKeyDictionary[Engine, set[tuple[str, int, str]]] = WeakKeyDictionary()
DECIDABLE = (CallStatus.OPEN, CallStatus.TRIAGED)


def policy_named(name: str | None) -> Policy:
    """The policy to decide with (the default when no name is given); an unknown name is NotFound."""
    try:
        return load_policy_by_name(name or default_policy_name())
    except UnknownPolicy as error:
        # The name sent is not echoed back: an error answer never repeats what a request carried.
        raise NotFound("the policy", "named in the request", field="policy", known=error.known) from None


def is_outside_agency(policy: Policy, pathway: str | None) -> bool:
    """Whether a pathway is an outside agency (police, EMS, fire): always open, never HEART's own team."""
    program = policy.programs.get(pathway or "")
    return program is not None and program.always_open


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

    ``availability`` (program code -> a unit is free; see ``heart.programs.service.unit_availability``) lets the
    decision fall back with "no_unit_available"; None assumes every open program has a unit. The call waits for a
    person's next step whatever the pathway: nothing is sent anywhere by a decision.
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
    if call.status not in DECIDABLE:
        raise Conflict(f"call {call.id} is {call.status.value}; it can no longer be triaged")
    policy = policy or policy_named(None)
    remember_version(session, policy, now)
    _read_call_type(call)
    result = decide(facts_of(call), policy, now, availability)
    decision = _decision(call, policy, result, now, reasons_before=[])
    _apply(session, call, decision, now, actor_id, kind="triage.decided")
    return decision


def redecide(
    *,
    session: Session,
    call: Call,
    changes: Mapping[str, str | None],
    now: datetime,
    actor_id: int | None,
    policy: Policy | None = None,
) -> TriageDecision | None:
    """The facts of a triaged call changed: run the policy again and record why ("Screening changed: weapon yes").

    A waiting call moves to the queue of its new pathway; a call with units on it stays assigned (the programs of
    those units count as available, so the decision does not fall back for want of the unit already there). A call
    not yet triaged, or already closed, is left alone. Returns the new decision, if one was made.
    """
    if call.status not in (CallStatus.TRIAGED, CallStatus.ASSIGNED) or not changes:
        return None
    if current_decision(session=session, call_id=call.id) is None:
        return None
    policy = policy or policy_named(None)
    remember_version(session, policy, now)
    if "nature_code" in changes and "incident_type" not in changes:
        call.incident_type = None  # the type was read from the old words: read it again
        _read_call_type(call)
    availability = unit_availability(session=session, now=now)
    live_programs = session.scalars(select(Program.code).join(Response, Response.program_id == Program.id).where(
        Response.call_id == call.id, Response.cleared_at.is_(None), Response.cancelled_at.is_(None)))
    for code in live_programs:
        availability[code] = True
    result = decide(facts_of(call), policy, now, availability)
    decision = _decision(call, policy, result, now, reasons_before=[{"rule": "facts_changed",
                                                                       "text": changed_words(changes)}])
    _apply(session, call, decision, now, actor_id, kind="triage.redecided", changed=_loggable(changes))
    return decision


def changed_words(changes: Mapping[str, str | None]) -> str:
    """'Screening changed: weapon yes, medical intervention no.' / 'Priority changed: P.'"""
    parts = []
    screening = [f"{q.replace('_', ' ')} {a}" for q, a in changes.items() if q not in ("priority", "incident_type",
                                                                                      "nature_code")]
    if screening:
        parts.append("Screening changed: " + ", ".join(screening) + ".")
    if "priority" in changes:
        parts.append(f"Priority changed: {changes['priority'] or 'not set'}.")
    if "incident_type" in changes:
        kind = INCIDENT_TYPES.get(changes["incident_type"] or "")
        parts.append(f"Incident type changed: {kind.label if kind else 'unknown type'}.")
    if "nature_code" in changes:
        parts.append("Call type changed.")
    return " ".join(parts)


def _loggable(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """The changes as an event may carry them: answers, priority and type ids; never the call's own words."""
    return {key: ("(changed)" if key == "nature_code" else value) for key, value in changes.items()}


def _read_call_type(call: Call) -> None:
    """Fill the incident type (and category) from the call type's words, through the one resolver."""
    if call.incident_type is None and call.nature_code:
        call.incident_type = live_mapper()(call.nature_code).incident_type
    known = INCIDENT_TYPES.get(call.incident_type or "")
    call.category = known.category if known else None


def _decision(call: Call, policy: Policy, result: Decision, now: datetime, *,
              reasons_before: list[dict[str, str]]) -> TriageDecision:
    return TriageDecision(
        call_id=call.id, policy_id=policy.id, policy_version=policy.version, pathway=result.pathway,
        recommended_pathway=result.pathway, eligible_pathway=result.fallback_program or result.pathway,
        excluded_pathway=result.excluded_pathway, exclusions=list(result.exclusions),
        reasons=reasons_before + [{"rule": r.rule, "text": r.text} for r in result.reasons],
        unanswered=list(result.unanswered), fallback=result.fallback_reason, decided_at=now, decided_by_id=None,
    )


def fallback_destination(*, session: Session, call: Call, from_program: str, policy: Policy, now: datetime
                         ) -> Decision:
    """Where the policy sends ``call`` when ``from_program`` has no unit for it: decided with that program counted as
    unavailable and every other program's units as they are now."""
    availability = unit_availability(session=session, now=now)
    availability[from_program] = False
    return decide(facts_of(call), policy, now, availability)


def record_fallback(
    *,
    session: Session,
    call_id: int,
    from_program: str,
    reason: str,
    words: str,
    facts: Mapping[str, object],
    now: datetime,
    actor_id: int | None,
    policy: Policy | None = None,
) -> TriageDecision:
    """Record that ``from_program`` did not come: the policy's next pathway, with the fallback ``reason`` that held
    and its plain ``words``; ``facts`` (how long the call waited, how many units were free) go to the event.

    The decision keeps the pathway the call was eligible for (reach counts it against that program); a fallback to
    an outside agency is the dispatcher's sending the call there, so the call closes on HEART's side.
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
    policy = policy or policy_named(None)
    result = fallback_destination(session=session, call=call, from_program=from_program, policy=policy, now=now)
    if result.pathway == from_program:
        raise Conflict(f"the policy has nowhere else to send call {call.id}")
    current = current_decision(session=session, call_id=call.id)
    remember_version(session, policy, now)
    decision = TriageDecision(
        call_id=call.id, policy_id=policy.id, policy_version=policy.version, pathway=result.pathway,
        recommended_pathway=from_program,  # the team that did not come
        eligible_pathway=(current.eligible_pathway if current else None) or from_program,
        excluded_pathway=result.excluded_pathway, exclusions=list(result.exclusions),
        reasons=[{"rule": r.rule, "text": r.text} for r in result.reasons], unanswered=list(result.unanswered),
        fallback=reason, decided_at=now, decided_by_id=actor_id, override_reason=words,
    )
    session.add(decision)
    session.flush()
    before = {"pathway": call.pathway, "status": call.status.value}
    call.pathway = result.pathway
    if is_outside_agency(policy, result.pathway):
        call.status, call.closed_at = CallStatus.RESOLVED, now
    record_event(session=session, kind="triage.fallback", subject_type="triage_decision", subject_id=decision.id,
                 call_id=call.id, at=now, actor_id=actor_id, before=before,
                 after={"pathway": result.pathway, "status": call.status.value, "fallback": reason,
                        "from_program": from_program, **facts, "policy": f"{policy.id} v{policy.version}"})
    return decision


OVERRIDE_REASON_MAX = 1000
"""The longest override reason (the API's schema and the screen's input say the same)."""


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
    """A person sends the call elsewhere, with a reason; an unarmed team still needs every exclusion clear."""
    call = get_call(session=session, call_id=call_id, for_update=True)
    policy = policy or policy_named(None)
    if call.status not in (CallStatus.OPEN, CallStatus.TRIAGED, CallStatus.RESOLVED) or (
        call.status == CallStatus.RESOLVED and not is_outside_agency(policy, call.pathway)
    ):
        raise Conflict(f"call {call.id} is {call.status.value}; its pathway can no longer change")
    if not reason.strip():
        raise InvalidInput("an override needs a reason", field="reason")
    if len(reason.strip()) > OVERRIDE_REASON_MAX:
        raise InvalidInput(f"an override's reason holds at most {OVERRIDE_REASON_MAX} characters", field="reason")
    current = current_decision(session=session, call_id=call.id)
    if current is None:
        raise Conflict(f"call {call.id} has no triage decision to override yet")
    if pathway not in policy.programs:
        raise InvalidInput(f"pathway must be one of {', '.join(policy.programs)}", field="pathway")
    if policy.unarmed(pathway):
        blockers = call_blockers(policy, call)
        if blockers:
            raise Conflict(f"{pathway} is an unarmed team and call {call.id} does not clear every exclusion "
                           f"({describe(blockers)}); answer every exclusion question 'no' before sending it")
    decision = TriageDecision(
        call_id=call.id, policy_id=current.policy_id, policy_version=current.policy_version, pathway=pathway,
        recommended_pathway=current.recommended_pathway, eligible_pathway=current.eligible_pathway,
        excluded_pathway=current.excluded_pathway, exclusions=current.exclusions, reasons=current.reasons,
        unanswered=current.unanswered, fallback=current.fallback, decided_at=now,
        decided_by_id=actor_id, override_reason=reason.strip(),
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
           *, kind: str, changed: dict[str, str | None] | None = None) -> None:
    """Put the decision in force: the call takes its pathway and waits for a person (units on it stay on it)."""
    session.add(decision)
    session.flush()
    before = {"pathway": call.pathway, "status": call.status.value}
    call.pathway = decision.pathway
    if call.status != CallStatus.ASSIGNED:
        call.status, call.closed_at = CallStatus.TRIAGED, None
    after: dict[str, object] = {"pathway": decision.pathway, "status": call.status.value,
                                "policy": f"{decision.policy_id} v{decision.policy_version}",
                                "override_reason": reason_given(decision.override_reason)}
    if changed is not None:
        after["changed"] = changed
    record_event(session=session, kind=kind, subject_type="triage_decision", subject_id=decision.id,
                 call_id=call.id, at=now, actor_id=actor_id, before=before, after=after)


def remember_version(session: Session, policy: Policy, now: datetime) -> None:
    """Keep the exact text of every policy version that decides a call; refuse one edited under the same number.

    Every decision goes through here (the policy's, a re-decision, a fallback): the one place the check lives.
    """
    engine = session.get_bind().engine
    digest = hashlib.sha256(policy.text.encode()).hexdigest()
    key = (policy.id, policy.version, digest)  # an edited text is a new key: checked against the stored one
    if key in _STORED.setdefault(engine, set()):
        return
    values = {"policy_id": policy.id, "version": policy.version, "sha256": digest, "document": policy.text,
              "loaded_at": now}
    # Two first decisions at once must not collide: insert if absent, in one statement.
    insert_if_absent(session, PolicyVersion, values, unique=("policy_id", "version"))
    stored = session.scalar(select(PolicyVersion.sha256).where(PolicyVersion.policy_id == policy.id,
                                                               PolicyVersion.version == policy.version))
    if stored != digest:
        raise Conflict(f"policy {policy.id} version {policy.version} has changed since it was first used; "
                       "give the edited policy a new version number")
    _STORED[engine].add(key)


# --- the call-taker's next steps: hand to dispatch, send to an outside agency, resolve by phone --------------

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

    Handing the same decision over twice records it once (a double submit is harmless). Only handed-off calls
    are in the board's queue; once with dispatch, a call stays with dispatch (a later decision moves it to the
    queue of its new pathway).
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
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
    if call.handed_to_dispatch_at is None:
        call.handed_to_dispatch_at = now
    record_event(session=session, kind="triage.handed_to_dispatch", subject_type="triage_decision",
                 subject_id=current.id if current else call.id, call_id=call.id, at=now, actor_id=actor_id,
                 after={"pathway": call.pathway, "status": call.status.value})
    return call


def send_to_agency(
    *, session: Session, call_id: int, now: datetime, actor_id: int | None, policy: Policy | None = None
) -> Call:
    """A person sends the call to the outside agency it is routed to (police, EMS, fire): HEART's part ends.

    Sending it again changes nothing. A call routed to HEART's own teams cannot be sent this way.
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
    policy = policy or policy_named(None)
    if not is_outside_agency(policy, call.pathway):
        raise Conflict(f"call {call.id} is routed to {call.pathway or 'nobody yet'}, not to an outside agency")
    if call.status == CallStatus.RESOLVED:
        return call
    if call.status != CallStatus.TRIAGED:
        raise Conflict(f"call {call.id} is {call.status.value}; it cannot be sent to {call.pathway}")
    call.status, call.closed_at = CallStatus.RESOLVED, now
    record_event(session=session, kind="call.sent_to_agency", subject_type="call", subject_id=call.id,
                 call_id=call.id, at=now, actor_id=actor_id, before={"status": "triaged"},
                 after={"status": "resolved", "pathway": call.pathway})
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
    call = get_call(session=session, call_id=call_id, for_update=True)
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


def screening_at(*, session: Session, call_id: int, at: datetime) -> dict[str, str] | None:
    """The call's screening answers as they stood at ``at``, read back from the event log (None if unknown)."""
    event = session.scalar(select(Event).where(
        Event.call_id == call_id, Event.at <= at, Event.kind.in_(("call.received", "call.screening_answered")))
        .order_by(Event.at.desc(), Event.id.desc()).limit(1))
    if event is None or event.after is None:
        return None
    answers = event.after.get("screening") if event.kind == "call.received" else event.after
    return {str(q): str(a) for q, a in (answers or {}).items()}
