"""A city's programs: THE program type, and the reading of ``programs.yaml`` (programs, units, staff).

One entry per program, wherever it is used (the triage policy sends calls to them by code, the board dispatches their
units, the crew's phone asks their vocabularies, the dashboard reports them)::

    programs:
      - code: CRT                       # capital letters, digits, _; every code anywhere comes from here
        name: Community Response Teams
        kind: field                     # field (a team goes), phone (a clinician on the line),
                                        # case (cases worked over days), external (police, EMS, fire: always open)
        unarmed: true                   # a team without police: the exclusions guard it
        hours: {daily: [["10:00", "22:00"]]}   # or per day (mon … sun); "24:00" ends a day; none for external
        max_wait_minutes: 15            # a unit that cannot reach the call in this wait counts as "no unit free"
        crew_roles: [licensed clinician, peer support specialist, EMT]
        escalates_to: CRT               # a phone program's clinician can send this field program
        safety_timers: {on_scene: 45}   # minutes in a status before the board raises a safety alert
        access: members                 # only the program's own staff see its cases (a case program)
        encounter:                      # what the crew's clear form offers (defaults: the file's `encounter`)
          services: [de-escalation, …]
          dispositions: [resolved on scene, …]
          safety_questions: [weapon, …] # screening questions shown to the crew while not answered "no"
    encounter: {services: […], dispositions: […], safety_questions: […]}   # the city's defaults for every program
    units:
      - {call_sign: CRT-1, program: CRT, home: [35.99, -78.90]}
    staff:
      - {name: …, role: …, program: CRT}

The time zone of every program is the city's (``city.yaml``). A mistake is refused with the file, the line and the
field; a unit or a staff member naming an unknown program names the programs the file has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heart.city.folder import city_part, city_settings
from heart.yamlfile import LocatedYaml, YamlFileError, read_yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("field", "phone", "case", "external")
TIMED_STATUSES = ("dispatched", "en_route", "on_scene", "transporting")
CODE_PATTERN = r"^[A-Z][A-Z0-9_]*$"
_CLOCK = re.compile(r"^([01]\d|2[0-4]):[0-5]\d$")
MINUTES_PER_DAY = 24 * 60

Kind = Literal["field", "phone", "case", "external"]
Week = Mapping[str, tuple[tuple[str, str], ...]]


def check_safety_timers(value: dict[str, int] | None) -> dict[str, int] | None:
    """A program's safety timers: minutes per timed status, each between 1 and a day."""
    for status, minutes in (value or {}).items():
        if status not in TIMED_STATUSES:
            raise ValueError(f"unknown status {status!r}; use {', '.join(TIMED_STATUSES)}")
        if not 1 <= minutes <= MINUTES_PER_DAY:
            raise ValueError(f"the {status} timer must be between 1 and 1440 minutes")
    return value


@dataclass(frozen=True, slots=True)
class Encounter:
    """The words of a program's encounters: what the crew's clear form offers."""

    needs: tuple[str, ...] = ()
    """the needs a crew may record (empty: every need of the city's needs vocabulary)"""
    services: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    safety_questions: tuple[str, ...] = ()
    """screening questions the crew's phone flags while they are not answered "no" (ids of the policy's questions)"""


@dataclass(frozen=True, slots=True)
class Program:
    """A team or service a call, a case or a follow-up can go to, and when it works.

    ``hours`` are the minute-of-day windows ``[start, end)`` the triage policy decides by (empty for an external
    service, which is always open and always has a unit; ``None``-like empty with ``daily=False`` when the program's
    hours differ by day, which the policy refuses to send calls to). ``week`` is the same by day of the week.
    """

    code: str
    name: str
    kind: str
    unarmed: bool
    hours: tuple[tuple[int, int], ...]
    hours_text: str
    escalates_to: str | None = None
    week: Week = field(default_factory=dict)
    daily: bool = True
    timezone: str = ""
    max_wait_minutes: int = 20
    crew_roles: tuple[str, ...] = ()
    safety_timers: Mapping[str, int] | None = None
    access: str = "open"
    encounter: Encounter = Encounter()
    line: int | None = None
    """the line of ``programs.yaml`` it was read from (for errors that name it)"""

    @property
    def always_open(self) -> bool:
        """True for external services, which are never closed nor busy."""
        return self.kind == "external"

    def is_open(self, minute_of_day: int) -> bool:
        """Whether the program works at this local minute of the day (0–1439)."""
        if self.always_open:
            return True
        return any(start <= minute_of_day < end for start, end in self.hours)


