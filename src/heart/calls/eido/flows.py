"""Receiving a NENA EIDO document: checked against the published schema, then the call of its incident created or
updated — and, when its facts changed, the call decided again (``heart.triage.flows.facts_changed``).

Every schema-valid document is accepted (see ``heart.calls.eido.document`` for what HEART reads from it). A
schema-invalid one is refused whole, nothing written, with each place the schema's own path and rule.

One incident, one call, whatever order and however often its documents come. Each field of the call holds what the
newest document that gave it said (its ``lastUpdateTimeStamp``; the incident's when that is newer):

- the same document again changes nothing (200, ``changed: []``);
- an older document changes nothing it says older than what the call has (``stale`` when nothing of it was newer);
  a field it gives that no newer document gave is still taken — a late call transfer still brings its location;
- a field a document leaves out keeps the call's value;
- the nature code and the priority, when the sender says again what it said before, do not undo a correction a
  person made in HEART since; a change by the sender does.

The event log names what changed; addresses, points, notes and nature codes are named, never copied
("(changed)"). Each ``call.eido_applied`` event keeps the document's time, the fields it gave, and what the sender
said of the priority and nature code (a digest of the nature code, never its words).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.calls.callers import Caller, record_caller
from heart.calls.eido.document import DocumentFacts, Notice, nul_problems, read_document
from heart.calls.eido.standard import EidoRefused, EidoSchema, SchemaProblem
from heart.calls.models import Call, CallSource
from heart.calls.schemas import CallCreate, CallerCreate
from heart.calls.service import FACT_FIELDS, MAX_CLOCK_SKEW, DuplicateCall, create_call, get_call
from heart.crosswalk.mapper import live_mapper
from heart.events import Event, record_event
from heart.triage.flows import facts_changed

APPLIED = "call.eido_applied"
NAMED_NOT_COPIED = frozenset({"address", "lat", "lon", "summary", "nature_code"})
# What the sender said, remembered so that a repeat does not undo a person's correction: field -> its companions.
REMEMBERED = {"nature_code": ("nature_code", "incident_type", "category"), "priority": ("priority",)}
READ_FIELDS = ("nature_code", "incident_type", "category", "priority", "beat", "address", "lat", "lon", "summary")


@dataclass(frozen=True, slots=True)
class EidoOutcome:
    """What one document did: created the call, changed some fields, or nothing (a repeat or stale)."""

    call: Call
    created: bool
    changed: tuple[str, ...]
    stale: bool = False
    notices: tuple[Notice, ...] = ()
    not_kept: tuple[str, ...] = ()


@dataclass(slots=True)
class _History:
    """What the documents applied so far said: when each field was last given, and the sender's last words."""

    stamp: datetime | None = None
    given_at: dict[str, datetime] = field(default_factory=dict)
    said: dict[str, str | None] = field(default_factory=dict)

    def newer(self, name: str, stamp: datetime) -> bool:
        return name not in self.given_at or stamp > self.given_at[name]


def receive_eido(*, session: Session, document: Mapping[str, Any], schema: EidoSchema, now: datetime,
                 actor_id: int | None) -> EidoOutcome:
    """Create or update the call of the document's incident (idempotent on the document's ``$id``)."""
    problems = schema.problems(document) or nul_problems(document)
    if problems:
        raise EidoRefused(problems)
    facts = read_document(document, mapper=live_mapper())
    call = session.scalar(select(Call).where(Call.external_id == facts.incident_id))
    if call is None:
        try:
            with session.begin_nested():  # another worker may create the same incident at the same moment
                call = _create(session, facts, now, actor_id)
        except (IntegrityError, DuplicateCall):
            call = session.scalar(select(Call).where(Call.external_id == facts.incident_id))
            if call is None:
                raise
        else:
            _record_applied(session, call, facts.stamp, facts.fields, list(facts.fields), now, actor_id)
            return EidoOutcome(call, created=True, changed=tuple(facts.fields), notices=facts.notices,
                               not_kept=facts.not_kept)
    call = get_call(session=session, call_id=call.id, for_update=True)  # the facts a unit is sent on wait for us
    history = _history(session, call.id)
    if history.stamp is None or facts.stamp >= history.stamp:
        _keep_caller(session, call.id, facts, now, actor_id)
    newer = {name: value for name, value in facts.fields.items() if history.newer(name, facts.stamp)}
    if not newer and history.stamp is not None and facts.stamp <= history.stamp:
        return EidoOutcome(call, created=False, changed=(), stale=facts.stamp < history.stamp,
                           notices=facts.notices, not_kept=facts.not_kept)
    wanted = dict(newer)
    said = _said(newer)
    for remembered, companions in REMEMBERED.items():
        if remembered in said and history.said.get(remembered, "(never)") == said[remembered]:
            for name in companions:  # said again, not changed: a person's correction since then stands
                wanted.pop(name, None)
    changed = {name: value for name, value in wanted.items() if getattr(call, name) != value}
    if changed:
        _apply(session, call, changed, now, actor_id)
    _record_applied(session, call, facts.stamp, newer, list(changed), now, actor_id)
    return EidoOutcome(call, created=False, changed=tuple(changed), notices=facts.notices, not_kept=facts.not_kept)


