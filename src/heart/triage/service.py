"""Recording triage decisions: the policy engine's recommendation, and a person's override with a reason."""

from __future__ import annotations

import hashlib
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from heart.calls.models import Call, CallStatus
from heart.calls.service import get_call
from heart.errors import Conflict, InvalidInput
from heart.events import record_event
from heart.triage.engine import CallFacts, decide
from heart.triage.models import PolicyVersion, TriageDecision
from heart.triage.policy import Policy, load_policy_by_name
from heart.triage.taxonomy import INCIDENT_TYPES

DEFAULT_POLICY = "durham"
# Policy versions this process has already stored, per database: saves two statements per decision.
_STORED: WeakKeyDictionary[Engine, set[tuple[str, int]]] = WeakKeyDictionary()
HANDED_OFF = frozenset({"PD", "EMS", "FIRE"})


def policy_named(name: str | None) -> Policy:
    """The policy to decide with (the default when no name is given)."""
    return load_policy_by_name(name or DEFAULT_POLICY)


def facts_of(call: Call) -> CallFacts:
    """What the engine needs to know about a call."""
    return CallFacts(nature_code=call.nature_code, incident_type=call.incident_type, priority=call.priority,
                     screening=dict(call.screening))


def triage_call(
    *, session: Session, call_id: int, now: datetime, actor_id: int | None, policy: Policy | None = None
) -> TriageDecision:
    """Decide the call's pathway with the policy and record the decision, its version and its reasons."""
    call = get_call(session=session, call_id=call_id)
    if call.status not in (CallStatus.OPEN, CallStatus.TRIAGED):
        raise Conflict(f"call {call.id} is {call.status.value}; it can no longer be triaged")
    policy = policy or policy_named(None)
    _remember_version(session, policy, now)
    if call.incident_type is None and call.nature_code:
        call.incident_type = policy.resolve_nature_code(call.nature_code)
    if call.incident_type in INCIDENT_TYPES:
        call.category = INCIDENT_TYPES[call.incident_type].category
    result = decide(facts_of(call), policy, now)
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
                        "override_reason": decision.override_reason})


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

