"""Board alerts that stay until a person acknowledges them, the one-tap backup request that raises one, and the
exclusion alert: a call's facts changed while an unarmed team is on it.

Each alert has a key naming its cause, inserted with ON CONFLICT DO NOTHING: a cause noticed twice (two
server processes sweeping timers, a double tap on "PD backup") raises one alert and one event. An exclusion
alert is shown first, on every board and on the crew's phone, until both the board and the crew acknowledge it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.calls.models import Call
from heart.db import insert_if_absent
from heart.dispatch.models import Alert, AlertKind, Response
from heart.errors import Conflict, NotFound, PermissionDenied
from heart.events import record_event
from heart.programs.models import Program, Unit
from heart.triage.policy import Policy
from heart.triage.safety import call_blockers

BOARD_KINDS = (AlertKind.EXCLUSION, AlertKind.SAFETY_TIMER, AlertKind.BACKUP_PD, AlertKind.BACKUP_EMS)
BackupKind = Literal["pd", "ems"]


def raise_alert(
    *, session: Session, key: str, kind: str, message: str, at: datetime, call_id: int | None = None,
    response_id: int | None = None, unit_id: int | None = None, actor_id: int | None = None,
) -> Alert | None:
    """Raise the alert named ``key``; None when it was already raised (nothing is written twice)."""
    alert_id = insert_if_absent(session, Alert, {
        "key": key, "kind": kind, "message": message, "raised_at": at, "call_id": call_id,
        "response_id": response_id, "unit_id": unit_id, "raised_by_id": actor_id,
    }, unique=("key",))
    if alert_id is None:
        return None
    alert = session.get_one(Alert, alert_id)
    record_event(session=session, kind="alert.raised", subject_type="alert", subject_id=alert.id, call_id=call_id,
                 at=at, actor_id=actor_id, after={"kind": kind, "message": message, "unit_id": unit_id})
    return alert


def acknowledge(*, session: Session, alert_id: int, by: User, now: datetime) -> Alert:
    """Someone on the board has seen the alert and acted; a second acknowledgement changes nothing.

    Acknowledging a safety timer means the dispatcher checked on the crew, so it counts as a check-in and
    the timer starts again. An exclusion alert stays on every screen until the crew acknowledges it too.
    """
    acknowledged = session.execute(
        update(Alert).where(Alert.id == alert_id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=by.id)
    ).rowcount  # type: ignore[attr-defined]
    alert = session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise NotFound("alert", alert_id, field="alert_id")
    if acknowledged != 1:
        return alert
    record_event(session=session, kind="alert.acknowledged", subject_type="alert", subject_id=alert.id,
                 call_id=alert.call_id, at=now, actor_id=by.id, after={"kind": alert.kind, "by": "board"})
    if alert.kind == AlertKind.SAFETY_TIMER and alert.response_id is not None:
        response = session.get_one(Response, alert.response_id)
        if response.cleared_at is None and response.cancelled_at is None:
            response.checked_in_at = now
            record_event(session=session, kind="response.checked_in", subject_type="response",
                         subject_id=response.id, call_id=response.call_id, at=now, actor_id=by.id,
                         after={"by": "dispatcher", "alert_id": alert.id})
    return alert


def acknowledge_as_crew(*, session: Session, alert_id: int, by: User, now: datetime) -> Alert:
    """The crew of the alert's unit has seen an exclusion alert on their phone; twice is once."""
    alert = session.get(Alert, alert_id, with_for_update=True, populate_existing=True)
    if alert is None or (by.role == Role.RESPONDER and by.unit_id != alert.unit_id):
        raise NotFound("alert", alert_id, field="alert_id")
    if not alert.needs_crew:
        raise Conflict(f"alert {alert.id} is for the board; the crew has nothing to acknowledge")
    if alert.crew_acknowledged_at is not None:
        return alert
    alert.crew_acknowledged_at, alert.crew_acknowledged_by_id = now, by.id
    record_event(session=session, kind="alert.acknowledged", subject_type="alert", subject_id=alert.id,
                 call_id=alert.call_id, at=now, actor_id=by.id, after={"kind": alert.kind, "by": "crew"})
    return alert


def open_alerts(*, session: Session, kinds: tuple[str, ...] = BOARD_KINDS) -> list[Alert]:
    """Alerts not yet acknowledged by everyone who must: exclusion alerts first, then oldest first."""
    unsettled = or_(Alert.acknowledged_at.is_(None),
                    (Alert.kind == AlertKind.EXCLUSION) & Alert.crew_acknowledged_at.is_(None))
    found = session.scalars(select(Alert).where(unsettled, Alert.kind.in_(kinds)).order_by(Alert.raised_at, Alert.id))
    return sorted(found, key=lambda a: a.kind != AlertKind.EXCLUSION)


