"""Where a call is, and what is known about the place: the geocoder over the city's address points, a new call's
point and beat, possible duplicates of an open call nearby, earlier calls at the location, and location safety
notes (written once, ended by expiry or by a person; every read logged, their text never in an event).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.auth.access import LOCATION_NOTE, log_access
from heart.auth.models import User
from heart.calls.models import Call, CallStatus
from heart.config import Settings, get_settings
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import record_event
from heart.places.geocoder import AddressIndex, ChainGeocoder, Geocoder, Match, Point, UrlGeocoder
from heart.places.models import AddressPoint, DuplicateFlag, LocationNote
from heart.places.rules import PlaceRules, place_rules
from heart.places.shapes import beat_at

EARTH_RADIUS_M = 6_371_008.8
MAX_NOTE = 1000
DECISIONS = ("linked", "kept_apart")
_OPEN = (CallStatus.OPEN, CallStatus.TRIAGED, CallStatus.ASSIGNED)


def meters_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _box(lat: float, lon: float, meters: float) -> tuple[float, float, float, float]:
    """A bounding box around the point (for an indexed first cut; the distance is checked after)."""
    dlat = meters / 111_000.0
    dlon = meters / (111_000.0 * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


# --- the geocoder ---------------------------------------------------------------------------------------------

_INDEXES: dict[tuple[str, int, int, str], AddressIndex] = {}
_LOCK = Lock()


def address_index(session: Session, rules: PlaceRules) -> AddressIndex:
    """The city's address points, indexed; rebuilt only when the points change (count, newest id, newest import)."""
    count, newest, stamp = session.execute(select(func.count(AddressPoint.id), func.max(AddressPoint.id),
                                                  func.max(AddressPoint.imported_at))).one()
    key = (str(session.get_bind().engine.url), int(count or 0), int(newest or 0),
           f"{stamp}|{rules.geocoding.words}")
    with _LOCK:
        index = _INDEXES.get(key)
    if index is None:
        rows = session.execute(select(AddressPoint.address, AddressPoint.number, AddressPoint.lat, AddressPoint.lon,
                                      AddressPoint.beat)).all()
        index = AddressIndex((Point(*row) for row in rows), rules.geocoding.words)
        with _LOCK:
            if len(_INDEXES) > 8:
                _INDEXES.clear()
            _INDEXES[key] = index
    return index


def geocoder_for(session: Session, settings: Settings | None = None) -> Geocoder:
    """The city's points, then the outside service when one is configured (``HEART_GEOCODER_URL``)."""
    settings = settings or get_settings()
    rules = place_rules(settings)
    local = address_index(session, rules)
    if not settings.geocoder_url:
        return local
    return ChainGeocoder([local, UrlGeocoder(settings.geocoder_url)], sure=rules.geocoding.minimum_confidence)


def lookup(*, session: Session, text: str, limit: int = 5, settings: Settings | None = None) -> list[Match]:
    """The likeliest places for a typed address, surest first."""
    return geocoder_for(session, settings).lookup(text[:256], limit) if text.strip() else []


def beat_of(lat: float, lon: float, settings: Settings | None = None) -> str | None:
    """The beat whose polygon (the city's beats.geojson) holds the point."""
    return beat_at((settings or get_settings()).map_beats_file, lat, lon)


def place_new_call(*, session: Session, call: Call, settings: Settings | None = None) -> Match | None:
    """Give a new call its point and beat: a typed address with no coordinates is geocoded (placed only when the
    match is at least the city's ``minimum_confidence``); a point with no beat gets the beat that holds it."""
    settings = settings or get_settings()
    placed = None
    if (call.lat is None or call.lon is None) and call.address:
        matches = lookup(session=session, text=call.address, limit=1, settings=settings)
        if matches and matches[0].confidence >= place_rules(settings).geocoding.minimum_confidence:
            placed = matches[0]
            call.lat, call.lon = placed.lat, placed.lon
            call.beat = call.beat or placed.beat
    if call.lat is not None and call.lon is not None and not call.beat:
        call.beat = beat_of(call.lat, call.lon, settings)
    return placed


# --- possible duplicates --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Nearby:
    call: Call
    meters: float
    minutes: float


