"""Live intake from a CAD: a NENA EIDO (Emergency Incident Data Object, NENA-STA-021) JSON document.

HEART reads a faithful subset of EIDO 1.0 (NENA-STA-021.1a-2022, the NENA911/EIDO-JSON schema):

- the document's ``$id`` / ``lastUpdateTimeStamp`` / ``eidoVersion`` ("1.0"); the incident id is
  ``incidentTrackingIdentifier`` when the document carries one (early drafts), else the document's ``$id``
  (an ``urn:emergency:uid:incidentid:…`` identifier); the standard URN prefix is dropped to fit
  ``Call.external_id``;
- ``incidentComponent`` (one object; a one-element list is accepted): ``incidentTypeCommonRegistryText``
  (required), ``incidentTypeInternalCode`` / ``incidentTypeInternalText`` (the CAD's own nature code),
  ``incidentPriorityInternalText``, ``beatOrDispatchGroupText``, ``locationReference``, ``notesReference``;
- ``locationComponent``: ``locationByValue`` (PIDF-LO: civic address and ``gml:pos``) and
  ``locationDescriptionText``; ``notesComponent``: ``notesActionComments`` (HTML, kept as plain text);
  ``callComponent``: ``callStartTimestamp`` (when the call was received).
Everything else in the document is accepted and ignored. The same incident sent again updates its call
(only the fields that changed, each change an event); a document older than the last one applied changes
nothing. Personal data (address, notes) is never written to the event log, only which fields changed.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.calls.models import Call, CallSource
from heart.calls.schemas import CallCreate
from heart.calls.service import FACT_FIELDS, MAX_CLOCK_SKEW, DuplicateCall, create_call, get_call
from heart.crosswalk.mapper import NatureCodeMapper, nature_mapper
from heart.errors import InvalidInput
from heart.events import Event, record_event
from heart.inputs import Input
from heart.triage.flows import facts_changed

INCIDENT_URN = "urn:emergency:uid:incidentid:"
PRIORITIES = frozenset({"P", "1", "2", "3", "4"})
APPLIED = "call.eido_applied"
PERSONAL_FIELDS = frozenset({"address", "lat", "lon", "summary"})


class _Component(Input):
    """The EIDO prologue every data component carries."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(alias="$id", min_length=1, max_length=512)
    last_update: AwareDatetime = Field(alias="lastUpdateTimeStamp")


class Reference(Input):
    model_config = ConfigDict(extra="allow")

    ref: str = Field(alias="$ref", min_length=1)


