"""The public figures' exact counts, per program and calendar year, before any suppression.

``collect`` runs the cubes (``public/cube.py``) on a metrics source once for a span of whole years and sums them
into *groups*: a program-year's responses (panel, months, call types, hours, beats), its eligible calls (reach
by outcome) and its phone calls. Other domains plug their own groups in through ``PROVIDERS`` (a function of
the source and the year that returns ``RawGroup``s), and the same suppression applies to them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import ibis.expr.types as ir

from heart.metrics import definitions as d
from heart.metrics.backends import MetricsSource, quiet
from heart.metrics.public import cube, stored
from heart.metrics.schemas import MISSED_WORDS
from heart.metrics.service import round_half_up

UNKNOWN = "unknown"
MONTHS = [f"{month:02d}" for month in range(1, 13)]
HOURS = [str(hour) for hour in range(24)]
SHARES = {"pct_needed_transport": "transported", "pct_needed_pd_backup_for_team_safety": "pd_backup_for_safety",
          "pct_needed_ems_support": "ems_support"}
"""Each share of responses in the panel and the cube's count it is made of."""


@dataclass
class RawTable:
    """Counts by one dimension (they add up to the group's total), and figures shown only beside a shown count."""

    cells: dict[str, int]
    labels: dict[str, str] = field(default_factory=dict)
    beside: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass
class Share:
    """A percentage ``part / whole``; ``cell`` names the table cell that is its part, when it is one, and
    ``whole_key`` the group's part that is its whole, when that is not the group's total."""

    part: int
    whole: int
    cell: tuple[str, str] | None = None
    whole_key: str | None = None


@dataclass
class RawGroup:
    """One program-year's exact counts for one group, before suppression."""

    program: str
    year: int
    group: str
    total_key: str
    total: int
    tables: dict[str, RawTable] = field(default_factory=dict)
    shares: dict[str, Share] = field(default_factory=dict)
    parts: dict[str, int] = field(default_factory=dict)
    """Counts that are a part of the total (their rest is known too), e.g. the crews who answered."""
    averages: dict[str, float | None] = field(default_factory=dict)
    """Shown only with the total."""
    counts: dict[str, int] = field(default_factory=dict)
    """Counts outside the total (e.g. eligible calls still open): hidden when small."""


Provider = Callable[..., list[RawGroup]]
PROVIDERS: list[Provider] = []
"""Plugged-in groups: ``provider(source=MetricsSource, period=Period) -> list[RawGroup]`` (care navigation's
follow-ups within 48 h and referrals, familiar neighbors); each is protected like the built-in groups."""


def year_period(first: int, last: int | None = None) -> d.Period:
    """Local dates from January 1 of ``first`` to December 31 of ``last`` (or of ``first``)."""
    return d.Period(since=date(first, 1, 1), until=date(last or first, 12, 31))


def collect(*, source: MetricsSource, first: int, last: int | None = None, providers: Iterable[Provider] = (),
            beats: bool = True) -> list[RawGroup]:
    """Every group of every program for the whole years ``first`` to ``last`` (responses by beat too, unless
    ``beats`` is False: a second scan of the history)."""
    period = year_period(first, last)
    groups = _response_groups(source, period, beats)
    years = range(first, (last or first) + 1)
    if source.reach is not None:
        groups += [group for year in years for group in _reach_groups(source, source.reach, year)]
    if source.phone is not None:
        groups += _phone_groups(source, source.phone, period)
    for provider in providers:
        groups += [group for year in years for group in provider(source=source, period=year_period(year))]
    return groups


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    with quiet():
        return list(expr.to_pyarrow().to_pylist())


