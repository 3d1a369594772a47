"""How a screen reads a call type: THE mapper's answer, the danger its words name, and — only while the type is
unknown — the closest incident types, offered for a person to pick (never applied silently).

The offers come from the call-type words file (phrases and plain descriptions, ``heart.crosswalk.words``) and the
taxonomy's labels, by TF-IDF similarity, under the same safety guard as every mapping (``heart.crosswalk.guard``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from heart.crosswalk.guard import refused_for_danger
from heart.crosswalk.mapper import live_mapper
from heart.crosswalk.rules import danger_words, plain_words
from heart.crosswalk.suggester import NgramIndex
from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER
from heart.crosswalk.words import call_type_words, words_path

_SUGGESTIONS = 4
_NEIGHBOURS = 12


@dataclass(frozen=True, slots=True)
class TypeSuggestion:
    """An incident type offered for a call type nothing matched, with a confidence in [0, 1]."""

    incident_type: str
    label: str
    confidence: float


@dataclass(frozen=True, slots=True)
class CallTypeReading:
    """How the screen reads the call type: the type (or unknown), why, the danger its words name, suggestions."""

    incident_type: str | None
    chosen: bool
    """True when a person picked the type (rather than the words naming it)."""
    danger: dict[str, tuple[str, ...]]
    suggestions: list[TypeSuggestion]
    blank: bool = False
    """Nothing typed yet."""

    @property
    def label(self) -> str | None:
        return INCIDENT_TYPES[self.incident_type].label if self.incident_type in INCIDENT_TYPES else None

    @property
    def says(self) -> str:
        """'weapon (KNIFE); violence (FIGHT)'."""
        return "; ".join(f"{kind.replace('_', ' ')} ({', '.join(words)})" for kind, words in self.danger.items())


def read_call_type(nature_code: str | None, incident_type: str | None) -> CallTypeReading:
    """THE mapper's reading of what is on screen; suggestions only while the type is unknown."""
    mapping = live_mapper()(nature_code)
    if incident_type in INCIDENT_TYPES:
        return CallTypeReading(incident_type, incident_type != mapping.incident_type, dict(mapping.danger), [])
    suggestions = [] if mapping.known else suggest_types(nature_code)
    return CallTypeReading(mapping.incident_type, False, dict(mapping.danger), suggestions,
                           blank=not (nature_code or "").strip())


class _TypeSuggester:
    """Nearest described call types (phrases, plain descriptions, type labels) by TF-IDF similarity."""

    def __init__(self, examples: list[tuple[str, str]]) -> None:
        self._types = [incident_type for incident_type, _ in examples]
        self._index = NgramIndex([plain_words(text, keep_filler=False) for _, text in examples])

    def suggest(self, raw: str, count: int) -> list[TypeSuggestion]:
        words = plain_words(raw)
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
            incident_type = refused_for_danger(self._types[i]) if dangerous else self._types[i]
            if incident_type is None:  # the same guard as every mapping
                continue
            votes[incident_type] = max(votes[incident_type], similarity)
        ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0]))[:count]
        return [TypeSuggestion(t, INCIDENT_TYPES[t].label, round(min(_confidence(s), 0.99), 2)) for t, s in ranked]


def _confidence(similarity: float) -> float:
    """A similarity of 0.6 or more is a strong likeness; the scale is bent so that weak ones stay low."""
    return 1 - math.exp(-2.5 * similarity)


@lru_cache(maxsize=4)
def _suggester(path: Path, stamp: int) -> _TypeSuggester:
    words = call_type_words(path.parent)
    examples = [(type_id, text) for table in (words.phrases, words.described_as)
                for type_id, texts in table.items() for text in texts]
    examples += [(type_id, kind.label) for type_id, kind in INCIDENT_TYPES.items() if type_id != OTHER]
    return _TypeSuggester(examples)


def suggest_types(raw: str | None, count: int = _SUGGESTIONS) -> list[TypeSuggestion]:
    """The incident types closest to a call type in plain words, most likely first (empty for no words)."""
    if not raw or not raw.strip():
        return []
    path = words_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return []
    return _suggester(path, stamp).suggest(raw, count)