def crew_alerts(*, session: Session, unit_id: int) -> list[Alert]:
    """The unit's exclusion alerts that are not yet acknowledged by both the crew and the board, newest first."""
    return crew_alerts_of(session=session, unit_ids={unit_id}).get(unit_id, [])


def crew_alerts_of(*, session: Session, unit_ids: set[int]) -> dict[int, list[Alert]]:
    """``crew_alerts`` of several units in one query (units without any are left out)."""
    found: dict[int, list[Alert]] = {}
    for alert in session.scalars(select(Alert).where(
        Alert.unit_id.in_(unit_ids), Alert.kind == AlertKind.EXCLUSION,
        or_(Alert.acknowledged_at.is_(None), Alert.crew_acknowledged_at.is_(None)),
    ).order_by(Alert.raised_at.desc(), Alert.id.desc())):
        if alert.unit_id is not None:
            found.setdefault(alert.unit_id, []).append(alert)
    return found


def raise_exclusion_alerts(*, session: Session, call: Call, policy: Policy, now: datetime, actor_id: int | None,
                           cause: str) -> list[Alert]:
    """For every unarmed team live on ``call`` whose facts no longer clear an exclusion: a top-priority alert.

    ``cause`` names the change (its decision), so every change that leaves an exclusion standing is told; the
    same words already showing, unacknowledged, for the same response are not raised twice.
    """
    blockers = call_blockers(policy, call)
    if not blockers:
        return []
    live = session.execute(
        select(Response, Unit, Program).join(Unit, Unit.id == Response.unit_id)
        .join(Program, Program.id == Response.program_id)
        .where(Response.call_id == call.id, Response.cleared_at.is_(None), Response.cancelled_at.is_(None))
        .order_by(Response.id)
    ).all()
    words = " ".join(dict.fromkeys(b.alert(policy) for b in blockers))
    raised = []
    for response, unit, program in live:
        if not policy.unarmed(program.code):
            continue
        message = f"{unit.call_sign} · call {call.external_id or call.id}: {words}"[:256]
        showing = session.scalar(select(Alert.id).where(
            Alert.response_id == response.id, Alert.kind == AlertKind.EXCLUSION, Alert.message == message,
            or_(Alert.acknowledged_at.is_(None), Alert.crew_acknowledged_at.is_(None))).limit(1))
        if showing is not None:
            continue
        alert = raise_alert(session=session, key=f"exclusion:{response.id}:{cause}"[:96], kind=AlertKind.EXCLUSION,
                            message=message, at=now, call_id=call.id, response_id=response.id, unit_id=unit.id,
                            actor_id=actor_id)
        if alert is not None:
            raised.append(alert)
    return raised


def request_backup(*, session: Session, response_id: int, kind: BackupKind, by: User, now: datetime) -> Alert:
    """One tap from the crew: PD for team safety, or EMS. Alerts the board and records the outcome now."""
    response = session.get(Response, response_id, with_for_update=True, populate_existing=True)
    if response is None:
        raise NotFound("response", response_id, field="response_id")
    if by.role == Role.RESPONDER and by.unit_id != response.unit_id:
        raise PermissionDenied("responders may only ask backup for their own unit's response")
    if response.cleared_at is not None or response.cancelled_at is not None:
        raise Conflict(f"response {response.id} has ended; call the board directly")
    unit = session.get_one(Unit, response.unit_id)
    alert_kind = AlertKind.BACKUP_PD if kind == "pd" else AlertKind.BACKUP_EMS
    what = "PD backup for team safety" if kind == "pd" else "EMS support"
    alert = raise_alert(session=session, key=f"backup:{kind}:{response.id}", kind=alert_kind,
                        message=f"{unit.call_sign} asks for {what}", at=now, call_id=response.call_id,
                        response_id=response.id, unit_id=unit.id, actor_id=by.id)
    if alert is None:  # asked already: the first request stands
        return session.scalars(select(Alert).where(Alert.key == f"backup:{kind}:{response.id}")).one()
    if kind == "pd":
        response.pd_backup_for_safety = True
    else:
        response.ems_support = True
    record_event(session=session, kind="response.backup_requested", subject_type="response",
                 subject_id=response.id, call_id=response.call_id, at=now, actor_id=by.id,
                 after={"kind": kind, "alert_id": alert.id})
    return alert
