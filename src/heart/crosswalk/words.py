"""The call-type words file (``cities/<city>/crosswalks/call_type_words.yaml``): phrases, plain descriptions, danger.

One file, read by every intake path through ``heart.crosswalk.mapper`` and by the crosswalk's safety guard
(``heart.crosswalk.rules.danger_words``). The format is described at the top of the shipped file. Loading refuses an
unknown incident type, an unknown section or a word that is not text, naming the file and the line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from heart.crosswalk.files import city_words_dir
from heart.crosswalk.taxonomy import INCIDENT_TYPES, KeywordResolver
from heart.yamlfile import LocatedYaml, YamlFileError, read_yaml

WORDS_FILE = "call_type_words.yaml"
SECTIONS = ("version", "phrases", "described_as", "danger", "not_danger")


class CallTypeWordsError(YamlFileError):
    """A call-type words file that cannot be used; ``str(error)`` is 'file, line N: reason'."""


@dataclass(frozen=True, slots=True, eq=False)
class CallTypeWords:
    """The loaded words file."""

    path: Path
    phrases: Mapping[str, tuple[str, ...]]
    """Incident type -> phrases of a nature code that mean it."""
    described_as: Mapping[str, tuple[str, ...]]
    """Incident type -> how callers describe it (suggestions only)."""
    danger: Mapping[str, re.Pattern[str]]
    """Kind of danger (weapon, violence, ...) -> its words, as a pattern over padded plain words."""
    any_danger: re.Pattern[str]
    not_danger: re.Pattern[str] | None
    resolve_phrase: KeywordResolver

    @property
    def danger_kinds(self) -> tuple[str, ...]:
        return tuple(self.danger)


def words_path(directory: Path | None = None) -> Path:
    """Where the words file is: in ``directory``, else in the city's crosswalks folder (``cities/<city>/crosswalks``;
    ``HEART_CROSSWALKS_DIR`` overrides it)."""
    if directory is not None:
        return (directory / WORDS_FILE).resolve()
    return _default_path(os.environ.get("HEART_CROSSWALKS_DIR"), os.environ.get("HEART_CITY"))


@lru_cache(maxsize=16)
def _default_path(_override: str | None, _city: str | None) -> Path:  # resolving costs more than reading the cache
    return (city_words_dir() / WORDS_FILE).resolve()


def call_type_words(directory: Path | None = None) -> CallTypeWords:
    """The words file of the crosswalk directory, read once while it is unchanged."""
    path = words_path(directory)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise CallTypeWordsError(path, None, f"cannot be read ({error.strerror})") from None
    return _load(path, stamp)


def pattern_of(words: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """Whole words (a trailing * matches any ending), matched against words padded with spaces."""
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        parts = word.upper().split()
        text = r" ".join(re.escape(part.rstrip("*")) + (r"\w*" if part.endswith("*") else "") for part in parts)
        alternatives.append(text)
    return re.compile(r"(?<= )(?:" + "|".join(alternatives) + r")(?= )")


@lru_cache(maxsize=8)
def _load(path: Path, stamp: int) -> CallTypeWords:
    try:
        document = read_yaml(path)
    except YamlFileError as error:
        raise CallTypeWordsError(error.path, error.line, error.reason) from None
    data = document.data
    if not isinstance(data, dict):
        raise CallTypeWordsError(path, 1, "the file must map section names to their contents")
    for key in data:
        if key not in SECTIONS:
            raise document_error(document, (str(key),), f"unknown section {key!r}; expected {', '.join(SECTIONS)}")
    phrases = _typed_lists(document, "phrases")
    described = _typed_lists(document, "described_as")
    danger_doc = data.get("danger") or {}
    if not isinstance(danger_doc, dict) or not danger_doc:
        raise document_error(document, ("danger",), "danger must map each kind (weapon, violence, ...) to its words")
    danger = {str(kind): pattern_of(_words(document, ("danger", kind), words)) for kind, words in danger_doc.items()}
    everything = [word for kind, words in danger_doc.items() for word in _words(document, ("danger", kind), words)]
    not_danger_words = _words(document, ("not_danger",), data.get("not_danger") or [])
    return CallTypeWords(
        path=path, phrases=phrases, described_as=described, danger=danger, any_danger=pattern_of(everything),
        not_danger=pattern_of(not_danger_words) if not_danger_words else None,
        resolve_phrase=KeywordResolver.from_table(phrases),
    )


def document_error(document: LocatedYaml, where: tuple[int | str, ...], reason: str) -> CallTypeWordsError:
    return CallTypeWordsError(document.path, document.line_of(where), reason)


def _typed_lists(document: LocatedYaml, section: str) -> dict[str, tuple[str, ...]]:
    table = document.data.get(section) or {}
    if not isinstance(table, dict):
        raise document_error(document, (section,), f"{section} must map incident types to lists of words")
    found: dict[str, tuple[str, ...]] = {}
    for type_id, words in table.items():
        if type_id not in INCIDENT_TYPES:
            raise document_error(document, (section, type_id), f"unknown incident type {type_id!r}")
        found[str(type_id)] = tuple(_words(document, (section, type_id), words))
    return found


def _words(document: LocatedYaml, where: tuple[int | str, ...], words: object) -> list[str]:
    if not isinstance(words, list) or not words:
        raise document_error(document, where, "expected a list of words")
    for i, word in enumerate(words):
        if not isinstance(word, str | int) or not str(word).strip():
            raise document_error(document, (*where, i), f"{word!r} is not a word")
    return [str(word).strip().upper() for word in words]
