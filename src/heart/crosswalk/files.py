"""Crosswalk records and their files: Vera call-type tables, a CAD's call types, suggestions, crosswalks.

A reviewed crosswalk is a CSV under version control (`cad/crosswalks/<city>.csv`) with the columns
`raw,category,incident_type,count,status`; `status` says who decided: `vera` (category from the Vera
Institute coders, incident type from HEART's rules), `accepted` / `corrected` (a person in
`heart crosswalk review`), `auto-accepted` (confident suggestion accepted without a look) or `suggested`
(nobody has looked yet).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from heart.city.folder import CAD_DIR, city_part
from heart.crosswalk.taxonomy import INCIDENT_TYPES, VERA_CATEGORIES

# The Vera coders spelled some categories two ways (Charleston writes "Traffic" and "Assist the Public").
CATEGORY_ALIASES = {
    "Traffic": "Accidents/Traffic Safety",
    "Assist the Public": "Assisting the Public",
    "Medical": "Medical Emergencies",
    "Warrant": "Warrants",
}
CATEGORIES: tuple[str, ...] = tuple(
    sorted({CATEGORY_ALIASES.get(name, name) for name in VERA_CATEGORIES} | {"Status Offenses"})
)
SUGGESTION_COLUMNS = ("raw", "category", "incident_type", "confidence", "evidence")
CROSSWALK_COLUMNS = ("raw", "category", "incident_type", "count", "status")
REVIEWED_STATUSES = frozenset({"accepted", "corrected", "auto-accepted", "vera"})


class CrosswalkError(ValueError):
    """A crosswalk or call-type file a person must fix; the message names the file, line and column."""


def normalise_category(name: str | None) -> str | None:
    """A category in its canonical Vera spelling (None when empty); raises ValueError when unknown."""
    text = (name or "").strip()
    if not text:
        return None
    text = CATEGORY_ALIASES.get(text, text)
    for category in CATEGORIES:
        if category.lower() == text.lower():
            return category
    raise ValueError(f"unknown category {name!r}; expected one of: {', '.join(CATEGORIES)}")


@dataclass(frozen=True, slots=True)
class LabelledCallType:
    """One raw call type of one city, with its call count and the category a person gave it (or None)."""

    city: str
    raw: str
    count: int
    category: str | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested mapping for one raw call type, with a confidence in [0, 1] and why."""

    raw: str
    category: str
    incident_type: str
    confidence: float
    evidence: tuple[str, ...] = ()
    count: int | None = None

    def as_row(self) -> dict[str, str]:
        """The CSV row (`SUGGESTION_COLUMNS`)."""
        return {
            "raw": self.raw,
            "category": self.category,
            "incident_type": self.incident_type,
            "confidence": f"{self.confidence:.2f}",
            "evidence": " | ".join(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    """One line of a reviewed crosswalk file."""

    raw: str
    category: str | None
    incident_type: str
    count: int | None = None
    status: str = "accepted"


def _key(raw: str) -> str:
    return " ".join(raw.upper().split())


@dataclass
class Crosswalk:
    """A city's crosswalk; calling it with a nature code gives the incident type (a NatureCodeResolver)."""

    entries: list[CrosswalkEntry]
    _by_key: dict[str, CrosswalkEntry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {_key(entry.raw): entry for entry in self.entries}

    def lookup(self, nature_code: str) -> CrosswalkEntry | None:
        """The entry for a nature code, ignoring case and repeated spaces."""
        return self._by_key.get(_key(nature_code))

    def __call__(self, nature_code: str) -> str | None:
        entry = self.lookup(nature_code)
        return entry.incident_type if entry else None


def default_crosswalk_dir() -> Path:
    """Where reviewed crosswalks of CAD call types live: ``$HEART_CAD_CROSSWALKS_DIR``, else ``cad/crosswalks`` (they
    are the call types of other agencies' CAD data, not one city's; the city's own words are ``city_words_dir``)."""
    configured = os.environ.get("HEART_CAD_CROSSWALKS_DIR")
    return Path(configured) if configured else CAD_DIR / "crosswalks"


def city_words_dir() -> Path:
    """The city's call-type words folder (``cities/<city>/crosswalks``; ``HEART_CROSSWALKS_DIR`` overrides it)."""
    return city_part("crosswalks")


def available_crosswalks() -> list[str]:
    """Names of the reviewed crosswalks (file names without ``.csv``): the set a profile chooses from."""
    return sorted(path.stem for path in default_crosswalk_dir().glob("*.csv"))


class _Rows:
    """CSV rows with the file name and line number at hand for error messages."""

    def __init__(self, path: Path, required: Iterable[str]) -> None:
        self.path = path
        self._handle = path.open(newline="", encoding="utf-8-sig")
        self.reader = csv.DictReader(self._handle)
        self.columns = [name.strip() for name in self.reader.fieldnames or []]
        self.reader.fieldnames = self.columns
        missing = [name for name in required if name not in self.columns]
        if missing:
            self._handle.close()
            raise CrosswalkError(
                f"{path}: no column {', '.join(map(repr, missing))}; the columns are: {', '.join(self.columns)}"
            )

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        with self._handle:
            for row in self.reader:
                yield self.reader.line_num, {key: (value or "").strip() for key, value in row.items() if key}

    def error(self, line: int, column: str, message: str) -> CrosswalkError:
        return CrosswalkError(f"{self.path}, line {line}, column {column!r}: {message}")

    def count(self, line: int, column: str, text: str) -> int | None:
        if not text:
            return None
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise self.error(line, column, f"{text!r} is not a number") from None
        if value < 0 or value != int(value):
            raise self.error(line, column, f"{text!r} is not a whole number of calls")
        return int(value)

    def category(self, line: int, text: str) -> str | None:
        try:
            return normalise_category(text)
        except ValueError as error:
            raise self.error(line, "category", str(error)) from None

    def incident_type(self, line: int, text: str) -> str:
        if text not in INCIDENT_TYPES:
            raise self.error(line, "incident_type", f"unknown incident type {text!r}")
        return text


def read_vera_call_types(path: Path) -> list[LabelledCallType]:
    """The Vera call-type table, one row per city and raw call type (rows of several columns merged)."""
    rows = _Rows(path, ("City", "Field 1", "Count", "Category"))
    merged: dict[tuple[str, str], LabelledCallType] = {}
    for line, row in rows:
        raw = row["Field 1"]
        if not raw:
            continue
        count = rows.count(line, "Count", row["Count"]) or 0
        category = normalise_category(row["Category"]) if row["Category"] else None
        key = (row["City"], raw)
        if key in merged:  # the same words in two CAD columns (Seattle's initial and final call type)
            earlier = merged[key]
            category = earlier.category or category
            count += earlier.count
        merged[key] = LabelledCallType(row["City"], raw, count, category)
    return list(merged.values())


def read_call_types(path: Path, *, type_column: str, count_column: str | None = None) -> list[tuple[str, int]]:
    """A CAD's distinct call types from one column of a CSV, with their counts: the sum of the count
    column when there is one (a list of call types), else the number of rows (an export of calls)."""
    required = [type_column] + ([count_column] if count_column else [])
    rows = _Rows(path, required)
    counts: dict[str, int] = {}
    for line, row in rows:
        raw = row[type_column]
        if raw:
            count = (rows.count(line, count_column, row[count_column]) or 0) if count_column else 1
            counts[raw] = counts.get(raw, 0) + count
    return list(counts.items())


def read_review_input(path: Path) -> list[tuple[Suggestion, str | None]]:
    """Suggestions to review, each with its status when the file is already a (partly) reviewed crosswalk."""
    rows = _Rows(path, ("raw", "category", "incident_type"))
    items = []
    for line, row in rows:
        category = rows.category(line, row["category"]) or ""
        confidence_text = row.get("confidence", "")
        try:
            confidence = float(confidence_text) if confidence_text else 0.0
        except ValueError:
            raise rows.error(line, "confidence", f"{confidence_text!r} is not a number") from None
        evidence = tuple(part.strip() for part in row.get("evidence", "").split(" | ") if part.strip())
        suggestion = Suggestion(
            raw=row["raw"],
            category=category,
            incident_type=rows.incident_type(line, row["incident_type"]),
            confidence=confidence,
            evidence=evidence,
            count=rows.count(line, "count", row.get("count", "")),
        )
        items.append((suggestion, row.get("status") or None))
    return items


def read_suggestions(path: Path) -> list[Suggestion]:
    """A suggestions file (`SUGGESTION_COLUMNS`) as written by `heart crosswalk suggest`."""
    return [suggestion for suggestion, _ in read_review_input(path)]


def write_suggestions(stream: TextIO, suggestions: Iterable[Suggestion], *, fmt: str = "csv") -> None:
    """Suggestions as CSV (`SUGGESTION_COLUMNS`) or as a JSON list (evidence as a list, count included)."""
    if fmt == "json":
        records = [
            {**s.as_row(), "confidence": s.confidence, "evidence": list(s.evidence), "count": s.count}
            for s in suggestions
        ]
        json.dump(records, stream, indent=2)
        stream.write("\n")
        return
    writer = csv.DictWriter(stream, fieldnames=SUGGESTION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(suggestion.as_row() for suggestion in suggestions)


def read_crosswalk(path: Path) -> Crosswalk:
    """A reviewed crosswalk file; every category and incident type is checked against the taxonomy."""
    rows = _Rows(path, CROSSWALK_COLUMNS)
    entries = [
        CrosswalkEntry(
            raw=row["raw"],
            category=rows.category(line, row["category"]),
            incident_type=rows.incident_type(line, row["incident_type"]),
            count=rows.count(line, "count", row["count"]),
            status=row["status"] or "suggested",
        )
        for line, row in rows
        if row["raw"]
    ]
    return Crosswalk(entries)


def write_crosswalk(path: Path, entries: Iterable[CrosswalkEntry]) -> None:
    """Write a crosswalk file (`CROSSWALK_COLUMNS`), most frequent call types first."""
    ordered = sorted(entries, key=lambda entry: (-(entry.count or 0), entry.raw))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CROSSWALK_COLUMNS)
        for entry in ordered:
            count = "" if entry.count is None else str(entry.count)
            writer.writerow([entry.raw, entry.category or "", entry.incident_type, count, entry.status])


def read_examples(directory: Path | None = None) -> list[LabelledCallType]:
    """Labelled call types from every reviewed crosswalk in a directory (the city is the file name)."""
    directory = directory or default_crosswalk_dir()
    paths = [directory] if directory.is_file() else sorted(directory.glob("*.csv"))
    examples = []
    for path in paths:
        for entry in read_crosswalk(path).entries:
            if entry.category and entry.status in REVIEWED_STATUSES:
                examples.append(LabelledCallType(path.stem, entry.raw, entry.count or 0, entry.category))
    return examples
