"""CAD import profiles: versioned YAML files that map one CAD export's columns to HEART's fields.

A profile names the export's columns for each HEART field, the local time zone, how times and dates are
written, which cell values mean "missing", what a time in a clock-change hour means, and which columns
identify an incident. The format is described at the top of ``cad/profiles/alexandria-decc.yaml``.
Loading refuses a profile that HEART could not apply; the error names the file, the line and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heart.city.folder import CAD_DIR
from heart.yamlfile import LocatedYaml, YamlFileError, read_yaml

MILESTONES: tuple[str, ...] = ("received_at", "dispatched_at", "en_route_at", "on_scene_at", "cleared_at")
"""Timestamp fields, in the order they happen to one incident."""

TEXT_FIELDS: Mapping[str, int] = {
    "external_id": 64, "agency": 32, "nature_code": 128, "priority": 8, "call_source": 32, "disposition": 64,
    "beat": 32,
}  # fmt: skip
"""Text fields and their longest allowed value (the width of the column that stores them)."""

DATE_FIELDS: tuple[str, ...] = ("received_on",)
ISO = "iso"  # 'YYYY-MM-DD HH:MM:SS[.fff]' (or with a T), read by datetime.fromisoformat
Ambiguous = Literal["infer", "earlier", "later"]
Nonexistent = Literal["reject", "shift"]


class ProfileError(YamlFileError):
    """A profile that cannot be used; ``str(error)`` is 'file, line N: reason'."""


@dataclass(frozen=True, slots=True)
class TextField:
    """A text field: a column's value (or a constant), optionally upper-cased and mapped."""

    name: str
    column: str | None
    value: str | None = None
    upper: bool = False
    mapping: Mapping[str, str] = field(default_factory=dict)
    max_length: int = 64


@dataclass(frozen=True, slots=True)
class TimeField:
    """A timestamp field: a local time in ``column``, or a number of seconds after another field's time."""

    name: str
    column: str
    formats: tuple[str, ...] = (ISO,)
    seconds_after: str | None = None


@dataclass(frozen=True, slots=True)
class DateField:
    """A date-only field, kept as an ISO date (YYYY-MM-DD)."""

    name: str
    column: str
    formats: tuple[str, ...] = (ISO,)


@dataclass(frozen=True, slots=True)
class Profile:
    """A loaded, checked import profile."""

    name: str
    version: int
    description: str
    timezone: ZoneInfo
    encoding: str
    delimiter: str
    missing: frozenset[str]
    ambiguous_times: Ambiguous
    nonexistent_times: Nonexistent
    row_key: tuple[str, ...]
    required: tuple[str, ...]
    crosswalk: str | None
    text_fields: tuple[TextField, ...]
    time_fields: tuple[TimeField, ...]  # in MILESTONES order
    date_fields: tuple[DateField, ...]
    source: str

    def columns(self) -> list[str]:
        """Every column the profile reads, in the order the fields name them."""
        named = [*self.row_key]
        named += [f.column for f in self.text_fields if f.column]
        named += [f.column for f in self.time_fields]
        named += [f.column for f in self.date_fields]
        return list(dict.fromkeys(named))


def profiles_dir() -> Path:
    """Where profiles live: $HEART_PROFILES_DIR, else ``cad/profiles`` (other agencies' CAD data, not one city's)."""
    configured = os.environ.get("HEART_PROFILES_DIR")
    return Path(configured) if configured else CAD_DIR / "profiles"


def available_profiles() -> list[str]:
    """Names of the profiles in the profiles directory (file names without ``.yaml``)."""
    return sorted(path.stem for path in profiles_dir().glob("*.yaml") if "." not in path.stem)


def load_profile_by_name(name: str) -> Profile:
    """Load the profile ``name`` of the profiles directory; an unknown name lists the known ones.

    ``name`` must be one of ``available_profiles()``: it chooses from the loaded set and is never a path.
    """
    known = available_profiles()
    if name not in known:
        raise ProfileError(profiles_dir(), None,
                           f"there is no import profile named {name!r} (known: {', '.join(known) or 'none'})")
    return load_profile(profiles_dir() / f"{name}.yaml")


def load_profile(path: Path | str) -> Profile:
    """Read and check one profile file."""
    try:
        document = read_yaml(Path(path))
    except YamlFileError as error:
        raise ProfileError(error.path, error.line, error.reason) from None
    return _build(document)


# --- reading and checking a profile file ----------------------------------------------------------------
Where = tuple[int | str, ...]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _FieldDoc(_Doc):
    column: str | None = None
    value: str | None = None
    upper: bool = False
    map: dict[str, str] = {}
    format: str | list[str] | None = None
    seconds_after: str | None = None


class _ProfileDoc(_Doc):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: int = Field(ge=1)
    description: str = ""
    timezone: str
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    missing: list[str] = []
    timestamp_format: str | list[str] = ISO
    date_format: str | list[str] = ISO
    ambiguous_times: Ambiguous = "infer"
    nonexistent_times: Nonexistent = "reject"
    row_key: list[str] = []
    required: list[str] = []
    crosswalk: str | None = None
    fields: dict[str, str | _FieldDoc]


