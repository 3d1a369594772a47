"""Compute the dashboard's figures on a metrics source and round them the way the published dashboard does.

The database returns exact integer sums, counts and ranked values (``definitions.py``); the divisions
happen here on fractions, and rounding is half-up to two decimals, so every backend prints the same digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import ibis.expr.types as ir

from heart.city.programs import city_programs
from heart.errors import NotFound
from heart.metrics import care as c
from heart.metrics import definitions as d
from heart.metrics.backends import MetricsSource, quiet
from heart.metrics.schemas import (
    CareFigures,
    CareMetrics,
    DataQuality,
    MetricsReport,
    PeriodPublic,
    ProgramMetrics,
    Reach,
    ReferralCounts,
)


@dataclass(frozen=True, slots=True)
class Totals:
    """Exact sums and counts for one group, as the database returned them."""

    responses: int
    sum_us_to_scene: int
    sum_us_on_scene: int
    transported: int
    pd_backup_for_safety: int
    ems_support: int
    team_felt_safe: int = 0
    team_safety_answered: int = 0


def compute_metrics(*, source: MetricsSource, period: d.Period, program: str | None = None) -> MetricsReport:
    """Every program's figures (or one program's) for the period, from the source's history."""
    history, reach = source.history, source.reach
    if program is not None:
        history = history.filter(history.program == program)
        reach = reach.filter(reach.program == program) if reach is not None else None
    programs = _rows(d.programs_and_zones(history))
    reach_zones = _rows(reach.select("program", "timezone").distinct()) if reach is not None else []
    codes = sorted({row["program"] for row in programs} | {row["program"] for row in reach_zones})
    if program is not None and program not in codes and not _program_exists(source, program):
        raise NotFound("program", program, field="program")
    report = MetricsReport(period=PeriodPublic(since=period.since, until=period.until),
                           programs={code: ProgramMetrics() for code in ([program] if program else codes)})
    if reach is not None and reach_zones:
        _fill_reach(report, source, reach, reach_zones, period)
    report.care = care_metrics(source=source, period=period, program=program)
    span = source.span if program is None else None  # the files' span bounds the whole history only
    clock = d.local_clock(span or _rows(d.time_span(history))[0], (row["timezone"] for row in programs))
    if clock is None:
        return report
    with source.materialized(d.response_facts(history, source.epoch_micros)) as facts, \
            source.materialized(d.classify(facts, clock, period)) as classified:
        _fill(report, classified, source.native_quantiles)
    return report


def care_metrics(*, source: MetricsSource, period: d.Period, program: str | None = None) -> CareMetrics | None:
    """Care navigation's figures for the period (``heart.metrics.care``); None when the source holds no consented
    encounter and no referral."""
    encounters, referrals = source.care_encounters, source.care_referrals
    if encounters is None or referrals is None:
        return None
    if program is not None:
        encounters = encounters.filter(encounters.program == program)
        referrals = referrals.filter(referrals.program == program)
    care = CareMetrics()
    first, second = c.care_span(encounters, referrals)
    span = {f"{name}_{n}": value for n, table in enumerate((first, second)) for name, value in _rows(table)[0].items()}
    clock = d.local_clock(span, (row["timezone"] for row in _rows(c.zones(encounters, referrals))))
    if clock is None:  # no consented encounter and no referral: nothing to say (as a source without them)
        return None
    with source.materialized(c.encounter_facts(encounters, source.epoch_micros, clock, period)) as facts:
        for row in _rows(c.follow_up_summary(facts)):
            care.by_program[row["program"]] = _care_figures(row)
        care.all = _care_figures(_rows(c.follow_up_summary(facts, by=()))[0])
        for row in _rows(c.median_neighbours(facts)):
            care.by_program[row["program"]].median_hours_to_first_contact = _median_hours(row)
        care.all.median_hours_to_first_contact = _median_hours(_rows(c.median_neighbours(facts, by=()))[0])
    for row in _rows(c.referrals_by_need(referrals, source.epoch_micros, clock, period)):
        care.referrals_by_need[row["need"]] = ReferralCounts(**{k: int(row[k] or 0) for k in ("made", *c.LOOP)})
    care.by_program = dict(sorted(care.by_program.items()))
    care.referrals_by_need = dict(sorted(care.referrals_by_need.items(), key=lambda item: (-item[1].made, item[0])))
    return care


