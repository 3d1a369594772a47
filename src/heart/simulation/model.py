"""A city's model of demand and response times: who calls, when, for what, and how long a response takes.

Read from ``cities/<city>/scenarios/model.yaml`` (see that file: every value says whether it is published,
calibrated or assumed). The capacity simulator and the demo's simulated history both read it, so there is
one copy of each value. Where a city's files are is decided in one place, ``city_files``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from heart.city.folder import CITIES_DIR, city_dir, city_part, city_settings
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.yamlfile import LocatedYaml, YamlFileError, read_yaml

__all__ = ["CITIES_DIR", "CityFiles", "CityModel", "city_files", "load_city_model", "load_model"]


@dataclass(frozen=True, slots=True)
class CityFiles:
    """Where one city's configuration lives."""

    city: str
    config: Path
    """programs, hours, units (``programs.yaml``)"""
    policy: str
    """the triage policy's name (its file is ``policies / f"{policy}.yaml"``)"""
    policies: Path
    """the city's policies folder"""
    model: Path
    """demand and response times (this module)"""
    scenarios: Path
    """the folder of the city's capacity scenarios"""


def city_files(city: str) -> CityFiles:
    """The files of ``city`` (``cities/<city>/``, ``heart.city``); for the city in force (``HEART_CITY``) the override
    settings apply too (``HEART_PROGRAMS_FILE``, ``HEART_POLICIES_DIR`` …)."""
    in_force = city_dir(city) == city_dir()
    settings = city_settings(city)

    def part(name: str) -> Path:
        return city_part(name) if in_force else settings.part(name)

    scenarios = part("scenarios")
    return CityFiles(city=city, config=part("programs"), policy=settings.key, policies=part("policies"),
                     model=scenarios / "model.yaml", scenarios=scenarios)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lognormal(_Strict):
    """A lognormal time: its mean (minutes) and the spread of its logarithm."""

    mean: float = Field(gt=0)
    spread: float = Field(ge=0, le=3)


def _known_type(kind: str) -> str:
    if kind != "other" and kind not in INCIDENT_TYPES:
        raise ValueError(f"unknown incident type {kind!r} (see src/heart/crosswalk/taxonomy.py)")
    return kind


class Calls(_Strict):
    heart_calls_per_year: float = Field(ge=0)
    mix: dict[str, float]
    other_calls_per_year: dict[str, float] = Field(default_factory=dict)
    volume_scale: float = Field(default=1.0, ge=0)
    priorities: dict[str, float]
    sources: dict[str, float]
    unknown_answer: float = Field(ge=0, le=1)
    screening_yes: dict[str, dict[str, float]]

    @field_validator("mix", "other_calls_per_year", "screening_yes")
    @classmethod
    def _types(cls, value: dict[str, object]) -> dict[str, object]:
        for kind in value:
            _known_type(kind)
        return value

    @model_validator(mode="after")
    def _shares(self) -> Calls:
        for name in ("mix", "priorities", "sources"):
            shares = getattr(self, name)
            if any(share < 0 for share in shares.values()) or not 0.99 <= sum(shares.values()) <= 1.01:
                raise ValueError(f"the shares of {name} must be non-negative and add up to 1")
        for kind, answers in self.screening_yes.items():
            for question, chance in answers.items():
                if not 0 <= chance <= 1:
                    raise ValueError(f"screening_yes.{kind}.{question} must be a probability between 0 and 1")
        return self

    def per_year(self) -> dict[str, float]:
        """Expected calls a year by incident type, before ``volume_scale``."""
        return {**{kind: share * self.heart_calls_per_year for kind, share in self.mix.items()},
                **self.other_calls_per_year}


class Arrivals(_Strict):
    weekday_hours: tuple[float, ...] = Field(min_length=24, max_length=24)
    weekend_hours: tuple[float, ...] = Field(min_length=24, max_length=24)
    weekday_factors: tuple[float, ...] = Field(min_length=7, max_length=7)
    month_factors: tuple[float, ...] = Field(min_length=12, max_length=12)

    @model_validator(mode="after")
    def _positive(self) -> Arrivals:
        for name in ("weekday_hours", "weekend_hours", "weekday_factors", "month_factors"):
            if any(value < 0 for value in getattr(self, name)) or not sum(getattr(self, name)):
                raise ValueError(f"{name} must be non-negative and not all zero")
        return self


class FieldResponse(_Strict):
    """How one field program's responses unfold once the unit arrives."""

    on_scene_minutes: float = Field(gt=0)
    on_scene_spread: float = Field(ge=0, le=3)
    transport: float = Field(ge=0, le=1)
    transport_minutes: float = Field(ge=0)
    ems_support: float = Field(ge=0, le=1)
    ems_extra_minutes: float = Field(ge=0)
    pd_backup_for_safety: float = Field(ge=0, le=1)
    cancelled: float = Field(ge=0, le=1)

    @property
    def base_on_scene_minutes(self) -> float:
        """Minutes on scene before any transport or EMS wait, so that the overall mean is the published one."""
        base = (self.on_scene_minutes - self.transport * self.transport_minutes
                - self.ems_support * self.ems_extra_minutes)
        return max(base, 0.1)


class PhoneResponse(_Strict):
    minutes: Lognormal
    answer_after_seconds: float = Field(ge=0)
    escalates: float = Field(ge=0, le=1)


class Geography(_Strict):
    center: tuple[float, float]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    clusters: tuple[tuple[float, float, float, float], ...] = Field(min_length=1)
    facilities: dict[str, tuple[float, float, float]] = Field(min_length=1)


class CityModel(_Strict):
    """The whole ``model.yaml``."""

    model: str
    calls: Calls
    arrivals: Arrivals
    call_processing_minutes: Lognormal
    responses: dict[str, FieldResponse]
    phone: dict[str, PhoneResponse] = Field(default_factory=dict)
    geography: Geography


class ModelError(YamlFileError):
    """A model file that cannot be used; ``str(error)`` is 'file, line N: reason'."""


def parse_model(document: LocatedYaml) -> CityModel:
    """Check a parsed model document; the error names the file, the line and the field."""
    try:
        return CityModel.model_validate(document.data or {})
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        field = ".".join(str(part) for part in location) or "model"
        message = first["msg"].removeprefix("Value error, ")
        located = document.error(location, f"{field}: {message}")
        raise ModelError(located.path, located.line, located.reason) from None


@lru_cache(maxsize=8)
def _load_cached(path: Path, stamp: int) -> CityModel:
    try:
        document = read_yaml(path)
    except YamlFileError as error:
        raise ModelError(error.path, error.line, error.reason) from None
    return parse_model(document)


def load_model(path: Path) -> CityModel:
    """Read and check a model file (cached while the file is unchanged)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise ModelError(path, None, f"cannot be read ({error.strerror})") from None
    return _load_cached(path.resolve(), stamp)


def load_city_model(city: str) -> CityModel:
    """The model of ``city`` (``cities/<city>/scenarios/model.yaml``)."""
    return load_model(city_files(city).model)
