"""What a run says, in words and numbers: the figures per program with their intervals, by hour, the
published targets met or not, and the differences between two scenarios. Used by the CLI and the page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from heart.simulation.runner import Summary
from heart.simulation.scenario import CompiledScenario
from heart.simulation.stats import Estimate

# (figure, label, unit, scale): scale turns a share into a percentage
FIELD_FIGURES: tuple[tuple[str, str, str, float], ...] = (
    ("reach_pct", "Reach of eligible calls", "%", 1.0),
    ("eligible", "Eligible calls", "", 1.0),
    ("answered", "Eligible calls answered", "", 1.0),
    ("missed_closed", "Missed: program closed", "", 1.0),
    ("missed_no_unit", "Missed: no team free within the maximum wait", "", 1.0),
    ("responses", "Responses that reached the scene", "", 1.0),
    ("avg_minutes_to_scene", "Avg minutes to scene (dispatch → on scene)", "min", 1.0),
    ("median_minutes_to_scene", "Median minutes to scene", "min", 1.0),
    ("p90_minutes_to_scene", "90th percentile minutes to scene", "min", 1.0),
    ("avg_minutes_call_to_scene", "Avg minutes from call to on scene", "min", 1.0),
    ("median_minutes_call_to_scene", "Median minutes from call to on scene", "min", 1.0),
    ("p90_minutes_call_to_scene", "90th percentile minutes from call to on scene", "min", 1.0),
    ("avg_wait_minutes", "Avg minutes a ready call waited for a team", "min", 1.0),
    ("p_gave_up", "Calls that waited the maximum wait and fell back", "%", 100.0),
    ("utilization_pct", "Team utilization (busy ÷ scheduled)", "%", 1.0),
    ("team_hours", "Scheduled team hours", "h", 1.0),
    ("overtime_hours", "Overtime hours (finishing a call after the shift)", "h", 1.0),
)
PHONE_FIGURES: tuple[tuple[str, str, str, float], ...] = (
    ("reach_pct", "Reach of eligible calls", "%", 1.0),
    ("eligible", "Eligible calls", "", 1.0),
    ("answered", "Eligible calls answered", "", 1.0),
    ("missed_closed", "Missed: program closed", "", 1.0),
    ("missed_no_unit", "Missed: no clinician free within the maximum wait", "", 1.0),
    ("contacts", "Phone contacts", "", 1.0),
    ("escalated", "Contacts after which a field team was sent", "", 1.0),
    ("avg_wait_minutes", "Avg minutes a caller waited for a clinician", "min", 1.0),
    ("utilization_pct", "Clinician utilization (busy ÷ scheduled)", "%", 1.0),
    ("team_hours", "Scheduled clinician hours", "h", 1.0),
    ("overtime_hours", "Overtime hours", "h", 1.0),
)
BY_HOUR = (("reach_pct_by_hour", "Reach of eligible calls", "%"),
           ("eligible_by_hour", "Eligible calls", ""),
           ("missed_closed_by_hour", "Missed: program closed", ""),
           ("missed_no_unit_by_hour", "Missed: no team free in time", ""),
           ("minutes_to_scene_by_hour", "Avg minutes to scene", "min"),
           ("minutes_call_to_scene_by_hour", "Avg minutes from call to on scene", "min"))


@dataclass(frozen=True, slots=True)
class TargetCheck:
    figure: str
    published: str
    low: float
    high: float
    simulated: Estimate
    source: str

    @property
    def met(self) -> bool:
        return math.isfinite(self.simulated.mean) and self.low <= self.simulated.mean <= self.high


def figures_of(compiled: CompiledScenario, code: str) -> tuple[tuple[str, str, str, float], ...]:
    field_codes = {p.code for p in compiled.simulation.field_programs}
    return FIELD_FIGURES if code in field_codes else PHONE_FIGURES


def scaled(estimate: Estimate, scale: float) -> Estimate:
    return Estimate(estimate.mean * scale, estimate.half_width * scale, estimate.replications)


def target_checks(compiled: CompiledScenario, summary: Summary) -> list[TargetCheck]:
    return [TargetCheck(t.figure, t.published, t.low, t.high, summary.estimate(t.figure), t.source)
            for t in compiled.scenario.targets]


def report_json(compiled: CompiledScenario, summary: Summary, *, seed: int) -> dict[str, Any]:
    """The run as JSON: per program, its set-up, its figures (mean, low, high) and its figures by hour."""
    scenario = compiled.scenario
    programs: dict[str, Any] = {}
    for code in compiled.simulation.program_codes():
        figures = {name: scaled(summary.estimate(f"{code}.{name}"), scale).to_json()
                   for name, _, _, scale in figures_of(compiled, code)}
        by_hour = {name.removesuffix("_by_hour"): [e.to_json() for e in summary.by_hour(f"{code}.{name}")]
                   for name, _, _ in BY_HOUR if summary.by_hour(f"{code}.{name}")}
        programs[code] = {
            "hours": compiled.hours.get(code), "max_wait_minutes": compiled.max_wait.get(code),
            "shifts": [s.model_dump() for s in compiled.shifts.get(code, [])],
            "figures": figures, "by_hour": by_hour,
        }
    return {
        "scenario": scenario.scenario, "title": scenario.title, "city": scenario.city,
        "period": {"start": scenario.period.start.isoformat(), "days": scenario.period.days,
                   "warmup_days": scenario.period.warmup_days},
        "replications": summary.replications, "seed": seed, "confidence": summary.confidence,
        "calls": summary.estimate("calls").to_json(), "programs": programs,
        "targets": [{"figure": c.figure, "published": c.published, "low": c.low, "high": c.high,
                     "simulated": c.simulated.to_json(), "met": c.met, "source": c.source}
                    for c in target_checks(compiled, summary)],
    }


def number(value: float, unit: str = "") -> str:
    """A figure as people read it: counts with separators, minutes and shares with decimals."""
    if not math.isfinite(value):
        return "—"
    if unit in ("", "h"):
        text = f"{value:,.0f}"
    elif unit == "%":
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return text


def interval(estimate: Estimate, unit: str = "") -> str:
    """'52.2 (51.9 – 52.5)': the mean and its confidence interval."""
    if not math.isfinite(estimate.mean):
        return "—"
    if not math.isfinite(estimate.half_width):
        return number(estimate.mean, unit)
    return f"{number(estimate.mean, unit)} ({number(estimate.low, unit)} – {number(estimate.high, unit)})"
