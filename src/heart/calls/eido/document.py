"""What a schema-valid EIDO document says about its call, in the call's own fields.

An EIDO describes one incident, named by the document's ``$id`` (``urn:emergency:uid:incidentid:…``; the URN prefix
is dropped to fit ``Call.external_id``, and an id longer than 64 characters keeps its first 47, ``~`` and 16 hex
digits of its SHA-256, so that it stays unique and the same incident always finds the same call).

A PSAP's first document is usually a call transfer: call, location, callback and person components, no
``incidentComponent``. Later documents from the CAD add the incident. HEART reads:

- ``callComponent``: the earliest ``callStartTimestamp`` is when the call was received;
- ``locationComponent``: the incident's location — the first readable of those the incident references, then the
  others, a location typed "Incident" before one typed "Caller" before the rest (the call's and the persons'
  references first, then document order). Readable means a PIDF-LO ``locationByValue`` (civic address, ``gml:pos``)
  or a ``locationDescriptionText``; a ``locationByReferenceUrl`` is never fetched;
- ``incidentComponent``: the nature code (``incidentTypeInternalText``, else ``incidentTypeInternalCode``, else
  ``incidentTypeCommonRegistryText``), read by the one call-type resolver every intake path uses (danger words
  included); ``incidentPriorityInternalText`` when it is a priority HEART knows; ``beatOrDispatchGroupText``;
- ``notesComponent``: the notes the incident or a call references, and notes nothing references, as plain text.
  Notes about a person, an agency or a vehicle stay out of the call.

A field the document says nothing about is not in ``fields``: it leaves the call's value as it is. A part HEART
cannot use (a location that is not PIDF-LO, a reference to nothing, a priority it does not know) is a ``notice``
naming the place and why, and the rest of the document is used.

The caller is personal data and goes to the call's restricted caller record (``heart.calls.callers``), never to a
field of the call or an event: the person whose ``personIncidentRoleRegistryText`` says "Caller" (given names and
surname) and the callback number of the callback component that person references (else the first), from its
``tel:`` URI (else the user part of a ``sip:`` URI). Other persons and callback components HEART cannot read are
checked against the schema and not kept (``not_kept``).
"""

from __future__ import annotations

import hashlib
import html
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from heart.calls.eido.standard import EidoRefused, SchemaProblem, json_pointer
from heart.crosswalk.mapper import NatureCodeMapper

INCIDENT_URN = "urn:emergency:uid:incidentid:"
PRIORITIES = ("P", "1", "2", "3", "4")
LIMITS = {"nature_code": 128, "beat": 32, "address": 256, "summary": 4000}
_LOCATION_RANK = {"incident": 0, "caller": 1}
_NATURE_FIELDS = ("incidentTypeInternalText", "incidentTypeInternalCode", "incidentTypeCommonRegistryText")

Component = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    """A part of an accepted document HEART could not use: where, and why (never its value)."""

    pointer: str
    reason: str


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """The call as one document describes it."""

    incident_id: str
    stamp: datetime  # when the sender last changed the incident (the newest of the document's and the incident's)
    received_at: datetime
    received_path: tuple[str | int, ...]  # where in the document ``received_at`` comes from
    fields: dict[str, Any]
    notices: tuple[Notice, ...]
    not_kept: tuple[str, ...]
    caller_name: str | None = None
    caller_callback: str | None = None


def _caller(document: Component) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The caller's name and callback number, and which of the person and callback components were not kept."""
    persons = list(document.get("personComponent") or [])
    callbacks = list(document.get("callbackComponent") or [])
    caller = next((p for p in persons if any(str(role).strip().lower() == "caller"
                                             for role in p.get("personIncidentRoleRegistryText") or [])), None)
    name = callback = None
    if caller is not None:
        names = ((caller.get("ncPersonComponent") or {}).get("name") or [{}])[0]
        words = [str(part.get("value", "")).strip() for key in ("personGivenName", "personMiddleName", "personSurName")
                 for part in names.get(key) or [] if isinstance(part, Mapping)]
        name = " ".join(word for word in words if word)[:120] or None
        wanted = (caller.get("callBackReference") or {}).get("$ref")
        callbacks.sort(key=lambda c: c.get("$id") != wanted)
    for component in callbacks:
        callback = _callback_number(component.get("callBackInformationUri") or [])
        if callback:
            break
    not_kept = []
    if any(p is not caller for p in persons):
        not_kept.append("personComponent")
    if callbacks and callback is None:
        not_kept.append("callbackComponent")
    return name, callback, tuple(not_kept)


def _callback_number(uris: Iterable[Any]) -> str | None:
    """A phone number from ``tel:`` URIs first, else the digits of a ``sip:`` URI's user part."""
    found = [str(uri).strip() for uri in uris]
    for uri in sorted(found, key=lambda u: not u.lower().startswith("tel:")):
        scheme, _, rest = uri.partition(":")
        number = rest.split(";")[0].split("@")[0] if scheme.lower() in ("tel", "sip", "sips") else ""
        if sum(ch.isdigit() for ch in number) >= 3 and len(number) <= 32 and set(number) <= set("0123456789+()-."):
            return number
    return None


