"""Intake: creating calls, recording screening answers, and who may see which call."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import calls_visible_to
from heart.calls.models import Call, CallStatus
from heart.calls.schemas import CallCreate
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import record_event

# A clock may drift; a time further in the future than this is a typo, not a drift.
MAX_CLOCK_SKEW = timedelta(minutes=2)


def create_call(*, session: Session, data: CallCreate, now: datetime, actor_id: int | None) -> Call:
    """Record a new call; a repeated CAD incident number is refused rather than duplicated."""
    received_at = data.received_at or now
    if received_at > now + MAX_CLOCK_SKEW:
        raise InvalidInput("received_at is in the future", field="received_at")
    if data.external_id and session.scalar(select(Call.id).where(Call.external_id == data.external_id)):
        raise Conflict(f"a call with CAD number {data.external_id} already exists")
    call = Call(**data.model_dump(exclude={"received_at"}), received_at=received_at, status=CallStatus.OPEN,
                created_by_id=actor_id)
    session.add(call)
    session.flush()
    record_event(session=session, kind="call.received", subject_type="call", subject_id=call.id, call_id=call.id,
                 at=now, actor_id=actor_id,
                 after={"source": call.source.value, "nature_code": call.nature_code,
                        "incident_type": call.incident_type, "priority": call.priority,
                        "screening": dict(call.screening)})
    return call


def record_screening(
    *, session: Session, call_id: int, answers: dict[str, str], now: datetime, actor_id: int | None
) -> Call:
    """Merge new screening answers into the call; each change is an event."""
    call = get_call(session=session, call_id=call_id)
    if call.status in (CallStatus.RESOLVED, CallStatus.CANCELLED):
        raise Conflict(f"call {call.id} is {call.status.value}; its screening can no longer change")
    before = dict(call.screening)
    after = {**before, **answers}
    if after != before:
        call.screening = after
        record_event(session=session, kind="call.screening_answered", subject_type="call", subject_id=call.id,
                     call_id=call.id, at=now, actor_id=actor_id, before=before, after=after)
    return call


def get_call(*, session: Session, call_id: int, viewer: User | None = None, field: str = "call_id") -> Call:
    """A call by id; a viewer who may not see it is told it does not exist."""
    query = select(Call).where(Call.id == call_id)
    if viewer is not None:
        query = query.where(visible_to(viewer))
    call = session.scalar(query)
    if call is None:
        raise NotFound("call", call_id, field=field)
    return call


def list_calls(
    *, session: Session, viewer: User, status: CallStatus | None = None, limit: int = 100, offset: int = 0
) -> list[Call]:
    """Newest calls first, restricted to what the viewer may see."""
    query = select(Call).where(visible_to(viewer)).order_by(Call.received_at.desc(), Call.id.desc())
    if status is not None:
        query = query.where(Call.status == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def visible_to(viewer: User) -> ColumnElement[bool]:
    """A SQL condition: the calls ``viewer`` may read (a responder: need to know, heart.auth.need_to_know)."""
    return calls_visible_to(viewer)