def _care_figures(row: Mapping[str, Any]) -> CareFigures:
    consented, in_time = int(row["consented"] or 0), int(row["in_time"] or 0)
    return CareFigures(consented_encounters=consented, followed_up_in_time=in_time, reached=int(row["reached"] or 0),
                       pct_followed_up_in_time=round_half_up(Fraction(100 * in_time, consented)) if consented else None)


def _median_hours(row: Mapping[str, Any]) -> float | None:
    """The median from its two ranked neighbours (linear interpolation, as percentile_cont), in hours."""
    n = int(row["n"] or 0)
    if n == 0:
        return None
    low, high = int(row["median_low"]), int(row["median_high"])
    position = (n - 1) * c.MEDIAN
    micros = low + (position - position.numerator // position.denominator) * (high - low)
    return round_half_up(Fraction(micros) / d.MICROS_PER_HOUR)


def _fill_reach(report: MetricsReport, source: MetricsSource, reach: ir.Table, zones: list[dict[str, Any]],
                period: d.Period) -> None:
    clock = d.local_clock(_rows(d.reach_span(reach))[0], (row["timezone"] for row in zones))
    if clock is None:
        return
    counts: dict[str, dict[str, int]] = {}
    for row in _rows(d.reach_outcomes(reach, source.epoch_micros, clock, period)):
        counts.setdefault(row["program"], {})[row["outcome"]] = int(row["calls"])
    for row in zones:
        found = counts.get(row["program"], {})
        missed = {reason: found.get(reason, 0) for reason in d.MISSED_REASONS}
        reached = found.get(d.REACHED, 0)
        eligible = reached + sum(missed.values())
        report.programs[row["program"]].reach = Reach(
            eligible_calls=eligible, reached_calls=reached, missed=missed, in_progress=found.get(d.IN_PROGRESS, 0),
            pct_reached=round_half_up(Fraction(100 * reached, eligible)) if eligible else None)


def _fill(report: MetricsReport, classified: ir.Table, native_quantiles: bool) -> None:
    for row in _rows(d.summary(classified)):
        _fill_summary(report.programs[row["program"]], row)
    quantiles = d.native_quantiles(classified) if native_quantiles else d.quantile_neighbours(classified)
    for row in _rows(quantiles):
        values = quantile_minutes(row)
        metrics = report.programs[row["program"]]
        metrics.median_minutes_received_to_scene = values["median"]
        metrics.p90_minutes_received_to_scene = values["p90"]
    for row in _rows(d.counted_by(classified, ["program", "hour"])):
        report.programs[row["program"]].responses_by_hour[int(row["hour"])] = int(row["responses"])
    for row in _rows(d.counted_by(classified, ["program", "incident_type"])):
        report.programs[row["program"]].responses_by_call_type[row["incident_type"] or "unknown"] = int(
            row["responses"])
    for row in _rows(d.counted_by(classified, ["program", "month"])):
        month = int(row["month"])
        report.programs[row["program"]].responses_by_month[f"{month // 100:04d}-{month % 100:02d}"] = int(
            row["responses"])
    for metrics in report.programs.values():
        metrics.responses_by_call_type = dict(sorted(metrics.responses_by_call_type.items(),
                                                     key=lambda item: (-item[1], item[0])))
        metrics.responses_by_month = dict(sorted(metrics.responses_by_month.items()))


def average_minutes(*, responses: int, sum_us_to_scene: int, sum_us_on_scene: int) -> dict[str, float | None]:
    """Minutes to the scene, on the scene and in total, averaged exactly and rounded half-up to two decimals (None
    with no response): the one formula of the dashboard and of the CAD-history baseline."""
    if responses == 0:
        return {"avg_minutes_to_scene": None, "avg_minutes_on_scene": None, "avg_total_minutes": None}
    per_minute = responses * d.MICROS_PER_MINUTE
    return {
        "avg_minutes_to_scene": round_half_up(Fraction(sum_us_to_scene, per_minute)),
        "avg_minutes_on_scene": round_half_up(Fraction(sum_us_on_scene, per_minute)),
        "avg_total_minutes": round_half_up(Fraction(sum_us_to_scene + sum_us_on_scene, per_minute)),
    }


def figures(totals: Totals) -> dict[str, float | None]:
    """The seven published figures from exact totals (None when there is no response)."""
    n = totals.responses
    minutes = average_minutes(responses=n, sum_us_to_scene=totals.sum_us_to_scene,
                              sum_us_on_scene=totals.sum_us_on_scene)
    if n == 0:
        return {**minutes, "pct_needed_transport": None, "pct_needed_pd_backup_for_team_safety": None,
                "pct_needed_ems_support": None}
    return {
        **minutes,
        "pct_needed_transport": round_half_up(Fraction(100 * totals.transported, n)),
        "pct_needed_pd_backup_for_team_safety": round_half_up(Fraction(100 * totals.pd_backup_for_safety, n)),
        "pct_needed_ems_support": round_half_up(Fraction(100 * totals.ems_support, n)),
    }


def pct_team_felt_safe(totals: Totals) -> float | None:
    """Of the in-person responses whose crew answered the question, the share where the team felt safe."""
    if totals.team_safety_answered == 0:
        return None
    return round_half_up(Fraction(100 * totals.team_felt_safe, totals.team_safety_answered))


def quantile_minutes(row: Mapping[str, Any], quantiles: Mapping[str, Fraction] = d.QUANTILES
                     ) -> dict[str, float | None]:
    """Quantiles in minutes, from either the two ranked neighbours (interpolated here) or a native value."""
    n = int(row["n"] or 0)
    values: dict[str, float | None] = {}
    for name, q in quantiles.items():
        if n == 0:
            values[name] = None
        elif name in row:  # the backend's own quantile_cont, in microseconds
            values[name] = round_half_up(Fraction(float(row[name])) / d.MICROS_PER_MINUTE)
        else:
            low, high = int(row[f"{name}_low"]), int(row[f"{name}_high"])
            position = (n - 1) * q
            micros = low + (position - position.numerator // position.denominator) * (high - low)
            values[name] = round_half_up(Fraction(micros) / d.MICROS_PER_MINUTE)
    return values


def round_half_up(value: Fraction, places: int = 2) -> float:
    """Round as people do (0.125 → 0.13), exactly, then give a float for JSON."""
    scale = 10**places
    scaled = value * scale
    rounded = (scaled + Fraction(1, 2)).__floor__() if scaled >= 0 else -((-scaled + Fraction(1, 2)).__floor__())
    return rounded / scale


def _fill_summary(metrics: ProgramMetrics, row: Mapping[str, Any]) -> None:
    totals = Totals(**{name: int(row[name] or 0) for name in Totals.__dataclass_fields__})
    metrics.responses = totals.responses
    for name, value in figures(totals).items():
        setattr(metrics, name, value)
    metrics.pct_team_felt_safe = pct_team_felt_safe(totals)
    metrics.team_safety_answered = totals.team_safety_answered
    metrics.cancelled_responses = int(row["cancelled_responses"] or 0)
    metrics.data_quality = DataQuality(excluded_responses=int(row["exceptions_excluded"] or 0),
                                       **{kind: int(row[kind] or 0) for kind in d.EXCEPTION_KINDS})


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    with quiet():
        return list(expr.to_pyarrow().to_pylist())


def _program_exists(source: MetricsSource, code: str) -> bool:
    try:
        programs = source.connection.table("programs")
    except Exception:  # a Parquet export has no programs table
        return False
    with quiet():
        return bool(programs.filter(programs.code == code).count().execute())


def report_programs(report: MetricsReport, order: Iterable[str] | None = None) -> list[str]:
    """Program codes in dashboard order: the city's programs in the order its programs file lists them (its field
    teams first, ``order`` when given), then any other alphabetically."""
    if order is None:
        city = city_programs()
        order = (*city.codes("field"), *city.codes("phone", "case"))
    first = [code for code in order if code in report.programs]
    return first + sorted(code for code in report.programs if code not in first)
