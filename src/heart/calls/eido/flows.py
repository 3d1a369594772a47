"""Receiving a NENA EIDO document: checked against the published schema, then the call of its incident created or
updated — and, when its facts changed, the call decided again (``heart.triage.flows.facts_changed``).

Every schema-valid document is accepted (see ``heart.calls.eido.document`` for what HEART reads from it). A
schema-invalid one is refused whole, nothing written, with each place the schema's own path and rule.

One incident, one call, whatever order and however often its documents come:

- the same document again changes nothing (200, ``changed: []``);
- a document no newer than the last one applied (its ``lastUpdateTimeStamp``) changes nothing (``stale`` when
  older): an old document never overwrites newer facts;
- a field the document leaves out keeps the call's value; a field it gives replaces it — except the nature code
  and the priority when the sender says again what it said before: a person who corrected them in HEART since
  keeps the correction, until the sender changes them.

The event log names what changed; addresses, points, notes and nature codes are named, never copied
("(changed)"). What the sender last said is kept in the ``call.eido_applied`` event as the priority and a digest of
the nature code, never its words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.calls.eido.document import DocumentFacts, Notice, nul_problems, read_document
from heart.calls.eido.standard import EidoRefused, EidoSchema, SchemaProblem
from heart.calls.models import Call, CallSource
from heart.calls.nature import live_mapper
from heart.calls.schemas import CallCreate
from heart.calls.service import FACT_FIELDS, MAX_CLOCK_SKEW, DuplicateCall, create_call, get_call
from heart.events import Event, record_event
from heart.triage.flows import facts_changed

APPLIED = "call.eido_applied"
NAMED_NOT_COPIED = frozenset({"address", "lat", "lon", "summary", "nature_code"})
# What the sender said, remembered so that a repeat does not undo a person's correction: field -> its companions.
REMEMBERED = {"nature_code": ("nature_code", "incident_type", "category"), "priority": ("priority",)}


@dataclass(frozen=True, slots=True)
class EidoOutcome:
    """What one document did: created the call, changed some fields, or nothing (a repeat or stale)."""

    call: Call
    created: bool
    changed: tuple[str, ...]
    stale: bool = False
    notices: tuple[Notice, ...] = ()
    not_kept: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Applied:
    stamp: datetime
    said: dict[str, str | None]


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
            _record_applied(session, call, facts, list(facts.fields), now, actor_id)
            return EidoOutcome(call, created=True, changed=tuple(facts.fields), notices=facts.notices,
                               not_kept=facts.not_kept)
    call = get_call(session=session, call_id=call.id, for_update=True)  # the facts a unit is sent on wait for us
    last = _last_applied(session, call.id)
    if last is not None and facts.stamp <= last.stamp:
        return EidoOutcome(call, created=False, changed=(), stale=facts.stamp < last.stamp, notices=facts.notices,
                           not_kept=facts.not_kept)
    wanted = dict(facts.fields)
    said = _said(facts.fields)
    for field, companions in REMEMBERED.items():
        if last is not None and field in said and last.said.get(field, "(never)") == said[field]:
            for name in companions:  # said again, not changed: a person's correction since then stands
                wanted.pop(name, None)
    changed = {name: value for name, value in wanted.items() if getattr(call, name) != value}
    if changed:
        _apply(session, call, changed, now, actor_id)
    _record_applied(session, call, facts, list(changed), now, actor_id)
    return EidoOutcome(call, created=False, changed=tuple(changed), notices=facts.notices, not_kept=facts.not_kept)


def _create(session: Session, facts: DocumentFacts, now: datetime, actor_id: int | None) -> Call:
    if facts.received_at > now + MAX_CLOCK_SKEW:
        why = "is in the future: the call cannot have been received then"
        raise EidoRefused([SchemaProblem(facts.received_path, why, "")], kind="eido.unusable")
    fields = facts.fields
    data = CallCreate(external_id=facts.incident_id, source=CallSource.CAD, received_at=min(facts.received_at, now),
                      **{name: value for name, value in fields.items() if name != "category"})
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


def _record_applied(session: Session, call: Call, facts: DocumentFacts, changed: list[str], now: datetime,
                    actor_id: int | None) -> None:
    record_event(session=session, kind=APPLIED, subject_type="call", subject_id=call.id, call_id=call.id, at=now,
                 actor_id=actor_id, after={"eido_last_update": facts.stamp.isoformat(), "changed": changed,
                                           "said": _said(facts.fields)})


def _last_applied(session: Session, call_id: int) -> _Applied | None:
    """The newest document applied to the call, and what the sender last said of each remembered field."""
    rows = session.scalars(select(Event.after).where(Event.call_id == call_id, Event.kind == APPLIED)
                           .order_by(Event.id)).all()
    stamps = [datetime.fromisoformat(after["eido_last_update"]) for after in rows if after]
    if not stamps:
        return None
    said: dict[str, str | None] = {}
    for after in rows:
        said.update((after or {}).get("said") or {})
    return _Applied(max(stamps), said)


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    """Event payload without personal data: a changed address, point, note or nature code is named, not copied."""
    return {name: ("(changed)" if name in NAMED_NOT_COPIED and value is not None else value)
            for name, value in values.items()}
