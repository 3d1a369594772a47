"""The demo's model of a city: what is published, and what we assumed to fill the gaps.

The values live in the city's ``scenarios/model.yaml`` (shared with the capacity scenarios, one copy) and its
``demo.yaml`` (what only the demo needs: its own travel model, and the words of its story — nature codes,
dispositions, needs, streets, the responder's unit, the pilots' staff). ``calibration(city)`` gives them the names
the demo's simulation uses; Durham's are below, Riverton's (a fictional city) are assumed throughout.

Durham:

Published (``../shared/data/reference/durham_published.json``): the dashboard figures the history must
reproduce (CRT 7,746 responses, 11.26 / 33.49 / 44.74 min, 7.41 % / 0.05 % / 1.02 %; Co-Response 3,488,
12.04 / 47.57 / 59.61 min, 8.31 % / 0.00 % / 0.63 %), the 2024 response mix (trespass / unwanted 2,146,
mental health crisis 1,443, non-urgent welfare check 1,373 of 11,612), the eligible call types (about
18,710 calls a year), about 1,000 involuntary-commitment calls a year, and the hours.

Assumed (no public source; change freely): the rest of the call mix, the arrival profile by hour of week
and season, how often each screening answer is "yes", call-processing and turnout times, travel speed,
the spread of the time distributions, cancellations, CCD phone time and escalation.

Calibrated: ``CALLS_PER_YEAR`` so that the triage of the simulated calls yields the published number of
responses; ``TRAVEL_KM_PER_HOUR`` per program so that the simulated travel from where units are yields the
published minutes to scene; the on-scene base so that base + transport + EMS time gives the published mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heart.city.folder import city_settings
from heart.simulation.model import CityModel, city_files, load_model
from heart.yamlfile import YamlFileError, read_yaml

ROAD_FACTOR = 1.35
"""Road distance ÷ straight-line distance in a gridded city (the demo's own travel model; the capacity
simulator uses the dispatch board's estimator instead)."""


@dataclass(frozen=True, slots=True)
class ResponseModel:
    """How one field program's responses unfold."""

    turnout_minutes: float  # dispatched → en route (mean)
    travel_km_per_hour: float  # effective speed over the road distance (calibrated)
    travel_spread: float  # lognormal log-spread of travel time around distance/speed
    on_scene_minutes: float  # on scene, before any transport or EMS wait (mean)
    on_scene_spread: float
    transport_minutes: float  # transport start → cleared (mean)
    ems_extra_minutes: float  # added on scene while waiting for or handing over to EMS
    transport: float  # published shares
    pd_backup_for_safety: float
    ems_support: float
    cancelled: float  # dispatched, then called off before arrival (assumed)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Travel(_Doc):
    turnout_minutes: float = Field(gt=0)
    km_per_hour: float = Field(gt=0)
    spread: float = Field(ge=0, le=3)


class PilotStaff(_Doc):
    username: str = Field(min_length=1, max_length=64)
    program: str
    role: str
    note: str = ""
    story: str = Field(default="", description="survivor (a referral) or petition (an examination): its cases")


class DemoDoc(_Doc):
    travel: dict[str, Travel]
    nature_codes: dict[str, str]
    call_number_prefix: str = Field(default="D", max_length=4)
    dispositions: dict[str, float]
    needs: list[str]
    services: list[str]
    consent_to_follow_up: float = Field(ge=0, le=1)
    team_felt_safe: float = Field(ge=0, le=1)
    streets: list[str] = Field(min_length=1)
    responder_unit: str
    pilot_staff: list[PilotStaff] = Field(default_factory=list)


class Calibration:
    """One city's demo model: the names the demo's simulation and writer use."""

    def __init__(self, city: str, model: CityModel, demo: DemoDoc) -> None:
        self.city, self.MODEL, self.demo = city, model, demo
        # --- calls ---
        self.CALL_MIX: dict[str, float] = dict(model.calls.mix)
        """Share of each type among the calls the alternative-response programs could take."""
        self.HEART_CALLS_PER_YEAR = model.calls.heart_calls_per_year
        self.OTHER_CALLS_PER_YEAR: dict[str, float] = dict(model.calls.other_calls_per_year)
        self.CALLS_PER_YEAR: dict[str, float] = model.calls.per_year()
        self.VOLUME_SCALE = model.calls.volume_scale
        self.NATURE_CODES: dict[str, str] = dict(demo.nature_codes)
        self.PRIORITIES = dict(model.calls.priorities)
        self.SOURCES = dict(model.calls.sources)
        self.SCREENING_YES: dict[str, dict[str, float]] = {kind: dict(answers)
                                                          for kind, answers in model.calls.screening_yes.items()}
        self.UNKNOWN_ANSWER = model.calls.unknown_answer
        """Share of answers the call-taker could not get (unknown is never taken as no)."""
        self.CALL_PROCESSING_MINUTES = (model.call_processing_minutes.mean, model.call_processing_minutes.spread)
        """Call received → unit dispatched for a free unit: lognormal (mean, log-spread)."""
        # --- responses ---
        self.RESPONSE_MODELS: dict[str, ResponseModel] = {code: self._response_model(code, travel)
                                                          for code, travel in demo.travel.items()}
        self.PHONE_MINUTES = {code: (phone.minutes.mean, phone.minutes.spread) for code, phone in model.phone.items()}
        self.PHONE_ESCALATES = {code: phone.escalates for code, phone in model.phone.items()}
        """Share of a phone program's contacts after which its clinician sends the field team it escalates to."""
        self.DISPOSITIONS = dict(demo.dispositions)
        self.NEEDS = tuple(demo.needs)
        self.SERVICES = tuple(demo.services)
        self.CONSENT_TO_FOLLOW_UP = demo.consent_to_follow_up
        self.TEAM_FELT_SAFE = demo.team_felt_safe
        """Share of in-person responses after which the crew answers that the team felt safe."""
        # --- geography ---
        self.CITY_CENTER = model.geography.center
        self.CITY_BOUNDS = model.geography.bounds
        self.CALL_CLUSTERS = model.geography.clusters
        """(lat, lon, weight, spread in km): where calls come from"""
        self.FACILITIES = {name: (lat, lon) for name, (lat, lon, _) in model.geography.facilities.items()}
        self.FACILITY_WEIGHTS = [weight for _, _, weight in model.geography.facilities.values()]
        self.STREETS = tuple(demo.streets)

    def _response_model(self, code: str, travel: Travel) -> ResponseModel:
        times = self.MODEL.responses[code]
        return ResponseModel(turnout_minutes=travel.turnout_minutes, travel_km_per_hour=travel.km_per_hour,
                             travel_spread=travel.spread, on_scene_minutes=times.base_on_scene_minutes,
                             on_scene_spread=times.on_scene_spread, transport_minutes=times.transport_minutes,
                             ems_extra_minutes=times.ems_extra_minutes, transport=times.transport,
                             pd_backup_for_safety=times.pd_backup_for_safety, ems_support=times.ems_support,
                             cancelled=times.cancelled)


def calibration(city: str | None = None) -> Calibration:
    """The demo model of ``city`` (the city in force by default)."""
    settings = city_settings(city)
    return _load(settings.key, city_files(str(settings.folder)).model, settings.part("demo"))


@lru_cache(maxsize=8)
def _load(city: str, model_path: Path, demo_path: Path) -> Calibration:
    model = load_model(model_path)
    document = read_yaml(demo_path)
    try:
        demo = DemoDoc.model_validate(document.data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = tuple(first["loc"])
        raise YamlFileError(demo_path, document.line_of(where),
                            f"{'.'.join(map(str, where)) or 'the file'}: {first['msg']}") from None
    for code in demo.travel:
        if code not in model.responses:
            raise YamlFileError(demo_path, document.line_of(("travel", code)),
                                f"travel.{code}: the model ({model_path.name}) has no responses of {code}")
    for kind in (*model.calls.mix, *model.calls.other_calls_per_year):
        if kind not in demo.nature_codes:
            raise YamlFileError(demo_path, document.line_of(("nature_codes",)),
                                f"nature_codes: no nature code for {kind!r}, a type the model's calls include")
    return Calibration(city, model, demo)
