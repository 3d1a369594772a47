"""What one simulation run needs, compiled from a scenario: plain, picklable values (sent once to each worker).

The simulation clock is minutes of local wall-clock time from midnight of the first simulated day; shifts and
program hours repeat every day. Distributions are given by their mean so a scenario reads in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np

from heart.dispatch.recommend import DEFAULT_ESTIMATOR, TravelTimeEstimator
from heart.triage.policy import Policy

MINUTES_PER_DAY = 1440


class Kind(StrEnum):
    LOGNORMAL = "lognormal"
    EXPONENTIAL = "exponential"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class Dist:
    """A duration in minutes: lognormal (mean, spread of the logarithm), exponential (mean) or fixed."""

    kind: Kind
    mean: float
    spread: float = 0.0

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.kind == Kind.FIXED or self.mean <= 0:
            return np.full(count, max(self.mean, 0.0))
        if self.kind == Kind.EXPONENTIAL:
            return rng.exponential(self.mean, count)
        mu = math.log(self.mean) - self.spread**2 / 2
        return np.exp(mu + self.spread * rng.standard_normal(count))


@dataclass(frozen=True, slots=True)
class Shift:
    """Teams on duty every day from ``start`` to ``end`` (minutes of the day; ``end`` > 1440 runs past midnight)."""

    start: int
    end: int
    teams: int

    def covers(self, minute_of_day: int) -> bool:
        return any(self.start <= minute_of_day + day < self.end for day in (0, MINUTES_PER_DAY))


@dataclass(frozen=True, slots=True)
class FieldProgram:
    """A field program's teams and how its responses unfold."""

    code: str
    shifts: tuple[Shift, ...]
    homes: tuple[tuple[float, float], ...]
    """where each team starts and returns to (cycled when a shift has more teams than homes)"""
    max_wait: float | None
    """minutes a ready call waits for a team before falling back (None: it waits as long as it takes)"""
    patience: Kind
    """FIXED: every call waits exactly ``max_wait``; EXPONENTIAL: a random wait with that mean (Erlang-A)"""
    on_scene: Dist
    transport: float
    transport_minutes: Dist
    ems_support: float
    ems_extra_minutes: float
    cancelled: float


@dataclass(frozen=True, slots=True)
class PhoneProgram:
    """Clinicians who take calls by phone (CCD), and the field team they may send afterwards."""

    code: str
    shifts: tuple[Shift, ...]
    max_wait: float | None
    patience: Kind
    minutes: Dist
    answer_after_minutes: float
    escalates: float
    escalates_to: str | None


@dataclass(frozen=True, slots=True)
class Demand:
    """Who calls: expected calls per hour of the horizon, incident types, priorities and screening answers."""

    hourly_calls: np.ndarray
    """expected calls in each hour of the horizon (len = days × 24)"""
    types: tuple[str, ...]
    type_shares: tuple[float, ...]
    priorities: tuple[str, ...]
    priority_shares: tuple[float, ...]
    questions: tuple[str, ...]
    yes: np.ndarray
    """probability of "yes", shape (types, questions)"""
    unknown_answer: float
    clusters: tuple[tuple[float, float, float, float], ...] = ()
    """(lat, lon, weight, spread km) where calls come from; empty: every call at ``center``"""
    center: tuple[float, float] = (0.0, 0.0)
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
    facilities: tuple[tuple[float, float, float], ...] = ()
    """(lat, lon, weight) where transports go"""


@dataclass(frozen=True, slots=True)
class SimulationInput:
    """Everything one replication needs."""

    name: str
    policy: Policy
    start: date
    days: int
    warmup_days: float
    demand: Demand
    field_programs: tuple[FieldProgram, ...]
    phone_programs: tuple[PhoneProgram, ...]
    processing: Dist
    """call received → ready to dispatch (the call-taker's work)"""
    travel_factor: float
    """realised travel ÷ the board's estimate (mean); 0 for no travel at all"""
    travel_spread: float
    estimator: TravelTimeEstimator = field(default=DEFAULT_ESTIMATOR)

    @property
    def horizon(self) -> float:
        return self.days * MINUTES_PER_DAY

    @property
    def warmup(self) -> float:
        return self.warmup_days * MINUTES_PER_DAY

    def program_codes(self) -> tuple[str, ...]:
        """The HEART programs simulated: field first, then phone, in the scenario's order."""
        return tuple(p.code for p in self.field_programs) + tuple(p.code for p in self.phone_programs)
