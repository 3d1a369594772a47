"""Draw one replication's calls at once (numpy): arrival times, incident types, priorities, answers, places.

Arrivals are a Poisson process whose rate is constant within each hour of the horizon (the hour-of-week
profile, weekday and month factors of the city's model); every other attribute is drawn independently per
call, so replications are independent samples and confidence intervals over them are honest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from heart.simulation.inputs import Demand
from heart.simulation.model import CityModel

NO, YES, UNKNOWN = 0, 1, 2
KM_PER_DEGREE = 111.0


def expected_calls_per_day(model: CityModel, day: date, per_year: float) -> float:
    """Expected calls on ``day`` for ``per_year`` calls a year: the weekday and month factors of the model."""
    per_day = per_year / 365.25
    return per_day * model.arrivals.weekday_factors[day.weekday()] * model.arrivals.month_factors[day.month - 1]


def hour_profile(model: CityModel, day: date) -> tuple[float, ...]:
    """Relative volume by local hour on ``day`` (weekend or weekday)."""
    return model.arrivals.weekend_hours if day.weekday() >= 5 else model.arrivals.weekday_hours


def hourly_calls(model: CityModel, start: date, days: int, per_year: float) -> np.ndarray:
    """Expected calls in each local hour of ``days`` days from ``start``."""
    rates = np.empty(days * 24)
    for offset in range(days):
        day = start + timedelta(days=offset)
        hours = np.asarray(hour_profile(model, day), dtype=float)
        rates[offset * 24:(offset + 1) * 24] = expected_calls_per_day(model, day, per_year) * hours / hours.sum()
    return rates


@dataclass(slots=True)
class CallBatch:
    """One replication's calls, in order of arrival."""

    received: np.ndarray
    """minutes from the start of the horizon"""
    type_index: np.ndarray
    priority_index: np.ndarray
    answers: np.ndarray
    """(calls, questions): NO, YES or UNKNOWN"""
    facts: np.ndarray
    """one integer per distinct (type, priority, answers): the key of the triage decision"""
    lat: np.ndarray
    lon: np.ndarray

    def __len__(self) -> int:
        return len(self.received)


def draw_calls(demand: Demand, rng: np.random.Generator) -> CallBatch:
    """The calls of one replication."""
    counts = rng.poisson(demand.hourly_calls)
    hour_of_call = np.repeat(np.arange(len(counts)), counts)
    received = np.sort((hour_of_call + rng.random(len(hour_of_call))) * 60.0)
    n = len(received)
    type_index = rng.choice(len(demand.types), size=n, p=_normalised(demand.type_shares))
    priority_index = rng.choice(len(demand.priorities), size=n, p=_normalised(demand.priority_shares))
    questions = len(demand.questions)
    yes = rng.random((n, questions)) < demand.yes[type_index]
    answers = np.where(yes, YES, NO).astype(np.int8)
    if demand.unknown_answer > 0:
        answers[rng.random((n, questions)) < demand.unknown_answer] = UNKNOWN
    facts = type_index.astype(np.int64) * len(demand.priorities) + priority_index
    for column in range(questions):
        facts = facts * 3 + answers[:, column]
    lat, lon = _places(demand, rng, n)
    return CallBatch(received, type_index, priority_index, answers, facts, lat, lon)


def _normalised(shares: tuple[float, ...]) -> np.ndarray:
    values = np.asarray(shares, dtype=float)
    return values / values.sum()


def _places(demand: Demand, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each call is: a cluster by weight, then a two-dimensional normal around its centre, kept in bounds."""
    if not demand.clusters:
        return np.full(n, demand.center[0]), np.full(n, demand.center[1])
    clusters = np.asarray(demand.clusters, dtype=float)
    chosen = rng.choice(len(clusters), size=n, p=clusters[:, 2] / clusters[:, 2].sum())
    lat0, lon0, spread = clusters[chosen, 0], clusters[chosen, 1], clusters[chosen, 3]
    distance = spread * np.sqrt(-2.0 * np.log1p(-np.minimum(rng.random(n), 1 - 1e-12)))
    angle = 2 * math.pi * rng.random(n)
    lat = lat0 + distance * np.cos(angle) / KM_PER_DEGREE
    lon = lon0 + distance * np.sin(angle) / (KM_PER_DEGREE * np.cos(np.radians(lat0)))
    if demand.bounds is not None:
        (south, north), (west, east) = demand.bounds
        lat, lon = np.clip(lat, south, north), np.clip(lon, west, east)
    return lat, lon


def decode_facts(demand: Demand, code: int) -> tuple[str, str, dict[str, str]]:
    """(incident type, priority, screening answers) of a facts key; unknown answers are left out."""
    answers: dict[str, str] = {}
    for question in reversed(demand.questions):
        code, answer = divmod(code, 3)
        if answer != UNKNOWN:
            answers[question] = "yes" if answer == YES else "no"
    type_index, priority_index = divmod(code, len(demand.priorities))
    return demand.types[type_index], demand.priorities[priority_index], answers