def open_calls_near(*, session: Session, lat: float, lon: float, at: datetime, rules: PlaceRules,
                    exclude_call_id: int | None = None) -> list[Nearby]:
    """Open calls within the city's duplicate distance, received within its time before ``at``, nearest first."""
    meters, minutes = rules.duplicates.within_meters, rules.duplicates.within_minutes
    south, north, west, east = _box(lat, lon, meters)
    query = select(Call).where(Call.status.in_(_OPEN), Call.lat.between(south, north), Call.lon.between(west, east),
                               Call.received_at >= at - timedelta(minutes=minutes),
                               Call.received_at <= at + timedelta(minutes=1))
    if exclude_call_id is not None:
        query = query.where(Call.id != exclude_call_id)
    found = []
    for call in session.scalars(query):
        assert call.lat is not None and call.lon is not None
        distance = meters_between(lat, lon, call.lat, call.lon)
        if distance <= meters:
            found.append(Nearby(call, distance, abs((at - call.received_at).total_seconds()) / 60))
    return sorted(found, key=lambda n: (n.meters, -n.call.id))


def flag_duplicates(*, session: Session, call: Call, now: datetime, rules: PlaceRules) -> list[DuplicateFlag]:
    """Flag the new ``call`` as a possible duplicate of each open call near it (made once per pair)."""
    if call.lat is None or call.lon is None:
        return []
    flags = []
    for near in open_calls_near(session=session, lat=call.lat, lon=call.lon, at=call.received_at, rules=rules,
                                exclude_call_id=call.id):
        if near.call.id > call.id:
            continue  # only an earlier call can be the one this repeats
        flag = DuplicateFlag(call_id=call.id, other_call_id=near.call.id, meters=round(near.meters, 1),
                             minutes=round(near.minutes, 1), flagged_at=now)
        try:
            with session.begin_nested():
                session.add(flag)
                session.flush()
        except IntegrityError:
            continue
        flags.append(flag)
    return flags


def flags_of(*, session: Session, call_id: int) -> list[DuplicateFlag]:
    """The call's possible duplicates (as the newer call), oldest flag first."""
    return list(session.scalars(select(DuplicateFlag).where(DuplicateFlag.call_id == call_id)
                                .order_by(DuplicateFlag.id)))


def linked_to(*, session: Session, call_id: int) -> list[DuplicateFlag]:
    """Later calls a person linked to this one (the same incident)."""
    return list(session.scalars(select(DuplicateFlag).where(DuplicateFlag.other_call_id == call_id,
                                                            DuplicateFlag.decision == "linked")
                                .order_by(DuplicateFlag.id)))


def decide_duplicate(*, session: Session, flag_id: int, decision: str, by: User, now: datetime,
                     call_id: int | None = None) -> DuplicateFlag:
    """Link the two calls (one incident) or keep them apart; decided once (the same decision again changes
    nothing, another one is refused)."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    flag = session.scalar(select(DuplicateFlag).where(DuplicateFlag.id == flag_id).with_for_update()
                          .execution_options(populate_existing=True))
    if flag is None or (call_id is not None and flag.call_id != call_id):
        raise NotFound("possible duplicate", flag_id, field="flag_id")
    if flag.decision == decision:
        return flag
    if flag.decision is not None:
        raise Conflict(f"this possible duplicate was already decided: {flag.decision.replace('_', ' ')}")
    flag.decision, flag.decided_at, flag.decided_by_id = decision, now, by.id
    session.flush()
    record_event(session=session, kind="call.duplicate_decided", subject_type="call", subject_id=flag.call_id,
                 call_id=flag.call_id, at=now, actor_id=by.id,
                 after={"decision": decision, "other_call_id": flag.other_call_id, "meters": flag.meters})
    return flag


# --- earlier calls at the location ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlaceHistory:
    """Earlier calls within the city's history distance: how many, the last one's date, their types."""

    count: int
    last_at: datetime | None
    types: list[tuple[str, int]]


def history_at(*, session: Session, lat: float, lon: float, now: datetime, rules: PlaceRules,
               exclude_call_id: int | None = None) -> PlaceHistory:
    meters = rules.history.within_meters
    south, north, west, east = _box(lat, lon, meters)
    query = select(Call.id, Call.lat, Call.lon, Call.received_at, Call.incident_type).where(
        Call.lat.between(south, north), Call.lon.between(west, east),
        Call.received_at >= now - timedelta(days=365.25 * rules.history.years), Call.received_at <= now)
    if exclude_call_id is not None:
        query = query.where(Call.id != exclude_call_id)
    rows = [row for row in session.execute(query) if meters_between(lat, lon, row.lat, row.lon) <= meters]
    types = Counter(row.incident_type or "unknown type" for row in rows)
    return PlaceHistory(len(rows), max((row.received_at for row in rows), default=None),
                        sorted(types.items(), key=lambda item: (-item[1], item[0])))


# --- location safety notes ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NoteView:
    id: int
    kind: str
    label: str
    question: str | None
    text: str
    observed_on: date
    author: str
    created_at: datetime
    expires_at: datetime
    meters: float


def notes_at(*, session: Session, lat: float, lon: float, now: datetime, rules: PlaceRules, reader: User,
             purpose: str, call_id: int | None = None) -> list[NoteView]:
    """The notes in force within the city's distance of the point, newest first; each is logged as read."""
    meters = rules.safety_notes.within_meters
    south, north, west, east = _box(lat, lon, meters)
    rows = session.execute(
        select(LocationNote, User.display_name, User.username).join(User, User.id == LocationNote.author_id)
        .where(LocationNote.lat.between(south, north), LocationNote.lon.between(west, east),
               LocationNote.ended_at.is_(None), LocationNote.expires_at > now)
        .order_by(LocationNote.observed_on.desc(), LocationNote.id.desc())).all()
    views = []
    for note, display_name, username in rows:
        distance = meters_between(lat, lon, note.lat, note.lon)
        if distance > meters:
            continue
        kind = rules.safety_notes.kinds.get(note.kind)
        views.append(NoteView(note.id, note.kind, kind.label if kind else note.kind.replace("_", " "),
                              kind.question if kind else None, note.text, note.observed_on,
                              display_name or username, note.created_at, note.expires_at, distance))
    log_access(session=session, kind=LOCATION_NOTE, subject_ids=[v.id for v in views], reader=reader,
               purpose=purpose, at=now, call_id=call_id)
    return views


