"""Safety timers: a unit too long in one status without a check-in raises a board alert; calls waiting past
their program's maximum raise the fallback prompt. ``sweep`` runs every few seconds in each server process;
alert keys make it safe to run in several at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.dispatch.alerts import raise_alert
from heart.dispatch.models import ActionToken, AlertKind, Response
from heart.dispatch.queue import queued_calls
from heart.errors import Conflict, NotFound, PermissionDenied
from heart.events import record_event
from heart.programs.models import Program, Unit

DEFAULT_SAFETY_TIMERS = {"dispatched": 10, "en_route": 30, "on_scene": 45, "transporting": 60}
STATUS_WORDS = {"dispatched": "dispatched", "en_route": "en route", "on_scene": "on scene",
                "transporting": "transporting"}
CHECK_IN_REPEAT = timedelta(seconds=30)  # a second "all OK" this soon is the same tap arriving twice
TOKENS_KEPT = timedelta(days=2)


def thresholds(program: Program) -> dict[str, int]:
    """The program's minutes per status, with the defaults for any it does not set."""
    return {**DEFAULT_SAFETY_TIMERS, **(program.safety_timers or {})}


@dataclass(frozen=True, slots=True)
class TimerState:
    """How long a live response has been in its status since the crew last checked in."""

    status: str
    since: datetime
    limit_minutes: int

    def minutes(self, now: datetime) -> float:
        return max((now - self.since).total_seconds() / 60, 0.0)

    def overdue(self, now: datetime) -> bool:
        return self.minutes(now) >= self.limit_minutes


def timer_of(response: Response, program: Program) -> TimerState:
    """The timer that runs for ``response`` now: from its status change or its last check-in, if later."""
    status = response.status
    started = {"dispatched": response.dispatched_at, "en_route": response.en_route_at,
               "on_scene": response.on_scene_at, "transporting": response.transport_started_at}[status]
    assert started is not None
    since = max(started, response.checked_in_at) if response.checked_in_at else started
    return TimerState(status, since, thresholds(program)[status])


def check_in(*, session: Session, response_id: int, by: User, now: datetime) -> Response:
    """The crew says all is well: the safety timer starts again."""
    response = session.get(Response, response_id, with_for_update=True, populate_existing=True)
    if response is None:
        raise NotFound("response", response_id, field="response_id")
    if by.role == Role.RESPONDER and by.unit_id != response.unit_id:
        raise PermissionDenied("responders may only check in for their own unit")
    if response.cleared_at is not None or response.cancelled_at is not None:
        raise Conflict(f"response {response.id} has ended; there is no timer to reset")
    if response.checked_in_at is not None and now - response.checked_in_at < CHECK_IN_REPEAT:
        return response
    response.checked_in_at = now
    record_event(session=session, kind="response.checked_in", subject_type="response", subject_id=response.id,
                 call_id=response.call_id, at=now, actor_id=by.id, after={"status": response.status})
    return response


def sweep(*, session: Session, now: datetime) -> int:
    """Raise the alerts that are due; returns how many were raised."""
    raised = 0
    live = session.execute(
        select(Response, Unit, Program).join(Unit, Unit.id == Response.unit_id)
        .join(Program, Program.id == Response.program_id)
        .where(Response.cleared_at.is_(None), Response.cancelled_at.is_(None))
    ).all()
    for response, unit, program in live:
        timer = timer_of(response, program)
        if not timer.overdue(now):
            continue
        message = (f"{unit.call_sign} {STATUS_WORDS[timer.status]} for {timer.minutes(now):.0f} min without a "
                   f"check-in (limit {timer.limit_minutes})")
        alert = raise_alert(session=session, key=f"timer:{response.id}:{timer.status}:{int(timer.since.timestamp())}",
                            kind=AlertKind.SAFETY_TIMER, message=message, at=now, call_id=response.call_id,
                            response_id=response.id, unit_id=unit.id)
        raised += alert is not None
    for queued in queued_calls(session=session):
        if not queued.over_max_wait(now):
            continue
        message = (f"Call {queued.call.external_id or queued.call.id} has waited {queued.waited_minutes(now):.0f} "
                   f"min for a {queued.program.code} unit (maximum {queued.program.max_wait_minutes}): fall back?")
        alert = raise_alert(session=session, key=f"wait:{queued.call.id}:{queued.decision_id}",
                            kind=AlertKind.MAX_WAIT, message=message, at=now, call_id=queued.call.id)
        raised += alert is not None
    session.execute(delete(ActionToken).where(ActionToken.created_at < now - TOKENS_KEPT))
    return raised