def read_document(document: Component, *, mapper: NatureCodeMapper) -> DocumentFacts:
    """The facts of a document that already passed the schema (see the module docstring)."""
    notices: list[Notice] = []
    incident: Component | None = document.get("incidentComponent")
    stamp = _time(document["lastUpdateTimeStamp"], ("lastUpdateTimeStamp",))
    if incident is not None:
        stamp = max(stamp, _time(incident["lastUpdateTimeStamp"], ("incidentComponent", "lastUpdateTimeStamp")))
    received_at, received_path = _received(document, incident, stamp)
    fields: dict[str, Any] = {}
    if incident is not None:
        fields.update(_incident(incident, mapper, notices))
    fields.update(_location(document, incident, notices))
    summary = _summary(document, incident)
    if summary:
        fields["summary"] = _fit("summary", summary, "/notesComponent", notices)
    caller_name, caller_callback, not_kept = _caller(document)
    return DocumentFacts(incident_id=incident_id_of(document["$id"]), stamp=stamp, received_at=received_at,
                         received_path=received_path, fields=fields, notices=tuple(notices), not_kept=not_kept,
                         caller_name=caller_name, caller_callback=caller_callback)


def incident_id_of(document_id: str) -> str:
    """The incident's id as ``Call.external_id`` keeps it (see the module docstring)."""
    value = document_id.strip()
    if value.lower().startswith(INCIDENT_URN):
        value = value[len(INCIDENT_URN):].strip()
    if not value:
        raise EidoRefused([SchemaProblem(("$id",), "names no incident: HEART identifies the incident by the "
                                                   "document's $id", "")], kind="eido.unusable")
    if len(value) > 64:
        value = f"{value[:47]}~{hashlib.sha256(value.encode()).hexdigest()[:16]}"
    return value


def _time(value: str, path: tuple[str | int, ...]) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:  # RFC 3339 allows a leap second, which Python cannot represent
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise EidoRefused([SchemaProblem(path, "is a date-time HEART cannot read", "")], kind="eido.unusable")
    return parsed.astimezone(UTC)


def _received(document: Component, incident: Component | None,
              stamp: datetime) -> tuple[datetime, tuple[str | int, ...]]:
    started: list[tuple[datetime, tuple[str | int, ...]]] = [
        (_time(call["callStartTimestamp"], path), path)
        for path, call in ((("callComponent", index, "callStartTimestamp"), call)
                           for index, call in enumerate(document.get("callComponent") or []))]
    if started:
        return min(started, key=lambda pair: pair[0])
    if incident is not None:
        path: tuple[str | int, ...] = ("incidentComponent", "lastUpdateTimeStamp")
        return _time(incident["lastUpdateTimeStamp"], path), path
    return stamp, ("lastUpdateTimeStamp",)


