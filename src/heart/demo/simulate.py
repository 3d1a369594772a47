"""Simulate a year (or more) of the program's operation, call by call.

Calls arrive by hour of week (and season); each gets a call type from the mix, a priority and screening
answers; the real policy engine decides the pathway given which programs have a unit free within their
wait; a field unit is chosen by who can arrive first from where it is (at its last scene, on its way
home, or home), travels, spends time on scene, and may transport; phone clinicians (Durham's CCD) take calls and
sometimes send a team. Nothing here writes the target numbers: they emerge from the distributions in
``calibration.py``. Times are epoch seconds (UTC) until ``history.py`` writes the rows.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from heart.demo.calibration import ROAD_FACTOR, Calibration, ResponseModel
from heart.demo.streams import (
    BernoulliStream,
    CategoricalStream,
    ContinuousStream,
    HaltonStream,
    lognormal,
    spread,
)
from heart.simulation.demand import expected_calls_per_day, hour_profile
from heart.triage.engine import CallFacts, Decision, decide
from heart.triage.policy import Policy

CANCEL_REASONS = ("the neighbor left before the team arrived", "police handled the call",
                  "caller says help is no longer needed")


@dataclass
class SimUnit:
    """A unit during the simulation: where it is and when it is free."""

    id: int
    call_sign: str
    program: str
    home: tuple[float, float]
    position: tuple[float, float]
    free_at: float = 0.0


@dataclass
class SimResponse:
    unit: SimUnit
    program: str
    dispatched: float
    en_route: float
    on_scene: float | None = None
    transport_started: float | None = None
    cleared: float | None = None
    cancelled: float | None = None
    cancel_reason: str | None = None
    transported: bool | None = None
    destination: str | None = None
    pd_backup_for_safety: bool | None = None
    ems_support: bool | None = None
    disposition: str | None = None


@dataclass
class SimCall:
    number: int
    received: float
    incident_type: str
    priority: str
    source: str
    screening: dict[str, str]
    location: tuple[float, float] = (0.0, 0.0)  # drawn after triage (Simulation.locate)
    address: str = ""
    beat: str = ""
    decision: Decision | None = None
    escalated_at: float | None = None  # a phone program's clinician sent a team
    phone: tuple[SimUnit, float, float] | None = None  # the phone clinician, start, end
    responses: list[SimResponse] = field(default_factory=list)


@dataclass
class SimulatedHistory:
    calls: list[SimCall]
    start: datetime
    end: datetime


class Simulation:
    """One run of the model; ``run()`` returns every call with its decision, phone contact and responses."""

    def __init__(self, *, seed: int, start: date, days: int, zone: ZoneInfo, units: Sequence[SimUnit],
                 max_wait_minutes: dict[str, int], policy: Policy, cal: Calibration) -> None:
        self.cal = cal
        self.rng = np.random.default_rng(seed)
        self.start, self.days, self.zone, self.policy = start, days, zone, policy
        self.units = {code: [u for u in units if u.program == code] for code in {u.program for u in units}}
        self.max_wait = {code: minutes * 60.0 for code, minutes in max_wait_minutes.items()}
        rng = self.rng
        types = list(cal.CALLS_PER_YEAR)
        weights = [cal.CALLS_PER_YEAR[t] for t in types]
        # One stream per stretch of the day between program openings and closings, so that each program's
        # hours receive their expected share of every call type and answer (see streams.py).
        self.band_starts = _band_starts(policy)
        self.type_of = [CategoricalStream(rng, types, weights) for _ in self.band_starts]
        self.priority_of = CategoricalStream(rng, list(cal.PRIORITIES), list(cal.PRIORITIES.values()))
        self.source_of = CategoricalStream(rng, list(cal.SOURCES), list(cal.SOURCES.values()))
        self.places: dict[str, HaltonStream] = {}
        edges = np.cumsum([c[2] for c in cal.CALL_CLUSTERS])
        self.cluster_edges = [float(edge) for edge in edges / edges[-1]]
        self.questions = policy.question_ids  # asked in the call-taker's order (Durham: weapon … phone_ok)
        self.unknown = {q: BernoulliStream(rng, cal.UNKNOWN_ANSWER) for q in self.questions}
        self.yes: dict[tuple[str, str, int], BernoulliStream] = {}
        self.processing = ContinuousStream(rng, lognormal(*cal.CALL_PROCESSING_MINUTES))
        phones = [code for code, p in policy.programs.items() if p.kind == "phone" and code in cal.PHONE_MINUTES]
        self.phone_minutes = {code: ContinuousStream(rng, lognormal(*cal.PHONE_MINUTES[code])) for code in phones}
        self.escalates = {code: BernoulliStream(rng, cal.PHONE_ESCALATES[code]) for code in phones}
        self.field = frozenset(code for code, p in policy.programs.items() if p.kind == "field"
                               and code in cal.RESPONSE_MODELS and code in self.units)
        self.facility_of = CategoricalStream(rng, list(cal.FACILITIES), cal.FACILITY_WEIGHTS)
        self.disposition_of = CategoricalStream(rng, list(cal.DISPOSITIONS), list(cal.DISPOSITIONS.values()))
        self.models = {code: _ProgramStreams(rng, model) for code, model in cal.RESPONSE_MODELS.items()}

    # --- arrivals ------------------------------------------------------------------------------------------

    def arrival_times(self) -> list[float]:
        """Epoch seconds of every call: a fixed expected count per day, spread over the day's hours (the same
        expected count and hour profile as the capacity simulator's arrivals, heart.simulation.demand)."""
        per_year = sum(self.cal.CALLS_PER_YEAR.values()) * self.cal.VOLUME_SCALE
        carry = float(self.rng.random())
        times: list[float] = []
        for offset in range(self.days):
            day = self.start + timedelta(days=offset)
            expected = expected_calls_per_day(self.cal.MODEL, day, per_year) + carry
            count = int(expected)
            carry = expected - count
            hours = hour_profile(self.cal.MODEL, day)
            cumulative = np.cumsum((0.0, *hours)) / sum(hours)
            midnight = datetime(day.year, day.month, day.day)
            for u in sorted(spread(self.rng, count)):
                hour = int(np.searchsorted(cumulative, u, side="right")) - 1
                fraction = (u - cumulative[hour]) / (cumulative[hour + 1] - cumulative[hour])
                local = (midnight + timedelta(hours=hour + float(fraction))).replace(tzinfo=self.zone)
                times.append(local.timestamp())
        return sorted(times)

    # --- one call ------------------------------------------------------------------------------------------

    def new_call(self, number: int, received: float) -> SimCall:
        local = datetime.fromtimestamp(received, self.zone)
        band = bisect.bisect_right(self.band_starts, local.hour * 60 + local.minute) - 1
        incident_type = self.type_of[band]()
        answers: dict[str, str] = {}
        chances = self.cal.SCREENING_YES.get(incident_type, self.cal.SCREENING_YES["other"])
        for question in self.questions:
            if self.unknown[question]():
                continue  # not answered: unknown
            key = (incident_type, question, band)
            if key not in self.yes:
                self.yes[key] = BernoulliStream(self.rng, chances.get(question, 0.0))
            answers[question] = "yes" if self.yes[key]() else "no"
        return SimCall(number=number, received=received, incident_type=incident_type, priority=self.priority_of(),
                       source=self.source_of(), screening=answers)

    def locate(self, call: SimCall, pathway: str) -> None:
        """Where the call is. Drawn after triage (which does not depend on it), from one even-spread stream
        per pathway, so that each program's calls cover the city as the clusters say."""
        if pathway not in self.places:
            self.places[pathway] = HaltonStream(self.rng, 3)
        u_cluster, u_radius, u_angle = self.places[pathway]()
        index = min(bisect.bisect_right(self.cluster_edges, u_cluster), len(self.cal.CALL_CLUSTERS) - 1)
        lat, lon, _, spread_km = self.cal.CALL_CLUSTERS[index]
        # distance from the cluster's centre: a Rayleigh distribution (a two-dimensional normal)
        distance = spread_km * math.sqrt(-2.0 * math.log1p(-min(u_radius, 1 - 1e-12)))
        angle = 2 * math.pi * u_angle
        north, east = distance * math.cos(angle), distance * math.sin(angle)
        (south_edge, north_edge), (west_edge, east_edge) = self.cal.CITY_BOUNDS
        call.location = (min(max(lat + north / 111.0, south_edge), north_edge),
                         min(max(lon + east / (111.0 * math.cos(math.radians(lat))), west_edge), east_edge))
        call.address, call.beat = self.address(), _beat(call.location, self.cal.CITY_CENTER)

    def address(self) -> str:
        block = int(self.rng.integers(1, 40)) * 100
        return f"{block} block of {self.cal.STREETS[int(self.rng.integers(len(self.cal.STREETS)))]}"

    def available(self, at: float) -> dict[str, bool]:
        """Whether each program has a unit free now or within its maximum wait."""
        return {code: any(u.free_at <= at + self.max_wait.get(code, 900.0) for u in units)
                for code, units in self.units.items()}

    def handle(self, call: SimCall) -> None:
        at = datetime.fromtimestamp(call.received, UTC)
        facts = CallFacts(incident_type=call.incident_type, priority=call.priority, screening=call.screening)
        call.decision = decide(facts, self.policy, at, self.available(call.received))
        pathway = call.decision.pathway
        self.locate(call, pathway)
        if pathway in self.field:
            ready = call.received + self.processing() * 60.0
            call.responses.append(self.dispatch(call, pathway, ready))
        elif pathway in self.phone_minutes and self.units.get(pathway):
            self.phone(call, pathway)

    def phone(self, call: SimCall, code: str) -> None:
        """A clinician of phone program ``code`` (Durham's CCD) talks with the caller; sometimes the clinician then
        sends the field team the program escalates to (CRT)."""
        clinician = min(self.units[code], key=lambda u: (u.free_at, u.id))
        start = max(call.received + 30.0, clinician.free_at)
        end = start + self.phone_minutes[code]() * 60.0
        clinician.free_at = end
        call.phone = (clinician, start, end)
        target = self.policy.programs[code].escalates_to
        if self.escalates[code]() and target is not None and target in self.field:
            at = datetime.fromtimestamp(end, UTC)
            team = self.policy.programs[target]
            local = at.astimezone(self.policy.timezone)
            if team.is_open(local.hour * 60 + local.minute) and self.available(end).get(target):
                call.escalated_at = end
                call.responses.append(self.dispatch(call, target, end + 60.0))

    def dispatch(self, call: SimCall, program: str, ready: float) -> SimResponse:
        """Send the unit that can arrive first, from where it is; play its response to the end."""
        model = self.cal.RESPONSE_MODELS[program]
        streams = self.models[program]

        def plan(unit: SimUnit) -> tuple[float, float, tuple[float, float]]:
            start = max(ready, unit.free_at)
            origin = self.position_of(unit, start, model)
            return start + _travel_seconds(origin, call.location, model), start, origin

        plans = [(plan(unit), unit.id, unit) for unit in self.units[program]]
        (_, start, origin), _, unit = min(plans, key=lambda entry: (entry[0][0], entry[1]))
        turnout = streams.turnout() * 60.0
        travel = _travel_seconds(origin, call.location, model) * streams.travel_noise()
        response = SimResponse(unit=unit, program=program, dispatched=start, en_route=start + turnout)
        if streams.cancelled():
            share = float(self.rng.uniform(0.2, 0.9))
            response.cancelled = start + turnout + share * travel
            response.cancel_reason = CANCEL_REASONS[int(self.rng.integers(len(CANCEL_REASONS)))]
            unit.position = _between(origin, call.location, share)
            unit.free_at = response.cancelled
            return response
        response.on_scene = start + turnout + travel
        response.transported = streams.transport()
        response.pd_backup_for_safety = streams.pd_backup()
        response.ems_support = streams.ems()
        on_scene = streams.on_scene() + (model.ems_extra_minutes if response.ems_support else 0.0)
        response.disposition = self.disposition_of()
        if response.transported:
            response.transport_started = response.on_scene + on_scene * 60.0
            response.destination = self.facility_of()
            response.cleared = response.transport_started + streams.transport_minutes() * 60.0
            response.disposition = "transported"
            unit.position = self.cal.FACILITIES[response.destination]
        else:
            response.cleared = response.on_scene + on_scene * 60.0
            unit.position = call.location
        unit.free_at = response.cleared
        return response

    def position_of(self, unit: SimUnit, at: float, model: ResponseModel) -> tuple[float, float]:
        """Idle units drive home after a call: where this one is at ``at``."""
        if unit.free_at <= 0:
            return unit.home
        home_trip = _travel_seconds(unit.position, unit.home, model)
        idle = at - unit.free_at
        if idle <= 0 or home_trip <= 0:
            return unit.position
        return _between(unit.position, unit.home, min(1.0, idle / home_trip))

    def run(self) -> SimulatedHistory:
        calls = [self.new_call(number, received) for number, received in enumerate(self.arrival_times(), 1)]
        for call in calls:
            self.handle(call)
        start = datetime.combine(self.start, datetime.min.time(), self.zone).astimezone(UTC)
        end = datetime.combine(self.start + timedelta(days=self.days), datetime.min.time(), self.zone)
        return SimulatedHistory(calls=calls, start=start, end=end.astimezone(UTC))


