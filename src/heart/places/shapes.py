"""The city's map layers (GeoJSON): its outline and its beats. A beat polygon also names the beat of a point
(a dragged pin, an imported address without one). Read once per file version; a broken file names itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

Ring = list[tuple[float, float]]  # (lon, lat) pairs, as GeoJSON writes them


class MapFileError(ValueError):
    """A map layer that cannot be read; the message names the file and why."""


@dataclass(frozen=True, slots=True)
class Beat:
    code: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: its outer ring, then its holes

    def contains(self, lat: float, lon: float) -> bool:
        for rings in self.polygons:
            if rings and _inside(rings[0], lon, lat) and not any(_inside(hole, lon, lat) for hole in rings[1:]):
                return True
        return False


def _inside(ring: Ring, x: float, y: float) -> bool:
    """Even-odd rule: does a ray from the point cross the ring an odd number of times?"""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def read_geojson(path: Path) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (or an empty one when the city gives no file)."""
    if not path.is_file():
        return {"type": "FeatureCollection", "features": []}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MapFileError(f"{path}: not a readable GeoJSON file ({type(error).__name__})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise MapFileError(f"{path}: not a GeoJSON FeatureCollection")
    return document


@lru_cache(maxsize=8)
def _beats(path: Path, stamp: float) -> tuple[Beat, ...]:
    beats = []
    for index, feature in enumerate(read_geojson(path).get("features") or []):
        properties = feature.get("properties") or {}
        code = properties.get("beat")
        geometry = feature.get("geometry") or {}
        if not code:
            raise MapFileError(f"{path}: feature {index} has no 'beat' property")
        if geometry.get("type") == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            raise MapFileError(f"{path}: feature {index} (beat {code}) is not a Polygon or MultiPolygon")
        beats.append(Beat(str(code), tuple(tuple([(float(x), float(y)) for x, y, *_ in ring] for ring in polygon)
                                           for polygon in polygons)))
    return tuple(beats)


def beats_in(path: Path) -> tuple[Beat, ...]:
    return _beats(path, path.stat().st_mtime if path.is_file() else 0.0)


def beat_at(path: Path, lat: float, lon: float) -> str | None:
    """The beat whose polygon holds the point, or None."""
    for beat in beats_in(path):
        if beat.contains(lat, lon):
            return beat.code
    return None
