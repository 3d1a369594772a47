"""The dispatch queue: calls waiting for a field unit, the units free to take them, and the ways out of the
queue other than a unit — the fallback when no unit is free in time ("no unit available", which the reach
metric counts) and the escalation of a phone (CCD) call to a field team.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls.models import Call, CallStatus
from heart.calls.service import get_call
from heart.dispatch.models import Response
from heart.dispatch.recommend import (
    DEFAULT_ESTIMATOR,
    Point,
    Recommendation,
    TravelTimeEstimator,
    rank_units,
)
from heart.errors import Conflict
from heart.events import record_event
from heart.programs.models import Program, ProgramKind, Shift, Unit, UnitStatus
from heart.triage.engine import NO_UNIT_AVAILABLE, decide
from heart.triage.models import PolicyVersion, TriageDecision
from heart.triage.policy import Policy
from heart.triage.service import HANDED_OFF, current_decision, facts_of, override_decision, policy_named


@dataclass(frozen=True, slots=True)
class QueuedCall:
    """A call routed to a field program with no unit on it yet."""

    call: Call
    program: Program
    decision_id: int
    waiting_since: datetime

    def waited_minutes(self, now: datetime) -> float:
        return max((now - self.waiting_since).total_seconds() / 60, 0.0)

    def over_max_wait(self, now: datetime) -> bool:
        return self.waited_minutes(now) >= self.program.max_wait_minutes


def call_point(call: Call) -> Point | None:
    """Where the call is, if the call-taker or CAD gave coordinates."""
    return Point(call.lat, call.lon) if call.lat is not None and call.lon is not None else None


def available_units(*, session: Session, now: datetime, program_id: int | None = None) -> list[Unit]:
    """Units free to send: available, and on a shift that covers ``now`` (so with a complete crew)."""
    on_shift = exists().where(Shift.unit_id == Unit.id, Shift.starts_at <= now, Shift.ends_at > now)
    query = select(Unit).where(Unit.status == UnitStatus.AVAILABLE, on_shift).order_by(Unit.call_sign)
    if program_id is not None:
        query = query.where(Unit.program_id == program_id)
    return list(session.scalars(query))


def queued_calls(*, session: Session, programs: Sequence[Program] | None = None) -> list[QueuedCall]:
    """Calls waiting for a field unit, longest waiting first.

    A call waits from its latest routing decision, or from the cancellation that put it back in the queue.
    """
    programs = programs if programs is not None else list(session.scalars(select(Program)))
    field = {p.code: p for p in programs if p.kind == ProgramKind.FIELD}
    calls = list(session.scalars(select(Call).where(Call.status == CallStatus.TRIAGED,
                                                    Call.pathway.in_(list(field)))))
    if not calls:
        return []
    ids = [c.id for c in calls]
    decisions = dict(session.execute(
        select(TriageDecision.call_id, func.max(TriageDecision.id)).where(TriageDecision.call_id.in_(ids))
        .group_by(TriageDecision.call_id)).all())
    decided_at = dict(session.execute(
        select(TriageDecision.id, TriageDecision.decided_at).where(TriageDecision.id.in_(decisions.values())))
        .all())
    cancelled = dict(session.execute(
        select(Response.call_id, func.max(Response.cancelled_at)).where(Response.call_id.in_(ids))
        .group_by(Response.call_id)).all())
    queued = []
    for call in calls:
        known = [at for at in (decided_at.get(decisions.get(call.id, -1)), cancelled.get(call.id)) if at is not None]
        waiting_since = max(known) if known else call.received_at
        assert call.pathway is not None
        queued.append(QueuedCall(call, field[call.pathway], decisions.get(call.id, 0), waiting_since))
    return sorted(queued, key=lambda q: (q.waiting_since, q.call.id))


def recommend_units(
    *, session: Session, call_id: int, now: datetime, estimator: TravelTimeEstimator = DEFAULT_ESTIMATOR
) -> list[Recommendation]:
    """The call's program's free units, fastest to the scene first."""
    call = get_call(session=session, call_id=call_id)
    program = session.scalar(select(Program).where(Program.code == call.pathway)) if call.pathway else None
    if program is None or program.kind != ProgramKind.FIELD:
        return []
    return rank_units(call_point(call), available_units(session=session, now=now, program_id=program.id),
                      estimator)


def fall_back(*, session: Session, call_id: int, now: datetime, by: User, policy: Policy | None = None
              ) -> TriageDecision:
    """No unit of the call's program is free in time: route the call where the policy sends it next.

    The decision is recorded with ``fallback = "no_unit_available"`` (what the reach metric counts), the
    policy's reasons for the new pathway, and who decided; the call's timeline shows it.
    """
    call = get_call(session=session, call_id=call_id)
    program = session.scalar(select(Program).where(Program.code == call.pathway)) if call.pathway else None
    if call.status != CallStatus.TRIAGED or program is None or program.kind != ProgramKind.FIELD:
        raise Conflict(f"call {call.id} is not waiting for a field unit; there is nothing to fall back from")
    policy = policy or policy_named(None)
    availability = _field_availability(session, now)
    availability[program.code] = False
    result = decide(facts_of(call), policy, now, availability)
    if result.pathway == program.code:
        raise Conflict(f"the policy has nowhere else to send call {call.id}")
    current = current_decision(session=session, call_id=call.id)
    waited = _waited_minutes(session, call, current, now)
    _remember_policy(session, policy, now)
    decision = TriageDecision(
        call_id=call.id, policy_id=policy.id, policy_version=policy.version, pathway=result.pathway,
        recommended_pathway=program.code,  # what the policy would choose with a unit free: the team that did not come
        reasons=[{"rule": r.rule, "text": r.text} for r in result.reasons], unanswered=list(result.unanswered),
        fallback=NO_UNIT_AVAILABLE, decided_at=now, decided_by_id=by.id,
        override_reason=f"No {program.code} unit was available (waited {waited:.0f} of "
                        f"{program.max_wait_minutes} minutes)",
    )
    session.add(decision)
    session.flush()
    before = {"pathway": call.pathway, "status": call.status.value}
    call.pathway = result.pathway
    if result.pathway in HANDED_OFF:
        call.status, call.closed_at = CallStatus.RESOLVED, now
    record_event(session=session, kind="triage.fallback", subject_type="triage_decision", subject_id=decision.id,
                 call_id=call.id, at=now, actor_id=by.id, before=before,
                 after={"pathway": result.pathway, "status": call.status.value, "fallback": NO_UNIT_AVAILABLE,
                        "from_program": program.code, "waited_minutes": round(waited, 1),
                        "policy": f"{policy.id} v{policy.version}"})
    return decision


def escalate_to_field(*, session: Session, call_id: int, reason: str, now: datetime, by: User,
                      policy: Policy | None = None) -> TriageDecision:
    """A phone clinician (CCD) decides a visit is needed: the call joins the field queue as it stands.

    Nothing is re-entered: the call keeps its screening answers and history, the new decision goes through
    the same safety check as any override (an unarmed team needs every exclusion answered "no"), and the
    timeline shows the phone work, the escalation and, later, the field response.
    """
    call = get_call(session=session, call_id=call_id)
    policy = policy or policy_named(None)
    phone = policy.programs.get(call.pathway or "")
    if phone is None or phone.kind != "phone" or call.status != CallStatus.TRIAGED:
        raise Conflict(f"call {call.id} is not with a phone clinician; only a phone call can be escalated")
    if phone.escalates_to is None:
        raise Conflict(f"the policy gives {phone.code} no field team to escalate to")
    if not reason.strip():
        reason = "the clinician decided a visit is needed"
    decision = override_decision(session=session, call_id=call.id, pathway=phone.escalates_to,
                                 reason=f"Escalated from {phone.code}: {reason.strip()}", now=now, actor_id=by.id,
                                 policy=policy)
    record_event(session=session, kind="call.escalated", subject_type="call", subject_id=call.id, call_id=call.id,
                 at=now, actor_id=by.id, before={"pathway": phone.code},
                 after={"pathway": phone.escalates_to, "decision_id": decision.id})
    return decision


def _field_availability(session: Session, now: datetime) -> dict[str, bool]:
    """For each field program, whether any unit is free now."""
    free = {unit.program_id for unit in available_units(session=session, now=now)}
    programs = session.scalars(select(Program).where(Program.kind == ProgramKind.FIELD))
    return {program.code: program.id in free for program in programs}


def _waited_minutes(session: Session, call: Call, current: TriageDecision | None, now: datetime) -> float:
    cancelled = session.scalar(select(func.max(Response.cancelled_at)).where(Response.call_id == call.id))
    since = max(at for at in (current.decided_at if current else call.received_at, cancelled) if at is not None)
    return max((now - since).total_seconds() / 60, 0.0)


def _remember_policy(session: Session, policy: Policy, now: datetime) -> None:
    """Keep the text of the policy version that made this decision (as triage does for its own)."""
    values = {"policy_id": policy.id, "version": policy.version, "sha256": hashlib.sha256(policy.text.encode())
              .hexdigest(), "document": policy.text, "loaded_at": now}
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    session.execute(insert(PolicyVersion).values(**values).on_conflict_do_nothing(
        index_elements=["policy_id", "version"]))
