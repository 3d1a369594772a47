"""Ways out of the dispatch queue other than a unit, each several services in order (so a flow, not a service).

- **Fallback**: no unit of the call's program comes in time. The queue says which of four reasons holds at this
  moment (``queue.check_fallback``); a fallback while a free unit can still arrive in time is refused, and one past
  the maximum wait while units are free needs the dispatcher's confirmation. Triage then records the decision, with
  its single policy-version check (``triage.service.record_fallback``).
- **Escalation**: a phone clinician (CCD) decides a visit is needed; the call joins the field queue as it stands,
  through the same safety check as any override.
- **Out of service**: a unit on a call is called off first where the city's rules allow it, then set out of service.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.calls.desk import OutOfService, desk_rules
from heart.calls.models import CallStatus
from heart.calls.service import get_call
from heart.dispatch.models import Response
from heart.dispatch.queue import check_fallback, queued_calls
from heart.dispatch.recommend import DEFAULT_ESTIMATOR, TravelTimeEstimator
from heart.dispatch.schemas import CancelResponse
from heart.dispatch.service import cancel_response
from heart.errors import ConfirmationNeeded, Conflict
from heart.events import record_event
from heart.programs import service as programs_service
from heart.programs.models import Unit
from heart.triage.engine import FALLBACK_REASONS
from heart.triage.models import TriageDecision
from heart.triage.policy import Policy
from heart.triage.service import override_decision, policy_named, record_fallback


def fall_back(*, session: Session, call_id: int, now: datetime, by: User, policy: Policy | None = None,
              confirm: str | None = None, estimator: TravelTimeEstimator = DEFAULT_ESTIMATOR) -> TriageDecision:
    """No unit of the call's program comes in time: route the call where the policy sends it next.

    The decision records which reason held at this moment (``check_fallback``), in its ``fallback`` and in plain
    words; a fallback while units are free and could arrive in time is refused, and one past the maximum wait
    while units are free needs ``confirm`` naming that reason. Falling back to an outside agency is the
    dispatcher's sending the call there (the board asks them to confirm first).
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
    queued = queued_calls(session=session, call_ids=[call.id])
    if not queued:
        raise Conflict(f"call {call.id} is not waiting for a field unit; there is nothing to fall back from")
    item = queued[0]
    policy = policy or policy_named(None)
    check = check_fallback(session=session, queued=item, now=now, policy=policy, estimator=estimator)
    if check.reason is None:
        raise Conflict(f"{check.words()}: send it, or override the decision with a reason")
    if check.needs_confirmation and confirm != check.reason:
        raise ConfirmationNeeded(f"{check.words()}. Confirm to record the fallback as "
                                 f"\"{FALLBACK_REASONS[check.reason]}\".", confirm=check.reason)
    return record_fallback(session=session, call_id=call.id, from_program=item.program.code, reason=check.reason,
                           words=check.words(), now=now, actor_id=by.id, policy=policy,
                           facts={"waited_minutes": round(check.waited_minutes, 1), "free_units": len(check.free)})


def escalate_to_field(*, session: Session, call_id: int, reason: str, now: datetime, by: User,
                      policy: Policy | None = None) -> TriageDecision:
    """A phone clinician (CCD) decides a visit is needed: the call joins the field queue as it stands.

    Nothing is re-entered: the call keeps its screening answers and history, the new decision goes through
    the same safety check as any override (an unarmed team needs every exclusion clear), and the timeline
    shows the phone work, the escalation and, later, the field response.
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
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
    call.handed_to_dispatch_at = call.handed_to_dispatch_at or now
    record_event(session=session, kind="call.escalated", subject_type="call", subject_id=call.id, call_id=call.id,
                 at=now, actor_id=by.id, before={"pathway": phone.code},
                 after={"pathway": phone.escalates_to, "decision_id": decision.id})
    return decision


def take_out_of_service(*, session: Session, unit_id: int, reason: str, now: datetime, by: User,
                        rules: OutOfService | None = None) -> Unit:
    """Set a unit out of service from the board, with its reason.

    A unit on a call stays on it unless the city's rules allow otherwise (``desk.yaml``: ``out_of_service.
    while_on_call``); then it is called off first (the call goes back to the queue, the cancellation recorded with
    the city's words) and goes out of service in the same transaction. The guard itself is the service's.
    """
    rules = rules or desk_rules().out_of_service
    if rules.while_on_call:
        live = session.scalar(select(Response).where(Response.unit_id == unit_id, Response.cleared_at.is_(None),
                                                     Response.cancelled_at.is_(None)))
        if live is not None:
            cancel_response(session=session, response_id=live.id, at=now, now=now, by=by,
                            data=CancelResponse(reason=rules.called_off_reason, call_still_needs_response=True))
    return programs_service.take_out_of_service(session=session, unit_id=unit_id, reason=reason, now=now,
                                                actor_id=by.id)
