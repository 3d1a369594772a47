"""The dashboard's metrics, written once as Ibis expressions (ARCHITECTURE §5).

Every backend (the operational SQLite or PostgreSQL database, DuckDB over a Parquet export) hands these
definitions a *history* table with one row per response (see ``HISTORY_SCHEMA``) and a function that
turns a timestamp into integer microseconds since the Unix epoch. From there on everything is integer
arithmetic, comparisons and plain aggregates, which every backend computes the same way:

- durations are differences of epoch microseconds, so sums and counts are exact integers and the
  averages are divided in Python (``service.py``), never by the database;
- local time comes from instants computed in Python from the zone database (SQLite knows no time
  zones): the period is compared with the UTC instants of its local midnights; the local month comes
  from a small calendar table (one row per hour of the span) joined on the hour; the local hour of day
  adds the UTC offset, found in a small balanced tree of the zone's transitions;
- quantiles use ranks from ``row_number()`` (SQLite has no percentile aggregate): the database returns
  the two neighbouring values and Python interpolates linearly between them, exactly as
  PostgreSQL's ``percentile_cont`` and DuckDB's ``quantile_cont`` define it. DuckDB may use its native
  ``quantile_cont`` instead (``native_quantiles``), which agrees to the last float digit or two.

Definitions, for a program and a period by ``cleared_at`` (local dates of the program's time zone):
a response *counts* when it is cleared in the period, not cancelled, and has dispatch, arrival and clear
times with non-negative durations. ``responses`` is the number that count; the time figures and the
percentages are over them. Cleared responses in the period that fail a condition are data-quality
exceptions (by kind). Cancelled responses are counted by ``cancelled_at`` in the period.

**Reach**, for a field program and a period by the call's ``received_at`` (local days): the calls *eligible* for
the program — those the policy recommends it for before hours and unit availability (the latest decision's
``eligible_pathway``), and those whose type the program's rule takes but that an exclusion kept from it (a weapon, a
risk to others, a priority the team cannot take: the latest decision's ``excluded_pathway``, with the exclusions
that held when it was decided) — and, of those that are closed, the share that got the program's response (a
response of the program that reached the scene). Every closed eligible call missed is counted under exactly one
reason: the fallback recorded at that moment (the program was closed; no unit of it on duty and free; no free unit
could arrive within the maximum wait; not dispatched within the maximum wait while units were free), else an
exclusion, else sent elsewhere by a person, else its unit was called off, else other. Eligible calls still open are
counted apart. A call kept from an unarmed team by an exclusion usually goes to another field program (Co-Response)
and then counts in that program's reach too, as eligible for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from heart.triage.engine import FALLBACK_REASONS

EpochMicros = Callable[[ir.TimestampValue], ir.IntegerValue]
"""A backend's way to turn a timestamp into integer microseconds since 1970-01-01 UTC."""

HISTORY_SCHEMA = ibis.schema({
    "program": "string",  # program code
    "timezone": "string",  # the program's IANA time zone
    "incident_type": "string",
    "received_at": "timestamp('UTC')",  # the call's
    "dispatched_at": "timestamp('UTC')",
    "on_scene_at": "timestamp('UTC')",
    "cleared_at": "timestamp('UTC')",
    "cancelled_at": "timestamp('UTC')",
    "transported": "boolean",
    "pd_backup_for_safety": "boolean",
    "ems_support": "boolean",
    "team_felt_safe": "boolean",  # the crew's answer on the clear form; null when not asked
    "beat": "string",  # the call's beat (the finest place the public figures and open data name)
})
"""One row per response: what every backend provides, and what the Parquet export holds."""

REACH_SCHEMA = ibis.schema({
    "program": "string",  # the field program the call is eligible for
    "timezone": "string",
    "received_at": "timestamp('UTC')",
    "closed": "boolean",  # resolved or cancelled
    "reached": "boolean",  # a response of the program reached the scene
    "fallback": "string",  # the latest decision's fallback reason, if any
    "overridden": "boolean",  # a person sent the call to another pathway
    "called_off": "boolean",  # a response of the program was cancelled
    "excluded": "boolean",  # an exclusion that held kept the program (whose rule takes the call's type) from it
})
"""One row per call eligible for a field program: what every backend provides for reach."""

