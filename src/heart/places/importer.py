"""``heart addresses import FILE``: the city's address points from a CSV file (columns ``address``, ``lat``,
``lon``, optional ``beat``; ``latitude``/``longitude`` are read too) or a GeoJSON FeatureCollection of Points
(property ``address``, optional ``beat``).

Each bad row is reported with its file, line (a GeoJSON feature's number) and field, and why — never its
value; the good rows are kept. Importing again is idempotent: an address is keyed by its standard form, so a
moved point or a new beat updates the row in place. A point without a beat gets the beat whose polygon holds it
(the city's beats.geojson), when there is one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.places.models import AddressPoint
from heart.places.normalise import Words, parse
from heart.places.shapes import beats_in

MAX_ADDRESS = 256
MAX_BEAT = 32


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, {self.field}: {self.reason}"


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    address: Any
    lat: Any
    lon: Any
    beat: Any


class AddressFileError(ValueError):
    """The file as a whole cannot be read (missing, not CSV/GeoJSON, no address column)."""


def _csv_rows(path: Path) -> Iterator[_Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = {name.strip().lower(): name for name in reader.fieldnames or []}
        if "address" not in columns:
            raise AddressFileError(f"{path}: no 'address' column (found: {', '.join(columns) or 'none'})")
        lat = columns.get("lat") or columns.get("latitude")
        lon = columns.get("lon") or columns.get("lng") or columns.get("longitude")
        if lat is None or lon is None:
            raise AddressFileError(f"{path}: needs 'lat' and 'lon' columns (or 'latitude' and 'longitude')")
        beat = columns.get("beat")
        for row in reader:
            yield _Row(reader.line_num, row.get(columns["address"]), row.get(lat), row.get(lon),
                       row.get(beat) if beat else None)


def _geojson_rows(path: Path) -> Iterator[_Row]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AddressFileError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise AddressFileError(f"{path}: not a GeoJSON FeatureCollection")
    for number, feature in enumerate(document.get("features") or [], 1):
        properties = (feature or {}).get("properties") or {}
        geometry = (feature or {}).get("geometry") or {}
        coordinates = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            coordinates = [None, None]
        yield _Row(number, properties.get("address"), coordinates[1], coordinates[0], properties.get("beat"))


def _number(value: Any, low: float, high: float) -> float | str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "is not a number" if value not in (None, "") else "is missing"
    if not low <= number <= high:
        return f"is outside {low:g}..{high:g}"
    return number


def read_rows(path: Path) -> Iterator[_Row]:
    if not path.is_file():
        raise AddressFileError(f"{path}: no such file")
    if path.suffix.lower() in (".geojson", ".json"):
        return _geojson_rows(path)
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    raise AddressFileError(f"{path}: not a .csv or .geojson file")


def import_addresses(*, session: Session, path: Path, words: Words, beats_file: Path | None,
                     now: datetime) -> ImportSummary:
    """Add or update the file's good address points (in the caller's transaction); report the bad rows."""
    summary = ImportSummary()
    beats = beats_in(beats_file) if beats_file is not None else ()
    existing = {point.key: point for point in session.scalars(select(AddressPoint))}
    seen: dict[str, int] = {}
    name = path.name
    for row in read_rows(path):
        address = str(row.address or "").strip()
        if not address:
            summary.rejects.append(Reject(name, row.line, "address", "is missing"))
            continue
        if len(address) > MAX_ADDRESS:
            summary.rejects.append(Reject(name, row.line, "address", f"is longer than {MAX_ADDRESS} characters"))
            continue
        parsed = parse(address, words)
        if not parsed.name:
            summary.rejects.append(Reject(name, row.line, "address", "names no street"))
            continue
        lat, lon = _number(row.lat, -90, 90), _number(row.lon, -180, 180)
        if isinstance(lat, str):
            summary.rejects.append(Reject(name, row.line, "lat", lat))
            continue
        if isinstance(lon, str):
            summary.rejects.append(Reject(name, row.line, "lon", lon))
            continue
        beat = str(row.beat).strip() if row.beat not in (None, "") else None
        if beat is not None and len(beat) > MAX_BEAT:
            summary.rejects.append(Reject(name, row.line, "beat", f"is longer than {MAX_BEAT} characters"))
            continue
        if beat is None:
            beat = next((b.code for b in beats if b.contains(lat, lon)), None)
        key = parsed.key
        if key in seen:
            summary.rejects.append(Reject(name, row.line, "address",
                                          f"is the same address as line {seen[key]} (kept that one)"))
            continue
        seen[key] = row.line
        point = existing.get(key)
        if point is None:
            point = AddressPoint(key=key, address=address, number=parsed.number, street=parsed.street, lat=lat,
                                 lon=lon, beat=beat, source=name[:256], imported_at=now)
            session.add(point)
            existing[key] = point
            summary.added += 1
        elif (point.address, point.lat, point.lon, point.beat) != (address, lat, lon, beat):
            point.address, point.lat, point.lon, point.beat = address, lat, lon, beat
            point.source, point.imported_at = name[:256], now
            summary.updated += 1
        else:
            summary.unchanged += 1
    session.flush()
    return summary
