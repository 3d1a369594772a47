"""Intake: creating calls, recording screening answers, and who may see which call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from heart.auth.models import User
from heart.auth.need_to_know import calls_visible_to
from heart.calls.callers import record_caller
from heart.calls.desk import DeskRules, desk_rules
from heart.calls.models import Call, CallStatus
from heart.calls.numbers import next_incident_number
from heart.calls.schemas import CallCreate
from heart.config import InsecureSettings, Settings, get_settings
from heart.crosswalk.mapper import live_mapper
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import record_event
from heart.places.rules import place_rules
from heart.places.service import flag_duplicates, place_new_call

# A clock may drift; a time further in the future than this is a typo, not a drift.
MAX_CLOCK_SKEW = timedelta(minutes=2)


class DuplicateCall(Conflict):
    """A call with this CAD incident number already exists (HTTP 409 naming ``external_id``)."""

    def __init__(self, external_id: str) -> None:
        super().__init__(f"a call with CAD number {external_id} already exists")
        self.field = "external_id"


def create_call(*, session: Session, data: CallCreate, now: datetime, actor_id: int | None,
                settings: Settings | None = None, desk: DeskRules | None = None) -> Call:
    """Record a new call with the city's next incident number; a repeated CAD number is refused, not duplicated.

    A call given a nature code and no incident type gets the type its words name (or stays "unknown type"). A typed
    address with no point is geocoded, a point gets its beat, the caller is kept apart (heart.calls.callers), and a
    call near an open one is flagged as its possible duplicate (heart.places), all in this transaction. Every intake
    path (the screen, the API, EIDO documents) comes here, so every call is numbered.
    """
    received_at = data.received_at or now
    if received_at > now + MAX_CLOCK_SKEW:
        raise InvalidInput("received_at is in the future", field="received_at")
    if data.external_id and session.scalar(select(Call.id).where(Call.external_id == data.external_id)):
        raise DuplicateCall(data.external_id)
    call = Call(**data.model_dump(exclude={"received_at", "caller"}), received_at=received_at,
                status=CallStatus.OPEN, created_by_id=actor_id)
    settings = settings or _settings()
    place_new_call(session=session, call=call, settings=settings)  # a typed address gets its point and beat
    if call.incident_type is None and call.nature_code:  # read through the one resolver every intake path uses
        mapping = live_mapper()(call.nature_code)
        call.incident_type, call.category = mapping.incident_type, mapping.category
    call.incident_number = next_incident_number(session=session, received_at=received_at,
                                                rules=(desk or desk_rules(settings)).incident_number)
    session.add(call)
    if data.external_id is None:
        session.flush()
    else:
        try:
            with session.begin_nested():  # another request may insert the same CAD number at the same moment
                session.flush()
        except IntegrityError:
            raise DuplicateCall(data.external_id) from None
    record_event(session=session, kind="call.received", subject_type="call", subject_id=call.id, call_id=call.id,
                 at=now, actor_id=actor_id,
                 after={"source": call.source.value, "incident_number": call.incident_number,
                        "nature_code": call.nature_code,
                        "incident_type": call.incident_type, "priority": call.priority,
                        "screening": dict(call.screening)})
    if data.caller is not None:
        record_caller(session=session, call_id=call.id, name=data.caller.name, callback=data.caller.callback,
                      now=now, actor_id=actor_id)
    flag_duplicates(session=session, call=call, now=now, rules=place_rules(settings))
    return call


def _settings() -> Settings:
    """The process's settings, or the defaults where none are configured (a script or test without an app)."""
    try:
        return get_settings()
    except (ValidationError, InsecureSettings):
        return Settings.model_construct()


def record_screening(
    *, session: Session, call_id: int, answers: dict[str, str], now: datetime, actor_id: int | None
) -> Call:
    """Merge new screening answers into the call; each change is an event.

    Callers that may find the call already triaged go through ``heart.triage.flows.change_screening``, which
    decides again and alerts an unarmed team already on the way.
    """
    call = get_call(session=session, call_id=call_id, for_update=True)
    if call.status in (CallStatus.RESOLVED, CallStatus.CANCELLED):
        raise Conflict(f"call {call.id} is {call.status.value}; its screening can no longer change")
    before = dict(call.screening)
    after = {**before, **answers}
    if after != before:
        call.screening = after
        record_event(session=session, kind="call.screening_answered", subject_type="call", subject_id=call.id,
                     call_id=call.id, at=now, actor_id=actor_id, before=before, after=after)
    return call