REACHED, IN_PROGRESS = "reached", "in_progress"
EXCLUSION = "exclusion"
MISSED_REASONS: tuple[str, ...] = (*FALLBACK_REASONS, EXCLUSION, "sent_elsewhere", "called_off", "other")
"""Why an eligible, closed call did not get the program's response; each missed call has exactly one."""

TIMESTAMPS = ("received_at", "dispatched_at", "on_scene_at", "cleared_at", "cancelled_at")
MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 3_600_000_000
MICROS_PER_DAY = 86_400_000_000
QUANTILES: dict[str, Fraction] = {"median": Fraction(1, 2), "p90": Fraction(9, 10)}
EXCEPTION_KINDS = ("missing_on_scene", "negative_minutes_to_scene", "negative_minutes_on_scene",
                   "cleared_and_cancelled", "negative_received_to_scene")
"""Data-quality exceptions; all but the last keep a response out of every figure; the last (arrival before
the call was received) only out of the received → on-scene figures."""


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates of the program, both inclusive; None leaves that side open."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"the period ends ({self.until}) before it starts ({self.since})")


def to_micros(at: datetime) -> int:
    """An aware time as exact integer microseconds since the epoch."""
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def response_facts(history: ir.Table, epoch_micros: EpochMicros) -> ir.Table:
    """The history with each timestamp as epoch microseconds (``<name>_us``) and the three durations."""
    facts = history.select(
        "program", "timezone", "incident_type", "transported", "pd_backup_for_safety", "ems_support",
        "team_felt_safe", "beat",
        **{f"{name}_us": epoch_micros(history[name]) for name in TIMESTAMPS},
    )
    return facts.mutate(**durations(facts), us_received_to_scene=facts.on_scene_at_us - facts.received_at_us)


def durations(facts: ir.Table) -> dict[str, ir.IntegerValue]:
    """The two durations of a response, in microseconds, from ``dispatched_at_us``, ``on_scene_at_us`` and
    ``cleared_at_us``: to the scene (``us_to_scene``) and on the scene (``us_on_scene``)."""
    return {"us_to_scene": facts.on_scene_at_us - facts.dispatched_at_us,
            "us_on_scene": facts.cleared_at_us - facts.on_scene_at_us}


def times_present(facts: ir.Table) -> ir.BooleanValue:
    """Dispatch, arrival and clear times all recorded."""
    return facts.dispatched_at_us.notnull() & facts.on_scene_at_us.notnull() & facts.cleared_at_us.notnull()


def timed(facts: ir.Table) -> ir.BooleanValue:
    """A response the time figures count: its three times recorded and both durations non-negative."""
    return times_present(facts) & (facts.us_to_scene >= 0) & (facts.us_on_scene >= 0)


def time_sums(facts: ir.Table, counted: ir.BooleanValue) -> dict[str, ir.Value]:
    """Exact aggregates behind the time figures, over the rows ``counted``: how many, and the two duration sums
    (``service.average_minutes`` divides and rounds them)."""
    # Sums of value × 0/1, not FILTER clauses: the same answer everywhere, and several times faster in DuckDB.
    return {"responses": count_where(counted),
            "sum_us_to_scene": (facts.us_to_scene * counted.cast("int32")).sum(),
            "sum_us_on_scene": (facts.us_on_scene * counted.cast("int32")).sum()}


def zone_offsets(zone: str, first_us: int, last_us: int) -> list[tuple[int, int]]:
    """The zone's UTC offsets over [first, last]: (effective from, offset), both in microseconds, ascending."""
    tz = ZoneInfo(zone)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def offset_at(us: int) -> int:
        moment = epoch + timedelta(microseconds=us)
        delta = moment.astimezone(tz).utcoffset() or timedelta(0)
        return int(delta.total_seconds()) * 1_000_000

    step = 6 * MICROS_PER_HOUR
    start = first_us - first_us % step
    offsets = [(start, offset_at(start))]
    at = start
    while at < last_us:
        nxt = at + step
        after = offset_at(nxt)
        if after != offsets[-1][1]:  # a transition inside (at, nxt]: find its second
            low, high = at // 1_000_000, nxt // 1_000_000
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset_at(middle * 1_000_000) == offsets[-1][1] else (low, middle)
            offsets.append((high * 1_000_000, after))
        at = nxt
    return offsets