def _build(document: LocatedYaml) -> Profile:
    try:
        doc = _ProfileDoc.model_validate(document.data)
    except ValidationError as error:
        first = error.errors()[0]
        located = tuple(step for step in first["loc"] if not str(step).startswith(("function-", "literal[")))
        named = ".".join(map(str, located)) or "the file"
        raise ProfileError(document.path, document.line_of(located), f"{named}: {first['msg']}") from None
    check = _Checker(doc, document)
    texts: list[TextField] = []
    times: dict[str, TimeField] = {}
    dates: list[DateField] = []
    for name, spec in doc.fields.items():
        item = spec if isinstance(spec, _FieldDoc) else _FieldDoc(column=spec)
        where: Where = ("fields", name)
        if name in TEXT_FIELDS:
            texts.append(check.text(name, item, where))
        elif name in MILESTONES:
            times[name] = check.time(name, item, where)
        elif name in DATE_FIELDS:
            dates.append(check.date(name, item, where))
        else:
            known = ", ".join([*TEXT_FIELDS, *MILESTONES, *DATE_FIELDS])
            check.fail(where, f"unknown field {name!r}; HEART's fields are: {known}")
    for name, timed in times.items():
        if timed.seconds_after and timed.seconds_after not in times:
            check.fail(("fields", name, "seconds_after"), f"{timed.seconds_after!r} is not a timestamp field here")
        if timed.seconds_after and times[timed.seconds_after].seconds_after:
            check.fail(("fields", name, "seconds_after"), "count seconds after a field read from a column")
    mapped = {f.name for f in texts} | set(times) | {f.name for f in dates}
    for i, name in enumerate(doc.required):
        if name not in mapped:
            check.fail(("required", i), f"required field {name!r} is not mapped under fields")
    return Profile(
        name=doc.name,
        version=doc.version,
        description=doc.description,
        timezone=check.zone(),
        encoding=check.encoding(),
        delimiter=doc.delimiter,
        missing=frozenset(doc.missing),
        ambiguous_times=doc.ambiguous_times,
        nonexistent_times=doc.nonexistent_times,
        row_key=tuple(doc.row_key),
        required=tuple(doc.required),
        crosswalk=doc.crosswalk,
        text_fields=tuple(texts),
        time_fields=tuple(times[name] for name in MILESTONES if name in times),
        date_fields=tuple(dates),
        source=str(document.path),
    )


class _Checker:
    """The checks Pydantic cannot make, each naming the line of the offending value."""

    def __init__(self, doc: _ProfileDoc, document: LocatedYaml) -> None:
        self.doc, self.document = doc, document
        if document.path.stem != doc.name and "." not in document.path.stem:
            self.fail(("name",), f"the profile in {document.path.name} must be named {document.path.stem!r}")
        self.timestamp_formats = self.formats(doc.timestamp_format, ("timestamp_format",))
        self.date_formats = self.formats(doc.date_format, ("date_format",))

    def fail(self, where: Where, reason: str) -> NoReturn:
        raise ProfileError(self.document.path, self.document.line_of(where), reason)

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.doc.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(("timezone",), f"unknown time zone {self.doc.timezone!r} (a name like America/New_York)")

    def encoding(self) -> str:
        try:
            "".encode(self.doc.encoding)
        except LookupError:
            self.fail(("encoding",), f"unknown text encoding {self.doc.encoding!r} (e.g. utf-8-sig, cp1252)")
        return self.doc.encoding

    def formats(self, given: str | list[str], where: Where) -> tuple[str, ...]:
        formats = (given,) if isinstance(given, str) else tuple(given)
        if not formats:
            self.fail(where, "give at least one format")
        sample = datetime(2001, 2, 3, 4, 5, 6)
        for i, text in enumerate(formats):
            if text == ISO:
                continue
            if "%" not in text or sample.strftime(text) == text:
                self.fail((*where, i) if len(formats) > 1 else where,
                          f"{text!r} is not a time format like '%Y-%m-%d %H:%M:%S' (or 'iso')")
        return formats

    def _column(self, item: _FieldDoc, where: Where) -> str:
        if not item.column:
            self.fail(where, "name the export's column (column: NAME)")
        return item.column

    def text(self, name: str, item: _FieldDoc, where: Where) -> TextField:
        if item.format or item.seconds_after:
            self.fail(where, f"{name} is text; 'format' and 'seconds_after' are for times")
        if (item.column is None) == (item.value is None):
            self.fail(where, f"{name}: give either a column or a value")
        return TextField(name=name, column=item.column, value=item.value, upper=item.upper, mapping=dict(item.map),
                         max_length=TEXT_FIELDS[name])

    def time(self, name: str, item: _FieldDoc, where: Where) -> TimeField:
        if item.value is not None or item.map or item.upper:
            self.fail(where, f"{name} is a time; it takes column, format or seconds_after")
        column = self._column(item, where)
        if item.seconds_after:
            return TimeField(name=name, column=column, formats=(), seconds_after=item.seconds_after)
        formats = self.formats(item.format, (*where, "format")) if item.format else self.timestamp_formats
        return TimeField(name=name, column=column, formats=formats)

    def date(self, name: str, item: _FieldDoc, where: Where) -> DateField:
        if item.value is not None or item.map or item.upper or item.seconds_after:
            self.fail(where, f"{name} is a date; it takes column and format")
        formats = self.formats(item.format, (*where, "format")) if item.format else self.date_formats
        return DateField(name=name, column=self._column(item, where), formats=formats)

