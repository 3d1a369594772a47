""""Why didn't HEART come?" for one call: the decision in force, the policy version that made it, and why, in
plain words. A fallback is named for what it was at that moment (closed; no unit on duty and free; no free unit
could arrive in time; not dispatched within the maximum wait while units were free), and so is an exclusion that kept
the unarmed team whose rule takes the call's type away (recorded with the decision)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.calls.models import Call
from heart.calls.service import get_call
from heart.city.programs import city_programs
from heart.events import REASON_GIVEN
from heart.triage.engine import (
    NO_UNIT_AVAILABLE,
    NO_UNIT_IN_TIME,
    NOT_DISPATCHED_IN_TIME,
    PROGRAM_CLOSED,
    CallFacts,
    decide,
)
from heart.triage.models import PolicyVersion, TriageDecision
from heart.triage.policy import Policy, PolicyError, load_policy_by_name
from heart.triage.service import decisions_for_call, screening_at


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
    heart = set(policy.codes("phone", "field") if policy else city_programs().codes("phone", "field"))
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
    if decision.eligible_pathway and decision.eligible_pathway != decision.pathway:
        return decision.eligible_pathway
    if decision.fallback != PROGRAM_CLOSED and decision.recommended_pathway != decision.pathway:
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
    team = passed_over or "HEART"
    if decision.fallback == PROGRAM_CLOSED:
        if passed_over and policy is not None:
            clock = decision.decided_at.astimezone(policy.timezone).strftime("%H:%M")
            hours = policy.programs[passed_over].hours_text
            return f"{passed_over} was closed at {clock} (its hours: {hours}), so the call went to {pathway}."
        return f"The HEART program for this call was closed at that hour, so the call went to {pathway}."
    if decision.fallback == NO_UNIT_AVAILABLE:
        return f"No {team} unit was on duty and free, so the call went to {pathway}."
    if decision.fallback == NO_UNIT_IN_TIME:
        return (f"{team} units were free, but none could arrive within the maximum wait, so the call went to "
                f"{pathway}.")
    if decision.fallback == NOT_DISPATCHED_IN_TIME:
        return (f"The call was not dispatched within the maximum wait although {team} units were free; a dispatcher "
                f"confirmed it and sent the call to {pathway}.")
    if decision.override_reason:
        reason = decision.override_reason if show_reasons else REASON_GIVEN
        return f"A person sent the call to {pathway} instead of {decision.recommended_pathway}: {reason}"
    if decision.excluded_pathway and decision.exclusions:
        said = {exclusion.id: exclusion.text.rstrip(".") for exclusion in policy.exclusions} if policy else {}
        held = "; ".join(said.get(held_id, held_id.replace("_", " ")) for held_id in decision.exclusions)
        return (f"{decision.excluded_pathway} takes this kind of call, but an exclusion held when it was decided "
                f"({held}), so no unarmed team could go and the call went to {pathway}.")
    exclusions = set(policy.exclusion_questions) if policy else set()
    unknown = [q.replace("_", " ") for q in decision.unanswered if q in exclusions]
    if unknown:
        return (f"Not every safety question was answered no ({', '.join(unknown)}); an unknown answer never "
                f"counts as no, so no unarmed team could go and the call went to {pathway}.")
    last = decision.reasons[-1]["text"] if decision.reasons else ""
    return f"The policy sends this call to {pathway}: {last}"
