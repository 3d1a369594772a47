"""Figures of one replication, and their means with t-based confidence intervals over replications.

A replication's figures are a flat mapping ``"<program>.<figure>"`` → a number or 24 numbers (by local hour
the call was received). Only calls received after the warm-up count. Definitions (ARCHITECTURE §5):
- **eligible**: calls the policy would send to the program if every program were open with a team free
  (the first choice; what an operational fallback records as the team that did not come);
- **reach**: eligible calls the program answered (a team dispatched, a clinician on the phone) ÷ eligible;
- **missed**: eligible calls it did not answer, by reason: ``closed`` (outside its hours) or ``no_unit``
  (no team on shift, or none free within the maximum wait);
- **minutes to scene**: dispatched → on scene (the published definition); **minutes call to scene**:
  received → on scene; both over responses that reached the scene, whoever's eligible call it was;
- **utilization**: minutes busy on calls ÷ minutes of scheduled team time; **overtime**: hours teams
  worked past the end of their shift to finish a call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from heart.simulation.decisions import CLOSED, NO_UNIT
from heart.simulation.demand import CallBatch
from heart.simulation.inputs import MINUTES_PER_DAY, SimulationInput

RunStats = dict[str, float | np.ndarray]
CONFIDENCE = 0.95


def summarise_run(sim: SimulationInput, calls: CallBatch, record: Mapping[str, Any]) -> RunStats:
    """The figures of one replication from its per-call record."""
    counted = calls.received >= sim.warmup
    hour = (calls.received.astype(np.int64) % MINUTES_PER_DAY) // 60
    arrays = {name: np.asarray(values) for name, values in record.items()}
    arrays["received"] = calls.received
    out: RunStats = {"calls": float(counted.sum())}
    field_codes = {p.code for p in sim.field_programs}
    for index, code in enumerate(sim.program_codes()):
        eligible = counted & (arrays["eligible"] == index)
        answered = eligible & (arrays["answered_by"] == index)
        # a call passed over for being closed can still get the team later (it fell back to a busy program
        # and came back when this one opened): it counts as answered, not missed
        closed = eligible & (arrays["missed"] == CLOSED) & ~answered
        no_unit = eligible & (arrays["missed"] == NO_UNIT) & ~answered
        _counts(out, f"{code}.eligible", eligible, hour)
        _counts(out, f"{code}.answered", answered, hour)
        _counts(out, f"{code}.missed_closed", closed, hour)
        _counts(out, f"{code}.missed_no_unit", no_unit, hour)
        out[f"{code}.reach_pct"] = _pct(answered.sum(), eligible.sum())
        by_hour_eligible = np.bincount(hour[eligible], minlength=24)
        by_hour_answered = np.bincount(hour[answered], minlength=24)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{code}.reach_pct_by_hour"] = np.where(by_hour_eligible > 0,
                                                        100.0 * by_hour_answered / by_hour_eligible, np.nan)
        ready = counted & (arrays["first_ready"] == index)
        out[f"{code}.p_wait"] = _share(arrays["queued"][ready])
        out[f"{code}.p_gave_up"] = _share(arrays["gave_up"][ready] == index)
        waits = arrays["wait"][ready].astype(float)
        out[f"{code}.avg_wait_minutes"] = float(np.nanmean(waits)) if np.isfinite(waits).any() else math.nan
        scheduled = _scheduled_minutes(sim, code)
        out[f"{code}.utilization_pct"] = _pct(record["busy_minutes"][index], scheduled)
        out[f"{code}.overtime_hours"] = record["overtime_minutes"][index] / 60.0
        out[f"{code}.team_hours"] = scheduled / 60.0
        if code in field_codes:
            _field_figures(out, code, index, counted, hour, arrays)
        else:
            contacts = counted & (arrays["answered_by"] == index)
            out[f"{code}.contacts"] = float(contacts.sum())
            out[f"{code}.escalated"] = float((contacts & arrays["escalated"]).sum())
    return out


def _field_figures(out: RunStats, code: str, index: int, counted: np.ndarray, hour: np.ndarray,
                   arrays: Mapping[str, np.ndarray]) -> None:
    dispatched = counted & (arrays["response_program"] == index)
    arrived = dispatched & ~arrays["cancelled"]
    out[f"{code}.dispatched"] = float(dispatched.sum())
    out[f"{code}.cancelled"] = float((dispatched & arrays["cancelled"]).sum())
    out[f"{code}.responses"] = float(arrived.sum())
    to_scene = arrays["to_scene"][arrived].astype(float)
    call_to_scene = (arrays["on_scene_at"][arrived] - arrays["received"][arrived]).astype(float)
    for name, values in (("minutes_to_scene", to_scene), ("minutes_call_to_scene", call_to_scene)):
        out[f"{code}.avg_{name}"] = float(values.mean()) if len(values) else math.nan
        out[f"{code}.median_{name}"] = float(np.median(values)) if len(values) else math.nan
        out[f"{code}.p90_{name}"] = float(np.percentile(values, 90)) if len(values) else math.nan
        counts = np.bincount(hour[arrived], minlength=24)
        sums = np.bincount(hour[arrived], weights=values, minlength=24)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{code}.{name}_by_hour"] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _counts(out: RunStats, name: str, mask: np.ndarray, hour: np.ndarray) -> None:
    out[name] = float(mask.sum())
    out[f"{name}_by_hour"] = np.bincount(hour[mask], minlength=24).astype(float)


def _pct(part: float, whole: float) -> float:
    return 100.0 * float(part) / float(whole) if whole else math.nan


def _share(flags: np.ndarray) -> float:
    return float(np.mean(flags)) if len(flags) else math.nan


def _scheduled_minutes(sim: SimulationInput, code: str) -> float:
    """Team-minutes on shift within the measured window."""
    shifts = [shift for p in sim.field_programs if p.code == code for shift in p.shifts]
    shifts += [shift for phone in sim.phone_programs if phone.code == code for shift in phone.shifts]
    total = 0.0
    for shift in shifts:
        for day in range(-1, sim.days + 1):
            start, end = day * MINUTES_PER_DAY + shift.start, day * MINUTES_PER_DAY + shift.end
            overlap = min(end, sim.horizon) - max(start, sim.warmup)
            if overlap > 0:
                total += overlap * shift.teams
    return total


# --- over replications ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications and the half-width of its t-based confidence interval."""

    mean: float
    half_width: float
    replications: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_json(self) -> dict[str, float | None]:
        return {"mean": _finite(self.mean), "low": _finite(self.low), "high": _finite(self.high)}


def t_interval(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> Estimate:
    """Mean and t-based half-width of independent replications' values (NaNs left out)."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = len(data)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    if n == 1:
        return Estimate(float(data[0]), math.inf, 1)
    from scipy import stats as scipy_stats  # imported here: workers that only simulate never need it

    quantile = float(scipy_stats.t.ppf((1 + confidence) / 2, n - 1))
    return Estimate(float(data.mean()), quantile * float(data.std(ddof=1)) / math.sqrt(n), n)


def combine(runs: Sequence[RunStats], confidence: float = CONFIDENCE) -> dict[str, Estimate | list[Estimate]]:
    """Every figure's mean and interval over ``runs`` (hourly figures hour by hour)."""
    combined: dict[str, Estimate | list[Estimate]] = {}
    for name in runs[0]:
        values = [run[name] for run in runs]
        if isinstance(values[0], np.ndarray):
            stacked = np.vstack(values)
            combined[name] = [t_interval(stacked[:, hour], confidence) for hour in range(stacked.shape[1])]
        else:
            combined[name] = t_interval([float(v) for v in values], confidence)
    return combined


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None