FACT_FIELDS = ("nature_code", "incident_type", "priority")
"""What a person may correct about a call after intake, besides its screening answers (each re-decides it)."""


def change_facts(*, session: Session, call_id: int, changes: dict[str, str | None], now: datetime,
                 actor_id: int | None) -> dict[str, str | None]:
    """Correct a call's type or priority; returns what really changed (each change is an event).

    The call's own words stay in the call: the event names a changed nature code without repeating it.
    """
    unknown = set(changes) - set(FACT_FIELDS)
    if unknown:
        raise InvalidInput(f"only {', '.join(FACT_FIELDS)} can be changed here", field=sorted(unknown)[0])
    call = get_call(session=session, call_id=call_id, for_update=True)
    if call.status in (CallStatus.RESOLVED, CallStatus.CANCELLED):
        raise Conflict(f"call {call.id} is {call.status.value}; its facts can no longer change")
    changed = {name: value for name, value in changes.items() if getattr(call, name) != value}
    if not changed:
        return {}
    before = {name: getattr(call, name) for name in changed}
    for name, value in changed.items():
        setattr(call, name, value)
    shown = {name: ("(changed)" if name == "nature_code" else value) for name, value in changed.items()}
    record_event(session=session, kind="call.facts_changed", subject_type="call", subject_id=call.id,
                 call_id=call.id, at=now, actor_id=actor_id,
                 before={name: ("(changed)" if name == "nature_code" else value) for name, value in before.items()},
                 after=shown)
    return changed


# The lifecycle's reads of a call, built once (with their cache keys) instead of at every request.
_CALL = select(Call).where(Call.id == bindparam("call_id"))
_CALL_FOR_UPDATE = _CALL.with_for_update().execution_options(populate_existing=True)


def get_call(*, session: Session, call_id: int, viewer: User | None = None, field: str = "call_id",
             for_update: bool = False) -> Call:
    """A call by id; a viewer who may not see it is told it does not exist.

    ``for_update`` locks the call's row until the transaction ends and reads it afresh: a safety check made on
    it then sees the facts in force, and a change of those facts waits for it (SQLite writers queue anyway).
    """
    if viewer is None:
        call = session.scalar(_CALL_FOR_UPDATE if for_update else _CALL, {"call_id": call_id})
    else:
        query = _CALL.where(visible_to(viewer))
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        call = session.scalar(query, {"call_id": call_id})
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


@dataclass(frozen=True, slots=True)
class CallSearch:
    """What a person searches calls by; every part is optional and they all hold together."""

    number: str | None = None
    """An incident number, a CAD number or HEART's row id: the whole number or its beginning."""
    address: str | None = None
    """Words of the address, in any case."""
    since: datetime | None = None
    until: datetime | None = None
    status: CallStatus | None = None


def search_calls(*, session: Session, viewer: User, search: CallSearch, limit: int = 25,
                 offset: int = 0) -> tuple[list[Call], int]:
    """One page of the calls matching ``search`` that ``viewer`` may see, newest first, and how many match in all.

    Numbers match through the unique indexes (a prefix reads the index as a range), a time window through
    ``received_at``'s index and a status within one through ``ix_calls_status_received_at``; the address's words
    (anywhere in it, any case) are checked on the rows those leave, newest first, so an address alone reads the
    history from the newest call back (about 130 ms over 300,000 calls on SQLite: benchmarks/desk_search.py).
    """
    query = select(Call).where(visible_to(viewer))
    if search.number:
        number = search.number.strip().lstrip("#")
        by_number = [_prefix(Call.incident_number, number), _prefix(Call.external_id, number)]
        if number.isdigit() and len(number) < 10:
            by_number.append(Call.id == int(number))
        query = query.where(or_(*by_number))
    if search.address:
        for word in search.address.split()[:6]:
            query = query.where(func.lower(Call.address).contains(word.lower(), autoescape=True))
    if search.since is not None:
        query = query.where(Call.received_at >= search.since)
    if search.until is not None:
        query = query.where(Call.received_at < search.until)
    if search.status is not None:
        query = query.where(Call.status == search.status)
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    rows = session.scalars(query.order_by(Call.received_at.desc(), Call.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def _prefix(column: InstrumentedAttribute[str | None], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as a range its index reads (a LIKE with an escape reads every row), checked
    again by the LIKE itself so that a collation's order never lets a wrong number through."""
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < following, column.startswith(prefix, autoescape=True))


def visible_to(viewer: User) -> ColumnElement[bool]:
    """A SQL condition: the calls ``viewer`` may read (a responder: need to know, heart.auth.need_to_know)."""
    return calls_visible_to(viewer)
