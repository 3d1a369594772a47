"""Notes and messages on a call: append-only free text, kept once in ``call_notes`` (events say "(note added)").

A note comes from the board (a dispatcher, a supervisor, a call-taker) and is shown to the crew of every unit on the
call; a message goes between one unit and dispatch. Both are read by whoever may read the call (a responder: their
own calls, ``heart.auth.need_to_know``) and never by a role that may not (an analyst, an administrator).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.auth.permissions import allowed
from heart.calls.desk import DeskRules, desk_rules
from heart.calls.models import Call, CallNote, CallStatus, NoteKind
from heart.calls.service import get_call
from heart.dispatch.models import Response
from heart.errors import Conflict, InvalidInput, PermissionDenied
from heart.events import record_event
from heart.programs.models import Unit

NOTE_ADDED = "(note added)"
MESSAGE_SENT = "(message)"


def _text(text: str, limit: int, what: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput(f"write the {what} first", field="text")
    if len(cleaned) > limit:
        raise InvalidInput(f"a {what} holds at most {limit} characters ({len(cleaned)} given)", field="text")
    return cleaned


def _existing(session: Session, token: str | None) -> CallNote | None:
    return session.scalar(select(CallNote).where(CallNote.client_token == token)) if token else None


def _save(session: Session, note: CallNote) -> tuple[CallNote, bool]:
    """Insert ``note``; the same token arriving twice at once (a double tap, a retry) finds the note written."""
    try:
        with session.begin_nested():
            session.add(note)
            session.flush()
    except IntegrityError:
        found = _existing(session, note.client_token)
        if found is None:
            raise
        return found, False
    return note, True


def _writable(session: Session, call_id: int, by: User) -> Call:
    call = get_call(session=session, call_id=call_id, viewer=by)
    if call.status == CallStatus.CANCELLED:
        raise Conflict(f"call {call.incident_number or call.id} is cancelled; nothing more can be added to it")
    return call


def add_note(*, session: Session, call_id: int, text: str, by: User, now: datetime, token: str | None = None,
             desk: DeskRules | None = None) -> CallNote:
    """Append a note to a call from the board; the crew of every unit on it sees it."""
    if not allowed("calls.write", by.role):
        raise PermissionDenied("only call-takers, dispatchers and supervisors add notes to a call")
    if (found := _existing(session, token)) is not None:
        return found
    cleaned = _text(text, (desk or desk_rules()).notes.max_length, "note")
    call = _writable(session, call_id, by)
    note, new = _save(session, CallNote(call_id=call.id, kind=NoteKind.NOTE, text=cleaned, author_id=by.id,
                                        from_unit=False, created_at=now, client_token=token))
    if new:
        record_event(session=session, kind="call.note_added", subject_type="call_note", subject_id=note.id,
                     call_id=call.id, at=now, actor_id=by.id, after={"note": NOTE_ADDED})
    return note


def send_message(*, session: Session, call_id: int, text: str, by: User, now: datetime, unit_id: int | None = None,
                 token: str | None = None, desk: DeskRules | None = None) -> CallNote:
    """A short message on a call: from a responder, to dispatch from their unit; from dispatch, to ``unit_id``.

    The unit must be on the call (a live response), so a message always reaches a crew that is working it.
    """
    if (found := _existing(session, token)) is not None:
        return found
    cleaned = _text(text, (desk or desk_rules()).messages.max_length, "message")
    call = _writable(session, call_id, by)
    from_unit = by.role == Role.RESPONDER
    if from_unit:
        unit_id = by.unit_id
        if unit_id is None:
            raise Conflict("your account is not on a unit; ask a supervisor to put you on one")
    elif not allowed("dispatch.assign", by.role):
        raise PermissionDenied("only dispatchers, supervisors and the crew on a call send messages on it")
    elif unit_id is None:
        raise InvalidInput("choose the unit the message is for", field="unit_id")
    unit = session.get(Unit, unit_id)
    on_call = session.scalar(select(Response.id).where(Response.call_id == call.id, Response.unit_id == unit_id,
                                                       Response.cleared_at.is_(None),
                                                       Response.cancelled_at.is_(None)))
    if unit is None or on_call is None:
        raise Conflict(f"{unit.call_sign if unit else 'that unit'} is not on call {call.incident_number or call.id}")
    note, new = _save(session, CallNote(call_id=call.id, kind=NoteKind.MESSAGE, text=cleaned, author_id=by.id,
                                        unit_id=unit.id, from_unit=from_unit, created_at=now, client_token=token))
    if new:
        record_event(session=session, kind="call.message_sent", subject_type="call_note", subject_id=note.id,
                     call_id=call.id, at=now, actor_id=by.id,
                     after={"from": unit.call_sign if from_unit else "dispatch",
                            "to": "dispatch" if from_unit else unit.call_sign, "message": MESSAGE_SENT})
    return note


def notes_for_call(*, session: Session, call_id: int, viewer: User) -> list[CallNote]:
    """The call's notes and messages, oldest first, for a viewer who may read the call (else NotFound)."""
    call = get_call(session=session, call_id=call_id, viewer=viewer)
    return list(session.scalars(select(CallNote).where(CallNote.call_id == call.id)
                                .order_by(CallNote.created_at, CallNote.id)))


def notes_for_calls(*, session: Session, call_ids: list[int]) -> dict[int, list[CallNote]]:
    """Notes and messages of several calls at once (the board: its viewers read every call)."""
    found: dict[int, list[CallNote]] = {}
    if call_ids:
        for note in session.scalars(select(CallNote).where(CallNote.call_id.in_(call_ids))
                                    .order_by(CallNote.created_at, CallNote.id)):
            found.setdefault(note.call_id, []).append(note)
    return found
