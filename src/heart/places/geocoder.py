"""From a typed address to a point: a ``Geocoder`` answers the likeliest address points with a confidence.

``LocalGeocoder`` (the default) matches against the city's own address points (``heart addresses import``): the
typed text is read into house number and street parts (``heart.places.normalise``), every street is scored by the
similarity of its name (an edit distance that counts a swap of two letters as one typo) and whether its direction
and suffix agree, then the house number is looked up on the likeliest streets — exact, else the nearest number
on that street, for a little less confidence. ``UrlGeocoder`` asks an outside service (a Nominatim-style search
URL, off unless ``HEART_GEOCODER_URL`` is set) and is used only when the city's points find nothing sure.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import httpx

from heart.places.normalise import NO_WORDS, SUFFIXES, Parsed, Words, parse

log = logging.getLogger(__name__)
CANDIDATE_STREETS = 6
_SUFFIX_FORMS = frozenset(SUFFIXES) | frozenset(SUFFIXES.values())


@dataclass(frozen=True, slots=True)
class Match:
    """One answer: the address as the city writes it, where it is, its beat, and how sure the match is (0–1)."""

    address: str
    lat: float
    lon: float
    beat: str | None
    confidence: float
    source: str = "city"
    exact: bool = False


class Geocoder(Protocol):
    """Likeliest address points for ``text``, surest first."""

    def lookup(self, text: str, limit: int = 5) -> list[Match]: ...


@dataclass(frozen=True, slots=True)
class Point:
    address: str
    number: int | None
    lat: float
    lon: float
    beat: str | None


@dataclass
class _Street:
    key: str
    parsed: Parsed
    numbers: list[int] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    unnumbered: list[Point] = field(default_factory=list)


def similarity(a: str, b: str) -> float:
    """1 − (optimal string alignment distance ÷ the longer length): a swap of two letters is one typo."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return 1.0 - rows[-1][-1] / max(len(a), len(b))


class AddressIndex:
    """The city's address points by street, for matching (built once per set of points)."""

    def __init__(self, points: Iterable[Point], words: Words = NO_WORDS) -> None:
        self.words = words
        streets: dict[str, _Street] = {}
        for point in points:
            parsed = parse(point.address, words)
            if point.number != parsed.number:
                point = Point(point.address, parsed.number, point.lat, point.lon, point.beat)
            street = streets.setdefault(parsed.street, _Street(parsed.street, parsed))
            if parsed.number is None:
                street.unnumbered.append(point)
            else:
                street.points.append(point)
        for street in streets.values():
            street.points.sort(key=lambda p: p.number or 0)
            street.numbers = [p.number or 0 for p in street.points]
        self.streets = list(streets.values())
        self.by_name: dict[str, list[_Street]] = defaultdict(list)
        for street in self.streets:
            self.by_name[street.parsed.name].append(street)
        self.size = sum(len(s.points) + len(s.unnumbered) for s in self.streets)

    def lookup(self, text: str, limit: int = 5) -> list[Match]:
        query = _repair(parse(text, self.words))
        if not query.name:
            return []
        name_scores: dict[str, float] = {}
        for name in self.by_name:
            name_scores[name] = _name_similarity(query.name, name)
        scored = []
        for street in self.streets:
            score = name_scores[street.parsed.name]
            if score < 0.5:
                continue
            scored.append((score - _part_penalty(query, street.parsed), street))
        scored.sort(key=lambda item: -item[0])
        matches: list[Match] = []
        for score, street in scored[:CANDIDATE_STREETS]:
            matches.extend(_numbered(query, street, score))
        matches.sort(key=lambda m: (-m.confidence, m.address))
        seen: set[str] = set()
        unique = []
        for match in matches:
            if match.address not in seen:
                seen.add(match.address)
                unique.append(match)
        return unique[:limit]


def _repair(query: Parsed) -> Parsed:
    """A misspelt suffix ("Stret", "Avnue") left at the end of the name is read as the suffix it is closest to."""
    if query.suffix or " " not in query.name:
        return query
    head, _, last = query.name.rpartition(" ")
    best = max(_SUFFIX_FORMS, key=lambda form: similarity(last, form))
    if len(last) >= 4 and similarity(last, best) >= 0.6:
        return Parsed(query.number, query.predir, head, SUFFIXES[best], query.postdir)
    return query


