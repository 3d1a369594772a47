"""Scenarios: a city's configuration and policy plus changes (teams per shift, hours, call volume, travel).

A scenario is a YAML file a program manager can read and copy (see ``cities/durham/scenarios/``). It names
its city (whose files ``heart.simulation.model.city_files`` finds), may extend another scenario (its
changes are applied on top), and says for each program the hours it is open, its shifts and teams, and its
maximum wait. What it does not say comes from the city: hours from the policy, one shift per opening window
with every configured unit on it, the maximum wait from the program configuration.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.programs.schemas import ProgramsFile
from heart.programs.service import read_programs_file
from heart.simulation.demand import hourly_calls
from heart.simulation.inputs import (
    MINUTES_PER_DAY,
    Demand,
    Dist,
    FieldProgram,
    Kind,
    PhoneProgram,
    Shift,
    SimulationInput,
)
from heart.simulation.model import CITIES_DIR, CityModel, city_files, load_model
from heart.triage.policy import Policy, load_policy, parse_hours
from heart.yamlfile import YamlFileError, read_yaml


class ScenarioError(YamlFileError):
    """A scenario that cannot be used; ``str(error)`` is 'file, line N: reason'."""


def _clock(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(minutes) < 60):
        raise ValueError(f"{text!r} is not a time like '06:00'")
    value = int(hours) * 60 + int(minutes)
    if value > MINUTES_PER_DAY:
        raise ValueError(f"{text!r} is past 24:00")
    return value


class ShiftSpec(BaseModel):
    """Teams on duty every day from ``start`` to ``end`` ('22:00' to '08:00' runs past midnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str
    teams: int = Field(ge=0, le=200)

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        _clock(value)
        return value

    def compiled(self) -> Shift:
        start, end = _clock(self.start) % MINUTES_PER_DAY, _clock(self.end)
        if end <= start:
            end += MINUTES_PER_DAY
        return Shift(start, end, self.teams)


class ProgramSpec(BaseModel):
    """One program's changes; anything left out comes from the city."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: list[str] | None = Field(default=None, description="opening windows like '10:00-22:00'")
    shifts: list[ShiftSpec] | None = None
    max_wait_minutes: float | None = Field(default=None, ge=0, le=24 * 60)
    patience: Kind = Kind.FIXED

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[str] | None) -> list[str] | None:
        for window in value or ():
            parse_hours(window)
        return value


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date
    days: int = Field(ge=1, le=3660)
    warmup_days: int = Field(default=7, ge=0, le=60)


class Travel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vs_estimate: float = Field(default=1.0, ge=0, le=5, description="realised travel ÷ the board's estimate")
    spread: float = Field(default=0.35, ge=0, le=2)


class Target(BaseModel):
    """A published figure the scenario must reproduce: its mean must fall in [low, high]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    figure: str = Field(pattern=r"^[A-Z][A-Z0-9_]*\.[a-z_]+$", description="'<program>.<figure>', e.g. CRT.reach_pct")
    published: str = Field(description="the published value as written, e.g. '50-55 %'")
    low: float
    high: float
    source: str = ""

    def met_by(self, value: float) -> bool:
        return self.low <= value <= self.high


class Scenario(BaseModel):
    """A scenario file (after ``extends`` is resolved)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(min_length=1, max_length=80)
    title: str = ""
    about: str = ""
    city: str = Field(min_length=1, pattern=r"^[a-z0-9_-]+$")
    extends: str | None = None
    model: str | None = Field(default=None, description="a model file (e.g. from `heart simulate fit`) instead of "
                                                         "the city's; relative to this file")
    period: Period
    replications: int = Field(default=100, ge=2, le=10_000)
    seed: int = Field(default=1, ge=0)
    call_volume: float = Field(default=1.0, ge=0, le=20, description="multiplies every call volume of the model")
    call_volume_by_type: dict[str, float] = Field(default_factory=dict,
                                                  description="calls a year of a type, replacing the model's")
    travel: Travel = Travel()
    programs: dict[str, ProgramSpec] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=list, description="published figures it must reproduce")
    source: str = ""
    """the file it was read from (set on load)"""

    @field_validator("call_volume_by_type")
    @classmethod
    def _known_types(cls, value: dict[str, float]) -> dict[str, float]:
        for kind, volume in value.items():
            if kind not in INCIDENT_TYPES:
                raise ValueError(f"unknown incident type {kind!r} (see src/heart/crosswalk/taxonomy.py)")
            if volume < 0:
                raise ValueError(f"calls a year of {kind} cannot be negative")
        return value

    def with_changes(self, programs: dict[str, ProgramSpec], *, name: str | None = None) -> Scenario:
        """A copy whose programs' specs are replaced by ``programs`` (others kept)."""
        return self.model_copy(update={"programs": {**self.programs, **programs},
                                       "scenario": name or self.scenario})


# --- finding and reading -------------------------------------------------------------------------------------

def scenario_paths(city: str | None = None) -> dict[str, Path]:
    """Every shipped scenario by name (``cities/*/scenarios/*.yaml``, the model files aside), or only ``city``'s."""
    pattern = f"{city or '*'}/scenarios/*.yaml"
    return {path.stem: path for path in sorted(CITIES_DIR.glob(pattern)) if path.stem != "model"}


def find_scenario(name_or_file: str) -> Path:
    """A scenario file by path, or by the name of a shipped scenario."""
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(path, None, "no such scenario file")
        return path
    found = scenario_paths().get(name_or_file)
    if found is None:
        known = ", ".join(scenario_paths()) or "none"
        raise ScenarioError(name_or_file, None, f"no scenario named {name_or_file!r}; shipped scenarios: {known}")
    return found


def load_scenario(name_or_file: str, *, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Read a scenario and the ones it extends; errors name the file, the line and the field."""
    path = find_scenario(name_or_file).resolve()
    if path in _seen:
        raise ScenarioError(path, None, "a scenario cannot extend itself (directly or through another)")
    document = read_yaml(path)
    data = document.data
    if not isinstance(data, dict):
        raise ScenarioError(path, 1, "a scenario is a mapping of fields (scenario, city, period, programs…)")
    if data.get("extends"):
        parent_name = str(data["extends"])
        sibling = path.parent / f"{parent_name}.yaml"
        parent = load_scenario(str(sibling) if sibling.is_file() else parent_name, _seen=(*_seen, path))
        # a scenario inherits its parent's city and changes, not the figures the parent is calibrated to
        inherited = parent.model_dump(exclude={"source", "targets", "title", "about"}, exclude_none=True)
        data = _merge(inherited, data)
    try:
        return Scenario.model_validate({**data, "source": str(path)})
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        field = ".".join(str(part) for part in location) or "scenario"
        located = document.error(location, f"{field}: {first['msg'].removeprefix('Value error, ')}")
        raise ScenarioError(located.path, located.line, located.reason) from None


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` over ``base``: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- compiling -----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class CompiledScenario:
    """A scenario with everything resolved: what the simulator runs and what a reader needs to know."""

    scenario: Scenario
    simulation: SimulationInput
    hours: dict[str, str]
    shifts: dict[str, list[ShiftSpec]]
    max_wait: dict[str, float | None]


def compile_scenario(scenario: Scenario) -> CompiledScenario:
    """Resolve the city's files and apply the scenario's changes."""
    files = city_files(scenario.city)
    source = scenario.source or scenario.scenario
    try:
        config = read_programs_file(files.config)
        policy = load_policy(files.policies / f"{files.policy}.yaml", programs=files.config)
        model = load_model(_model_path(scenario, files.model))
    except YamlFileError as error:
        raise ScenarioError(error.path, error.line, f"{error.reason} (city {scenario.city!r} of {source})") from None
    for code in scenario.programs:
        if code not in policy.programs or policy.programs[code].always_open:
            raise ScenarioError(source, None, f"programs.{code}: the {scenario.city} policy has no program {code} "
                                              "with hours (external services are always open)")
    policy, hours = _with_hours(policy, scenario)
    shifts: dict[str, list[ShiftSpec]] = {}
    max_wait: dict[str, float | None] = {}
    field_programs, phone_programs = [], []
    configured = {p.code: p for p in config.programs}
    for code, program in policy.programs.items():
        is_field = program.kind == "field" and code in model.responses
        is_phone = program.kind == "phone" and code in model.phone
        if not (is_field or is_phone):
            continue
        spec = scenario.programs.get(code, ProgramSpec())
        shifts[code] = spec.shifts if spec.shifts is not None else _default_shifts(program.hours, config, code)
        wait: float | None = spec.max_wait_minutes
        if wait is None:
            wait = float(configured[code].max_wait_minutes if code in configured else policy.max_wait_minutes)
        max_wait[code] = wait
        compiled_shifts = tuple(s.compiled() for s in shifts[code] if s.teams > 0)
        if is_field:
            field_programs.append(_field(code, model, config, compiled_shifts, wait, spec.patience))
        else:
            phone = model.phone[code]
            phone_programs.append(PhoneProgram(
                code=code, shifts=compiled_shifts, max_wait=wait, patience=spec.patience,
                minutes=Dist(Kind.LOGNORMAL, phone.minutes.mean, phone.minutes.spread),
                answer_after_minutes=phone.answer_after_seconds / 60.0, escalates=phone.escalates,
                escalates_to=program.escalates_to))
    simulation = SimulationInput(
        name=scenario.scenario, policy=policy,
        start=scenario.period.start - timedelta(days=scenario.period.warmup_days),
        days=scenario.period.days + scenario.period.warmup_days,
        warmup_days=scenario.period.warmup_days, demand=_demand(scenario, model, policy),
        field_programs=tuple(field_programs), phone_programs=tuple(phone_programs),
        processing=Dist(Kind.LOGNORMAL, model.call_processing_minutes.mean, model.call_processing_minutes.spread),
        travel_factor=scenario.travel.vs_estimate, travel_spread=scenario.travel.spread)
    return CompiledScenario(scenario, simulation, hours, shifts, max_wait)


def _model_path(scenario: Scenario, city_model: Path) -> Path:
    if scenario.model is None:
        return city_model
    path = Path(scenario.model)
    if not path.is_absolute() and scenario.source:
        path = Path(scenario.source).parent / path
    return path


def _with_hours(policy: Policy, scenario: Scenario) -> tuple[Policy, dict[str, str]]:
    programs = dict(policy.programs)
    for code, spec in scenario.programs.items():
        if spec.hours is None:
            continue
        windows: tuple[tuple[int, int], ...] = tuple(w for text in spec.hours for w in parse_hours(text))
        programs[code] = dataclasses.replace(programs[code], hours=windows,
                                             hours_text=", ".join(spec.hours) or "closed")
    changed = dataclasses.replace(policy, programs=programs)
    return changed, {code: p.hours_text for code, p in programs.items() if not p.always_open}


def _default_shifts(hours: tuple[tuple[int, int], ...], config: ProgramsFile, code: str) -> list[ShiftSpec]:
    teams = sum(1 for unit in config.units if unit.program == code)
    return [ShiftSpec(start=_text(start), end=_text(end), teams=teams) for start, end in hours]


def _text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _field(code: str, model: CityModel, config: ProgramsFile, shifts: tuple[Shift, ...], wait: float | None,
           patience: Kind) -> FieldProgram:
    times = model.responses[code]
    homes = tuple(unit.home for unit in config.units if unit.program == code and unit.home is not None)
    return FieldProgram(
        code=code, shifts=shifts, homes=homes or (model.geography.center,), max_wait=wait, patience=patience,
        on_scene=Dist(Kind.LOGNORMAL, times.base_on_scene_minutes, times.on_scene_spread),
        transport=times.transport, transport_minutes=Dist(Kind.LOGNORMAL, times.transport_minutes, 0.35),
        ems_support=times.ems_support, ems_extra_minutes=times.ems_extra_minutes, cancelled=times.cancelled)


def _demand(scenario: Scenario, model: CityModel, policy: Policy) -> Demand:
    per_year = {kind: volume * model.calls.volume_scale * scenario.call_volume
                for kind, volume in model.calls.per_year().items()}
    for kind, volume in scenario.call_volume_by_type.items():
        per_year[kind] = volume * scenario.call_volume
    types = tuple(kind for kind, volume in per_year.items() if volume > 0)
    total = sum(per_year[kind] for kind in types)
    questions = policy.question_ids
    chances = model.calls.screening_yes
    yes = np.array([[chances.get(kind, chances.get("other", {})).get(q, 0.0) for q in questions] for kind in types])
    start = scenario.period.start - timedelta(days=scenario.period.warmup_days)
    days = scenario.period.days + scenario.period.warmup_days
    geography = model.geography
    return Demand(
        hourly_calls=hourly_calls(model, start, days, total), types=types,
        type_shares=tuple(per_year[kind] / total for kind in types) if total else (1.0,) * len(types),
        priorities=tuple(model.calls.priorities), priority_shares=tuple(model.calls.priorities.values()),
        questions=questions, yes=yes.reshape(len(types), len(questions)), unknown_answer=model.calls.unknown_answer,
        clusters=geography.clusters, center=geography.center, bounds=geography.bounds,
        facilities=tuple(geography.facilities.values()))