def add_note(*, session: Session, lat: float, lon: float, address: str | None, kind: str, text: str,
             observed_on: date, days: int | None, author: User, now: datetime, rules: PlaceRules,
             call_id: int | None = None) -> LocationNote:
    """Write a safety note about a place; its text stays here (the event names its kind and expiry only)."""
    if kind not in rules.safety_notes.kinds:
        raise InvalidInput(f"not a kind of location note (known: {', '.join(rules.safety_notes.kinds)})",
                           field="kind")
    text = text.strip()
    if not text:
        raise InvalidInput("the note needs its words: what was seen or reported there", field="text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters", field="text")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("the note's place is not a point on the map", field="lat")
    if observed_on > now.date() + timedelta(days=1):
        raise InvalidInput("the date it was seen or reported is in the future", field="observed_on")
    days = rules.safety_notes.default_days if days is None else days
    if not 1 <= days <= rules.safety_notes.max_days:
        raise InvalidInput(f"a note lasts 1 to {rules.safety_notes.max_days} days", field="days")
    note = LocationNote(lat=lat, lon=lon, address=(address or "").strip()[:256] or None, kind=kind, text=text,
                        observed_on=observed_on, call_id=call_id, author_id=author.id, created_at=now,
                        expires_at=now + timedelta(days=days))
    session.add(note)
    session.flush()
    record_event(session=session, kind="location_note.added", subject_type="location_note", subject_id=note.id,
                 call_id=call_id, at=now, actor_id=author.id,
                 after={"kind": kind, "observed_on": observed_on.isoformat(), "expires_at": note.expires_at})
    return note


def end_note(*, session: Session, note_id: int, by: User, now: datetime) -> LocationNote:
    """End a note before its expiry (it no longer holds); ending it again changes nothing."""
    note = session.get(LocationNote, note_id)
    if note is None:
        raise NotFound("location note", note_id, field="note_id")
    if note.ended_at is None:
        note.ended_at, note.ended_by_id = now, by.id
        session.flush()
        record_event(session=session, kind="location_note.ended", subject_type="location_note", subject_id=note.id,
                     call_id=note.call_id, at=now, actor_id=by.id, after={"kind": note.kind})
    return note


def navigation_links(lat: float, lon: float, rules: PlaceRules) -> list[tuple[str, str]]:
    """Links that open the point in the phone's maps: ``geo:`` and the city's maps URL, coordinates only."""
    point = f"{lat:.6f},{lon:.6f}"
    links = [("Open in maps app", f"geo:{point}?q={point}")]
    if rules.navigation.url:
        links.insert(0, ("Navigate", rules.navigation.url.replace("{lat}", f"{lat:.6f}")
                         .replace("{lon}", f"{lon:.6f}")))
    return links