@dataclass(frozen=True, slots=True, eq=False)
class CityPrograms:
    """A city's ``programs.yaml``: programs by code (in the file's order), units and staff, checked."""

    path: Path
    timezone: str
    programs: Mapping[str, Program]
    units: tuple[UnitDoc, ...]
    staff: tuple[StaffDoc, ...]
    document: LocatedYaml

    def codes(self, *kinds: str) -> tuple[str, ...]:
        """The codes of the programs of these kinds (every program when none is named), in the file's order."""
        return tuple(code for code, p in self.programs.items() if not kinds or p.kind in kinds)

    def of_kind(self, *kinds: str) -> list[Program]:
        return [p for p in self.programs.values() if p.kind in kinds]

    def check_code(self, code: str, path: Path | str, line: int | None, where: str, *,
                   kinds: tuple[str, ...] = ()) -> str:
        """``code`` if it is a program of this city (of one of ``kinds``), else an error naming file, line, field."""
        program = self.programs.get(code)
        if program is None or (kinds and program.kind not in kinds):
            allowed = self.codes(*kinds)
            what = f"a {' or '.join(kinds)} program" if kinds else "a program"
            raise YamlFileError(path, line, f"{where}: {code!r} is not {what} of the city "
                                            f"({self.path.name}: {', '.join(allowed) or 'none'})")
        return code


class ProgramsFileError(YamlFileError):
    """A ``programs.yaml`` that cannot be used; ``str(error)`` is 'file, line N: field: reason'."""


# --- the file's shape -----------------------------------------------------------------------------------------

class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EncounterDoc(_Doc):
    needs: list[str] | None = None
    services: list[str] | None = None
    dispositions: list[str] | None = None
    safety_questions: list[str] | None = None