class LocalClock:
    """Local time of each program's zone, for data between two instants (UTC microseconds).

    Everything is expressed with instants precomputed here (the zone's transitions, the local midnights
    starting the period and each month), so no backend needs a time-zone database and a row costs a few
    integer comparisons or one hash lookup.
    """

    def __init__(self, zones: Iterable[str], first_us: int, last_us: int) -> None:
        self.zones = sorted(set(zones))
        self.first_us, self.last_us = first_us, last_us
        self.offsets = {zone: zone_offsets(zone, first_us, last_us) for zone in self.zones}
        self.month_starts = {zone: month_starts(zone, first_us, last_us) for zone in self.zones}

    def local(self, utc_us: ir.IntegerValue, timezone: ir.StringValue) -> ir.IntegerValue:
        """Microseconds on the local wall clock (UTC plus the offset in force at that instant)."""
        return utc_us + self._per_zone(timezone, {zone: _step_tree(utc_us, self.offsets[zone])
                                                  for zone in self.zones})

    @property
    def step_us(self) -> int:
        """The longest step that divides every UTC offset in the span: local months start on its multiples."""
        step = 3_600_000_000
        for offsets in self.offsets.values():
            for _, offset in offsets:
                step = math.gcd(step, abs(offset)) if offset else step
        return step

    def months(self) -> ir.Table:
        """A small calendar: (timezone, ``step``-long slice of UTC time — an hour in most zones —, the local
        month yyyymm it falls in).

        Joining on it gives each row its local month for the price of a hash lookup (a tree of 120 month
        boundaries is several times slower on DuckDB over millions of rows).
        """
        step = self.step_us
        zones: list[str] = []
        slices: list[np.ndarray] = []
        months: list[np.ndarray] = []
        for zone in self.zones:
            starts = self.month_starts[zone]
            slice_starts = np.arange(starts[0][0] // step, self.last_us // step + 1, dtype=np.int64)
            index = np.searchsorted(np.array([s for s, _ in starts], dtype=np.int64), slice_starts * step,
                                    side="right") - 1
            zones.extend([zone] * len(slice_starts))
            slices.append(slice_starts)
            months.append(np.array([m for _, m in starts], dtype=np.int64)[np.maximum(index, 0)])
        return ibis.memtable(pa.table({
            "calendar_timezone": pa.array(zones, pa.string()),
            "calendar_slice": pa.array(np.concatenate(slices) if slices else [], pa.int64()),
            "month": pa.array(np.concatenate(months) if months else [], pa.int64()),
        }))

    def midnight(self, day: date, timezone: ir.StringValue) -> ir.IntegerValue:
        """The instant (UTC microseconds) the local ``day`` starts in each row's zone."""
        return self._per_zone(timezone, {zone: ibis.literal(_local_midnight(day, zone), type="int64")
                                         for zone in self.zones})

    @staticmethod
    def _per_zone(timezone: ir.StringValue, values: Mapping[str, ir.IntegerValue]) -> ir.IntegerValue:
        if not values:
            return ibis.literal(0, type="int64")
        if len(values) == 1:
            return next(iter(values.values()))
        return ibis.cases(*((timezone == zone, value) for zone, value in values.items()), else_=0)


def _step_tree(value: ir.IntegerValue, steps: Sequence[tuple[int, int]]) -> ir.IntegerValue:
    """The result of the last step at or before ``value`` ((from, result) pairs, ascending), as a balanced
    if/else: a handful of comparisons per row even over decades."""
    if len(steps) == 1:
        return ibis.literal(steps[0][1], type="int64")
    middle = len(steps) // 2
    return ibis.ifelse(value < steps[middle][0], _step_tree(value, steps[:middle]), _step_tree(value, steps[middle:]))


def month_starts(zone: str, first_us: int, last_us: int) -> list[tuple[int, int]]:
    """(instant the 1st starts in ``zone``, yyyymm) for every month from ``first`` to ``last``, ascending."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    day = (epoch + timedelta(microseconds=first_us - MICROS_PER_DAY)).date().replace(day=1)
    end = (epoch + timedelta(microseconds=last_us + MICROS_PER_DAY)).date()
    starts = []
    while day <= end:
        starts.append((_local_midnight(day, zone), day.year * 100 + day.month))
        day = (day + timedelta(days=32)).replace(day=1)
    return starts


def _local_midnight(day: date, zone: str) -> int:
    return to_micros(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)))


def local_hour(local_us: ir.IntegerValue) -> ir.IntegerValue:
    """0–23 on the local wall clock."""
    return (local_us // MICROS_PER_HOUR) % 24


def classify(facts: ir.Table, clock: LocalClock, period: Period) -> ir.Table:
    """Mark each response: in the period or not, counted or an exception, and when locally.

    Keeps only responses cleared or cancelled in the period (local days of each program's zone); adds
    ``counted``, one boolean per exception kind, ``cancelled`` and the local ``month`` (yyyymm, of clearing
    or cancelling) and ``hour`` (of dispatch).
    Each step is its own projection, so that no database sees a deeply nested expression.
    """
    # A response closes when it clears or, failing that, when it is cancelled; the period is by that instant.
    closing = facts.mutate(closed_us=facts.cleared_at_us.coalesce(facts.cancelled_at_us))
    marked = closing.filter(_within(closing.closed_us, closing.timezone, clock, period))
    marked = marked.mutate(
        cleared_in_period=marked.cleared_at_us.notnull(),
        cancelled=marked.cleared_at_us.isnull(),
        closed_slice=marked.closed_us // clock.step_us,
        hour=local_hour(clock.local(marked.dispatched_at_us, marked.timezone)),
    )
    calendar = clock.months()
    same_slice = marked.closed_slice == calendar.calendar_slice
    if len(clock.zones) > 1:
        same_slice &= marked.timezone == calendar.calendar_timezone
    marked = marked.join(calendar, same_slice).drop("calendar_timezone", "calendar_slice")
    live = marked.cleared_in_period & marked.cancelled_at_us.isnull()
    arrived = live & marked.on_scene_at_us.notnull() & marked.dispatched_at_us.notnull()
    marked = marked.mutate(
        counted=live & timed(marked),
        missing_on_scene=live & (marked.on_scene_at_us.isnull() | marked.dispatched_at_us.isnull()),
        negative_minutes_to_scene=arrived & (marked.us_to_scene < 0),
        negative_minutes_on_scene=arrived & (marked.us_on_scene < 0),
        cleared_and_cancelled=marked.cleared_in_period & marked.cancelled_at_us.notnull(),
    )
    return marked.mutate(
        negative_received_to_scene=marked.counted & (marked.us_received_to_scene < 0),
        timed_from_call=marked.counted & (marked.us_received_to_scene >= 0),
    )


def _within(utc_us: ir.IntegerValue, timezone: ir.StringValue, clock: LocalClock, period: Period
            ) -> ir.BooleanValue:
    condition = utc_us.notnull()
    if period.since is not None:
        condition &= utc_us >= clock.midnight(period.since, timezone)
    if period.until is not None:
        condition &= utc_us < clock.midnight(period.until + timedelta(days=1), timezone)
    return condition


def summary(classified: ir.Table, by: Sequence[str] = ("program",), *,
            native_quantiles: Mapping[str, Fraction] | None = None) -> ir.Table:
    """Exact integer sums and counts per group; ``service.figures`` turns them into the dashboard's numbers.

    With ``native_quantiles`` the same aggregate also holds the backend's own quantiles of call received →
    on scene (one scan instead of two, for DuckDB over millions of rows).
    """
    t = classified
    counted = t.counted
    aggregates: dict[str, ir.Value] = {
        **time_sums(t, counted),
        "transported": count_where(counted & t.transported),
        "pd_backup_for_safety": count_where(counted & t.pd_backup_for_safety),
        "ems_support": count_where(counted & t.ems_support),
        # The responders' own safety: of the in-person responses whose crew answered, how many felt safe.
        "team_felt_safe": count_where(counted & t.team_felt_safe),
        "team_safety_answered": count_where(counted & t.team_felt_safe.notnull()),
        "cancelled_responses": count_where(t.cancelled),
        **{kind: count_where(t[kind]) for kind in EXCEPTION_KINDS},
        "exceptions_excluded": count_where(t.cleared_in_period & ~counted),
    }
    if native_quantiles:
        timed = ibis.ifelse(t.timed_from_call, t.us_received_to_scene, ibis.null("int64"))
        aggregates["n"] = count_where(t.timed_from_call)
        for name, q in native_quantiles.items():
            aggregates[name] = timed.quantile(float(q))
    return t.group_by(list(by)).aggregate(**aggregates)


def count_where(condition: ir.BooleanValue) -> ir.IntegerValue:
    """How many rows meet the condition (null counts as not): a sum of 0/1, the same on every backend."""
    return condition.cast("int32").sum()


def quantile_neighbours(classified: ir.Table, by: Sequence[str] = ("program",),
                        quantiles: Mapping[str, Fraction] = QUANTILES) -> ir.Table:
    """For each quantile, the two ranked values it lies between (call received → on scene, microseconds).

    Rank r (0-based) of n values; quantile q sits at h = (n - 1)·q, between ranks floor(h) and ceil(h).
    ``service`` interpolates: low + (h - floor(h))·(high - low). Integer arithmetic throughout.
    """
    timed = classified.filter(classified.timed_from_call)
    window = ibis.window(group_by=list(by), order_by=timed.us_received_to_scene)
    ranked = timed.mutate(rank=ibis.row_number().over(window),
                          n=timed.us_received_to_scene.count().over(ibis.window(group_by=list(by))))
    aggregates: dict[str, ir.Value] = {"n": ranked.n.max()}
    for name, q in quantiles.items():
        scaled = (ranked.n - 1) * q.numerator
        low = scaled // q.denominator
        high = low + ibis.ifelse(scaled % q.denominator > 0, 1, 0)
        aggregates[f"{name}_low"] = ranked.us_received_to_scene.max(where=ranked.rank == low)
        aggregates[f"{name}_high"] = ranked.us_received_to_scene.max(where=ranked.rank == high)
    return ranked.group_by(list(by)).aggregate(**aggregates)


def native_quantiles(classified: ir.Table, by: Sequence[str] = ("program",),
                     quantiles: Mapping[str, Fraction] = QUANTILES) -> ir.Table:
    """The same quantiles with the backend's own linear-interpolation aggregate (DuckDB, PostgreSQL)."""
    timed = classified.filter(classified.timed_from_call)
    value = timed.us_received_to_scene
    return timed.group_by(list(by)).aggregate(
        n=value.count(), **{name: value.quantile(float(q)) for name, q in quantiles.items()})


def counted_by(classified: ir.Table, by: Sequence[str]) -> ir.Table:
    """The number of counted responses per group (e.g. program and hour, program and incident type)."""
    counted = classified.filter(classified.counted)
    return counted.group_by(list(by)).aggregate(responses=counted.cleared_at_us.count())


def time_span(history: ir.Table) -> ir.Table:
    """The earliest and latest value of each timestamp in the history (one row; DuckDB reads these from the
    Parquet statistics), to bound the time zones' transitions."""
    aggregates: dict[str, ir.Value] = {"first_timezone": history.timezone.min(),
                                       "last_timezone": history.timezone.max()}
    for name in TIMESTAMPS:
        aggregates[f"first_{name}"] = history[name].min()
        aggregates[f"last_{name}"] = history[name].max()
    return history.aggregate(**aggregates)


def programs_and_zones(history: ir.Table) -> ir.Table:
    """Each program in the history with its time zone."""
    return history.select("program", "timezone").distinct()


def local_clock(span: Mapping[str, Any], zones: Iterable[str]) -> LocalClock | None:
    """The clock for a history whose ``time_span`` is ``span`` (None when the history is empty)."""
    instants = [to_micros(value if value.tzinfo else value.replace(tzinfo=UTC))
                for value in span.values() if isinstance(value, datetime)]
    if not instants:
        return None
    return LocalClock(zones, min(instants), max(instants))


def reach_outcomes(reach: ir.Table, epoch_micros: EpochMicros, clock: LocalClock, period: Period) -> ir.Table:
    """Eligible calls received in the period, per program and outcome: reached, in progress, or the one reason
    it was missed (``MISSED_REASONS``; the first that applies, in that order)."""
    calls = reach.mutate(received_us=epoch_micros(reach.received_at))
    calls = calls.filter(_within(calls.received_us, calls.timezone, clock, period))
    outcome = ibis.cases(
        (calls.reached, REACHED),
        (~calls.closed, IN_PROGRESS),
        (calls.fallback.isin(list(FALLBACK_REASONS)), calls.fallback),
        (calls.excluded.fill_null(False), EXCLUSION),
        (calls.overridden, "sent_elsewhere"),
        (calls.called_off, "called_off"),
        else_="other",
    )
    marked = calls.mutate(outcome=outcome)
    return marked.group_by(["program", "outcome"]).aggregate(calls=marked.program.count())


def reach_span(reach: ir.Table) -> ir.Table:
    """The earliest and latest call received, and the zones (one row), to bound the local clock of reach."""
    return reach.aggregate(first_received_at=reach.received_at.min(), last_received_at=reach.received_at.max())