def _incident(incident: Component, mapper: NatureCodeMapper, notices: list[Notice]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    registry = (incident.get("incidentTypeCommonRegistryText") or "").strip()
    given = [(name, (incident.get(name) or "").strip()) for name in _NATURE_FIELDS]
    name, nature_code = next(((name, text) for name, text in given if text), (None, ""))
    if name is not None:
        nature_code = _fit("nature_code", nature_code, f"/incidentComponent/{name}", notices)
        mapping = mapper(nature_code)
        # The registry's broad type only for words HEART does not know and that name no danger: a knife in the
        # CAD's own words must never be read past to a type an unarmed team is sent to.
        if mapping.incident_type is None and not mapping.danger and registry and nature_code != registry:
            mapping = mapper(registry)
        fields.update(nature_code=nature_code, incident_type=mapping.incident_type, category=mapping.category)
    priority = (incident.get("incidentPriorityInternalText") or "").strip().upper()
    if priority in PRIORITIES:
        fields["priority"] = priority
    elif priority:
        notices.append(Notice("/incidentComponent/incidentPriorityInternalText",
                              f"is not a priority HEART knows ({', '.join(PRIORITIES)}); the call's priority is "
                              "left as it was"))
    beat = (incident.get("beatOrDispatchGroupText") or "").strip()
    if beat:
        fields["beat"] = _fit("beat", beat, "/incidentComponent/beatOrDispatchGroupText", notices)
    return fields


def _fit(name: str, text: str, pointer: str, notices: list[Notice]) -> str:
    limit = LIMITS[name]
    if len(text) > limit:
        notices.append(Notice(pointer, f"is longer than HEART keeps ({limit} characters); the rest is cut off"))
    return text[:limit]


# --- location ------------------------------------------------------------------------------------------------

def _location(document: Component, incident: Component | None, notices: list[Notice]) -> dict[str, Any]:
    locations: list[Component] = document.get("locationComponent") or []
    if not locations:
        return {}
    by_id = {location["$id"]: index for index, location in enumerate(locations)}
    first = _references(by_id, [("/incidentComponent", incident)], notices) if incident else []
    holders = [(f"/callComponent/{i}", call) for i, call in enumerate(document.get("callComponent") or [])]
    holders += [(f"/personComponent/{i}", person) for i, person in enumerate(document.get("personComponent") or [])]
    rest = _references(by_id, holders, notices) + list(range(len(locations)))
    rest.sort(key=lambda index: _LOCATION_RANK.get(
        str(locations[index].get("locationTypeDescriptionRegistryText", "")).strip().lower(), 2))
    for index in dict.fromkeys(first + rest):  # each once, in order of preference
        found = _read_location(locations[index], index, notices)
        if found is not None:
            return found
    notices.append(Notice("/locationComponent", "holds no location HEART can read (a PIDF-LO locationByValue or a "
                                                "locationDescriptionText; a locationByReferenceUrl is not fetched)"))
    return {}


def _references(by_id: Mapping[str, int], holders: Iterable[tuple[str, Component | None]],
                notices: list[Notice]) -> list[int]:
    found: list[int] = []
    for pointer, holder in holders:
        for position, reference in enumerate((holder or {}).get("locationReference") or []):
            if reference["$ref"] in by_id:
                found.append(by_id[reference["$ref"]])
            else:
                notices.append(Notice(f"{pointer}/locationReference/{position}/$ref",
                                      "names no location in locationComponent"))
    return found


def _read_location(location: Component, index: int, notices: list[Notice]) -> dict[str, Any] | None:
    address, lat, lon = None, None, None
    if location.get("locationByValue"):
        try:
            address, lat, lon = parse_pidf_lo(location["locationByValue"])
        except ValueError as why:
            notices.append(Notice(f"/locationComponent/{index}/locationByValue", str(why)))
    address = address or (location.get("locationDescriptionText") or "").strip() or None
    if address is None and lat is None:
        return None
    if address is not None:
        address = _fit("address", address, f"/locationComponent/{index}", notices)
    return {"address": address, "lat": lat, "lon": lon}


_CIVIC_ORDER = ("HNO", "HNS", "PRD", "RD", "STS", "POD")


def parse_pidf_lo(text: str) -> tuple[str | None, float | None, float | None]:
    """Civic address text and WGS-84 point of a PIDF-LO document (either may be absent); ValueError says why not."""
    try:
        root = ElementTree.fromstring(text.strip())  # expat refuses entity expansion bombs; no external entities
    except ElementTree.ParseError:
        raise ValueError("is not a PIDF-LO XML document") from None
    parts: dict[str, str] = {}
    point: str | None = None
    for element in root.iter():
        name = str(element.tag).rsplit("}", 1)[-1]
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
            raise ValueError("has a gml:pos that is not 'latitude longitude'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("has a gml:pos that is not a latitude and longitude")
    return address, lat, lon


# --- notes ---------------------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_HOLDERS_OF_NOTES = ("incidentComponent", "callComponent")


def _summary(document: Component, incident: Component | None) -> str | None:
    notes: list[Component] = document.get("notesComponent") or []
    if not notes:
        return None
    ours: set[str] = set()
    elsewhere: set[str] = set()
    for name, value in document.items():
        holders = value if isinstance(value, list) else [value]
        target = ours if name in _HOLDERS_OF_NOTES else elsewhere
        for holder in holders:
            if isinstance(holder, dict):
                target.update(_note_references(holder))
    kept = [note for note in notes if note["$id"] in ours or note["$id"] not in elsewhere]
    text = "\n".join(html.unescape(_TAG.sub(" ", note["notesActionComments"])).strip() for note in kept)
    return re.sub(r"[ \t]+", " ", text).strip() or None


def _note_references(component: Component) -> set[str]:
    """The notes a component references, its nested components' included (a disposition's, a person's…)."""
    found: set[str] = set()
    stack: list[Any] = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "notesReference" and isinstance(value, list):
                    found.update(ref["$ref"] for ref in value if isinstance(ref, dict) and "$ref" in ref)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def nul_problems(document: Any) -> list[SchemaProblem]:
    """Places where the document's text holds a NUL character, which no database HEART uses can store."""
    found: list[SchemaProblem] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                found.append(SchemaProblem(path, "must not contain a NUL character (\\u0000)", ""))
        elif isinstance(node, dict):
            for key, value in node.items():
                if "\x00" in str(key):
                    found.append(SchemaProblem(path, "has a name holding a NUL character (\\u0000)", ""))
                stack.append((value, (*path, key)))
        elif isinstance(node, list):
            stack.extend((value, (*path, index)) for index, value in enumerate(node))
    return sorted(found, key=lambda problem: json_pointer(problem.path))
