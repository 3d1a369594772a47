"""The caller: the name and callback number of whoever called, kept apart from the call.

Personal data, restricted like a neighbor's record: its own table (never a column of ``calls``, which events,
boards and exports read), never in an event, a log line or a URL. Call-takers, CCD clinicians (who sign in as
call-takers), dispatchers and supervisors read it; a responder reads the callback number only when the city's
policy says so (``places.yaml``: ``caller.responder_sees_callback``) and never the name; nobody else. Every read
appends to the access log (heart.auth.access) in the reader's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from heart.auth.access import CALLER, log_access
from heart.auth.models import Role, User
from heart.db import Base, UTCDateTime
from heart.errors import InvalidInput
from heart.events import record_event

CALLER_READERS = frozenset({Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR})
MAX_NAME = 120
MAX_CALLBACK = 32
_CALLBACK_CHARACTERS = frozenset("0123456789+()-. #*xX")


class Caller(Base):
    __tablename__ = "call_callers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), unique=True)
    name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    callback: Mapped[str | None] = mapped_column(String(MAX_CALLBACK))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


@dataclass(frozen=True, slots=True)
class CallerView:
    """What one reader sees of a caller: a field they may not read is None, ``withheld`` says which."""

    name: str | None
    callback: str | None
    withheld: tuple[str, ...] = ()


def clean_callback(value: str | None) -> str | None:
    """A callback number as typed, checked: digits and phone punctuation only (the refusal never repeats it)."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_CALLBACK:
        raise InvalidInput(f"the callback number is longer than {MAX_CALLBACK} characters", field="caller_callback")
    if not set(text) <= _CALLBACK_CHARACTERS or sum(ch.isdigit() for ch in text) < 3:
        raise InvalidInput("the callback number must be digits (and + ( ) - . # * x)", field="caller_callback")
    return text


def record_caller(*, session: Session, call_id: int, name: str | None, callback: str | None, now: datetime,
                  actor_id: int | None) -> Caller | None:
    """Keep (or correct) the caller of a call; blank fields are not kept. The event names which fields changed,
    never their values."""
    name = (name or "").strip() or None
    if name is not None and len(name) > MAX_NAME:
        raise InvalidInput(f"the caller's name is longer than {MAX_NAME} characters", field="caller_name")
    callback = clean_callback(callback)
    row = session.scalar(select(Caller).where(Caller.call_id == call_id))
    if row is None and name is None and callback is None:
        return None
    if row is None:
        row = Caller(call_id=call_id, recorded_at=now, recorded_by_id=actor_id)
        session.add(row)
    changed = [field for field, value in (("name", name), ("callback", callback)) if getattr(row, field) != value]
    if not changed:
        return row
    row.name, row.callback, row.recorded_at, row.recorded_by_id = name, callback, now, actor_id
    session.flush()
    record_event(session=session, kind="call.caller_recorded", subject_type="call", subject_id=call_id,
                 call_id=call_id, at=now, actor_id=actor_id, after={"fields": changed})
    return row


def read_caller(*, session: Session, call_id: int, reader: User, purpose: str, at: datetime,
                responder_sees_callback: bool) -> CallerView | None:
    """The caller of a call as ``reader`` may see it, logged as read; None when there is none or nothing of it may
    be shown (then nothing was read and nothing is logged). The caller's call must already be one the reader may
    see (``calls.service.get_call(viewer=…)``)."""
    if reader.role in CALLER_READERS:
        withheld: tuple[str, ...] = ()
    elif reader.role == Role.RESPONDER and responder_sees_callback:
        withheld = ("name",)
    else:
        return None
    row = session.scalar(select(Caller).where(Caller.call_id == call_id))
    if row is None:
        return None
    view = CallerView(None if "name" in withheld else row.name, row.callback, withheld)
    if view.name is None and view.callback is None:
        return None
    log_access(session=session, kind=CALLER, subject_ids=[row.id], reader=reader, purpose=purpose, at=at,
               call_id=call_id)
    return view
