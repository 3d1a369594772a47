"""The crosswalk suggester: map one CAD's raw call types to HEART's taxonomy (Vera category + incident type).

A suggestion for a call type never seen before combines two kinds of evidence:
- the rules of ``heart.crosswalk.rules`` (abbreviations spelled out, then keywords such as ALARM or SUICIDE);
- the nearest labelled call types of other cities, by TF-IDF cosine similarity over words and
  character 3/4-grams (written with numpy; no model is downloaded).
The incident type then comes from the call type's own words, under a safety guard: a call type that names
a weapon, violence or an officer in trouble, or whose category is Violent Crime / Domestic Violence /
Officer Needs Help, never gets an incident type an unarmed team is sent to (``heart.crosswalk.guard``: the types
the loaded policies send an unarmed team to).

A person reviews each suggestion (``heart crosswalk review``); the reviewed file is what intake reads
(``heart.crosswalk.mapper``), never a suggestion.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from heart.crosswalk.files import (
    CATEGORIES,
    CROSSWALK_COLUMNS,
    REVIEWED_STATUSES,
    SUGGESTION_COLUMNS,
    Crosswalk,
    CrosswalkEntry,
    CrosswalkError,
    LabelledCallType,
    Suggestion,
    default_crosswalk_dir,
    normalise_category,
    read_call_types,
    read_crosswalk,
    read_examples,
    read_review_input,
    read_suggestions,
    read_vera_call_types,
    write_crosswalk,
    write_suggestions,
)
from heart.crosswalk.guard import CRISIS_TYPES, CRISIS_WITH_VIOLENCE, unarmed_team_types
from heart.crosswalk.rules import (
    CATEGORY_DEFAULT_TYPES,
    CATEGORY_RULES,
    INCIDENT_TYPE_RULES,
    POLICE_CATEGORIES,
    Rule,
    danger_words,
    padded,
    plain_words,
)
from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER

_NEIGHBOURS = 8
_RULE_WEIGHT = 1.5
_DANGER_SHARE = 0.25  # neighbours' vote share for police categories that makes a suggestion cautious
_CAUTIOUS_CONFIDENCE = 0.5


class NgramIndex:
    """TF-IDF vectors of labelled call types, searched through an inverted index."""

    def __init__(self, documents: Sequence[tuple[str, ...]]) -> None:
        features = [self._features(words) for words in documents]
        frequency: Counter[str] = Counter()
        for feature in features:
            frequency.update(feature.keys())
        self.size = len(documents)
        self._idf = {key: math.log((1 + self.size) / (1 + n)) + 1 for key, n in frequency.items()}
        self._unseen_idf = math.log(1 + self.size) + 1
        rows: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, list[float]] = defaultdict(list)
        for row, feature in enumerate(features):
            for key, weight in self._vector(feature).items():
                rows[key].append(row)
                weights[key].append(weight)
        self._postings = {
            key: (np.array(rows[key], dtype=np.int32), np.array(weights[key], dtype=np.float64)) for key in rows
        }

    @staticmethod
    def _features(words: tuple[str, ...]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for word in words:
            counts["w:" + word] += 2
            text = f" {word} "
            for size in (3, 4):
                counts.update(text[i : i + size] for i in range(len(text) - size + 1))
        counts.update(f"b:{a} {b}" for a, b in pairwise(words))
        return counts

    def _vector(self, feature: Counter[str]) -> dict[str, float]:
        vector = {key: (1 + math.log(n)) * self._idf.get(key, self._unseen_idf) for key, n in feature.items()}
        norm = math.sqrt(sum(x * x for x in vector.values())) or 1.0
        return {key: x / norm for key, x in vector.items()}

    def similarities(self, words: tuple[str, ...]) -> np.ndarray:
        """Cosine similarity of the words to every indexed call type."""
        rows, weights = [], []
        for key, weight in self._vector(self._features(words)).items():
            if key in self._postings:
                posting_rows, posting_weights = self._postings[key]
                rows.append(posting_rows)
                weights.append(posting_weights * weight)
        if not rows:
            return np.zeros(self.size)
        return np.bincount(np.concatenate(rows), weights=np.concatenate(weights), minlength=self.size)


def _first_rule(rules: Iterable[Rule], words: tuple[str, ...]) -> Rule | None:
    text = padded(words)
    return next((rule for rule in rules if rule.pattern.search(text)), None)


def assign_incident_type(
    raw: str, category: str | None, *, cautious: bool = False, unarmed_types: frozenset[str] | None = None
) -> tuple[str, list[str]]:
    """The incident type for a raw call type of a known (or suggested) category, and why.

    The call type's own words decide; an incident type for an unarmed team (``unarmed_types``, by default those
    of the loaded policies) is refused when the words name danger, the category is a police category, or
    `cautious` is set (doubtful neighbours).
    """
    if unarmed_types is None:
        unarmed_types = unarmed_team_types()
    danger = danger_words(raw)
    refuse_unarmed = bool(danger) or category in POLICE_CATEGORIES or cautious
    evidence: list[str] = []
    text = padded(plain_words(raw, drop_negated=True))
    for rule in INCIDENT_TYPE_RULES:
        if not rule.pattern.search(text) or rule.target not in INCIDENT_TYPES:
            continue
        if refuse_unarmed and rule.target in unarmed_types:
            evidence.append(f"safety: not {rule.target} ({_why_cautious(danger, category)})")
            if rule.target in CRISIS_TYPES:
                return CRISIS_WITH_VIOLENCE, [*evidence, f"incident-type rule '{rule.name}', with danger"]
            continue
        return rule.target, [*evidence, f"incident-type rule '{rule.name}'"]
    fallback = CATEGORY_DEFAULT_TYPES.get(category or "", OTHER)
    return fallback, [*evidence, f"default incident type for {category or 'no category'}"]


def _why_cautious(danger: list[str], category: str | None) -> str:
    if danger:
        return "words: " + ", ".join(dict.fromkeys(danger))
    if category in POLICE_CATEGORIES:
        return f"category {category}"
    return "similar call types are violent"


class CrosswalkSuggester:
    """Suggests categories and incident types for raw call types, learning from labelled examples."""

    def __init__(
        self,
        examples: Iterable[LabelledCallType],
        *,
        use_rules: bool = True,
        unarmed_types: frozenset[str] | None = None,
    ) -> None:
        self.examples = [example for example in examples if example.category]
        self.use_rules = use_rules
        self.unarmed_types = unarmed_team_types() if unarmed_types is None else unarmed_types
        self._index = NgramIndex([plain_words(example.raw) for example in self.examples])
        categories: dict[str, set[str]] = defaultdict(set)
        for example in self.examples:
            categories[example.raw].add(example.category or "")
        self._reviewed = {  # call types written exactly so in a reviewed crosswalk, with one category everywhere
            example.raw: example for example in self.examples if len(categories[example.raw]) == 1
        }

    def suggest(self, raw: str, count: int | None = None) -> Suggestion:
        """The suggestion for one raw call type.

        A call type written exactly as in a reviewed crosswalk (and given one category wherever it appears) gets
        that category: a person already decided it. Its incident type still comes from its words, under the
        same safety guard as every other suggestion.
        """
        reviewed = self._reviewed.get(raw)
        if reviewed is not None and reviewed.category:
            incident_type, why = assign_incident_type(raw, reviewed.category, unarmed_types=self.unarmed_types)
            confidence = _CAUTIOUS_CONFIDENCE if any(line.startswith("safety:") for line in why) else 0.99
            reasons = (f"words: {' '.join(plain_words(raw)) or '(none)'}",
                       f"reviewed: the same call type in {reviewed.city}'s crosswalk ({reviewed.category})", *why)
            return Suggestion(raw, reviewed.category, incident_type, confidence, reasons, count)
        words = plain_words(raw)
        evidence = [f"words: {' '.join(words) or '(none)'}"]
        scores: dict[str, float] = defaultdict(float)
        neighbours = self._neighbours(words)
        votes: dict[str, float] = defaultdict(float)
        for example, similarity in neighbours:
            votes[example.category or ""] += similarity**3
        total_votes = sum(votes.values())
        closest = neighbours[0][1] if neighbours else 0.0
        for category, vote in votes.items():
            scores[category] += closest * vote / total_votes
        if neighbours:
            evidence.append(
                "neighbours: " + "; ".join(f"{e.raw} ({e.city}, {e.category}, {s:.2f})" for e, s in neighbours[:3])
            )
        rule = _first_rule(CATEGORY_RULES, plain_words(raw, drop_negated=True)) if self.use_rules else None
        if rule:
            scores[rule.target] += _RULE_WEIGHT * rule.strength
            evidence.append(f"category rule '{rule.name}' -> {rule.target}")
        if not scores:
            return Suggestion(raw, "Other (Not Crime)", OTHER, 0.0, (*evidence, "nothing similar known"), count)
        category = max(scores, key=lambda name: scores[name])
        confidence = scores[category] / (closest + (_RULE_WEIGHT * rule.strength if rule else 0.0))
        confidence *= min(1.0, 0.55 + 0.45 * max(closest, rule.strength if rule else 0.0))
        danger_share = sum(votes[name] for name in POLICE_CATEGORIES) / total_votes if total_votes else 0.0
        cautious = danger_share >= _DANGER_SHARE
        incident_type, why = assign_incident_type(raw, category, cautious=cautious, unarmed_types=self.unarmed_types)
        if any(line.startswith("safety:") for line in why):
            confidence = min(confidence, _CAUTIOUS_CONFIDENCE)
        confidence = min(confidence, 0.99)  # a suggestion is never certain
        return Suggestion(raw, category, incident_type, round(confidence, 3), (*evidence, *why), count)

    def _neighbours(self, words: tuple[str, ...]) -> list[tuple[LabelledCallType, float]]:
        if not self.examples or not words:
            return []
        similarities = self._index.similarities(words)
        top = np.argsort(-similarities, kind="stable")[:_NEIGHBOURS]
        return [(self.examples[i], float(similarities[i])) for i in top if similarities[i] > 0.05]

    def suggest_all(self, call_types: Iterable[tuple[str, int | None]]) -> list[Suggestion]:
        """Suggestions for (raw, count) pairs, most frequent first."""
        suggestions = [self.suggest(raw, count) for raw, count in call_types]
        return sorted(suggestions, key=lambda s: -(s.count or 0))


def is_unsafe(raw: str, human_category: str | None, incident_type: str) -> bool:
    """A call the loaded policies must not send an unarmed team to, mapped to a type they would."""
    dangerous = human_category in POLICE_CATEGORIES or bool(danger_words(raw))
    return dangerous and incident_type in unarmed_team_types()


def crosswalks_from_vera(path: Path) -> dict[str, list[CrosswalkEntry]]:
    """Per city of a Vera call-type file: the coders' categories with HEART incident types (`vera`);
    call types the coders left without a category get a suggestion learnt from all the others (`suggested`)."""
    rows = read_vera_call_types(path)
    suggester = CrosswalkSuggester(rows)
    crosswalks: dict[str, list[CrosswalkEntry]] = defaultdict(list)
    for row in rows:
        if row.category:
            incident_type, _ = assign_incident_type(row.raw, row.category)
            entry = CrosswalkEntry(row.raw, row.category, incident_type, row.count, "vera")
        else:
            suggestion = suggester.suggest(row.raw, row.count)
            entry = CrosswalkEntry(row.raw, suggestion.category, suggestion.incident_type, row.count, "suggested")
        crosswalks[row.city].append(entry)
    return dict(crosswalks)


@dataclass(frozen=True, slots=True)
class CityScore:
    """How suggestions trained on the other cities did on one city left out."""

    city: str
    call_types: int
    labelled_calls: int
    accuracy: float  # count-weighted, over call types a person gave a category
    behavioral_health_recall: float  # count-weighted
    unsafe_calls: int
    unsafe_call_types: int
    confident_share: float  # share of labelled calls suggested with confidence >= confident_at
    confident_accuracy: float
    seconds: float


def evaluate_leave_one_city_out(path: Path, *, use_rules: bool = True, confident_at: float = 0.9) -> list[CityScore]:
    """Score suggestions for each city of a Vera call-type file, trained on the other cities only."""
    rows = read_vera_call_types(path)
    scores = []
    for city in sorted({row.city for row in rows}):
        suggester = CrosswalkSuggester([row for row in rows if row.city != city], use_rules=use_rules)
        left_out = [row for row in rows if row.city == city]
        started = time.perf_counter()
        suggestions = [suggester.suggest(row.raw, row.count) for row in left_out]
        seconds = time.perf_counter() - started
        scores.append(_score(city, left_out, suggestions, seconds, confident_at))
    return scores


def _score(
    city: str, rows: list[LabelledCallType], suggestions: list[Suggestion], seconds: float, confident_at: float
) -> CityScore:
    tally: Counter[str] = Counter()
    unsafe_types = 0
    for row, suggestion in zip(rows, suggestions, strict=True):
        if is_unsafe(row.raw, row.category, suggestion.incident_type):
            tally["unsafe"] += row.count
            unsafe_types += 1
        if row.category is None:
            continue
        right = suggestion.category == row.category
        tally["labelled"] += row.count
        tally["right"] += row.count * right
        if row.category == "Behavioral Health":
            tally["bh"] += row.count
            tally["bh_right"] += row.count * right
        if suggestion.confidence >= confident_at:
            tally["confident"] += row.count
            tally["confident_right"] += row.count * right
    return CityScore(
        city=city,
        call_types=len(rows),
        labelled_calls=tally["labelled"],
        accuracy=tally["right"] / max(tally["labelled"], 1),
        behavioral_health_recall=tally["bh_right"] / max(tally["bh"], 1),
        unsafe_calls=tally["unsafe"],
        unsafe_call_types=unsafe_types,
        confident_share=tally["confident"] / max(tally["labelled"], 1),
        confident_accuracy=tally["confident_right"] / max(tally["confident"], 1),
        seconds=seconds,
    )


__all__ = [
    "CATEGORIES",
    "CROSSWALK_COLUMNS",
    "POLICE_CATEGORIES",
    "REVIEWED_STATUSES",
    "SUGGESTION_COLUMNS",
    "CityScore",
    "Crosswalk",
    "CrosswalkEntry",
    "CrosswalkError",
    "CrosswalkSuggester",
    "LabelledCallType",
    "Suggestion",
    "assign_incident_type",
    "crosswalks_from_vera",
    "danger_words",
    "default_crosswalk_dir",
    "evaluate_leave_one_city_out",
    "is_unsafe",
    "normalise_category",
    "read_call_types",
    "read_crosswalk",
    "read_examples",
    "read_review_input",
    "read_suggestions",
    "read_vera_call_types",
    "write_crosswalk",
    "write_suggestions",
]
