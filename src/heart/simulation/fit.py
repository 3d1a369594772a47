"""Fit a city's model from history: arrivals by hour of week and the call mix from imported CAD records or
HEART's own calls, and response times from HEART's own responses (ARCHITECTURE §5 definitions).

What the history cannot say (screening answers, geography, CCD phone time, EMS waiting time) is kept from the
base model, and the written file says which sections were fitted from what and which were kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import Engine, select

from heart.simulation.model import Arrivals, CityModel, FieldResponse
from heart.triage.policy import Policy

MIN_CALLS = 200
"""Fewer calls than this cannot give an hour-of-week profile worth more than the base model's."""
MIN_RESPONSES = 30
"""Fewer finished responses of a program than this keep the base model's times for it."""


@dataclass
class Fitted:
    """A fitted model and, per section, where its values came from."""

    model: CityModel
    notes: list[str] = field(default_factory=list)

    def to_yaml(self, *, base_file: Path) -> str:
        header = ["# Fitted by `heart simulate fit`. Sections and where their values come from:"]
        header += [f"#   {note}" for note in self.notes]
        header.append(f"# Everything else is kept from {base_file} (see its notes for the sources).")
        body = yaml.safe_dump(self.model.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=110)
        return "\n".join(header) + "\n" + body


def heart_types(policy: Policy) -> set[str]:
    """Incident types some rule sends to a program with hours (the calls HEART's capacity is about)."""
    found: set[str] = set()
    for rule in policy.rules:
        program = policy.programs[rule.send]
        if not program.always_open and rule.types is not None:
            found |= set(rule.types)
    return found


def fit_arrivals(received: pd.Series, zone: ZoneInfo) -> tuple[Arrivals, float, str]:
    """Hour-of-week profile, weekday and month factors, and calls a year, from aware receive times."""
    local = pd.to_datetime(received.dropna(), utc=True).dt.tz_convert(zone.key)
    if len(local) < MIN_CALLS:
        raise ValueError(f"only {len(local)} calls have a time; at least {MIN_CALLS} are needed to fit arrivals")
    days = pd.Series(local.dt.normalize().dt.date)
    first, last = days.min(), days.max()
    calendar = pd.date_range(first, last, freq="D")
    per_day = days.value_counts().reindex([d.date() for d in calendar], fill_value=0)
    weekend = local.dt.day_of_week >= 5
    weekday_hours = _profile(local[~weekend].dt.hour)
    weekend_hours = _profile(local[weekend].dt.hour) if weekend.any() else weekday_hours
    mean_per_day = float(per_day.mean())
    weekday_factors = _factors(per_day, [d.weekday() for d in per_day.index], 7, mean_per_day)
    month_factors = _factors(per_day, [d.month - 1 for d in per_day.index], 12, mean_per_day)
    arrivals = Arrivals(weekday_hours=weekday_hours, weekend_hours=weekend_hours,
                        weekday_factors=weekday_factors, month_factors=month_factors)
    months = sorted({d.month for d in per_day.index})
    note = (f"arrivals: fitted from {len(local):,} calls received {first} to {last} ({len(per_day)} days); "
            f"months without calls ({12 - len(months)}) keep a factor of 1")
    return arrivals, mean_per_day * 365.25, note


def _profile(hours: pd.Series) -> tuple[float, ...]:
    counts = np.bincount(hours.to_numpy(dtype=int), minlength=24).astype(float)
    counts = np.maximum(counts, 0.01 * max(counts.max(), 1.0))  # an hour with no call is rare, not impossible
    return tuple(round(float(v), 4) for v in counts * 24 / counts.sum())


def _factors(per_day: pd.Series, keys: list[int], size: int, mean: float) -> tuple[float, ...]:
    frame = pd.DataFrame({"key": keys, "calls": per_day.to_numpy()})
    means = frame.groupby("key")["calls"].mean()
    return tuple(round(float(means.get(k, mean) / mean), 4) if mean else 1.0 for k in range(size))


def fit_mix(incident_types: Iterable[str], *, years: float, kinds: set[str]) -> tuple[dict[str, float], float, str]:
    """Shares of the HEART-relevant incident types and their calls a year."""
    counts = pd.Series(list(incident_types), dtype=object).value_counts()
    relevant = counts[counts.index.isin(sorted(kinds))]
    total = int(relevant.sum())
    if total < MIN_CALLS:
        raise ValueError(f"only {total} calls are of types HEART's programs take; at least {MIN_CALLS} are needed")
    mix = {str(kind): round(float(n) / total, 5) for kind, n in relevant.items()}
    drift = 1.0 - sum(mix.values())
    first = next(iter(mix))
    mix[first] = round(mix[first] + drift, 5)
    note = (f"calls.mix and calls.heart_calls_per_year: fitted from {total:,} calls of the {len(mix)} types the "
            "policy sends to HEART programs (other calls go to police, EMS or fire and are left out)")
    return mix, total / years, note