def _name_similarity(typed: str, name: str) -> float:
    """How alike two street names are; spaces do not count ("Mc Dougald" is "McDougald")."""
    return similarity(typed.replace(" ", ""), name.replace(" ", ""))


def _part_penalty(query: Parsed, street: Parsed) -> float:
    """A direction or suffix that disagrees costs more than one left out."""
    penalty = 0.0
    for typed, real in ((query.predir, street.predir), (query.postdir, street.postdir)):
        if typed and real and typed != real:
            penalty += 0.15
        elif typed and not real:
            penalty += 0.08
        elif real and not typed:
            penalty += 0.03
    if query.suffix and street.suffix and query.suffix != street.suffix:
        penalty += 0.1
    elif query.suffix and not street.suffix:
        penalty += 0.05
    elif street.suffix and not query.suffix:
        penalty += 0.02
    return penalty


def _numbered(query: Parsed, street: _Street, score: float) -> list[Match]:
    """The street's point at the typed number (exact, else the nearest numbers on either side)."""
    if not street.points:
        return [Match(p.address, p.lat, p.lon, p.beat, _clamp(score - 0.1)) for p in street.unnumbered[:1]]
    if query.number is None:
        middle = street.points[len(street.points) // 2]
        return [Match(middle.address, middle.lat, middle.lon, middle.beat, _clamp(score - 0.15))]
    at = bisect.bisect_left(street.numbers, query.number)
    if at < len(street.numbers) and street.numbers[at] == query.number:
        point = street.points[at]
        return [Match(point.address, point.lat, point.lon, point.beat, _clamp(score), exact=score >= 0.999)]
    out = []
    lowest, highest = street.numbers[0], street.numbers[-1]
    below = _same_side(street.numbers, at - 1, -1, query.number)
    for index in (below, _same_side(street.numbers, at, 1, query.number)):
        if 0 <= index < len(street.points):
            point = street.points[index]
            gap = abs((point.number or 0) - query.number)
            inside = lowest <= query.number <= highest
            out.append(Match(point.address, point.lat, point.lon, point.beat,
                             _clamp(score - (0.05 if inside else 0.2) - min(gap, 100) / 1000)))
    return out


def _same_side(numbers: list[int], start: int, step: int, number: int) -> int:
    """From ``start`` in direction ``step``, the first number on the same side of the street (odd or even) as
    ``number``, within a few; else ``start`` itself."""
    index = start
    for _ in range(12):
        if not 0 <= index < len(numbers):
            break
        if numbers[index] % 2 == number % 2:
            return index
        index += step
    return start


def _clamp(value: float) -> float:
    return round(min(max(value, 0.0), 1.0), 3)


class UrlGeocoder:
    """An outside geocoding service: ``url`` is a template with ``{query}`` answering Nominatim's JSON (a list of
    objects with ``lat``, ``lon``, ``display_name`` and ``importance``). Off by default; a failure answers nothing."""

    def __init__(self, url: str, *, timeout: float = 3.0, client: httpx.Client | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.client = client

    def lookup(self, text: str, limit: int = 5) -> list[Match]:
        target = self.url.replace("{query}", quote(text, safe=""))
        try:
            if self.client is not None:
                answer = self.client.get(target, timeout=self.timeout)
            else:
                answer = httpx.get(target, timeout=self.timeout, headers={"User-Agent": "HEART geocoder"})
            answer.raise_for_status()
            rows = json.loads(answer.text)
        except (httpx.HTTPError, ValueError) as error:
            log.warning("the outside geocoder did not answer (%s)", type(error).__name__)  # never the address
            return []
        matches = []
        for row in rows if isinstance(rows, list) else []:
            try:
                matches.append(Match(str(row.get("display_name", ""))[:256], float(row["lat"]), float(row["lon"]),
                                     None, _clamp(float(row.get("importance", 0.5))), source="service"))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        return matches[:limit]


class ChainGeocoder:
    """The city's points first; the outside service only when they find nothing at least ``sure`` confident."""

    def __init__(self, geocoders: Sequence[Geocoder], *, sure: float) -> None:
        self.geocoders = geocoders
        self.sure = sure

    def lookup(self, text: str, limit: int = 5) -> list[Match]:
        found: list[Match] = []
        for geocoder in self.geocoders:
            found.extend(geocoder.lookup(text, limit))
            if found and max(m.confidence for m in found) >= self.sure:
                break
        found.sort(key=lambda m: -m.confidence)
        return found[:limit]
