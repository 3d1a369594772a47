"""From a call type (a CAD's nature code, or what a call-taker typed) to HEART's incident type: the one resolver.

Every intake path uses it — the call-taker's screen, the JSON API, NENA EIDO documents, CAD history imports and
policy replays — so one nature code always means one incident type. The order of evidence, first that answers:

1. a reviewed crosswalk file (``policies/crosswalks/<name>.csv``) when a CAD's import profile names one;
2. the crosswalk's incident-type rules (``heart.triage.crosswalk_rules``), under the safety guard;
3. the phrases of the call-type words file (``policies/crosswalks/call_type_words.yaml``), under the same guard.

The guard: a call type whose words name danger (a weapon, violence, an overdose, a threat to life) never gets an
incident type an unarmed team is sent to; a crisis becomes "crisis with a weapon or violence". The danger itself is
reported too (``NatureMapping.danger``), so that a policy can count it as a "yes" to its exclusions.

A call type none of these knows has no incident type — "unknown type" — whatever a suggester might guess: the
closest types are *offered* (``suggest_types``) for a person to pick, never applied silently.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from heart.triage.taxonomy import INCIDENT_TYPES, OTHER

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class TypeSuggestion:
    """An incident type offered for a call type nothing matched, with a confidence in [0, 1]."""

    incident_type: str
    label: str
    confidence: float


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
        from heart.triage.crosswalk_rules import danger_kinds

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
    from heart.triage.crosswalk import CRISIS_TYPES, CRISIS_WITH_VIOLENCE, UNARMED_TEAM_TYPES, assign_incident_type
    from heart.triage.crosswalk_rules import danger_words
    from heart.triage.crosswalk_words import call_type_words

    incident_type, why = assign_incident_type(code, None)
    if incident_type != OTHER and why and why[-1].startswith("incident-type rule"):
        return incident_type, why[-1]
    phrase = call_type_words().resolve_phrase(code)
    if phrase is None:
        return None, None
    if phrase in UNARMED_TEAM_TYPES and danger_words(code):
        if phrase in CRISIS_TYPES:
            return CRISIS_WITH_VIOLENCE, "a crisis phrase, with words that name danger"
        return None, None  # the phrase alone would send an unarmed team; the danger words forbid it
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
    from heart.triage.crosswalk_files import available_crosswalks, default_crosswalk_dir, read_crosswalk

    known = available_crosswalks()
    if name not in known:  # chosen from the reviewed set, never read as a path
        raise CrosswalkNotFound(f"there is no reviewed crosswalk named {name!r} in {default_crosswalk_dir()} "
                                f"(known: {', '.join(known) or 'none'})")
    crosswalk = read_crosswalk(default_crosswalk_dir() / f"{name}.csv")

    def lookup(code: str) -> tuple[str | None, str] | None:
        entry = crosswalk.lookup(code)
        return (entry.category, entry.incident_type) if entry else None

    return lookup


# --- suggestions for a call type nothing matched ------------------------------------------------------------

_SUGGESTIONS = 4
_NEIGHBOURS = 12


class _TypeSuggester:
    """Nearest described call types (phrases, plain descriptions, type labels) by TF-IDF similarity."""

    def __init__(self, examples: list[tuple[str, str]]) -> None:
        from heart.triage.crosswalk import NgramIndex
        from heart.triage.crosswalk_rules import plain_words

        self._types = [incident_type for incident_type, _ in examples]
        self._index = NgramIndex([plain_words(text, keep_filler=False) for _, text in examples])
        self._plain_words = plain_words

    def suggest(self, raw: str, count: int) -> list[TypeSuggestion]:
        from heart.triage.crosswalk import CRISIS_TYPES, CRISIS_WITH_VIOLENCE, UNARMED_TEAM_TYPES
        from heart.triage.crosswalk_rules import danger_words

        words = self._plain_words(raw)
        if not words:
            return []
        similarities = self._index.similarities(words)
        order = sorted(range(len(similarities)), key=lambda i: -similarities[i])[:_NEIGHBOURS]
        dangerous = bool(danger_words(raw))
        votes: dict[str, float] = defaultdict(float)
        for i in order:
            similarity = float(similarities[i])
            if similarity <= 0.05:
                continue
            incident_type = self._types[i]
            if dangerous and incident_type in UNARMED_TEAM_TYPES:  # the same guard as every mapping
                if incident_type not in CRISIS_TYPES:
                    continue
                incident_type = CRISIS_WITH_VIOLENCE
            votes[incident_type] = max(votes[incident_type], similarity)
        ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0]))[:count]
        return [TypeSuggestion(t, INCIDENT_TYPES[t].label, round(min(_confidence(s), 0.99), 2)) for t, s in ranked]


def _confidence(similarity: float) -> float:
    """A similarity of 0.6 or more is a strong likeness; the scale is bent so that weak ones stay low."""
    return 1 - math.exp(-2.5 * similarity)


@lru_cache(maxsize=4)
def _suggester(path: Path, stamp: int) -> _TypeSuggester:
    from heart.triage.crosswalk_words import call_type_words

    words = call_type_words(path.parent)
    examples = [(type_id, text) for table in (words.phrases, words.described_as)
                for type_id, texts in table.items() for text in texts]
    examples += [(type_id, kind.label) for type_id, kind in INCIDENT_TYPES.items() if type_id != OTHER]
    return _TypeSuggester(examples)


def suggest_types(raw: str | None, count: int = _SUGGESTIONS) -> list[TypeSuggestion]:
    """The incident types closest to a call type in plain words, most likely first (empty for no words)."""
    from heart.triage.crosswalk_words import words_path

    if not raw or not raw.strip():
        return []
    path = words_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return []
    return _suggester(path, stamp).suggest(raw, count)
