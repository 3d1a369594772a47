"""THE mapper: from a call type (a CAD's nature code, or what a call-taker typed) to HEART's incident type.

Every intake path uses it — the call-taker's screen, the JSON API, NENA EIDO documents, CAD history imports and
policy replays — so one nature code always means one incident type. The order of evidence, first that answers:

1. a reviewed crosswalk file (``cad/crosswalks/<name>.csv``, ``heart.crosswalk.files``) when a CAD's import
   profile names one;
2. the crosswalk's incident-type rules (``heart.crosswalk.rules``), under the safety guard (``heart.crosswalk.guard``);
3. the phrases of the call-type words file (the city's ``crosswalks/call_type_words.yaml``), under the same guard.

The guard: a call type whose words name danger (a weapon, violence, an overdose, a threat to life) never gets an
incident type an unarmed team is sent to; a crisis becomes "crisis with a weapon or violence". The danger itself is
reported too (``NatureMapping.danger``), so that a policy can count it as a "yes" to its exclusions.

A call type none of these knows has no incident type — "unknown type" — whatever a suggester might guess: the
closest types are *offered* (``heart.crosswalk.reading.suggest_types``) for a person to pick, never applied silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from heart.crosswalk.files import available_crosswalks, default_crosswalk_dir, read_crosswalk
from heart.crosswalk.guard import refused_for_danger
from heart.crosswalk.rules import danger_kinds, danger_words
from heart.crosswalk.suggester import assign_incident_type
from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER
from heart.crosswalk.words import call_type_words


@dataclass(frozen=True, slots=True)
class NatureMapping:
    """What a nature code means in HEART's taxonomy, where that came from, and the danger its words name."""

    incident_type: str | None
    category: str | None
    source: str  # "crosswalk:<name>", "words" or "unknown"
    danger: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Kinds of danger the words name (weapon, violence, overdose, threat_to_life) -> the words."""
    evidence: str | None = None
    """Which rule or phrase gave the type, in plain words."""

    @property
    def known(self) -> bool:
        return self.incident_type is not None


UNKNOWN = NatureMapping(None, None, "unknown")


class NatureCodeMapper:
    """Callable: nature code -> NatureMapping, remembered per distinct code (a CAD has a few hundred)."""

    def __init__(
        self,
        *,
        crosswalk: Callable[[str], tuple[str | None, str] | None] | None = None,
        crosswalk_name: str | None = None,
    ) -> None:
        self._crosswalk, self._crosswalk_name = crosswalk, crosswalk_name
        self._cache: dict[str, NatureMapping] = {}

    def __call__(self, nature_code: str | None) -> NatureMapping:
        if not nature_code or not nature_code.strip():
            return UNKNOWN
        found = self._cache.get(nature_code)
        if found is None:
            found = self._map(nature_code)
            if len(self._cache) < 100_000:  # stop growing on garbage input
                self._cache[nature_code] = found
        return found

    def incident_type(self, nature_code: str) -> str | None:
        """Just the incident type (a ``NatureCodeResolver``)."""
        return self(nature_code).incident_type

    def _map(self, code: str) -> NatureMapping:
        danger = danger_kinds(code)
        if self._crosswalk is not None:
            entry = self._crosswalk(code)
            if entry is not None:
                category, incident_type = entry
                return NatureMapping(incident_type, category or _category_of(incident_type),
                                     f"crosswalk:{self._crosswalk_name}", danger, "a reviewed crosswalk row")
        found, evidence = words_type(code)
        if found is None:
            return NatureMapping(None, None, "unknown", danger)
        return NatureMapping(found, _category_of(found), "words", danger, evidence)


def words_type(code: str) -> tuple[str | None, str | None]:
    """The incident type the words of ``code`` name (rules, then phrases), under the safety guard; None if none."""
    incident_type, why = assign_incident_type(code, None)
    if incident_type != OTHER and why and why[-1].startswith("incident-type rule"):
        return incident_type, why[-1]
    phrase = call_type_words().resolve_phrase(code)
    if phrase is None:
        return None, None
    if danger_words(code):
        allowed = refused_for_danger(phrase)
        if allowed is None:
            return None, None  # the phrase alone would send an unarmed team; the danger words forbid it
        if allowed != phrase:
            return allowed, "a crisis phrase, with words that name danger"
    return phrase, "a phrase of the call-type words"


def _category_of(incident_type: str | None) -> str | None:
    known = INCIDENT_TYPES.get(incident_type or "")
    return known.category if known else None


def nature_mapper(*, crosswalk: str | None = None) -> NatureCodeMapper:
    """The mapper for a CAD: its reviewed crosswalk (if named), then the crosswalk's rules and phrases."""
    if crosswalk is None:
        return live_mapper()
    return NatureCodeMapper(crosswalk=_reviewed_crosswalk(crosswalk), crosswalk_name=crosswalk)


@lru_cache(maxsize=1)
def live_mapper() -> NatureCodeMapper:
    """The mapper of calls that arrive one at a time (screen, API, EIDO) and of replays: no CAD crosswalk."""
    return NatureCodeMapper()


def resolve_nature_code(nature_code: str) -> str | None:
    """The incident type of a nature code, as every intake path reads it."""
    return live_mapper().incident_type(nature_code)


class CrosswalkNotFound(LookupError):
    """A profile names a crosswalk file that does not exist."""


def _reviewed_crosswalk(name: str) -> Callable[[str], tuple[str | None, str] | None]:
    known = available_crosswalks()
    if name not in known:  # chosen from the reviewed set, never read as a path
        raise CrosswalkNotFound(f"there is no reviewed crosswalk named {name!r} in {default_crosswalk_dir()} "
                                f"(known: {', '.join(known) or 'none'})")
    crosswalk = read_crosswalk(default_crosswalk_dir() / f"{name}.csv")

    def lookup(code: str) -> tuple[str | None, str] | None:
        entry = crosswalk.lookup(code)
        return (entry.category, entry.incident_type) if entry else None

    return lookup