class IncidentComponent(_Component):
    type_registry: str = Field(alias="incidentTypeCommonRegistryText", min_length=1, max_length=128)
    type_code: str | None = Field(default=None, alias="incidentTypeInternalCode", max_length=128)
    type_text: str | None = Field(default=None, alias="incidentTypeInternalText", max_length=128)
    priority_text: str | None = Field(default=None, alias="incidentPriorityInternalText", max_length=64)
    beat: str | None = Field(default=None, alias="beatOrDispatchGroupText", max_length=32)
    location_refs: list[Reference] = Field(default_factory=list, alias="locationReference")
    notes_refs: list[Reference] = Field(default_factory=list, alias="notesReference")

    @field_validator("location_refs", "notes_refs", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:  # the 2020 draft wrote a single reference
        return [value] if isinstance(value, dict) else value


class LocationComponent(_Component):
    by_value: str | None = Field(default=None, alias="locationByValue", max_length=20_000)
    description: str | None = Field(default=None, alias="locationDescriptionText", max_length=256)


class NotesComponent(_Component):
    comments: str = Field(alias="notesActionComments", max_length=20_000)


class CallComponent(_Component):
    started: AwareDatetime | None = Field(default=None, alias="callStartTimestamp")


class EidoDocument(_Component):
    """The subset of an EIDO document that HEART reads (see the module docstring)."""

    version: Literal["1.0"] = Field(alias="eidoVersion")
    tracking_id: str | None = Field(default=None, alias="incidentTrackingIdentifier", min_length=1)
    incident: IncidentComponent = Field(alias="incidentComponent")
    locations: list[LocationComponent] = Field(default_factory=list, alias="locationComponent")
    notes: list[NotesComponent] = Field(default_factory=list, alias="notesComponent")
    calls: list[CallComponent] = Field(default_factory=list, alias="callComponent")

    @field_validator("incident", mode="before")
    @classmethod
    def _one_incident(cls, value: Any) -> Any:
        if isinstance(value, list):  # early drafts wrote a list; an EIDO describes one incident
            if len(value) != 1:
                raise ValueError("an EIDO describes exactly one incident")
            return value[0]
        return value


@dataclass(frozen=True, slots=True)
class EidoOutcome:
    """What one EIDO document did: created the call, changed some fields, or nothing (a repeat or stale)."""

    call: Call
    created: bool
    changed: tuple[str, ...]
    stale: bool = False


def receive_eido(
    *, session: Session, document: EidoDocument, now: datetime, actor_id: int | None,
    mapper: NatureCodeMapper | None = None,
) -> EidoOutcome:  # fmt: skip
    """Create or update the call of the EIDO's incident (idempotent on the incident id)."""
    incident_id = incident_id_of(document)
    fields = call_fields(document, mapper or _default_mapper())
    stamp = max(document.last_update, document.incident.last_update)
    call = session.scalar(select(Call).where(Call.external_id == incident_id))
    if call is None:
        try:
            with session.begin_nested():  # another worker may create the same incident at the same moment
                call = _create(session, document, incident_id, fields, now, actor_id)
        except (IntegrityError, DuplicateCall):
            call = session.scalar(select(Call).where(Call.external_id == incident_id))
            if call is None:
                raise
        else:
            _applied(session, call, stamp, list(fields), now, actor_id)
            return EidoOutcome(call, created=True, changed=tuple(fields))
    call = get_call(session=session, call_id=call.id, for_update=True)  # the facts a unit is sent on wait for us
    last = _last_applied(session, call.id)
    if last is not None and stamp <= last:
        return EidoOutcome(call, created=False, changed=(), stale=stamp < last)
    changed = {name: value for name, value in fields.items() if getattr(call, name) != value}
    if changed:
        before = {name: getattr(call, name) for name in changed}
        for name, value in changed.items():
            setattr(call, name, value)
        record_event(session=session, kind="call.updated", subject_type="call", subject_id=call.id, call_id=call.id,
                     at=now, actor_id=actor_id, before=_loggable(before), after=_loggable(changed))
        facts = {name: value for name, value in changed.items() if name in FACT_FIELDS}
        if facts:  # a triaged call is decided again, and an unarmed team already out is alerted
            facts_changed(session=session, call=call, changes=facts, now=now, actor_id=actor_id)
    _applied(session, call, stamp, list(changed), now, actor_id)
    return EidoOutcome(call, created=False, changed=tuple(changed))


def incident_id_of(document: EidoDocument) -> str:
    """The incident's id as stored in ``Call.external_id`` (the standard URN prefix dropped)."""
    raw, field = (document.tracking_id, "incidentTrackingIdentifier") if document.tracking_id else (document.id, "$id")
    value = raw.strip()
    if value.lower().startswith(INCIDENT_URN):
        value = value[len(INCIDENT_URN):]
    if not value or len(value) > 64:
        raise InvalidInput(f"the incident id must be 1 to 64 characters after {INCIDENT_URN}", field=field)
    return value


def call_fields(document: EidoDocument, mapper: NatureCodeMapper) -> dict[str, Any]:
    """The call's fields as the document gives them (None where it says nothing)."""
    incident = document.incident
    nature_code = incident.type_text or incident.type_code or incident.type_registry
    mapping = mapper(nature_code)
    if mapping.incident_type is None and nature_code != incident.type_registry:
        mapping = mapper(incident.type_registry)
    priority = (incident.priority_text or "").strip().upper()
    address, lat, lon = _location(document)
    return {
        "nature_code": nature_code.strip(),
        "incident_type": mapping.incident_type,
        "category": mapping.category,
        "priority": priority if priority in PRIORITIES else None,
        "beat": incident.beat,
        "address": address,
        "lat": lat,
        "lon": lon,
        "summary": _summary(document),
    }


def _create(session: Session, document: EidoDocument, incident_id: str, fields: dict[str, Any], now: datetime,
            actor_id: int | None) -> Call:
    received_at, field = document.incident.last_update, "incidentComponent.lastUpdateTimeStamp"
    started = [(c.started, f"callComponent.{i}.callStartTimestamp") for i, c in enumerate(document.calls) if c.started]
    if started:
        received_at, field = min(started)
    if received_at > now + MAX_CLOCK_SKEW:
        raise InvalidInput("the call cannot have been received in the future", field=field)
    data = CallCreate(external_id=incident_id, source=CallSource.CAD, received_at=min(received_at, now),
                      **{k: v for k, v in fields.items() if k != "category"})
    call = create_call(session=session, data=data, now=now, actor_id=actor_id)
    call.category = fields["category"]
    session.flush()
    return call


def _applied(session: Session, call: Call, stamp: datetime, changed: list[str], now: datetime,
             actor_id: int | None) -> None:
    record_event(session=session, kind=APPLIED, subject_type="call", subject_id=call.id, call_id=call.id, at=now,
                 actor_id=actor_id, after={"eido_last_update": stamp.isoformat(), "changed": changed})


def _last_applied(session: Session, call_id: int) -> datetime | None:
    after = session.scalar(select(Event.after).where(Event.call_id == call_id, Event.kind == APPLIED)
                           .order_by(Event.id.desc()).limit(1))
    stamp = (after or {}).get("eido_last_update")
    return datetime.fromisoformat(stamp) if stamp else None


def _loggable(values: dict[str, Any]) -> dict[str, Any]:
    """Event payload without personal data: changed address or notes are named, not copied."""
    return {name: ("(changed)" if name in PERSONAL_FIELDS and value is not None else value)
            for name, value in values.items()}


def _location(document: EidoDocument) -> tuple[str | None, float | None, float | None]:
    if not document.locations:
        return None, None, None
    chosen, index = document.locations[0], 0
    refs = document.incident.location_refs
    if refs:
        by_id = {location.id: i for i, location in enumerate(document.locations)}
        if refs[0].ref not in by_id:
            raise InvalidInput("names no location in locationComponent",
                               field="incidentComponent.locationReference.0.$ref")
        index = by_id[refs[0].ref]
        chosen = document.locations[index]
    address, lat, lon = None, None, None
    if chosen.by_value:
        address, lat, lon = parse_pidf_lo(chosen.by_value, field=f"locationComponent.{index}.locationByValue")
    address = address or chosen.description
    return (address[:256] if address else None), lat, lon


_CIVIC_ORDER = ("HNO", "HNS", "PRD", "RD", "STS", "POD")


def parse_pidf_lo(text: str, *, field: str) -> tuple[str | None, float | None, float | None]:
    """Civic address text and WGS-84 point of a PIDF-LO document (either may be absent)."""
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError:
        raise InvalidInput("is not a PIDF-LO XML document", field=field) from None
    parts: dict[str, str] = {}
    point: str | None = None
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        value = (element.text or "").strip()
        if name == "pos" and value and point is None:
            point = value
        elif name in (*_CIVIC_ORDER, "A3", "A1") and value:
            parts.setdefault(name, value)
    street = " ".join(parts[name] for name in _CIVIC_ORDER if name in parts)
    address = ", ".join(part for part in (street, parts.get("A3"), parts.get("A1")) if part) or None
    lat = lon = None
    if point:
        try:
            lat, lon = (float(number) for number in point.split()[:2])
        except ValueError:
            raise InvalidInput("gml:pos must be 'latitude longitude'", field=field) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput("gml:pos is not a latitude and longitude", field=field)
    return address, lat, lon


_TAG = re.compile(r"<[^>]+>")


def _summary(document: EidoDocument) -> str | None:
    wanted = {ref.ref for ref in document.incident.notes_refs}
    notes = [note for note in document.notes if not wanted or note.id in wanted]
    text = "\n".join(html.unescape(_TAG.sub(" ", note.comments)).strip() for note in notes).strip()
    return re.sub(r"[ \t]+", " ", text)[:4000] or None


_MAPPER: NatureCodeMapper | None = None


def _default_mapper() -> NatureCodeMapper:
    global _MAPPER  # one mapper per process: it remembers the codes it has seen
    if _MAPPER is None:
        _MAPPER = nature_mapper()
    return _MAPPER
