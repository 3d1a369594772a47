"""The city's rules for the dispatch desk, read from its configuration (``desk.yaml``): the incident number's
format, whether a unit on a call may be set out of service, how long a note or a message may be, and how many calls
a search page holds. Code holds the mechanisms; the words and numbers a program manager might change are here.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heart.city.folder import city_part, city_settings
from heart.config import Settings
from heart.yamlfile import read_yaml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentNumber(_Section):
    format: str = Field(default="{year}-{seq:06d}", min_length=1, max_length=64)
    timezone: str | None = Field(default=None, description="whose calendar says which year a call is in (default: "
                                                           "the city's, from its city.yaml)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (e.g. America/New_York)") from None
        return value

    @field_validator("format")
    @classmethod
    def _fields_known(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as error:
            raise ValueError(f"not a usable format ({error})") from None
        if not {"seq", "year"} <= names:
            raise ValueError("must contain {year} and {seq} (the count starts again each year)")
        if names - {"year", "seq"}:
            raise ValueError(f"may use only {{year}} and {{seq}}, not {', '.join(sorted(names - {'year', 'seq'}))}")
        try:
            value.format(year=2026, seq=1)
        except (ValueError, KeyError, IndexError) as error:
            raise ValueError(f"not a usable format ({error})") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The time zone whose calendar numbers the calls (the city's unless the file names one)."""
        return ZoneInfo(self.timezone or city_settings().timezone)

    def number(self, year: int, seq: int) -> str:
        """The incident number of the ``seq``-th call of ``year``."""
        return self.format.format(year=year, seq=seq)


class OutOfService(_Section):
    while_on_call: bool = False
    called_off_reason: str = Field(default="unit out of service", min_length=1, max_length=200)


class Limit(_Section):
    max_length: int = Field(ge=1, le=20000)


class Search(_Section):
    page_size: int = Field(default=25, ge=1, le=500)


class DeskRules(_Section):
    incident_number: IncidentNumber = IncidentNumber()
    out_of_service: OutOfService = OutOfService()
    notes: Limit = Limit(max_length=2000)
    messages: Limit = Limit(max_length=280)
    search: Search = Search()


def load_desk_rules(path: Path) -> DeskRules:
    """Read and check a city's desk rules; a mistake names the file, the line and the field."""
    document = read_yaml(path)
    try:
        rules = DeskRules.model_validate(document.data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "desk"
        raise document.error(tuple(first["loc"]), f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
    if rules.incident_number.timezone is None:  # the year a call is in is the city's year
        numbering = rules.incident_number.model_copy(update={"timezone": city_settings().timezone})
        rules = rules.model_copy(update={"incident_number": numbering})
    return rules


def desk_rules(settings: Settings | None = None) -> DeskRules:
    """The rules in force for ``settings`` (else the city's ``desk.yaml``, or HEART_DESK_FILE), re-read when the file
    changes.

    Without settings it reads the environment alone: a service that numbers a call needs no web settings.
    """
    file = settings.desk_file if settings is not None else city_part("desk")
    try:
        stamp = file.stat().st_mtime_ns
    except OSError:
        stamp = -1  # load_desk_rules names the missing file
    return _cached(file, stamp)


@lru_cache(maxsize=8)
def _cached(file: Path, _stamp: int) -> DeskRules:
    return load_desk_rules(file)