def _keep_caller(session: Session, call_id: int, facts: DocumentFacts, now: datetime, actor_id: int | None) -> None:
    """The caller a newer document names goes to the call's restricted caller record (what it leaves out stays)."""
    if facts.caller_name is None and facts.caller_callback is None:
        return
    current = session.scalar(select(Caller).where(Caller.call_id == call_id))
    record_caller(session=session, call_id=call_id, name=facts.caller_name or (current.name if current else None),
                  callback=facts.caller_callback or (current.callback if current else None), now=now,
                  actor_id=actor_id)


def _create(session: Session, facts: DocumentFacts, now: datetime, actor_id: int | None) -> Call:
    if facts.received_at > now + MAX_CLOCK_SKEW:
        why = "is in the future: the call cannot have been received then"
        raise EidoRefused([SchemaProblem(facts.received_path, why, "")], kind="eido.unusable")
    fields = facts.fields
    caller = (CallerCreate(name=facts.caller_name, callback=facts.caller_callback)
              if facts.caller_name or facts.caller_callback else None)
    data = CallCreate(external_id=facts.incident_id, source=CallSource.CAD, received_at=min(facts.received_at, now),
                      caller=caller, **{name: value for name, value in fields.items() if name != "category"})
    call = create_call(session=session, data=data, now=now, actor_id=actor_id)
    if "category" in fields:
        call.category = fields["category"]
    session.flush()
    return call


def _apply(session: Session, call: Call, changed: dict[str, Any], now: datetime, actor_id: int | None) -> None:
    before = {name: getattr(call, name) for name in changed}
    for name, value in changed.items():
        setattr(call, name, value)
    record_event(session=session, kind="call.updated", subject_type="call", subject_id=call.id, call_id=call.id,
                 at=now, actor_id=actor_id, before=_loggable(before), after=_loggable(changed))
    facts = {name: value for name, value in changed.items() if name in FACT_FIELDS}
    if facts:  # a triaged call is decided again, and an unarmed team already out is alerted
        facts_changed(session=session, call=call, changes=facts, now=now, actor_id=actor_id)


def _said(fields: Mapping[str, Any]) -> dict[str, str | None]:
    said: dict[str, str | None] = {}
    if "nature_code" in fields:
        said["nature_code"] = hashlib.sha256(str(fields["nature_code"]).encode()).hexdigest()[:16]
    if "priority" in fields:
        said["priority"] = fields["priority"]
    return said


def _record_applied(session: Session, call: Call, stamp: datetime, given: Mapping[str, Any], changed: list[str],
                    now: datetime, actor_id: int | None) -> None:
    record_event(session=session, kind=APPLIED, subject_type="call", subject_id=call.id, call_id=call.id, at=now,
                 actor_id=actor_id, after={"eido_last_update": stamp.isoformat(), "changed": changed,
                                           "given": list(given), "said": _said(given)})


def _history(session: Session, call_id: int) -> _History:
    """The documents applied to the call, oldest first, folded into what each field was last given."""
    history = _History()
    for after in session.scalars(select(Event.after).where(Event.call_id == call_id, Event.kind == APPLIED)
                                 .order_by(Event.id)):
        if not after:
            continue
        stamp = datetime.fromisoformat(after["eido_last_update"])
        history.stamp = max(stamp, history.stamp or stamp)
        for name in after.get("given", READ_FIELDS):  # documents before "given" was kept gave every field
            history.given_at[name] = max(stamp, history.given_at.get(name, stamp))
        history.said.update(after.get("said") or {})
    return history


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    """Event payload without personal data: a changed address, point, note or nature code is named, not copied."""
    return {name: ("(changed)" if name in NAMED_NOT_COPIED and value is not None else value)
            for name, value in values.items()}
