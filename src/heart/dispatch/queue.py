"""The dispatch queue: calls handed to dispatch that wait for a field unit, the units to recommend for them, and
which of the four fallback reasons holds for a waiting call now (the program is closed; no unit of it is on duty and
free; no free unit can arrive within the maximum wait; or the call waited past the maximum wait while units were
free, which the dispatcher must confirm).

Reading only: the fallback and the escalation, which change triage and dispatch in order, are ``dispatch.flows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
from heart.programs.models import Program, ProgramKind, Unit
from heart.programs.service import available_units
from heart.triage.engine import NO_UNIT_AVAILABLE, NO_UNIT_IN_TIME, NOT_DISPATCHED_IN_TIME, PROGRAM_CLOSED
from heart.triage.models import TriageDecision
from heart.triage.policy import Policy


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


def queued_calls(*, session: Session, programs: Sequence[Program] | None = None,
                 call_ids: Sequence[int] | None = None) -> list[QueuedCall]:
    """Calls handed to dispatch that wait for a field unit, longest waiting first.

    A call waits from its latest routing decision, or from the cancellation that put it back in the queue. A call
    a person has not handed to dispatch is not in the queue, whatever its pathway.
    """
    programs = programs if programs is not None else list(session.scalars(select(Program)))
    field = {p.code: p for p in programs if p.kind == ProgramKind.FIELD}
    query = select(Call).where(Call.status == CallStatus.TRIAGED, Call.pathway.in_(list(field)),
                               Call.handed_to_dispatch_at.is_not(None))
    if call_ids is not None:
        query = query.where(Call.id.in_(list(call_ids)))
    calls = list(session.scalars(query))
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


def outside_agency_calls(*, session: Session, policy: Policy) -> list[Call]:
    """Calls with dispatch whose decision now sends them to an outside agency: a person must send them on."""
    external = [code for code, program in policy.programs.items() if program.always_open]
    return list(session.scalars(select(Call).where(
        Call.status == CallStatus.TRIAGED, Call.pathway.in_(external), Call.handed_to_dispatch_at.is_not(None))
        .order_by(Call.received_at, Call.id)))


@dataclass(frozen=True, slots=True)
class FallbackCheck:
    """Which fallback reason holds for a waiting call now, and the facts behind it."""

    reason: str | None
    """PROGRAM_CLOSED, NO_UNIT_AVAILABLE, NO_UNIT_IN_TIME or NOT_DISPATCHED_IN_TIME; None while a free unit can
    still arrive within the maximum wait (no fallback is due)."""
    program: str
    waited_minutes: float
    max_wait_minutes: int
    free: list[Recommendation] = field(default_factory=list)

    @property
    def nearest(self) -> Recommendation | None:
        return self.free[0] if self.free else None

    @property
    def needs_confirmation(self) -> bool:
        """The dispatcher confirms a fallback made while units were free (it is not "no unit available")."""
        return self.reason == NOT_DISPATCHED_IN_TIME

    def words(self) -> str:
        """The reason in plain words, as recorded on the decision and shown before confirming."""
        waited = f"waited {self.waited_minutes:.0f} of {self.max_wait_minutes} minutes"
        nearest = self.nearest
        eta = f", about {nearest.minutes:.0f} minutes away" if nearest and nearest.minutes is not None else ""
        if self.reason == PROGRAM_CLOSED:
            return f"{self.program} is closed now ({waited})"
        if self.reason == NO_UNIT_AVAILABLE:
            return f"No {self.program} unit was on duty and free ({waited})"
        if self.reason == NO_UNIT_IN_TIME:
            return (f"No free {self.program} unit could arrive within {self.max_wait_minutes} minutes (nearest: "
                    f"{nearest.call_sign if nearest else '?'}{eta}; {waited})")
        if self.reason == NOT_DISPATCHED_IN_TIME:
            names = ", ".join(r.call_sign for r in self.free[:3])
            return (f"Not dispatched within {self.max_wait_minutes} minutes while {self.program} units were free "
                    f"({names}; {waited})")
        return (f"{nearest.call_sign if nearest else 'A ' + self.program + ' unit'} is free and can arrive within "
                f"the maximum wait{eta}")


def check_fallback(*, session: Session, queued: QueuedCall, now: datetime, policy: Policy,
                   estimator: TravelTimeEstimator = DEFAULT_ESTIMATOR,
                   free: Sequence[Unit] | None = None) -> FallbackCheck:
    """Which of the four fallback reasons holds for ``queued`` at ``now`` (see ``FallbackCheck.reason``)."""
    program = queued.program
    waited, limit = queued.waited_minutes(now), program.max_wait_minutes
    rules = policy.programs.get(program.code)
    local = now.astimezone(policy.timezone)
    if rules is not None and not rules.is_open(local.hour * 60 + local.minute):
        return FallbackCheck(PROGRAM_CLOSED, program.code, waited, limit)
    units = [u for u in free if u.program_id == program.id] if free is not None else available_units(
        session=session, now=now, program_id=program.id)
    ranked = rank_units(call_point(queued.call), units, estimator)
    if not ranked:
        return FallbackCheck(NO_UNIT_AVAILABLE, program.code, waited, limit)
    best = ranked[0].minutes
    reason: str | None
    if waited < limit:
        reason = NO_UNIT_IN_TIME if best is not None and waited + best > limit else None
    else:  # past the wait with units free: too far even if sent at once, or not sent in time
        reason = NO_UNIT_IN_TIME if best is not None and best > limit else NOT_DISPATCHED_IN_TIME
    return FallbackCheck(reason, program.code, waited, limit, ranked)