def fit_response(frame: pd.DataFrame, base: FieldResponse) -> FieldResponse | None:
    """A field program's times from its responses (columns of heart.dispatch.models.Response)."""
    cancelled = frame["cancelled_at"].notna() & frame["on_scene_at"].isna()
    done = frame[frame["cleared_at"].notna() & frame["on_scene_at"].notna() & frame["cancelled_at"].isna()]
    on_scene = (done["cleared_at"] - done["on_scene_at"]).dt.total_seconds() / 60
    done = done[on_scene >= 0]
    on_scene = on_scene[on_scene >= 0]
    if len(done) < MIN_RESPONSES:
        return None
    transported = done["transported"].fillna(False).astype(bool)
    transport = (done["cleared_at"] - done["transport_started_at"]).dt.total_seconds() / 60
    before_transport = on_scene[~transported]
    spread = float(np.log(before_transport[before_transport > 0]).std()) if (before_transport > 0).sum() > 2 \
        else base.on_scene_spread
    transport_minutes = float(transport[transported].mean()) if transported.any() else base.transport_minutes
    return FieldResponse(
        on_scene_minutes=round(float(on_scene.mean()), 3), on_scene_spread=round(min(max(spread, 0.05), 3.0), 3),
        transport=round(float(transported.mean()), 4),
        transport_minutes=round(transport_minutes if math.isfinite(transport_minutes) else base.transport_minutes, 2),
        ems_support=round(float(done["ems_support"].fillna(False).astype(bool).mean()), 4),
        ems_extra_minutes=base.ems_extra_minutes,
        pd_backup_for_safety=round(float(done["pd_backup_for_safety"].fillna(False).astype(bool).mean()), 4),
        cancelled=round(float(cancelled.sum()) / max(len(frame), 1), 4))


# --- reading history -----------------------------------------------------------------------------------------

def operational_calls(engine: Engine, since: date | None, until: date | None, zone: ZoneInfo) -> pd.DataFrame:
    """HEART's own calls (received time, incident type)."""
    from heart.calls.models import Call

    with engine.connect() as connection:
        rows = connection.execute(select(Call.received_at, Call.incident_type)).all()
    frame = pd.DataFrame(rows, columns=["received_at", "incident_type"])
    return _in_period(frame, since, until, zone)


def imported_calls(engine: Engine, batch: str, agency: str | None, policy: Policy, since: date | None,
                   until: date | None, zone: ZoneInfo) -> pd.DataFrame:
    """A batch of imported CAD history, with incident types from its crosswalk (or the policy's nature codes)."""
    from heart.triage.replay import load_batch, prepare_calls

    records = load_batch(engine=engine, batch=batch, agency=agency).records
    prepared = prepare_calls(records, policy, zone=zone)
    frame = pd.DataFrame({"received_at": records["received_at"], "incident_type": prepared["incident_type"]})
    return _in_period(frame, since, until, zone)


def operational_responses(engine: Engine, since: date | None, until: date | None, zone: ZoneInfo
                          ) -> pd.DataFrame:
    from heart.dispatch.models import Response
    from heart.programs.models import Program

    columns = [Program.code, Response.dispatched_at, Response.on_scene_at, Response.transport_started_at,
               Response.cleared_at, Response.cancelled_at, Response.transported, Response.ems_support,
               Response.pd_backup_for_safety]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).join(Program, Program.id == Response.program_id)).all()
    frame = pd.DataFrame(rows, columns=["program", "dispatched_at", "on_scene_at", "transport_started_at",
                                        "cleared_at", "cancelled_at", "transported", "ems_support",
                                        "pd_backup_for_safety"])
    for column in ("dispatched_at", "on_scene_at", "transport_started_at", "cleared_at", "cancelled_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame = frame.rename(columns={"dispatched_at": "received_at"})
    frame = _in_period(frame, since, until, zone)
    return frame.rename(columns={"received_at": "dispatched_at"})


def _in_period(frame: pd.DataFrame, since: date | None, until: date | None, zone: ZoneInfo) -> pd.DataFrame:
    frame = frame.copy()
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    local_day = frame["received_at"].dt.tz_convert(zone.key).dt.date
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= local_day >= since
    if until is not None:
        keep &= local_day <= until
    return frame[keep & frame["received_at"].notna()]


def fit(*, base: CityModel, policy: Policy, calls: pd.DataFrame, responses: pd.DataFrame | None,
        source: str) -> Fitted:
    """The base model with arrivals, mix and response times replaced by what the history shows."""
    zone = policy.timezone
    arrivals, _, arrival_note = fit_arrivals(calls["received_at"], zone)
    received = pd.to_datetime(calls["received_at"], utc=True)
    years = max((received.max() - received.min()).total_seconds() / (365.25 * 86400), 1 / 365.25)
    mix, per_year, mix_note = fit_mix(calls["incident_type"].astype(str), years=years, kinds=heart_types(policy))
    notes = [f"{arrival_note} ({source})", f"{mix_note} ({source})",
             "calls.other_calls_per_year: none (calls of other types do not use HEART's teams)"]
    calls_section = base.calls.model_copy(update={"mix": mix, "heart_calls_per_year": round(per_year, 1),
                                                  "other_calls_per_year": {}, "volume_scale": 1.0})
    times: dict[str, Any] = dict(base.responses)
    if responses is not None and len(responses):
        for code, base_times in base.responses.items():
            fitted = fit_response(responses[responses["program"] == code], base_times)
            if fitted is None:
                notes.append(f"responses.{code}: kept (fewer than {MIN_RESPONSES} finished responses in the history)")
                continue
            times[code] = fitted
            count = int((responses["program"] == code).sum())
            notes.append(f"responses.{code}: fitted from {count:,} HEART responses (EMS waiting time kept)")
    model = base.model_copy(update={"calls": calls_section, "arrivals": arrivals, "responses": times})
    return Fitted(CityModel.model_validate(model.model_dump()), notes)


def write_fitted(fitted: Fitted, *, output: Path, base_file: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(fitted.to_yaml(base_file=base_file), encoding="utf-8")
