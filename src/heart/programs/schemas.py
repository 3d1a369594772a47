"""Program and unit API shapes: what the admin API (``PUT /api/programs/{code}``) and ``heart config load`` write.

A city's programs are written in its ``programs.yaml`` (THE program type: ``heart.city.programs``); this is the
shape of the programs HEART runs (field, phone, case) as the database keeps them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from heart.city.folder import city_settings
from heart.city.programs import CODE_PATTERN, check_safety_timers, normalise_week
from heart.inputs import Input, RowId
from heart.programs.models import ProgramAccess, ProgramKind, UnitStatus

ProgramCode = Annotated[str, StringConstraints(min_length=2, max_length=16, pattern=CODE_PATTERN)]


class ProgramConfig(Input):
    """One program as written in a configuration file or sent to the admin API."""

    model_config = ConfigDict(extra="forbid")

    code: ProgramCode
    name: str = Field(min_length=1)
    kind: ProgramKind
    timezone: str = Field(default_factory=lambda: city_settings().timezone, description="the city's by default")
    hours: dict[str, list[tuple[str, str]]] = Field(
        default_factory=dict, description="opening windows per day (mon..sun) or 'daily'; '24:00' ends a day"
    )
    max_wait_minutes: int = Field(default=20, ge=0, le=7 * 24 * 60)
    crew_roles: list[str] = Field(default_factory=list)
    safety_timers: dict[str, int] | None = Field(
        default=None, description="minutes a unit may stay in a status (dispatched, en_route, on_scene, "
                                  "transporting) before the board raises a safety alert; omitted ones use defaults")
    access: ProgramAccess = Field(default=ProgramAccess.OPEN, description="who sees the program's cases: 'open' (every "
                                  "role that may), or 'members' (only the program's own staff)")

    @field_validator("safety_timers")
    @classmethod
    def _known_statuses(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        return check_safety_timers(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("hours")
    @classmethod
    def _normalise_hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        return normalise_week(value)


class UnitConfig(Input):
    model_config = ConfigDict(extra="forbid")

    call_sign: str = Field(min_length=1, max_length=32)
    program: str
    home: tuple[float, float] | None = Field(default=None, description="[lat, lon]")


class StaffConfig(Input):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: str
    program: str | None = None


class ProgramsFile(Input):
    """The whole configuration file loaded by `heart config load`."""

    model_config = ConfigDict(extra="forbid")

    programs: list[ProgramConfig] = Field(default_factory=list)
    units: list[UnitConfig] = Field(default_factory=list)
    staff: list[StaffConfig] = Field(default_factory=list)


class ProgramPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: ProgramKind
    timezone: str
    hours: dict[str, list[tuple[str, str]]]
    max_wait_minutes: int
    crew_roles: list[str]
    safety_timers: dict[str, int] | None = None
    access: ProgramAccess = ProgramAccess.OPEN


class UnitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_sign: str
    program_id: int
    status: UnitStatus
    status_changed_at: datetime | None
    lat: float | None
    lon: float | None


class UnitCreate(Input):
    model_config = ConfigDict(extra="forbid")

    call_sign: str = Field(min_length=1, max_length=32)
    program_code: str
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)


class CrewMember(Input):
    staff_id: RowId
    role: str


class DutyStart(Input):
    model_config = ConfigDict(extra="forbid")

    crew: list[CrewMember] = Field(default_factory=list)
    ends_at: AwareDatetime
    at: AwareDatetime | None = None


class DutyEnd(Input):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = None