class _ProgramStreams:
    """One field program's stratified draws."""

    def __init__(self, rng: np.random.Generator, model: ResponseModel) -> None:
        self.turnout = ContinuousStream(rng, lognormal(model.turnout_minutes, 0.4))
        self.travel_noise = ContinuousStream(rng, lognormal(1.0, model.travel_spread))
        self.on_scene = ContinuousStream(rng, lognormal(model.on_scene_minutes, model.on_scene_spread))
        self.transport_minutes = ContinuousStream(rng, lognormal(model.transport_minutes, 0.35))
        self.transport = BernoulliStream(rng, model.transport)
        self.pd_backup = BernoulliStream(rng, model.pd_backup_for_safety)
        self.ems = BernoulliStream(rng, model.ems_support)
        self.cancelled = BernoulliStream(rng, model.cancelled)


def _band_starts(policy: Policy) -> list[int]:
    """Minutes of the day at which some program opens or closes (0 first)."""
    edges = {0}
    for program in policy.programs.values():
        for start, end in program.hours:
            edges.update({start % 1440, end % 1440})
    return sorted(edges)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (a[0] - b[0]) * 111.0
    east = (a[1] - b[1]) * 111.0 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(north, east)


def _travel_seconds(a: tuple[float, float], b: tuple[float, float], model: ResponseModel) -> float:
    return _km(a, b) * ROAD_FACTOR / model.travel_km_per_hour * 3600.0


def _between(a: tuple[float, float], b: tuple[float, float], share: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share)


def _beat(location: tuple[float, float], center: tuple[float, float]) -> str:
    """A police beat from the position: district by compass sector around downtown, beat by distance."""
    north = (location[0] - center[0]) * 111.0
    east = (location[1] - center[1]) * 89.8
    district = int(((math.degrees(math.atan2(north, east)) + 360) % 360) // 72) + 1
    ring = min(int(math.hypot(north, east) // 2.5), 3) + 1
    return f"{district}{ring}{1 + int(abs(north * 7 + east * 3)) % 4}"
