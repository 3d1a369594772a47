"""JSON routes for places: look an address up, a call's caller and place (reads logged), location safety notes
(write, end, who read them), and the decision on a possible duplicate."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from heart.auth.access import CALLER, LOCATION_NOTE, reads_of
from heart.calls.callers import Caller, read_caller
from heart.calls.service import get_call
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.errors import InvalidInput, NotFound
from heart.inputs import RowId
from heart.places import service
from heart.places.rules import place_rules
from heart.places.schemas import (
    AccessReadPublic,
    CallerPublic,
    CallPlacePublic,
    DuplicateDecision,
    DuplicatePublic,
    LocationNoteCreate,
    LocationNotePublic,
    PlaceHistoryPublic,
    PlaceLookup,
    PlaceMatch,
)

router = APIRouter(prefix="/api", tags=["places"])


@router.post("/places/lookup", dependencies=[allow("calls.write")])
def lookup(body: PlaceLookup, request: Request, db: SessionDep) -> list[PlaceMatch]:
    """The likeliest address points for a typed address, surest first (the address goes in the body, never the
    URL)."""
    matches = service.lookup(session=db, text=body.text, limit=body.limit, settings=request.app.state.settings)
    return [PlaceMatch(address=m.address, lat=m.lat, lon=m.lon, beat=m.beat, confidence=m.confidence, source=m.source)
            for m in matches]


@router.get("/calls/{call_id}/caller", dependencies=[allow("calls.read")])
def get_caller(call_id: RowId, request: Request, db: LoggedReadDep, user: CurrentUser, now: Now) -> CallerPublic:
    """The call's caller as the reader may see them; the read is logged. 404 when there is none to show."""
    get_call(session=db, call_id=call_id, viewer=user)
    rules = place_rules(request.app.state.settings)
    view = read_caller(session=db, call_id=call_id, reader=user, purpose="API: caller", at=now,
                       responder_sees_callback=rules.caller.responder_sees_callback)
    if view is None:
        raise NotFound("caller of call", call_id, field="call_id")
    return CallerPublic(name=view.name, callback=view.callback, withheld=list(view.withheld))


@router.get("/calls/{call_id}/caller/reads", dependencies=[allow("audit.read")])
def caller_reads(call_id: RowId, db: SessionDep) -> list[AccessReadPublic]:
    """Who read the call's caller, when and why (never what they saw)."""
    caller_id = db.scalar(select(Caller.id).where(Caller.call_id == call_id))
    if caller_id is None:
        raise NotFound("caller of call", call_id, field="call_id")
    return [AccessReadPublic.model_validate(r) for r in reads_of(session=db, kind=CALLER, subject_id=caller_id)]


def _note(view: service.NoteView) -> LocationNotePublic:
    return LocationNotePublic(id=view.id, kind=view.kind, label=view.label, question=view.question, text=view.text,
                              observed_on=view.observed_on, author=view.author, created_at=view.created_at,
                              expires_at=view.expires_at)


@router.get("/calls/{call_id}/place", dependencies=[allow("calls.read")])
def call_place(call_id: RowId, request: Request, db: LoggedReadDep, user: CurrentUser, now: Now) -> CallPlacePublic:
    """Where the call is, earlier calls there, its place's safety notes (each read logged) and its possible
    duplicates with their decisions."""
    call = get_call(session=db, call_id=call_id, viewer=user)
    rules = place_rules(request.app.state.settings)
    history = notes = None
    if call.lat is not None and call.lon is not None:
        notes = service.notes_at(session=db, lat=call.lat, lon=call.lon, now=now, rules=rules, reader=user,
                                 purpose="API: call place", call_id=call.id)
        if user.role.value != "responder":
            found = service.history_at(session=db, lat=call.lat, lon=call.lon, now=now, rules=rules,
                                       exclude_call_id=call.id)
            history = PlaceHistoryPublic(count=found.count, last_at=found.last_at, types=dict(found.types))
    return CallPlacePublic(lat=call.lat, lon=call.lon, beat=call.beat, history=history,
                           notes=[_note(n) for n in notes or []],
                           duplicates=[DuplicatePublic.model_validate(f)
                                       for f in service.flags_of(session=db, call_id=call.id)])


@router.post("/calls/{call_id}/location-notes", status_code=201, dependencies=[allow("calls.write")])
def add_note(call_id: RowId, body: LocationNoteCreate, request: Request, db: SessionDep, user: CurrentUser,
             now: Now) -> LocationNotePublic:
    """A safety note about the call's place: its text is kept here, never in an event."""
    call = get_call(session=db, call_id=call_id, viewer=user)
    if call.lat is None or call.lon is None:
        raise InvalidInput("the call has no point on the map; place it first", field="call_id")
    rules = place_rules(request.app.state.settings)
    note = service.add_note(session=db, lat=call.lat, lon=call.lon, address=call.address, kind=body.kind,
                            text=body.text, observed_on=body.observed_on, days=body.days, author=user, now=now,
                            rules=rules, call_id=call.id)
    kind = rules.safety_notes.kinds[note.kind]
    return LocationNotePublic(id=note.id, kind=note.kind, label=kind.label, question=kind.question, text=note.text,
                              observed_on=note.observed_on, author=user.display_name or user.username,
                              created_at=note.created_at, expires_at=note.expires_at)


@router.post("/location-notes/{note_id}/end", dependencies=[allow("calls.write")])
def end_note(note_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> dict[str, int]:
    """End a note before its expiry (kept, ended, with who and when)."""
    note = service.end_note(session=db, note_id=note_id, by=user, now=now)
    return {"id": note.id}


@router.get("/location-notes/{note_id}/reads", dependencies=[allow("audit.read")])
def note_reads(note_id: RowId, db: SessionDep) -> list[AccessReadPublic]:
    """Who read the note, when and why."""
    return [AccessReadPublic.model_validate(r) for r in reads_of(session=db, kind=LOCATION_NOTE, subject_id=note_id)]


@router.post("/calls/{call_id}/duplicates/{flag_id}", dependencies=[allow("calls.write")])
def decide_duplicate(call_id: RowId, flag_id: RowId, body: DuplicateDecision, db: SessionDep, user: CurrentUser,
                     now: Now) -> DuplicatePublic:
    """Link the call to the open call it may repeat, or keep them apart (decided once; the same again is a no-op)."""
    get_call(session=db, call_id=call_id, viewer=user)
    flag = service.decide_duplicate(session=db, flag_id=flag_id, decision=body.decision, by=user, now=now,
                                    call_id=call_id)
    return DuplicatePublic.model_validate(flag)
