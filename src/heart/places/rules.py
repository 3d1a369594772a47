"""The city's rules for places, read from its configuration (``places.yaml``): how typed addresses are read and
how sure a match must be to be placed on a call by itself, the distance and time that make a new call a possible
duplicate of an open one, how far and how far back a place's history reaches, the kinds of location safety note
(and the screening question each sits beside), who on a crew sees the caller's callback number, and the
navigation link a responder gets. Code holds the mechanisms; every distance, word and choice is here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heart.config import Settings, get_settings
from heart.places.normalise import Words
from heart.yamlfile import read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Geocoding(_Strict):
    minimum_confidence: float = Field(default=0.75, ge=0, le=1,
                                      description="a match below this is offered, never placed by itself")
    abbreviations: dict[str, str] = Field(default_factory=dict, description="the city's own: word -> standard form")
    closing_words: list[str] = Field(default_factory=list, description="words that end an address: city, state")

    @property
    def words(self) -> Words:
        return Words({k.upper(): v.upper() for k, v in self.abbreviations.items()},
                     frozenset(w.upper() for w in self.closing_words))


class Duplicates(_Strict):
    within_meters: float = Field(default=150, gt=0, le=5000)
    within_minutes: float = Field(default=60, gt=0, le=24 * 60)


class History(_Strict):
    within_meters: float = Field(default=40, gt=0, le=1000)
    years: float = Field(default=3, gt=0, le=20)


class NoteKind(_Strict):
    label: str = Field(min_length=1, max_length=80)
    question: str | None = Field(default=None, max_length=64,
                                 description="the screening question the note is shown beside")


class SafetyNotes(_Strict):
    within_meters: float = Field(default=40, gt=0, le=1000)
    default_days: int = Field(default=365, gt=0, le=3650)
    max_days: int = Field(default=730, gt=0, le=3650)
    kinds: dict[str, NoteKind] = Field(min_length=1)


class Caller(_Strict):
    responder_sees_callback: bool = False


class Navigation(_Strict):
    url: str = Field(default="", max_length=256,
                     description="a maps link template with {lat} and {lon}; empty: the geo: link only")


class PlaceRules(_Strict):
    geocoding: Geocoding = Field(default_factory=Geocoding)
    duplicates: Duplicates = Field(default_factory=Duplicates)
    history: History = Field(default_factory=History)
    safety_notes: SafetyNotes
    caller: Caller = Field(default_factory=Caller)
    navigation: Navigation = Field(default_factory=Navigation)


def load_place_rules(path: Path) -> PlaceRules:
    """Read and check ``places.yaml``; a mistake names the file, the line and why."""
    located = read_yaml(path)
    try:
        return PlaceRules.model_validate(located.data or {})
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        raise located.error(location, f"{'.'.join(str(p) for p in location)}: {first['msg']}") from None


@lru_cache(maxsize=4)
def _cached(path: Path, stamp: float) -> PlaceRules:
    return load_place_rules(path)


def place_rules(settings: Settings | None = None) -> PlaceRules:
    """The configured city's rules (read again when the file changes)."""
    path = (settings or get_settings()).places_file
    return _cached(path, path.stat().st_mtime)
