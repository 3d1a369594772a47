"""Which unit to send: available units ranked by estimated time to scene, and the wait when none is free.

Travel time sits behind ``TravelTimeEstimator`` so that a routing engine (OSRM, Valhalla, a CAD's AVL
feed) can replace the straight-line estimate without touching the ranking.

Calibration of ``StraightLineEstimator`` (documented so it can be redone for another city):
- circuity 1.40 — road distance over straight-line distance; 1.417 is the US mean found by Boscoe, Henry and
  Zdeb (2012, *Professional Geographer* 64:2) and urban trips sit a little lower;
- 32 km/h — average urban driving speed without lights and sirens (the teams do not run hot);
- 2 minutes of turnout between "dispatched" and wheels rolling.
With Durham's five CRT home positions (cities/durham/programs.yaml), random points across the city lie 3.3 km from
the nearest unit and 5.9 km from the second nearest; the estimate gives 10.7 and 15.5 minutes, bracketing the
11.26-minute mean dispatch-to-scene time Durham published for CRT (a unit is sometimes not the nearest one
because the nearest is busy).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.dispatch.models import Response
from heart.programs.models import Unit

EARTH_RADIUS_KM = 6371.0088
TYPICAL_ON_SCENE_MINUTES = 35.0  # Durham CRT published 33.49; used until a program has its own history
TYPICAL_TRANSPORT_MINUTES = 20.0
MINIMUM_REMAINING_MINUTES = 5.0  # a unit past its typical time is still a few minutes from free
HISTORY_FOR_TYPICAL = 200  # the program's most recent cleared responses that set its typical time on scene


@dataclass(frozen=True, slots=True)
class Point:
    """A position in WGS 84 degrees."""
    lat: float
    lon: float


class TravelTimeEstimator(Protocol):
    """Minutes for a unit at ``origin`` to reach ``destination``."""

    def minutes(self, origin: Point, destination: Point) -> float: ...


def haversine_km(origin: Point, destination: Point) -> float:
    """Great-circle distance in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (origin.lat, origin.lon, destination.lat, destination.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True, slots=True)
class StraightLineEstimator:
    """Straight-line distance × road circuity ÷ speed, plus turnout (see the module docstring)."""

    circuity: float = 1.40
    speed_kmh: float = 32.0
    turnout_minutes: float = 2.0

    def minutes(self, origin: Point, destination: Point) -> float:
        return self.turnout_minutes + haversine_km(origin, destination) * self.circuity / self.speed_kmh * 60


DEFAULT_ESTIMATOR = StraightLineEstimator()


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One available unit and how long it would take; ``minutes`` is None when a position is unknown."""

    unit_id: int
    call_sign: str
    minutes: float | None
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class ExpectedWait:
    """When the soonest busy unit of the program could be at the call."""

    minutes: float
    call_sign: str


@dataclass(frozen=True, slots=True)
class BusyUnit:
    """A unit on a response, and where that response is."""

    unit: Unit
    response: Response
    call_point: Point | None


def position_of(unit: Unit) -> Point | None:
    """The unit's last known position, else its home."""
    if unit.lat is not None and unit.lon is not None:
        return Point(unit.lat, unit.lon)
    if unit.home_lat is not None and unit.home_lon is not None:
        return Point(unit.home_lat, unit.home_lon)
    return None


def rank_units(
    destination: Point | None, units: Iterable[Unit], estimator: TravelTimeEstimator = DEFAULT_ESTIMATOR
) -> list[Recommendation]:
    """Available ``units`` fastest first; units (or a call) without a position come last, by call sign."""
    ranked = []
    for unit in units:
        origin = position_of(unit)
        if origin is None or destination is None:
            ranked.append(Recommendation(unit.id, unit.call_sign, None, None))
            continue
        ranked.append(Recommendation(unit.id, unit.call_sign, estimator.minutes(origin, destination),
                                     haversine_km(origin, destination)))
    return sorted(ranked, key=lambda r: (r.minutes is None, r.minutes or 0.0, r.call_sign))


def expected_wait(
    destination: Point | None, busy: Sequence[BusyUnit], *, now: datetime, typical_on_scene: float,
    estimator: TravelTimeEstimator = DEFAULT_ESTIMATOR,
) -> ExpectedWait | None:
    """The soonest a busy unit could finish its call and reach this one (None when no unit is busy)."""
    best: ExpectedWait | None = None
    for item in busy:
        minutes = _remaining_minutes(item, now=now, typical_on_scene=typical_on_scene, estimator=estimator)
        start = item.call_point or position_of(item.unit)
        if start is not None and destination is not None:
            minutes += estimator.minutes(start, destination)
        if best is None or minutes < best.minutes:
            best = ExpectedWait(minutes, item.unit.call_sign)
    return best


def _remaining_minutes(item: BusyUnit, *, now: datetime, typical_on_scene: float,
                       estimator: TravelTimeEstimator) -> float:
    response = item.response

    def since(at: datetime) -> float:
        return max((now - at).total_seconds() / 60, 0.0)

    if response.transport_started_at is not None:
        return max(TYPICAL_TRANSPORT_MINUTES - since(response.transport_started_at), MINIMUM_REMAINING_MINUTES)
    if response.on_scene_at is not None:
        return max(typical_on_scene - since(response.on_scene_at), MINIMUM_REMAINING_MINUTES)
    origin = position_of(item.unit)
    travel = estimator.minutes(origin, item.call_point) if origin and item.call_point else 0.0
    return max(travel - since(response.dispatched_at), 0.0) + typical_on_scene


def typical_on_scene_minutes(*, session: Session, program_id: int, now: datetime) -> float:
    """The median time on scene of the program's recent cleared responses (a default until it has 5)."""
    rows = session.execute(
        select(Response.on_scene_at, Response.cleared_at)
        .where(Response.program_id == program_id, Response.cleared_at.is_not(None),
               Response.on_scene_at.is_not(None), Response.cleared_at > now - timedelta(days=90))
        .order_by(Response.cleared_at.desc()).limit(HISTORY_FOR_TYPICAL)
    ).all()
    minutes = [(cleared - arrived).total_seconds() / 60 for arrived, cleared in rows
               if arrived is not None and cleared is not None and cleared >= arrived]
    return statistics.median(minutes) if len(minutes) >= 5 else TYPICAL_ON_SCENE_MINUTES
