"""What the metrics service returns: the JSON of `heart metrics --format json` and the dashboard's data."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from pydantic import BaseModel, Field


class Figure(NamedTuple):
    """A published figure: its key in the report, its label for people, its number format and unit."""

    key: str
    label: str
    format: str
    unit: str = ""

    def shown(self, value: Any) -> str:
        """The value as the dashboard and ``heart metrics`` print it ("—" when there is none)."""
        return "—" if value is None else self.format.format(value) + self.unit


PUBLISHED_FIGURES = (
    Figure("responses", "Responses", "{:,}"),
    Figure("avg_minutes_to_scene", "Avg minutes to scene", "{:.2f}"),
    Figure("avg_minutes_on_scene", "Avg minutes on scene", "{:.2f}"),
    Figure("avg_total_minutes", "Avg total minutes", "{:.2f}"),
    Figure("pct_needed_transport", "Needed transport", "{:.2f}", "%"),
    Figure("pct_needed_pd_backup_for_team_safety", "Needed PD backup for team safety", "{:.2f}", "%"),
    Figure("pct_needed_ems_support", "Needed EMS support", "{:.2f}", "%"),
)
"""The published panel's seven figures, in its order: the one place their labels are written."""
MORE_FIGURES = (
    Figure("pct_team_felt_safe", "The team felt safe (of responses whose crew answered)", "{:.2f}", "%"),
    Figure("median_minutes_received_to_scene", "Median minutes from call to on scene", "{:.2f}"),
    Figure("p90_minutes_received_to_scene", "90th percentile minutes from call to on scene", "{:.2f}"),
    Figure("cancelled_responses", "Cancelled responses (not counted above)", "{:,}"),
)
"""Figures shown below the published ones."""
BASELINE_FIGURES = PUBLISHED_FIGURES[:4]
"""What the CAD-history baseline shows per agency: the same figures, labels and formats."""


class PeriodPublic(BaseModel):
    """The period asked for: local dates of each program, both inclusive; null leaves a side open."""

    since: date | None = None
    until: date | None = None
    by: str = "cleared_at"
    time_zone: str = "each program's own"


class DataQuality(BaseModel):
    """Responses left out of the figures, by reason (one response may have several reasons)."""

    excluded_responses: int = Field(0, description="cleared in the period but left out of every figure")
    missing_on_scene: int = 0
    negative_minutes_to_scene: int = 0
    negative_minutes_on_scene: int = 0
    cleared_and_cancelled: int = 0
    negative_received_to_scene: int = Field(0, description="left out of the received → on-scene figures only")


MISSED_WORDS: dict[str, str] = {
    "program_closed": "the program was closed",
    "no_unit_available": "no unit on duty and free",
    "no_unit_in_time": "no free unit could arrive in time",
    "not_dispatched_in_time": "not dispatched in time while units were free",
    "exclusion": "an exclusion: the call had a weapon, a risk or a priority the team cannot take",
    "sent_elsewhere": "a person sent the call elsewhere",
    "called_off": "the unit was called off",
    "other": "other",
}
"""Each reason an eligible call was missed, in words for the dashboard and ``heart metrics``."""


class Reach(BaseModel):
    """Of the calls eligible for the program (closed in HEART's books), how many got its response, and why not."""

    eligible_calls: int = Field(0, description="eligible calls received in the period and closed")
    reached_calls: int = Field(0, description="of those, calls a unit of the program reached")
    pct_reached: float | None = None
    missed: dict[str, int] = Field(default_factory=dict, description="missed calls by their one reason")
    in_progress: int = Field(0, description="eligible calls still open (in no figure above)")


class ProgramMetrics(BaseModel):
    """One program's figures for the period (minutes and percentages rounded to 2 decimals)."""

    responses: int = 0
    avg_minutes_to_scene: float | None = None
    avg_minutes_on_scene: float | None = None
    avg_total_minutes: float | None = None
    pct_needed_transport: float | None = None
    pct_needed_pd_backup_for_team_safety: float | None = None
    pct_needed_ems_support: float | None = None
    pct_team_felt_safe: float | None = Field(None, description="of the responses whose crew answered, the share "
                                                               "where the team felt safe")
    team_safety_answered: int = Field(0, description="responses whose crew answered whether the team felt safe")
    median_minutes_received_to_scene: float | None = None
    p90_minutes_received_to_scene: float | None = None
    cancelled_responses: int = 0
    responses_by_call_type: dict[str, int] = Field(default_factory=dict)
    responses_by_hour: list[int] = Field(default_factory=lambda: [0] * 24,
                                         description="by local hour of dispatch, 0–23")
    responses_by_month: dict[str, int] = Field(default_factory=dict, description="by local month cleared")
    data_quality: DataQuality = Field(default_factory=DataQuality)
    reach: Reach | None = Field(None, description="field programs, when the source holds the calls")


class CareFigures(BaseModel):
    """Follow-up after encounters with consent, for the period (by the encounter's local date)."""

    consented_encounters: int = Field(0, description="encounters with the neighbor's consent to follow-up")
    followed_up_in_time: int = Field(0, description="of those, with a contact attempt by the follow-up's due time")
    pct_followed_up_in_time: float | None = None
    reached: int = Field(0, description="of those, whose neighbor was reached")
    median_hours_to_first_contact: float | None = Field(None, description="encounter → first attempt that reached "
                                                                         "the neighbor")


class ReferralCounts(BaseModel):
    """Referrals made in the period for one need, and how their loops closed so far."""

    made: int = 0
    accepted: int = 0
    completed: int = 0
    declined: int = 0
    no_response: int = 0


class CareMetrics(BaseModel):
    """Care navigation's figures: overall, by the program whose encounter it was, and referrals by need."""

    all: CareFigures = Field(default_factory=CareFigures)
    by_program: dict[str, CareFigures] = Field(default_factory=dict)
    referrals_by_need: dict[str, ReferralCounts] = Field(default_factory=dict)


class MetricsReport(BaseModel):
    """Every program's figures for one period."""

    period: PeriodPublic
    programs: dict[str, ProgramMetrics]
    care: CareMetrics | None = Field(None, description="care navigation, when the source holds follow-ups")
