"""What reading HSDS data produces: records with their source, findings (problems and notes), the reading."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heart.navigation.resources.hsds import Problem


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: the file, its line (CSV row, or the start of a top-level JSON item) and, for
    JSON, the record's JSON pointer within the file."""

    file: str
    line: int | None
    where: str = ""


@dataclass(slots=True)
class Candidate:
    """One record as read, before HEART decides to keep it."""

    table: str
    record: dict[str, Any]
    source: Source
    problems: list[Problem] = field(default_factory=list)

    @property
    def id(self) -> str:
        value = self.record.get("id")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem that rejected a record, or a note on one kept: file, line, record, field, value and why."""

    file: str
    line: int | None
    where: str
    table: str
    id: str
    field: str
    value: str
    reason: str

    def as_row(self) -> list[str]:
        return [self.file, "" if self.line is None else str(self.line), self.where, self.table, self.id,
                self.field, self.value, self.reason]


FINDING_COLUMNS = ["file", "line", "where", "table", "id", "field", "value", "reason"]


def shown(value: Any, limit: int = 80) -> str:
    """A value as a report shows it: short, printable, JSON-like for structures."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Reading:
    """Everything read from the inputs: the records, the files that could not be read, notes on the rest."""

    candidates: list[Candidate] = field(default_factory=list)
    failed_files: dict[str, str] = field(default_factory=dict)
    notes: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def note(self, file: Path | str, line: int | None, table: str, field_name: str, reason: str) -> None:
        self.notes.append(Finding(str(file), line, "", table, "", field_name, "", reason))

    def fail(self, file: Path | str, reason: str) -> None:
        self.failed_files[str(file)] = reason
        if str(file) not in self.files:
            self.files.append(str(file))


def why(error: Exception) -> str:
    """A reading error in a few words."""
    if isinstance(error, json.JSONDecodeError):
        return f"line {error.lineno} column {error.colno}: {error.msg}"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return getattr(error, "strerror", None) or type(error).__name__
