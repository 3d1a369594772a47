"""Dispatch's periodic work, registered by the app factory: the safety timers and the maximum-wait prompt."""

from __future__ import annotations

from heart.config import Settings
from heart.dispatch.timers import sweep
from heart.live import ScheduledJob

SWEEP_SECONDS = 5.0


def jobs(settings: Settings) -> tuple[ScheduledJob, ...]:
    """Every few seconds: units too long in a status, calls past their maximum wait (``timers.sweep``)."""
    return (ScheduledJob("dispatch-timers", SWEEP_SECONDS, sweep),)
