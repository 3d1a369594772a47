"""Board alerts that stay until a person acknowledges them, and the one-tap backup request that raises one.

Each alert has a key naming its cause, inserted with ON CONFLICT DO NOTHING: a cause noticed twice (two
server processes sweeping timers, a double tap on "PD backup") raises one alert and one event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.dispatch.models import Alert, AlertKind, Response
from heart.errors import Conflict, NotFound, PermissionDenied
from heart.events import record_event
from heart.programs.models import Unit

BOARD_KINDS = (AlertKind.SAFETY_TIMER, AlertKind.BACKUP_PD, AlertKind.BACKUP_EMS)
BackupKind = Literal["pd", "ems"]


def raise_alert(
    *, session: Session, key: str, kind: str, message: str, at: datetime, call_id: int | None = None,
    response_id: int | None = None, unit_id: int | None = None, actor_id: int | None = None,
) -> Alert | None:
    """Raise the alert named ``key``; None when it was already raised (nothing is written twice)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = insert(Alert).values(
        key=key, kind=kind, message=message, raised_at=at, call_id=call_id, response_id=response_id,
        unit_id=unit_id, raised_by_id=actor_id,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(Alert.id)
    alert_id = session.execute(statement).scalar()
    if alert_id is None:
        return None
    alert = session.get_one(Alert, alert_id)
    record_event(session=session, kind="alert.raised", subject_type="alert", subject_id=alert.id, call_id=call_id,
                 at=at, actor_id=actor_id, after={"kind": kind, "message": message, "unit_id": unit_id})
    return alert


def acknowledge(*, session: Session, alert_id: int, by: User, now: datetime) -> Alert:
    """Someone on the board has seen the alert and acted; a second acknowledgement changes nothing.

    Acknowledging a safety timer means the dispatcher checked on the crew, so it counts as a check-in and
    the timer starts again.
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
                 call_id=alert.call_id, at=now, actor_id=by.id, after={"kind": alert.kind})
    if alert.kind == AlertKind.SAFETY_TIMER and alert.response_id is not None:
        response = session.get_one(Response, alert.response_id)
        if response.cleared_at is None and response.cancelled_at is None:
            response.checked_in_at = now
            record_event(session=session, kind="response.checked_in", subject_type="response",
                         subject_id=response.id, call_id=response.call_id, at=now, actor_id=by.id,
                         after={"by": "dispatcher", "alert_id": alert.id})
    return alert


def open_alerts(*, session: Session, kinds: tuple[str, ...] = BOARD_KINDS) -> list[Alert]:
    """Alerts nobody has acknowledged yet, oldest first."""
    return list(session.scalars(select(Alert).where(Alert.acknowledged_at.is_(None), Alert.kind.in_(kinds))
                                .order_by(Alert.raised_at, Alert.id)))


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