class ProgramDoc(_Doc):
    code: str = Field(min_length=2, max_length=16, pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    kind: Kind
    unarmed: bool = False
    hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    max_wait_minutes: int = Field(default=20, ge=0, le=7 * 24 * 60)
    crew_roles: list[str] = Field(default_factory=list)
    escalates_to: str | None = None
    safety_timers: dict[str, int] | None = None
    access: Literal["open", "members"] = "open"
    encounter: EncounterDoc | None = None

    @field_validator("safety_timers")
    @classmethod
    def _known_statuses(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        return check_safety_timers(value)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        return normalise_week(value)


class UnitDoc(_Doc):
    call_sign: str = Field(min_length=1, max_length=32)
    program: str
    home: tuple[float, float] | None = Field(default=None, description="[lat, lon]")


class StaffDoc(_Doc):
    name: str
    role: str
    program: str | None = None


class ProgramsDoc(_Doc):
    programs: list[ProgramDoc]
    encounter: EncounterDoc = EncounterDoc()
    units: list[UnitDoc] = Field(default_factory=list)
    staff: list[StaffDoc] = Field(default_factory=list)


def normalise_week(value: Mapping[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    """{'daily': windows} or {'mon': windows, …} → windows per day; a window is HH:MM–HH:MM, start before end."""
    days: dict[str, list[tuple[str, str]]] = {}
    for key, windows in value.items():
        if key != "daily" and key not in DAYS:
            raise ValueError(f"unknown day {key!r}; use mon..sun or daily")
        for start, end in windows:
            if not (_CLOCK.match(start) and _CLOCK.match(end)) or start >= end:
                raise ValueError(f"window {start}-{end} is not HH:MM-HH:MM with start before end")
        for day in DAYS if key == "daily" else (key,):
            days.setdefault(day, []).extend((start, end) for start, end in windows)
    return days


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _windows(week: Mapping[str, list[tuple[str, str]]]) -> tuple[tuple[tuple[int, int], ...], str, bool]:
    """The minute-of-day windows, their words, and whether every day has the same hours."""
    per_day = [tuple(sorted(week.get(day, []))) for day in DAYS]
    if any(day != per_day[0] for day in per_day):
        text = "; ".join(f"{day} " + (", ".join(f"{s}-{e}" for s, e in windows) or "closed")
                         for day, windows in zip(DAYS, per_day, strict=True))
        return (), text, False
    windows = per_day[0]
    return tuple((_minutes(s), _minutes(e)) for s, e in windows), ", ".join(f"{s}-{e}" for s, e in windows), True


# --- reading ----------------------------------------------------------------------------------------------------

def load_programs_file(path: Path | str, *, timezone: str | None = None) -> CityPrograms:
    """Read and check a ``programs.yaml`` (cached while the file is unchanged); ``timezone`` defaults to the city's."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise ProgramsFileError(path, None, f"cannot be read ({error.strerror})") from None
    return _load(path.resolve(), stamp, timezone or city_settings().timezone)


def city_programs() -> CityPrograms:
    """The programs of the city in force (``HEART_PROGRAMS_FILE`` overrides its file)."""
    return load_programs_file(city_part("programs"))


@lru_cache(maxsize=32)
def _load(path: Path, _stamp: int, timezone: str) -> CityPrograms:
    document = read_yaml(path)
    try:
        doc = ProgramsDoc.model_validate(document.data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = tuple(first["loc"])
        named = ".".join(map(str, where)) or "the file"
        raise ProgramsFileError(path, document.line_of(where), f"{named}: {first['msg']}") from None

    def fail(where: tuple[int | str, ...], reason: str) -> ProgramsFileError:
        return ProgramsFileError(path, document.line_of(where), f"{'.'.join(map(str, where))}: {reason}")

    default = doc.encounter
    programs: dict[str, Program] = {}
    for i, item in enumerate(doc.programs):
        if item.code in programs:
            raise fail(("programs", i, "code"), f"program {item.code} is listed twice")
        if item.kind == "external" and item.hours:
            raise fail(("programs", i, "hours"), "external services are always open; remove their hours")
        if item.kind != "external" and not item.hours:
            raise fail(("programs", i, "hours"), f"program {item.code} has no hours")
        if item.kind == "external" and (item.crew_roles or item.unarmed):
            raise fail(("programs", i, "kind"), "an external service has no crew roles and is not an unarmed team")
        windows, text, daily = _windows(item.hours) if item.hours else ((), "always", True)
        own = item.encounter or EncounterDoc()
        encounter = Encounter(*(tuple(getattr(own, name) if getattr(own, name) is not None
                                      else getattr(default, name) or ())
                                for name in ("needs", "services", "dispositions", "safety_questions")))
        programs[item.code] = Program(
            code=item.code, name=item.name, kind=item.kind, unarmed=item.unarmed, hours=windows, hours_text=text,
            escalates_to=item.escalates_to, week={d: tuple(w) for d, w in item.hours.items()}, daily=daily,
            timezone=timezone, max_wait_minutes=item.max_wait_minutes, crew_roles=tuple(item.crew_roles),
            safety_timers=item.safety_timers, access=item.access, encounter=encounter,
            line=document.line_of(("programs", i)))
    for i, item in enumerate(doc.programs):
        target = programs.get(item.escalates_to or "")
        if item.escalates_to is not None and (target is None or target.kind != "field"):
            raise fail(("programs", i, "escalates_to"),
                       f"{item.code} escalates to {item.escalates_to}, which is not a field program of this file")
    codes = ", ".join(programs)
    for i, unit in enumerate(doc.units):
        if unit.program not in programs or programs[unit.program].kind == "external":
            raise fail(("units", i, "program"), f"unit {unit.call_sign} names unknown program {unit.program!r}; "
                                                f"programs in this file: {codes}")
    for i, member in enumerate(doc.staff):
        if member.program is not None and member.program not in programs:
            raise fail(("staff", i, "program"), f"{member.name} names unknown program {member.program!r}; "
                                                f"programs in this file: {codes}")
    return CityPrograms(path=path, timezone=timezone, programs=programs, units=tuple(doc.units),
                        staff=tuple(doc.staff), document=document)
