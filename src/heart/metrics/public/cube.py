"""The public figures as additive cubes, written once in Ibis on top of ``heart.metrics.definitions``.

Each cube holds exact integer counts and sums per program, local month and the published dimensions; every
public figure (a program-year's panel, its months, call types, hours and beats) is a sum of cube rows, done
in Python (``public/service.py``). One scan of the history gives them all, on every engine.

- responses: the definitions' *counted* responses (``definitions.classify``), by program, local month cleared,
  incident type and local hour of dispatch — with the sums behind the panel's averages and shares;
- beats: the same responses by program, local month cleared and beat;
- phone: calls a phone program resolved (``PHONE_SCHEMA``), by program, local month resolved, incident type and
  local hour the call was received.

``scan`` runs the first two on a source for a period; ``public/stored.py`` keeps them beside each part of a
history on disk (built once, when the part is written), so that the figures need not scan the part again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from heart.metrics import definitions as d
from heart.metrics.backends import MetricsSource, quiet

PHONE_SCHEMA = ibis.schema({
    "program": "string",  # the phone program's code (e.g. CCD)
    "timezone": "string",
    "incident_type": "string",
    "received_at": "timestamp('UTC')",
    "resolved_at": "timestamp('UTC')",  # when the clinician resolved it by phone
})
"""One row per call resolved by a phone program: what every backend provides for the phone figures."""

SUMS = ("responses", "sum_us_to_scene", "sum_us_on_scene", "transported", "pd_backup_for_safety", "ems_support",
        "team_felt_safe", "team_safety_answered")
"""The additive measures of the responses cube, in the order of ``response_cube``'s columns."""


RESPONSES = pa.schema([("program", pa.string()), ("month", pa.int64()), ("incident_type", pa.string()),
                       ("hour", pa.int64()), *((name, pa.int64()) for name in SUMS)])
"""The responses cube's rows as Arrow (``month`` yyyymm of local clearing, ``hour`` 0-23 of local dispatch)."""
BEATS = pa.schema([("program", pa.string()), ("month", pa.int64()), ("beat", pa.string()),
                   ("responses", pa.int64())])
"""The beats cube's rows as Arrow."""


@dataclass(frozen=True)
class Cubes:
    """The responses cube and, when asked for, the beats cube of a history, as Arrow tables."""

    responses: pa.Table
    beats: pa.Table | None = None
    clock: d.LocalClock | None = None
    """The local time the months and hours were computed with (None for an empty history)."""


def scan(source: MetricsSource, period: d.Period, beats: bool = True) -> Cubes:
    """The cubes of the source's history for the period (local days; one scan of the history per cube)."""
    history = source.history
    span = source.span or _table(d.time_span(history)).to_pylist()[0]
    zones = [span["first_timezone"]] if span["first_timezone"] == span["last_timezone"] else [
        row["timezone"] for row in _table(d.programs_and_zones(history)).to_pylist()]
    clock = d.local_clock(span, zones)
    if clock is None:
        return Cubes(RESPONSES.empty_table(), BEATS.empty_table() if beats else None)
    classified = d.classify(d.response_facts(history, source.epoch_micros), clock, period)
    return Cubes(_table(response_cube(classified)).select(RESPONSES.names).cast(RESPONSES),
                 _table(beat_cube(classified)).select(BEATS.names).cast(BEATS) if beats else None, clock)


def _table(expr: ir.Table) -> pa.Table:
    with quiet():
        return expr.to_pyarrow()


def _ones(condition: ir.BooleanValue) -> ir.IntegerValue:
    return condition.cast("int32").sum()


def response_cube(classified: ir.Table, by: tuple[str, ...] = ("program", "month", "incident_type", "hour")
                  ) -> ir.Table:
    """Counted responses and the exact sums behind every published figure, per group of ``by``."""
    counted = classified.filter(classified.counted)
    return counted.group_by(list(by)).aggregate(
        responses=counted.count(),
        sum_us_to_scene=counted.us_to_scene.sum(),
        sum_us_on_scene=counted.us_on_scene.sum(),
        transported=_ones(counted.transported),
        pd_backup_for_safety=_ones(counted.pd_backup_for_safety),
        ems_support=_ones(counted.ems_support),
        team_felt_safe=_ones(counted.team_felt_safe),
        team_safety_answered=_ones(counted.team_felt_safe.notnull()),
    )


def beat_cube(classified: ir.Table) -> ir.Table:
    """Counted responses per program, local month cleared and beat."""
    counted = classified.filter(classified.counted)
    return counted.group_by(["program", "month", "beat"]).aggregate(responses=counted.count())


def phone_span(phone: ir.Table) -> ir.Table:
    """The first and last instants of the phone calls (one row), to bound their local clock."""
    return phone.aggregate(first_received_at=phone.received_at.min(), last_received_at=phone.received_at.max(),
                           first_resolved_at=phone.resolved_at.min(), last_resolved_at=phone.resolved_at.max())


def phone_cube(phone: ir.Table, epoch_micros: d.EpochMicros, clock: d.LocalClock, period: d.Period) -> ir.Table:
    """Calls resolved by phone in the period (local days of resolving), per program, local month resolved,
    incident type and local hour received."""
    calls = phone.select("program", "timezone", "incident_type", received_us=epoch_micros(phone.received_at),
                         resolved_us=epoch_micros(phone.resolved_at))
    within = calls.resolved_us.notnull()
    if period.since is not None:
        within &= calls.resolved_us >= clock.midnight(period.since, calls.timezone)
    if period.until is not None:
        within &= calls.resolved_us < clock.midnight(period.until + timedelta(days=1), calls.timezone)
    calls = calls.filter(within)
    calls = calls.mutate(resolved_slice=calls.resolved_us // clock.step_us,
                         hour=d.local_hour(clock.local(calls.received_us, calls.timezone)))
    calendar = clock.months()
    same_slice = calls.resolved_slice == calendar.calendar_slice
    if len(clock.zones) > 1:
        same_slice &= calls.timezone == calendar.calendar_timezone
    calls = calls.join(calendar, same_slice)
    return calls.group_by(["program", "month", "incident_type", "hour"]).aggregate(calls=calls.count())
