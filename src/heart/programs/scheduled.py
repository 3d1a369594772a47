"""Programs' periodic work, registered by the app factory: shifts start and end by themselves."""

from __future__ import annotations

from heart.config import Settings
from heart.live import ScheduledJob
from heart.programs.shifts import apply_schedule

SCHEDULE_SECONDS = 5.0


def jobs(settings: Settings) -> tuple[ScheduledJob, ...]:
    """Every few seconds: units go on duty when their shift starts and off when it ends (``shifts.apply_schedule``)."""
    return (ScheduledJob("shift-schedule", SCHEDULE_SECONDS, apply_schedule),)