def _response_groups(source: MetricsSource, period: d.Period, beats: bool) -> list[RawGroup]:
    found = stored.read(source.parts, period, beats) if source.parts else None
    if found is None:  # no cube kept beside every part of the history (or one that no longer fits it): scan
        found = cube.scan(source, period, beats)
    sums: dict[tuple[str, int], dict[str, Any]] = defaultdict(_new_sums)
    for row in found.responses.to_pylist():
        month = int(row["month"])
        totals = sums[(row["program"], month // 100)]
        values = [int(row[name] or 0) for name in cube.SUMS]
        _add(totals["all"], values)
        _add(totals["month"][f"{month % 100:02d}"], values)
        totals["call_type"][row["incident_type"] or UNKNOWN] += values[0]
        totals["hour"][str(int(row["hour"]))] += values[0]
    for row in found.beats.to_pylist() if beats and found.beats is not None else []:
        sums[(row["program"], int(row["month"]) // 100)]["beat"][row["beat"] or UNKNOWN] += int(row["responses"])
    return [_response_group(program, year, totals, beats) for (program, year), totals in sorted(sums.items())]


def _new_sums() -> dict[str, Any]:
    return {"all": [0] * len(cube.SUMS), "month": defaultdict(lambda: [0] * len(cube.SUMS)),
            "call_type": defaultdict(int), "hour": defaultdict(int), "beat": defaultdict(int)}


def _add(into: list[int], values: list[int]) -> None:
    for index, value in enumerate(values):
        into[index] += value


def minutes(sums: list[int]) -> dict[str, float | None]:
    """The three average-minutes figures from a cube row's sums (None without responses)."""
    n, to_scene, on_scene = sums[0], sums[1], sums[2]
    if n == 0:
        return {"avg_minutes_to_scene": None, "avg_minutes_on_scene": None, "avg_total_minutes": None}
    per = n * d.MICROS_PER_MINUTE
    return {"avg_minutes_to_scene": round_half_up(Fraction(to_scene, per)),
            "avg_minutes_on_scene": round_half_up(Fraction(on_scene, per)),
            "avg_total_minutes": round_half_up(Fraction(to_scene + on_scene, per))}


def _response_group(program: str, year: int, totals: dict[str, Any], beats: bool) -> RawGroup:
    everything = dict(zip(cube.SUMS, totals["all"], strict=True))
    n = everything["responses"]
    months = {month: totals["month"].get(month, [0] * len(cube.SUMS)) for month in MONTHS}
    return RawGroup(
        program=program, year=year, group="responses", total_key="responses", total=n,
        tables={
            "by_month": RawTable(cells={m: months[m][0] for m in MONTHS},
                                 labels={m: f"{year}-{m}" for m in MONTHS},
                                 beside={m: minutes(months[m]) for m in MONTHS}),
            "by_call_type": RawTable(cells=_by_count(totals["call_type"])),
            "by_hour": RawTable(cells={hour: totals["hour"].get(hour, 0) for hour in HOURS}),
            **({"by_beat": RawTable(cells=dict(sorted(totals["beat"].items())))} if beats else {}),
        },
        shares={
            **{key: Share(everything[name], n) for key, name in SHARES.items()},
            "pct_team_felt_safe": Share(everything["team_felt_safe"], everything["team_safety_answered"],
                                        whole_key="team_safety_answered"),
        },
        parts={"team_safety_answered": everything["team_safety_answered"]},
        averages=minutes(totals["all"]),
    )


def _by_count(cells: dict[str, int]) -> dict[str, int]:
    """Largest first, then by name: the same order on every engine."""
    return dict(sorted(cells.items(), key=lambda item: (-item[1], item[0])))


def _reach_groups(source: MetricsSource, reach: ir.Table, year: int) -> list[RawGroup]:
    zones = [row["timezone"] for row in _rows(reach.select("timezone").distinct())]
    clock = d.local_clock(_rows(d.reach_span(reach))[0], zones)
    if clock is None:
        return []
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _rows(d.reach_outcomes(reach, source.epoch_micros, clock, year_period(year))):
        found[row["program"]][row["outcome"]] = int(row["calls"])
    groups = []
    for program, outcomes in sorted(found.items()):
        cells = {d.REACHED: outcomes.get(d.REACHED, 0), **{r: outcomes.get(r, 0) for r in d.MISSED_REASONS}}
        eligible = sum(cells.values())
        groups.append(RawGroup(
            program=program, year=year, group="reach", total_key="eligible_calls", total=eligible,
            tables={"outcomes": RawTable(cells=cells, labels={d.REACHED: "reached",
                                                              **{r: f"missed: {MISSED_WORDS[r]}"
                                                                 for r in d.MISSED_REASONS}})},
            shares={"pct_reached": Share(cells[d.REACHED], eligible, cell=("outcomes", d.REACHED))},
            counts={"in_progress": outcomes.get(d.IN_PROGRESS, 0)},
        ))
    return groups


def _phone_groups(source: MetricsSource, phone: ir.Table, period: d.Period) -> list[RawGroup]:
    zones = [row["timezone"] for row in _rows(phone.select("timezone").distinct())]
    clock = d.local_clock(_rows(cube.phone_span(phone))[0], zones)
    if clock is None:
        return []
    tables: dict[tuple[str, int], dict[str, dict[str, int]]] = defaultdict(
        lambda: {"phone_by_month": dict.fromkeys(MONTHS, 0), "phone_by_call_type": defaultdict(int),
                 "phone_by_hour": dict.fromkeys(HOURS, 0)})
    for row in _rows(cube.phone_cube(phone, source.epoch_micros, clock, period)):
        month, calls = int(row["month"]), int(row["calls"])
        found = tables[(row["program"], month // 100)]
        found["phone_by_month"][f"{month % 100:02d}"] += calls
        found["phone_by_call_type"][row["incident_type"] or UNKNOWN] += calls
        found["phone_by_hour"][str(int(row["hour"]))] += calls
    return [RawGroup(program=program, year=year, group="phone", total_key="resolved_by_phone",
                     total=sum(found["phone_by_month"].values()),
                     tables={name: RawTable(cells=_by_count(cells) if name == "phone_by_call_type" else dict(cells),
                                            labels={m: f"{year}-{m}" for m in MONTHS}
                                            if name == "phone_by_month" else {})
                             for name, cells in found.items()})
            for (program, year), found in sorted(tables.items())]
